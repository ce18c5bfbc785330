package client

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/testsrv"
)

const (
	getModelConfig     = "GetModelConfig"
	getEffectivePrompt = "GetEffectivePrompt"
)

func TestCachedReadMakesNoCall(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.client()
	ctx := context.Background()
	before := handled(t, s.env, getModelConfig)
	m, err := c.ModelConfig(ctx, "acme", "generate_content")
	if err != nil {
		t.Fatal(err)
	}
	if m.GetModel() == "" || m.APIKey() != testAPIKey {
		t.Fatalf("first answer: model %q, key set %v", m.GetModel(), m.APIKey() != "")
	}
	for range 100 {
		again, err := c.ModelConfig(ctx, "acme", "generate_content")
		if err != nil || again.ModelConfig != m.ModelConfig {
			t.Fatalf("cached read: %v, %v (want the same answer)", again.GetModel(), err)
		}
	}
	if n := handled(t, s.env, getModelConfig) - before; n != 1 {
		t.Errorf("101 reads made %d GetModelConfig calls on the server, want 1", n)
	}

	before = handled(t, s.env, getEffectivePrompt)
	for range 50 {
		p, err := c.EffectivePrompt(ctx, "acme", "clustering")
		if err != nil || p.GetText() == "" {
			t.Fatalf("prompt: %v, %v", p, err)
		}
	}
	if n := handled(t, s.env, getEffectivePrompt) - before; n != 1 {
		t.Errorf("50 prompt reads made %d calls, want 1", n)
	}
	if st := c.Stats(); st.Hits != 149 || st.Entries != 2 {
		t.Errorf("stats = %+v, want 149 hits and 2 entries", st)
	}
}

func TestWriteDropsOnlyWhatItChanges(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.client()
	ctx := context.Background()
	for _, a := range []string{"acme", "beta"} {
		temperature(t, c, a)
		if _, err := c.EffectivePrompt(ctx, a, "clustering"); err != nil {
			t.Fatal(err)
		}
	}
	calls := func() int { return handled(t, s.env, getModelConfig) + handled(t, s.env, getEffectivePrompt) }

	// An account write drops that account's answers, and only those.
	rev := setTemperature(t, s.env, s.admin, "acme", 0.3)
	waitFor(t, "the write to reach the client", func() bool { return c.Stats().Revision >= rev })
	before := calls()
	if got := temperature(t, c, "beta"); got != 0.7 {
		t.Errorf("beta temperature = %v", got)
	}
	if _, err := c.EffectivePrompt(ctx, "beta", "clustering"); err != nil {
		t.Fatal(err)
	}
	if n := calls() - before; n != 0 {
		t.Errorf("beta's answers made %d calls after a write to acme; they should have stayed cached", n)
	}
	if got := temperature(t, c, "acme"); got != 0.3 {
		t.Errorf("acme temperature after the write = %v, want 0.3", got)
	}
	if n := calls() - before; n != 1 {
		t.Errorf("acme's model config made %d calls after its write, want 1", n)
	}

	// A prompt customization is an account write too.
	_, err := s.env.Prompts.CustomizePrompt(testsrv.Ctx(s.admin), &pb.CustomizePromptRequest{AccountId: "acme", PromptType: "clustering",
		Text: "Acme groups these: {{keywords}}"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the customization to reach the client", func() bool {
		p, err := c.EffectivePrompt(ctx, "acme", "clustering")
		return err == nil && p.GetSource() == pb.Source_SOURCE_ACCOUNT
	})

	// A global write drops everything.
	_, err = s.env.Prompts.UpsertGlobalPrompt(testsrv.Ctx(s.admin), &pb.UpsertGlobalPromptRequest{Prompt: &pb.GlobalPrompt{
		PromptType: "clustering", Text: "Cluster, globally: {{keywords}}", Variables: []string{"keywords"}}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the global prompt to reach the client", func() bool {
		p, err := c.EffectivePrompt(ctx, "beta", "clustering")
		return err == nil && p.GetText() == "Cluster, globally: {{keywords}}"
	})
	if st := c.Stats(); st.Entries != 1 {
		t.Errorf("after a global write and one read, %d entries are cached, want 1", st.Entries)
	}
}

func TestServerDown(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.client(WithMaxStale(3 * time.Second))
	ctx := context.Background()
	if got := temperature(t, c, "acme"); got != 0.7 {
		t.Fatalf("acme temperature = %v", got)
	}

	s.stop()
	waitFor(t, "the client to see the feed down", func() bool { return !c.Stats().InStep })
	// Cached answers keep answering, new keys fail with UNAVAILABLE.
	if got := temperature(t, c, "acme"); got != 0.7 {
		t.Errorf("cached acme during the outage = %v", got)
	}
	_, err := c.ModelConfig(ctx, "beta", "generate_content")
	if e, ok := err.(*Error); !ok || e.Code != codes.Unavailable {
		t.Errorf("a new key during the outage: %v, want an *Error with UNAVAILABLE", err)
	}
	if c.Stats().StaleServed == 0 {
		t.Error("no stale answer counted")
	}

	// A write during the outage, through another replica on the same database.
	other := s.replica()
	rev := setTemperature(t, other, s.admin, "acme", 0.2)
	if got := temperature(t, c, "acme"); got != 0.7 {
		t.Errorf("acme during the outage, after a write the client cannot know of = %v, want the cached 0.7", got)
	}

	// Back: the feed resumes from where it was and catches up.
	s.start()
	waitFor(t, "the feed to catch up", func() bool { st := c.Stats(); return st.InStep && st.Revision >= rev })
	if got := temperature(t, c, "acme"); got != 0.2 {
		t.Errorf("acme after the outage = %v, want the 0.2 written meanwhile", got)
	}
	if st := c.Stats(); st.Restarts != 0 {
		t.Errorf("the feed restarted (%d) instead of resuming", st.Restarts)
	}

	// Past max_stale, cached answers stop standing in.
	s.stop()
	waitFor(t, "the client to see the feed down", func() bool { return !c.Stats().InStep })
	time.Sleep(3 * time.Second)
	if _, err := c.ModelConfig(ctx, "acme", "generate_content"); status.Code(err) != codes.Unavailable {
		t.Errorf("after max_stale: %v, want UNAVAILABLE", err)
	}
}

func TestCompactedFeedStartsOver(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.client()
	temperature(t, c, "acme")
	temperature(t, c, "beta")

	s.stop()
	waitFor(t, "the client to see the feed down", func() bool { return !c.Stats().InStep })
	// Writes the client misses, then their history compacted away.
	other := s.replica()
	rev := setTemperature(t, other, s.admin, "acme", 0.4)
	time.Sleep(10 * time.Millisecond)
	if n, err := other.Store.CompactChanges(context.Background(), time.Now()); err != nil || n == 0 {
		t.Fatalf("compaction: %d rows, %v", n, err)
	}
	s.start()
	waitFor(t, "the feed to start over", func() bool { st := c.Stats(); return st.InStep && st.Restarts == 1 })
	if st := c.Stats(); st.Revision < rev || st.Entries != 0 {
		t.Errorf("after starting over: %+v, want an empty cache at revision >= %d", st, rev)
	}
	if got := temperature(t, c, "acme"); got != 0.4 {
		t.Errorf("acme after the restart = %v, want 0.4", got)
	}
	temperature(t, c, "beta")
	if n := handled(t, s.env, getModelConfig); n != 2 {
		t.Errorf("the restarted replica served %d calls, want 2 (both answers reloaded)", n)
	}
}
