package client

import (
	"testing"
	"time"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
)

func progress(rev int64) *pb.Change { return &pb.Change{Revision: rev, Progress: true} }

func accountChange(rev int64, account string) *pb.Change {
	return &pb.Change{Revision: rev, Kind: pb.ChangeKind_CHANGE_KIND_ACCOUNT, AccountId: account}
}

func inStepCache(max int) *cache {
	c := newCache(max)
	c.apply(progress(10))
	return c
}

var (
	acmeModel  = key{account: "acme", kind: kindModelConfig, name: "generate_content"}
	acmePrompt = key{account: "acme", kind: kindEffectivePrompt, name: "clustering"}
	betaModel  = key{account: "beta", kind: kindModelConfig, name: "generate_content"}
	acmeCtx    = key{account: "acme", kind: kindGenerationContext,
		name: contextName(&pb.GetGenerationContextRequest{Function: "generate_content", AuthorProfileId: "acme-voice"})}
)

func held(c *cache, k key) bool {
	_, ok := c.get(k)
	return ok
}

// A load that an invalidation of its account overtook must not store its
// answer: it may have been computed before the change.
func TestLoadRacingAnInvalidationIsNotStored(t *testing.T) {
	cases := map[string]func(c *cache){
		"its account changed":           func(c *cache) { c.apply(accountChange(11, "acme")) },
		"a global change":               func(c *cache) { c.apply(&pb.Change{Revision: 11, Kind: pb.ChangeKind_CHANGE_KIND_GLOBAL}) },
		"a catalog change":              func(c *cache) { c.apply(&pb.Change{Revision: 11, Kind: pb.ChangeKind_CHANGE_KIND_CATALOG}) },
		"several accounts changed":      func(c *cache) { c.apply(&pb.Change{Revision: 11, Kind: pb.ChangeKind_CHANGE_KIND_ACCOUNT}) },
		"a kind newer than this client": func(c *cache) { c.apply(&pb.Change{Revision: 11, Kind: pb.ChangeKind(99)}) },
		"the feed broke and came back":  func(c *cache) { c.leave(); c.apply(progress(11)) },
		"the feed restarted":            func(c *cache) { c.leave(); c.restart(20); c.apply(progress(20)) },
	}
	for name, meanwhile := range cases {
		t.Run(name, func(t *testing.T) {
			c := inStepCache(10)
			tk := c.begin("acme")
			meanwhile(c)
			c.finish(tk, acmeModel, "old answer", true)
			if held(c, acmeModel) {
				t.Error("an answer loaded before the change was stored")
			}
			// The next load, begun after the change, is kept.
			tk = c.begin("acme")
			c.finish(tk, acmeModel, "new answer", true)
			if v, ok := c.get(acmeModel); !ok || v != "new answer" {
				t.Errorf("the next load was not kept: %v %v", v, ok)
			}
		})
	}
}

func TestInvalidationDropsExactlyItsAccount(t *testing.T) {
	c := inStepCache(10)
	for _, k := range []key{acmeModel, acmePrompt, acmeCtx, betaModel} {
		c.finish(c.begin(k.account), k, k.name, true)
	}
	// A context is keyed by its profile and strategy too.
	if other := (key{account: "acme", kind: kindGenerationContext, name: contextName(&pb.GetGenerationContextRequest{Function: "generate_content"})}); held(c, other) {
		t.Error("a context naming no profile is the one naming acme-voice")
	}
	// Another account's load in flight, and a token change, keep theirs.
	tk := c.begin("beta")
	c.apply(accountChange(11, "acme"))
	c.apply(&pb.Change{Revision: 12, Kind: pb.ChangeKind_CHANGE_KIND_TOKEN})
	c.finish(tk, key{account: "beta", kind: kindEffectivePrompt, name: "ideas"}, "x", true)
	if held(c, acmeModel) || held(c, acmePrompt) || held(c, acmeCtx) {
		t.Error("acme's answers survived a change to acme")
	}
	if !held(c, betaModel) || !held(c, key{account: "beta", kind: kindEffectivePrompt, name: "ideas"}) {
		t.Error("beta's answers were dropped by a change to acme")
	}
	if c.position() != 12 {
		t.Errorf("position %d, want 12", c.position())
	}
}

func TestNothingIsFreshOutOfStep(t *testing.T) {
	c := newCache(10)
	if tk := c.begin("acme"); tk != nil {
		t.Fatal("a load before the feed's first progress event may be stored")
	}
	c.apply(accountChange(5, "beta")) // replayed history: still not in step
	if tk := c.begin("acme"); tk != nil {
		t.Fatal("a load during the replay may be stored")
	}
	c.apply(progress(5))
	c.finish(c.begin("acme"), acmeModel, "a", true)
	if !held(c, acmeModel) {
		t.Fatal("not stored in step")
	}
	c.leave()
	if held(c, acmeModel) {
		t.Error("served as fresh with the feed down")
	}
	if v, ok := c.fallback(acmeModel, time.Minute); !ok || v != "a" {
		t.Error("no fallback within max_stale")
	}
	if _, ok := c.fallback(acmeModel, 0); ok {
		t.Error("a fallback past max_stale")
	}
	c.apply(progress(6))
	if !held(c, acmeModel) {
		t.Error("resuming in step did not make the entry fresh again")
	}
}

// No two generation context requests share a key name, whatever their ids
// hold (garbage is refused by the server, but must not find another
// request's answer here).
func TestContextNamesAreDistinct(t *testing.T) {
	seen := map[string][3]string{}
	parts := []string{"", "a", "b", "a:b", "1:a", "a1:b", "generate_content", "0:"}
	for _, f := range parts {
		for _, p := range parts {
			for _, s := range parts {
				n := contextName(&pb.GetGenerationContextRequest{Function: f, AuthorProfileId: p, ContentStrategyId: s})
				if other, ok := seen[n]; ok {
					t.Fatalf("%q and %q have the same name %q", [3]string{f, p, s}, other, n)
				}
				seen[n] = [3]string{f, p, s}
			}
		}
	}
}

// An answer for no account named (an ACCOUNT token's own) is never kept:
// no change event would name it.
func TestNoAccountNoEntry(t *testing.T) {
	c := inStepCache(10)
	k := key{kind: kindGenerationContext, name: "generate_content"}
	c.finish(c.begin(""), k, "x", true)
	if held(c, k) || c.stats().Entries != 0 {
		t.Error("an answer for no account named was kept")
	}
}

func TestBounded(t *testing.T) {
	c := inStepCache(3)
	names := []string{"a", "b", "c", "d", "e"}
	for _, n := range names {
		k := key{account: n, kind: kindModelConfig, name: "f"}
		c.finish(c.begin(n), k, n, true)
		if n == "c" {
			held(c, key{account: "a", kind: kindModelConfig, name: "f"}) // a is used again: b and c go before it
		}
	}
	if st := c.stats(); st.Entries != 3 {
		t.Fatalf("%d entries, want 3", st.Entries)
	}
	for _, n := range []string{"a", "d", "e"} {
		if !held(c, key{account: n, kind: kindModelConfig, name: "f"}) {
			t.Errorf("%s was evicted", n)
		}
	}
	if len(c.byAcct) != 3 || len(c.loads) != 0 {
		t.Errorf("index of %d accounts, %d load records; want 3 and 0", len(c.byAcct), len(c.loads))
	}
}
