package client

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/pgtest"
	"github.com/igny8/aiconfig/internal/secret"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// A client's stream reconnects to a replica whose own change follower is
// behind (its database connection lost, the database itself fine): the
// stream replays from the database a change the replica's cache has not
// applied yet. The client must not end up keeping the replica's older
// answer once everything is back in step.
func TestReplayAheadOfTheReplica(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := startBehindProxies(t)
	a, b, c, pg, grpcNet := f.a, f.b, f.c, f.pg, f.grpcNet
	if got := temperature(t, c, "acme"); got != 0.7 {
		t.Fatalf("acme = %v", got)
	}

	// A's follower loses the database (its pool keeps its connections).
	f.disconnectFollower()

	// A write through B; then the client's connection to A drops and comes back.
	rev := setTemperature(t, b, b.Token(t, domain.RoleAdmin, ""), "acme", 0.2)
	grpcNet.cut()
	waitFor(t, "the client to replay the write", func() bool { return c.Stats().Revision >= rev })
	t.Logf("client after the replay: %+v; A's follower at %d, connected %v", c.Stats(), a.Feed.Position(), a.Feed.Connected.Load())
	_, _ = c.ModelConfig(ctx, "acme", "generate_content") // a read while A is behind

	// A's follower back: everything in step, no write since.
	pg.refuseNew(false)
	waitFor(t, "A's follower to catch up", func() bool { return a.Feed.Connected.Load() && a.Feed.Position() >= rev })
	waitFor(t, "the client in step", func() bool { return c.Stats().InStep })
	deadline := time.Now().Add(3 * time.Second)
	for temperature(t, c, "acme") != 0.2 {
		if time.Now().After(deadline) {
			t.Fatalf("everything is in step, yet the client keeps acme's temperature at %v (the database says 0.2): %+v",
				temperature(t, c, "acme"), c.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A replica whose follower lost the database stops telling its streams
// they are up to date, so a client's max_stale clock starts.
func TestReplicaNotFollowingEndsTheFeed(t *testing.T) {
	t.Parallel()
	f := startBehindProxies(t)
	temperature(t, f.c, "acme")
	f.disconnectFollower()
	// Within the stream's progress interval (10 s), the client leaves step.
	deadline := time.Now().Add(15 * time.Second)
	for f.c.Stats().InStep {
		if time.Now().After(deadline) {
			t.Fatal("the replica does not follow the feed, yet its stream keeps the client in step")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := temperature(t, f.c, "acme"); got != 0.7 { // served by the replica, from its memory
		t.Errorf("acme = %v", got)
	}
	f.pg.refuseNew(false)
	waitFor(t, "the client in step again", func() bool { return f.c.Stats().InStep })
}

// behindProxies is replica A, reached by the client through one proxy
// and reaching the database through another, and replica B beside it.
type behindProxies struct {
	t           *testing.T
	dbURL       string
	a, b        *testsrv.Env
	c           *Client
	pg, grpcNet *proxy
}

func startBehindProxies(t *testing.T) *behindProxies {
	keys, err := secret.NewKeyring(secret.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	dbURL := pgtest.NewDatabase(t)
	u, _ := url.Parse(dbURL)
	pg := newProxy(t, u.Host) // replica A reaches the database through it
	u.Host = pg.addr()
	a := testsrv.StartOn(t, u.String(), keys)
	b := testsrv.StartOn(t, dbURL, keys)
	admin := testsrv.Ctx(b.Token(t, domain.RoleAdmin, ""))
	if _, err := b.Config.UpdateGlobalSettings(admin, &pb.UpdateGlobalSettingsRequest{
		Settings:   &pb.GlobalSettings{Openai: &pb.IntegrationDefaults{ApiKey: testAPIKey}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"openai.api_key"}}}); err != nil {
		t.Fatal(err)
	}
	b.Account(t, "acme", domain.PlanStarter)
	grpcNet := newProxy(t, a.App.Addr.String()) // the client reaches A through it
	c, err := New(grpcNet.addr(), WithToken(b.Token(t, domain.RoleService, "")), WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	waitFor(t, "the client in step", func() bool { return c.Stats().InStep })
	return &behindProxies{t: t, dbURL: dbURL, a: a, b: b, c: c, pg: pg, grpcNet: grpcNet}
}

// disconnectFollower cuts A's follower from the database; A's pool keeps
// the connections it has.
func (f *behindProxies) disconnectFollower() {
	ctx := context.Background()
	f.pg.refuseNew(true)
	super, err := pgx.Connect(ctx, f.dbURL)
	if err != nil {
		f.t.Fatal(err)
	}
	defer super.Close(ctx)
	if _, err := super.Exec(ctx, `SELECT pg_terminate_backend($1)`, f.a.Feed.BackendPID()); err != nil {
		f.t.Fatal(err)
	}
	waitFor(f.t, "A's follower to be disconnected", func() bool { return !f.a.Feed.Connected.Load() })
}
