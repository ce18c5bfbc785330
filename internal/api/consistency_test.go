package api_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// monotonic receives a watch stream's messages in the background and
// records a violation when rev does not move as it must (strictly up for
// model configs; never down for prompts, whose revision is the account
// prompt's); last holds the newest message.
type monotonic[M proto.Message] struct {
	mu     sync.Mutex
	last   M
	broken error
}

func watchAll[M proto.Message](t *testing.T, recv func() (M, error), rev func(M) int64, strict bool) *monotonic[M] {
	m := &monotonic[M]{}
	first, err := recv()
	if err != nil {
		t.Fatal(err)
	}
	m.last = first
	go func() {
		for {
			cur, err := recv()
			if err != nil {
				return // the test ended
			}
			m.mu.Lock()
			if prev := rev(m.last); rev(cur) < prev || (strict && rev(cur) == prev) {
				m.broken = fmt.Errorf("watch went from revision %d to %d", prev, rev(cur))
			}
			m.last = cur
			m.mu.Unlock()
		}
	}()
	return m
}

func (m *monotonic[M]) get() (M, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last, m.broken
}

// TestConcurrentWritersAgree is the race testing found: many concurrent
// writers, with and without expected_revision, on one override, one
// account prompt and the global settings. After each round the database,
// both replicas' GetModelConfig and GetEffectivePrompt, and watch streams
// on both replicas agree exactly; no stored revision ever decreases, and a
// model-config watch's revisions strictly increase.
func TestConcurrentWritersAgree(t *testing.T) {
	a := testsrv.Start(t)
	b := testsrv.StartOn(t, a.DatabaseURL, a.Keys)
	admin := testsrv.Ctx(a.Token(t, domain.RoleAdmin, ""))
	setPlan(t, a, admin, "acct", pb.Plan_PLAN_STARTER)
	ctx, cancel := context.WithCancel(admin)
	defer cancel()

	mcReq := &pb.GetModelConfigRequest{AccountId: "acct", Function: "generate_content"}
	epReq := &pb.GetEffectivePromptRequest{AccountId: "acct", PromptType: "ideas"}
	modelWatches := map[string]*monotonic[*pb.ModelConfig]{}
	promptWatches := map[string]*monotonic[*pb.EffectivePrompt]{}
	for name, env := range map[string]*testsrv.Env{"A": a, "B": b} {
		mw, err := env.Config.WatchModelConfig(ctx, &pb.WatchModelConfigRequest{AccountId: "acct", Function: "generate_content"})
		if err != nil {
			t.Fatal(err)
		}
		modelWatches[name] = watchAll(t, mw.Recv, (*pb.ModelConfig).GetRevision, true)
		pw, err := env.Prompts.WatchEffectivePrompt(ctx, &pb.WatchEffectivePromptRequest{AccountId: "acct", PromptType: "ideas"})
		if err != nil {
			t.Fatal(err)
		}
		promptWatches[name] = watchAll(t, pw.Recv, (*pb.EffectivePrompt).GetRevision, false)
	}

	start, err := a.Store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var lastOverride, lastPrompt, lastGlobal int64
	for round := range 10 {
		var wg sync.WaitGroup
		var unexpected atomic.Value
		fail := func(what string, err error) {
			// Only a stale expected_revision may fail, and only as ABORTED.
			if status.Code(err) != codes.Aborted {
				unexpected.Store(fmt.Errorf("%s: %v", what, err))
			}
		}
		for w := range 12 {
			replica := []*testsrv.Env{a, b}[w%2]
			wg.Go(func() {
				for i := range 5 {
					n := int32(1000 + round*100 + w*5 + i)
					var expected *int64
					if w%3 == 0 { // read-modify-write writers
						if o, err := replica.Config.GetIntegrationOverride(admin, &pb.GetIntegrationOverrideRequest{AccountId: "acct",
							Integration: pb.Integration_INTEGRATION_OPENAI}); err == nil {
							expected = proto.Int64(o.GetRevision())
						}
					}
					if _, err := replica.Config.UpsertIntegrationOverride(admin, &pb.UpsertIntegrationOverrideRequest{
						Override:         &pb.IntegrationOverride{AccountId: "acct", Integration: pb.Integration_INTEGRATION_OPENAI, MaxTokens: proto.Int32(n)},
						ExpectedRevision: expected}); err != nil && (expected == nil || status.Code(err) != codes.Aborted) {
						unexpected.Store(fmt.Errorf("override: %v", err))
					}
					if _, err := replica.Prompts.CustomizePrompt(admin, &pb.CustomizePromptRequest{AccountId: "acct", PromptType: "ideas",
						Text: fmt.Sprintf("Ideas %d for {{clusters}}", n)}); err != nil {
						fail("prompt", err)
					}
					temp := float64(n%20) / 10
					var gexp *int64
					if w%3 == 1 {
						if g, err := replica.Config.GetGlobalSettings(admin, &pb.GetGlobalSettingsRequest{}); err == nil {
							gexp = proto.Int64(g.GetRevision())
						}
					}
					if _, err := replica.Config.UpdateGlobalSettings(admin, &pb.UpdateGlobalSettingsRequest{
						Settings: &pb.GlobalSettings{Openai: &pb.IntegrationDefaults{Temperature: proto.Float64(temp)}}, ExpectedRevision: gexp}); err != nil &&
						(gexp == nil || status.Code(err) != codes.Aborted) {
						unexpected.Store(fmt.Errorf("global: %v", err))
					}
				}
			})
		}
		wg.Wait()
		if err, _ := unexpected.Load().(error); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}

		// The truth, read from the database.
		o, _, err := a.Store.GetOverride(context.Background(), "acct", domain.OpenAI)
		if err != nil {
			t.Fatal(err)
		}
		g, err := a.Store.GetGlobal(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		d, err := a.Store.LoadAccountData(context.Background(), "acct")
		if err != nil {
			t.Fatal(err)
		}
		models, err := a.Store.ListModels(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		p := d.Items[domain.ItemKey{Kind: domain.ItemPrompt, ID: "ideas"}]
		if o.Revision < lastOverride || p.Revision < lastPrompt || g.Revision < lastGlobal {
			t.Fatalf("round %d: a stored revision went backwards: override %d→%d, prompt %d→%d, global %d→%d",
				round, lastOverride, o.Revision, lastPrompt, p.Revision, lastGlobal, g.Revision)
		}
		lastOverride, lastPrompt, lastGlobal = o.Revision, p.Revision, g.Revision
		wantTokens, wantTemp := *o.Params.MaxTokens, *g.Defaults[domain.OpenAI].Params.Temperature
		wantRev := max(g.Revision, d.Account.ConfigRevision)
		for _, m := range models {
			wantRev = max(wantRev, m.Revision)
		}
		agree := func() error {
			for name, env := range map[string]*testsrv.Env{"A": a, "B": b} {
				mc, err := env.Config.GetModelConfig(admin, mcReq)
				if err != nil {
					return err
				}
				if mc.GetMaxTokens() != wantTokens || mc.GetTemperature() != wantTemp || mc.GetRevision() != wantRev {
					return fmt.Errorf("%s serves max_tokens %d, temperature %g at revision %d; the database holds %d, %g at %d",
						name, mc.GetMaxTokens(), mc.GetTemperature(), mc.GetRevision(), wantTokens, wantTemp, wantRev)
				}
				ep, err := env.Prompts.GetEffectivePrompt(admin, epReq)
				if err != nil {
					return err
				}
				if ep.GetText() != string(p.Content.(domain.PromptText)) || ep.GetRevision() != p.Revision {
					return fmt.Errorf("%s serves prompt %q (revision %d); the database holds %q (revision %d)",
						name, ep.GetText(), ep.GetRevision(), p.Content, p.Revision)
				}
				wm, werr := modelWatches[name].get()
				if werr != nil {
					return werr
				}
				if !proto.Equal(wm, mc) {
					return fmt.Errorf("%s's model watch last sent %v, a read gives %v", name, wm, mc)
				}
				wp, werr := promptWatches[name].get()
				if werr != nil {
					return werr
				}
				if !proto.Equal(wp, ep) {
					return fmt.Errorf("%s's prompt watch last sent %v, a read gives %v", name, wp, ep)
				}
			}
			return nil
		}
		var last error
		for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if last = agree(); last == nil {
				break
			}
			var broken interface{ GRPCStatus() *status.Status }
			if time.Now().After(deadline) || errors.As(last, &broken) {
				t.Fatalf("round %d: after the writes stopped: %v", round, last)
			}
		}
	}

	// The change feed of all those concurrent writes, through either
	// replica, resumed from before them: every revision up to the head,
	// once each, in order (SPEC §9: no gaps).
	head, err := a.Store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for name, env := range map[string]*testsrv.Env{"A": a, "B": b} {
		changes, _ := feed(t, env, admin, start)
		if int64(len(changes)) != head-start {
			t.Fatalf("%s's feed from %d has %d changes up to the head %d, want %d", name, start, len(changes), head, head-start)
		}
		for i, c := range changes {
			if c.GetRevision() != start+1+int64(i) {
				t.Fatalf("%s's feed: change %d has revision %d, want %d", name, i, c.GetRevision(), start+1+int64(i))
			}
		}
	}
}
