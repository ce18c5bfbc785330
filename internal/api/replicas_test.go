package api_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// eventually polls cond until it holds or the wait runs out.
func eventually(t *testing.T, wait time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, wait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func setModel(t *testing.T, env *testsrv.Env, ctx context.Context, model string) {
	t.Helper()
	if _, err := env.Config.UpsertIntegrationOverride(ctx, upsertReq("acct", pb.Integration_INTEGRATION_OPENAI, &pb.IntegrationOverride{Model: proto.String(model)})); err != nil {
		t.Fatal(err)
	}
}

// TestTwoReplicas: a write through A is read through B within a bounded
// wait, and a watch on B receives it, in revision order.
func TestTwoReplicas(t *testing.T) {
	a := testsrv.Start(t)
	b := testsrv.StartOn(t, a.DatabaseURL, a.Keys)
	admin := testsrv.Ctx(a.Token(t, domain.RoleAdmin, ""))
	setPlan(t, a, admin, "acct", pb.Plan_PLAN_STARTER)
	read := func(env *testsrv.Env) *pb.ModelConfig {
		c, err := env.Config.GetModelConfig(admin, &pb.GetModelConfigRequest{AccountId: "acct", Function: "generate_content"})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if read(b).GetModel() != "gpt-4o-mini" { // B caches the account
		t.Fatal("unexpected starting model")
	}
	wctx, cancel := context.WithCancel(admin)
	defer cancel()
	watch, err := b.Config.WatchModelConfig(wctx, &pb.WatchModelConfigRequest{AccountId: "acct", Function: "generate_content"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := watch.Recv()
	if err != nil || first.GetModel() != "gpt-4o-mini" {
		t.Fatalf("first watch message: %v, %v", first, err)
	}

	setModel(t, a, admin, "gpt-4.1")
	if read(a).GetModel() != "gpt-4.1" {
		t.Fatal("A does not read its own write at once")
	}
	eventually(t, 2*time.Second, "B sees A's write", func() bool { return read(b).GetModel() == "gpt-4.1" })
	got, err := watch.Recv()
	if err != nil || got.GetModel() != "gpt-4.1" || got.GetRevision() <= first.GetRevision() {
		t.Fatalf("watch after the write: %v, %v", got, err)
	}
	// Global changes reach watchers too, and plan changes.
	if _, err := a.Config.UpdateGlobalSettings(admin, &pb.UpdateGlobalSettingsRequest{Settings: &pb.GlobalSettings{Openai: &pb.IntegrationDefaults{MaxTokens: proto.Int32(5000)}}}); err != nil {
		t.Fatal(err)
	}
	got2, err := watch.Recv()
	if err != nil || got2.GetMaxTokens() != 5000 || got2.GetRevision() <= got.GetRevision() {
		t.Fatalf("watch after a global change: %v, %v", got2, err)
	}
	setPlan(t, a, admin, "acct", pb.Plan_PLAN_FREE)
	got3, err := watch.Recv()
	if err != nil || !got3.GetOverridesSuppressed() || got3.GetModel() != "gpt-4o-mini" {
		t.Fatalf("watch after a downgrade: %v, %v", got3, err)
	}
	// Revoking a token on A is refused on B at once (well, within the wait).
	tok, err := a.Tokens.CreateToken(admin, &pb.CreateTokenRequest{Name: "short-lived", Role: pb.Role_ROLE_SERVICE})
	if err != nil {
		t.Fatal(err)
	}
	worker := testsrv.Ctx(tok.GetSecret())
	if _, err := b.Config.ListModels(worker, &pb.ListModelsRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Tokens.RevokeToken(admin, &pb.RevokeTokenRequest{Id: tok.GetToken().GetId()}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "B refuses the revoked token", func() bool {
		_, err := b.Config.ListModels(worker, &pb.ListModelsRequest{})
		return err != nil
	})
}

// readLoad calls GetModelConfig on env until stop, counting failures and
// any revision that goes backwards.
func readLoad(t *testing.T, env *testsrv.Env, ctx context.Context, stop <-chan struct{}, failures, backwards *atomic.Int64) *sync.WaitGroup {
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			var last int64
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, err := env.Config.GetModelConfig(ctx, &pb.GetModelConfigRequest{AccountId: "acct", Function: "generate_content"})
				if err != nil {
					failures.Add(1)
					t.Logf("read failed: %v", err)
					continue
				}
				if c.GetRevision() < last {
					backwards.Add(1)
				}
				last = c.GetRevision()
			}
		})
	}
	return &wg
}

// TestListenerKilledUnderLoad: B's listener backend is terminated while B
// serves reads; no read fails, revisions never go backwards, and B picks
// up later writes after it reconnects.
func TestListenerKilledUnderLoad(t *testing.T) {
	a := testsrv.Start(t)
	b := testsrv.StartOn(t, a.DatabaseURL, a.Keys)
	admin := testsrv.Ctx(a.Token(t, domain.RoleAdmin, ""))
	setPlan(t, a, admin, "acct", pb.Plan_PLAN_STARTER)
	var failures, backwards atomic.Int64
	stop := make(chan struct{})
	wg := readLoad(t, b, admin, stop, &failures, &backwards)

	ctx := context.Background()
	super, err := pgx.Connect(ctx, a.ServerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer super.Close(ctx)
	pid := b.Feed.BackendPID()
	if _, err := super.Exec(ctx, `SELECT pg_terminate_backend($1)`, int32(pid)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "B's listener reconnects", func() bool {
		return b.Feed.Connected.Load() && b.Feed.BackendPID() != pid
	})
	for i, model := range []string{"gpt-4.1", "gpt-4o", "gpt-4.1-mini"} {
		setModel(t, a, admin, model)
		eventually(t, 2*time.Second, fmt.Sprintf("write %d reaches B", i), func() bool {
			c, err := b.Config.GetModelConfig(admin, &pb.GetModelConfigRequest{AccountId: "acct", Function: "generate_content"})
			return err == nil && c.GetModel() == model
		})
	}
	close(stop)
	wg.Wait()
	if failures.Load() != 0 || backwards.Load() != 0 {
		t.Fatalf("%d failed reads, %d revisions went backwards", failures.Load(), backwards.Load())
	}
}

// TestDatabaseOutageUnderLoad: the database refuses every connection for
// a while (as in a restart) under read load on B: cached reads never fail,
// and after it returns both replicas recover on their own with no stale
// value and no revision going backwards.
func TestDatabaseOutageUnderLoad(t *testing.T) {
	a := testsrv.Start(t)
	b := testsrv.StartOn(t, a.DatabaseURL, a.Keys)
	admin := testsrv.Ctx(a.Token(t, domain.RoleAdmin, ""))
	setPlan(t, a, admin, "acct", pb.Plan_PLAN_STARTER)
	setModel(t, a, admin, "gpt-4o")
	eventually(t, 2*time.Second, "B warm", func() bool {
		c, err := b.Config.GetModelConfig(admin, &pb.GetModelConfigRequest{AccountId: "acct", Function: "generate_content"})
		return err == nil && c.GetModel() == "gpt-4o"
	})
	var failures, backwards atomic.Int64
	stop := make(chan struct{})
	wg := readLoad(t, b, admin, stop, &failures, &backwards)

	restore := a.Outage(t)
	eventually(t, 3*time.Second, "B notices", func() bool { return !b.Feed.Connected.Load() })
	time.Sleep(300 * time.Millisecond) // reads keep going against a dead database
	restore()

	eventually(t, 10*time.Second, "B's listener is back", b.Feed.Connected.Load)
	eventually(t, 10*time.Second, "A's listener is back", a.Feed.Connected.Load)
	setModel(t, a, admin, "gpt-4.1")
	eventually(t, 2*time.Second, "B sees the write after recovery", func() bool {
		c, err := b.Config.GetModelConfig(admin, &pb.GetModelConfigRequest{AccountId: "acct", Function: "generate_content"})
		return err == nil && c.GetModel() == "gpt-4.1"
	})
	close(stop)
	wg.Wait()
	if failures.Load() != 0 || backwards.Load() != 0 {
		t.Fatalf("%d failed reads, %d revisions went backwards", failures.Load(), backwards.Load())
	}
}

// TestWatchEffectivePromptAcrossReplicas: a prompt watch on B sees A's
// customization, a global change and the reset, in order.
func TestWatchEffectivePromptAcrossReplicas(t *testing.T) {
	a := testsrv.Start(t)
	b := testsrv.StartOn(t, a.DatabaseURL, a.Keys)
	admin := testsrv.Ctx(a.Token(t, domain.RoleAdmin, ""))
	setPlan(t, a, admin, "acct", pb.Plan_PLAN_STARTER)
	wctx, cancel := context.WithCancel(testsrv.Ctx(a.Token(t, domain.RoleAccount, "acct")))
	defer cancel()
	w, err := b.Prompts.WatchEffectivePrompt(wctx, &pb.WatchEffectivePromptRequest{PromptType: "ideas"})
	if err != nil {
		t.Fatal(err)
	}
	next := func() *pb.EffectivePrompt {
		t.Helper()
		e, err := w.Recv()
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	first := next()
	if first.GetSource() != pb.Source_SOURCE_GLOBAL {
		t.Fatalf("first: %v", first)
	}
	if _, err := a.Prompts.CustomizePrompt(admin, &pb.CustomizePromptRequest{AccountId: "acct", PromptType: "ideas", Text: "Mine: {{clusters}}"}); err != nil {
		t.Fatal(err)
	}
	if e := next(); e.GetText() != "Mine: {{clusters}}" || e.GetSource() != pb.Source_SOURCE_ACCOUNT {
		t.Fatalf("after customize: %v", e)
	}
	if _, err := a.Prompts.UpsertGlobalPrompt(admin, &pb.UpsertGlobalPromptRequest{Prompt: &pb.GlobalPrompt{
		PromptType: "ideas", Text: "New ideas for {{clusters}}", Variables: []string{"clusters"}}}); err != nil {
		t.Fatal(err)
	}
	if e := next(); !e.GetDefaultChanged() {
		t.Fatalf("after a global change: %v", e)
	}
	if _, err := a.Prompts.ResetPrompt(admin, &pb.ResetPromptRequest{AccountId: "acct", PromptType: "ideas"}); err != nil {
		t.Fatal(err)
	}
	if e := next(); e.GetText() != "New ideas for {{clusters}}" || e.GetIsCustomized() {
		t.Fatalf("after reset: %v", e)
	}
}
