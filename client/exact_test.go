package client

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// Readers race writers on two replicas; once the writes stop and the feed
// has applied them, every cached answer is the database's, exactly.
func TestExactUnderConcurrentWrites(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	other := s.replica() // writes land on both replicas
	c := s.client()
	accounts := []string{"acme", "beta", "a3", "a4"}
	for _, a := range accounts[2:] {
		s.env.Account(t, a, domain.PlanStarter)
	}
	ctx, stop := context.WithCancel(context.Background())
	var readers sync.WaitGroup
	var reads atomic.Int64
	for range 8 {
		readers.Go(func() {
			for ctx.Err() == nil {
				a := accounts[rand.IntN(len(accounts))]
				if _, err := c.ModelConfig(ctx, a, "generate_content"); err != nil && ctx.Err() == nil {
					t.Errorf("read %s: %v", a, err)
					return
				}
				if _, err := c.EffectivePrompt(ctx, a, "ideas"); err != nil && ctx.Err() == nil {
					t.Errorf("read prompt %s: %v", a, err)
					return
				}
				if _, err := c.GenerationContext(ctx, contextOf(a)); err != nil && ctx.Err() == nil {
					t.Errorf("read context %s: %v", a, err)
					return
				}
				reads.Add(1)
			}
		})
	}
	var last int64
	for i := range 120 {
		env := []*testsrv.Env{s.env, other}[i%2]
		a := accounts[rand.IntN(len(accounts))]
		switch i % 5 {
		case 4: // the global layer
			p, err := env.Prompts.UpsertGlobalPrompt(testsrv.Ctx(s.admin), &pb.UpsertGlobalPromptRequest{Prompt: &pb.GlobalPrompt{
				PromptType: "ideas", Text: fmt.Sprintf("Ideas, version %d: {{clusters}}", i), Variables: []string{"clusters"}}})
			if err != nil {
				t.Fatal(err)
			}
			last = max(last, p.GetRevision())
		case 2: // an account's author profile
			p, err := env.Profiles.UpdateAuthorProfile(testsrv.Ctx(s.admin), &pb.UpdateAuthorProfileRequest{AccountId: a,
				AuthorProfile: &pb.AuthorProfile{Id: "friendly-guide", Tone: fmt.Sprintf("tone %d", i)}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"tone"}}})
			if err != nil {
				t.Fatal(err)
			}
			last = max(last, p.GetRevision())
		case 3: // an account's prompt
			p, err := env.Prompts.CustomizePrompt(testsrv.Ctx(s.admin), &pb.CustomizePromptRequest{AccountId: a, PromptType: "ideas",
				Text: fmt.Sprintf("%s's ideas %d: {{clusters}}", a, i)})
			if err != nil {
				t.Fatal(err)
			}
			last = max(last, p.GetRevision())
		default:
			last = max(last, setTemperature(t, env, s.admin, a, float64(i%20)/10))
		}
	}
	waitFor(t, "the client to apply every write", func() bool { return c.Stats().Revision >= last })
	stop()
	readers.Wait()
	t.Logf("%d reads during 120 writes; %+v", reads.Load(), c.Stats())

	direct := testsrv.Ctx(s.service)
	for _, a := range accounts {
		got, err := c.ModelConfig(context.Background(), a, "generate_content")
		if err != nil {
			t.Fatal(err)
		}
		want, err := s.env.Config.GetModelConfig(direct, &pb.GetModelConfigRequest{AccountId: a, Function: "generate_content"})
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got.ModelConfig, want) {
			t.Errorf("%s: the client holds %v, the database says %v", a, got, want)
		}
		gotP, err := c.EffectivePrompt(context.Background(), a, "ideas")
		if err != nil {
			t.Fatal(err)
		}
		wantP, err := s.env.Prompts.GetEffectivePrompt(direct, &pb.GetEffectivePromptRequest{AccountId: a, PromptType: "ideas"})
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(gotP, wantP) {
			t.Errorf("%s: the client holds prompt %q, the database says %q", a, gotP.GetText(), wantP.GetText())
		}
		gotC, err := c.GenerationContext(context.Background(), contextOf(a))
		if err != nil {
			t.Fatal(err)
		}
		wantC, err := s.env.Config.GetGenerationContext(direct, contextOf(a))
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(gotC.GenerationContext, wantC) {
			t.Errorf("%s: the client holds context\n%v\nthe database says\n%v", a, gotC, wantC)
		}
	}
}

