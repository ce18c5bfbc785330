package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
)

// writeLoad measures write throughput: -writers callers upsert overrides
// of random Starter-or-above accounts through A for -duration.
func writeLoad(admin context.Context, a *server, ids []string) (result, error) {
	fmt.Printf("measuring write throughput with %d writers…\n", *writers)
	var paid []string // acct-i with i % 4 != 0: Starter or above (see seed)
	for i, id := range ids {
		if (i+1)%4 != 0 {
			paid = append(paid, id)
		}
	}
	w := *a
	w.conns = a.conns[:1]
	saved := *concurrency
	*concurrency = *writers
	defer func() { *concurrency = saved }()
	return load(admin, &w, func(ctx context.Context, conn *grpc.ClientConn, r *rand.Rand) error {
		id := paid[r.IntN(len(paid))]
		_, err := pb.NewConfigServiceClient(conn).UpsertIntegrationOverride(ctx, &pb.UpsertIntegrationOverrideRequest{Override: &pb.IntegrationOverride{
			AccountId: id, Integration: pb.Integration_INTEGRATION_OPENAI, MaxTokens: proto.Int32(int32(1000 + r.IntN(3000)))}})
		return err
	})
}

// measureOnce runs one load of c on s; with profileFile, it also writes
// the server's and the load driver's profiles of it (see -cpuprofile).
func measureOnce(ctx context.Context, s *server, c call, profileFile string) (result, error) {
	done := make(chan error, 1)
	if profileFile != "" {
		if err := startDriverProfile(profileFile + ".driver"); err != nil {
			return result{}, err
		}
		defer pprof.StopCPUProfile()
		go func() {
			var errs [2]error
			var wg sync.WaitGroup
			wg.Go(func() { errs[0] = fetchProfile(s, "profile", profileFile) })
			if *memProfile {
				wg.Go(func() { errs[1] = fetchProfile(s, "allocs", profileFile+".allocs") })
			}
			wg.Wait()
			done <- errors.Join(errs[:]...)
		}()
	} else {
		done <- nil
	}
	res, err := load(ctx, s, c)
	if perr := <-done; perr != nil {
		return res, perr
	}
	return res, err
}

// loadRuns counts the loads, to seed each differently.
var loadRuns atomic.Uint64

type call func(ctx context.Context, conn *grpc.ClientConn, r *rand.Rand) error

type result struct {
	rps       float64
	p50, p99  time.Duration
	errors    int
	serverCPU time.Duration // server process CPU per call
	driverCPU time.Duration // this process's CPU per call
	rssMB     float64       // the server's resident memory at the end
}

func load(ctx context.Context, s *server, c call) (result, error) {
	var mu sync.Mutex
	var all []time.Duration
	errs := 0
	var firstErr error
	deadline := time.Now().Add(*duration)
	var wg sync.WaitGroup
	start := time.Now()
	cpu0, self0 := s.cpu(), selfCPU()
	// Each run draws other accounts: with a million, repeating one
	// sequence would keep every run on the same few percent of them.
	seed := loadRuns.Add(1)
	for i := range *concurrency {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(i), seed))
			conn := s.conns[i%len(s.conns)]
			lat := make([]time.Duration, 0, 1<<16)
			nerr := 0
			var e error
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if err := c(ctx, conn, r); err != nil {
					nerr++
					e = err
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			all = append(all, lat...)
			errs += nerr
			if firstErr == nil {
				firstErr = e
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if errs > 0 {
		return result{errors: errs}, fmt.Errorf("%d calls failed, e.g. %v", errs, firstErr)
	}
	res := result{rps: float64(len(all)) / elapsed.Seconds(), p50: pct(all, 50), p99: pct(all, 99)}
	if len(all) > 0 {
		res.serverCPU = (s.cpu() - cpu0) / time.Duration(len(all))
		res.driverCPU = (selfCPU() - self0) / time.Duration(len(all))
	}
	res.rssMB = s.rssMB()
	return res, nil
}

// startDriverProfile profiles this process (the load driver) into file
// until pprof.StopCPUProfile.
func startDriverProfile(file string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return err
	}
	return nil
}

// fetchProfile writes a pprof profile (kind "profile" or "allocs") taken
// over the measurement to file.
func fetchProfile(s *server, kind, file string) error {
	url := fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", s.metricsAddr, kind, max(int(duration.Seconds())-1, 1))
	if kind == "heap" { // what is in use now, after a collection
		url = fmt.Sprintf("http://%s/debug/pprof/heap?gc=1", s.metricsAddr)
	}
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := len(s) * p / 100
	if i >= len(s) {
		i = len(s) - 1
	}
	return s[i]
}

// visibility writes through A and times each change's arrival on a watch
// held open on B.
func visibility(admin context.Context, a, b *server) ([]time.Duration, error) {
	fmt.Printf("measuring cross-replica visibility over %d writes…\n", *writes)
	ctx, cancel := context.WithCancel(admin)
	defer cancel()
	const account = "acct-3" // Starter or above: overrides apply
	watch, err := pb.NewConfigServiceClient(b.conns[0]).WatchModelConfig(ctx, &pb.WatchModelConfigRequest{AccountId: account, Function: "generate_content"})
	if err != nil {
		return nil, err
	}
	if _, err := watch.Recv(); err != nil {
		return nil, err
	}
	ca := pb.NewConfigServiceClient(a.conns[0])
	var out []time.Duration
	for i := range *writes {
		want := int32(1000 + i)
		t0 := time.Now()
		if _, err := ca.UpsertIntegrationOverride(admin, &pb.UpsertIntegrationOverrideRequest{Override: &pb.IntegrationOverride{
			AccountId: account, Integration: pb.Integration_INTEGRATION_OPENAI, MaxTokens: proto.Int32(want)}}); err != nil {
			return nil, err
		}
		committed := time.Since(t0)
		for {
			m, err := watch.Recv()
			if err != nil {
				return nil, err
			}
			if m.GetMaxTokens() == want {
				// Time from the write's commit (bounded by its reply) to B.
				out = append(out, max(time.Since(t0)-committed, 0))
				break
			}
		}
	}
	return out, nil
}
