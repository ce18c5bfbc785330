package app_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/pgtest"
	"github.com/igny8/aiconfig/internal/server"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// outcomes counts answers by code, per kind of call.
type outcomes struct {
	mu sync.Mutex
	n  map[string]map[codes.Code]int
}

func (o *outcomes) add(kind string, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n[kind] == nil {
		o.n[kind] = map[codes.Code]int{}
	}
	o.n[kind][status.Code(err)]++
}

func (o *outcomes) get(kind string, c codes.Code) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n[kind][c]
}

// TestDatabaseCrashes stops a private PostgreSQL cluster under a read and
// write load on two replicas, several times, fast and immediate (a crash):
// no call ever answers INTERNAL or UNKNOWN; cached reads keep answering from
// memory; writes and uncached reads fail UNAVAILABLE STORE_UNAVAILABLE and
// succeed again once the database is back, without restarting anything; a
// write is visible on the other replica within a second after the database
// returns; health keeps reads SERVING and reports writes NOT_SERVING while
// it is down.
func TestDatabaseCrashes(t *testing.T) {
	cluster := pgtest.NewCluster(t)
	a := testsrv.StartOn(t, cluster.URL, nil)
	b := testsrv.StartOn(t, cluster.URL, a.Keys)
	admin := testsrv.Ctx(a.Token(t, domain.RoleAdmin, ""))
	const warm = 4
	for i := range warm {
		a.Account(t, fmt.Sprintf("acct-%d", i), domain.PlanStarter)
	}
	read := func(env *testsrv.Env, id string) (*pb.ModelConfig, error) {
		return env.Config.GetModelConfig(admin, &pb.GetModelConfigRequest{AccountId: id, Function: "generate_content"})
	}
	for _, env := range []*testsrv.Env{a, b} {
		for i := range warm {
			if _, err := read(env, fmt.Sprintf("acct-%d", i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Both replicas in step, so their cached entries are fresh.
	head, err := a.Store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range []*testsrv.Env{a, b} {
		deadline := time.Now().Add(3 * time.Second)
		for env.Feed.Position() < head && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		for i := range warm {
			if _, err := read(env, fmt.Sprintf("acct-%d", i)); err != nil {
				t.Fatal(err)
			}
		}
	}

	got := &outcomes{n: map[string]map[codes.Code]int{}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var cold atomic.Int64
	for w := range 4 {
		env := []*testsrv.Env{a, b}[w%2]
		wg.Go(func() { // cached reads
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, err := read(env, fmt.Sprintf("acct-%d", i%warm))
				got.add("cached read", err)
			}
		})
	}
	wg.Go(func() { // reads of accounts never cached
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			_, err := read(b, fmt.Sprintf("cold-%d", cold.Add(1)))
			if status.Code(err) == codes.NotFound {
				err = nil // the database answered
			}
			got.add("uncached read", err)
		}
	})
	wg.Go(func() { // writes
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			_, err := a.Config.UpsertIntegrationOverride(admin, &pb.UpsertIntegrationOverrideRequest{Override: &pb.IntegrationOverride{
				AccountId: "acct-0", Integration: pb.Integration_INTEGRATION_OPENAI, MaxTokens: proto.Int32(int32(1000 + i%1000))}})
			got.add("write", err)
		}
	})
	health := func(env *testsrv.Env, svc string) healthpb.HealthCheckResponse_ServingStatus {
		r, err := healthpb.NewHealthClient(env.Conn).Check(context.Background(), &healthpb.HealthCheckRequest{Service: svc})
		if err != nil {
			return healthpb.HealthCheckResponse_UNKNOWN
		}
		return r.GetStatus()
	}

	for cycle, mode := range []string{"immediate", "fast", "immediate"} {
		time.Sleep(300 * time.Millisecond) // load against a live database
		failedWrites := got.get("write", codes.Unavailable)
		cluster.Stop(mode)
		deadline := time.Now().Add(5 * time.Second)
		for health(b, server.WritesService) != healthpb.HealthCheckResponse_NOT_SERVING && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if s := health(b, server.WritesService); s != healthpb.HealthCheckResponse_NOT_SERVING {
			t.Fatalf("cycle %d (%s): writes health is %s with the database down", cycle, mode, s)
		}
		if s := health(b, ""); s != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("cycle %d (%s): reads health is %s while memory answers", cycle, mode, s)
		}
		time.Sleep(300 * time.Millisecond) // load against a dead database
		if got.get("write", codes.Unavailable) == failedWrites {
			t.Fatalf("cycle %d (%s): no write failed UNAVAILABLE while the database was down", cycle, mode)
		}
		cluster.Start()

		// A write succeeds again (the pool reconnects by itself) and is
		// visible on the other replica within a second.
		want := int32(5000 + cycle)
		deadline = time.Now().Add(10 * time.Second)
		for {
			_, err := a.Config.UpsertIntegrationOverride(admin, &pb.UpsertIntegrationOverrideRequest{Override: &pb.IntegrationOverride{
				AccountId: "acct-1", Integration: pb.Integration_INTEGRATION_OPENAI, MaxTokens: proto.Int32(want)}})
			if err == nil {
				break
			}
			if status.Code(err) != codes.Unavailable || time.Now().After(deadline) {
				t.Fatalf("cycle %d (%s): write after the restart: %v", cycle, mode, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		written := time.Now()
		for {
			if c, err := read(b, "acct-1"); err == nil && c.GetMaxTokens() == want {
				break
			}
			if time.Since(written) > time.Second {
				t.Fatalf("cycle %d (%s): the write is not visible on the other replica a second after the database returned", cycle, mode)
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Logf("cycle %d (%s): visible on the other replica %s after the first successful write", cycle, mode, time.Since(written).Round(time.Millisecond))
	}
	close(stop)
	wg.Wait()

	got.mu.Lock()
	defer got.mu.Unlock()
	t.Logf("outcomes: %v", got.n)
	for kind, byCode := range got.n {
		for code, n := range byCode {
			switch {
			case code == codes.OK:
			case code == codes.Unavailable && kind != "cached read":
			default:
				t.Errorf("%s: %d calls answered %s", kind, n, code)
			}
		}
	}
	if got.n["cached read"][codes.OK] == 0 || got.n["write"][codes.OK] == 0 || got.n["uncached read"][codes.Unavailable] == 0 {
		t.Errorf("the load did not exercise every case: %v", got.n)
	}
}