// contextOf is the generation context the exactness test reads: the
// profile its writes customize.
func contextOf(account string) *pb.GetGenerationContextRequest {
	return &pb.GetGenerationContextRequest{AccountId: account, Function: "generate_ideas", AuthorProfileId: "friendly-guide"}
}

// The API key is in the answer, and nowhere a log line or a printout goes.
func TestAPIKeyIsNeverPrinted(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	logs := &testsrv.SyncBuffer{}
	c := s.client(WithLogger(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	m, err := c.ModelConfig(context.Background(), "acme", "generate_content")
	if err != nil {
		t.Fatal(err)
	}
	if m.APIKey() != testAPIKey || m.GetApiKey() != testAPIKey {
		t.Fatal("the service token did not receive the key")
	}
	g, err := c.GenerationContext(context.Background(), &pb.GetGenerationContextRequest{AccountId: "acme", Function: "generate_content"})
	if err != nil {
		t.Fatal(err)
	}
	if g.APIKey() != testAPIKey || g.Config().APIKey() != testAPIKey {
		t.Fatal("the service token did not receive the key in the context")
	}
	js, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	gjs, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []slog.Handler{slog.NewTextHandler(logs, nil), slog.NewJSONHandler(logs, nil)} {
		slog.New(h).Info("config", "cfg", m, "context", g, "context_config", g.Config())
	}
	s.stop() // and the feed's failure lines
	waitFor(t, "the feed to go down", func() bool { return !c.Stats().InStep })
	_ = c.Close()
	printed := map[string]string{"JSON": string(js), "context JSON": string(gjs), "logs": logs.String()}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		printed[f] = fmt.Sprintf(f, m)
		printed["context "+f] = fmt.Sprintf(f, g)
		printed["context config "+f] = fmt.Sprintf(f, g.Config())
	}
	printed["String"], printed["context String"] = m.String(), g.String()
	for name, out := range printed {
		if strings.Contains(out, testAPIKey) || strings.Contains(out, "SECRET") {
			t.Errorf("%s shows the API key: %s", name, out)
		}
		if name != "logs" && !strings.Contains(out, m.GetModel()) {
			t.Errorf("%s does not show the configuration: %s", name, out)
		}
	}
	if m.APIKey() != testAPIKey || g.APIKey() != testAPIKey {
		t.Error("printing changed the cached answers")
	}
}

// An ACCOUNT token may not watch the feed: the client still answers, from
// the server every time, since it cannot know when an answer changes.
func TestNoFeedNoCache(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c, err := New(s.addr, WithToken(s.env.Token(t, domain.RoleAccount, "acme")), WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	before := handled(t, s.env, getModelConfig)
	for range 3 {
		if _, err := c.ModelConfig(context.Background(), "acme", "generate_content"); err != nil {
			t.Fatal(err)
		}
	}
	if n := handled(t, s.env, getModelConfig) - before; n != 3 {
		t.Errorf("%d calls for 3 reads without a feed, want 3", n)
	}
	if st := c.Stats(); st.InStep || st.Entries != 0 {
		t.Errorf("stats %+v: nothing may be cached without the feed", st)
	}
}

// The client renders exactly as the server's RenderPrompt does.
func TestRenderPromptMatchesTheServer(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.client()
	ctx := context.Background()
	for _, vars := range []map[string]string{
		{"keywords": "seo audit\nlink building <b>&</b> {{keywords}} $1"},
		{"keywords": ""},
		{},
		{"keywords": "x", "keyword": "typo"},
	} {
		got, err := c.RenderPrompt(ctx, "acme", "clustering", vars)
		want, werr := s.env.Prompts.RenderPrompt(testsrv.Ctx(s.service), &pb.RenderPromptRequest{AccountId: "acme", PromptType: "clustering", Variables: vars})
		if werr != nil {
			we := ErrorFrom(werr).(*Error)
			e, ok := err.(*Error)
			if !ok || e.Code != we.Code || e.Reason != we.Reason || e.Message != we.Message || fmt.Sprint(e.FieldViolations) != fmt.Sprint(we.FieldViolations) {
				t.Errorf("%v: client %v, server %+v", vars, err, we)
			}
			continue
		}
		if err != nil || got != want.GetText() {
			t.Errorf("%v: client %q, %v; server %q", vars, got, err, want.GetText())
		}
	}
}
