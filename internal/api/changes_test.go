package api_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/app"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/pgtest"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// feed reads a WatchChanges stream from from up to its first progress
// event (sent once the history is replayed), and returns the changes and
// the progress revision.
func feed(t *testing.T, env *testsrv.Env, ctx context.Context, from int64) ([]*pb.Change, int64) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := env.Changes.WatchChanges(ctx, &pb.WatchChangesRequest{FromRevision: from})
	if err != nil {
		t.Fatal(err)
	}
	var out []*pb.Change
	for {
		c, err := s.Recv()
		if err != nil {
			t.Fatalf("WatchChanges(%d): %v", from, err)
		}
		if c.GetProgress() {
			return out, c.GetRevision()
		}
		out = append(out, c)
	}
}

type wantChange struct {
	kind     pb.ChangeKind
	account  string
	resource string // a prefix when it ends in "/"
}

func (w wantChange) matches(c *pb.Change) bool {
	res := c.GetResource() == w.resource || (strings.HasSuffix(w.resource, "/") && strings.HasPrefix(c.GetResource(), w.resource))
	return c.GetKind() == w.kind && c.GetAccountId() == w.account && res
}

func checkFeed(t *testing.T, got []*pb.Change, want []wantChange) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d changes, want %d: %v", len(got), len(want), got)
	}
	for i, c := range got {
		if !want[i].matches(c) {
			t.Errorf("change %d = %v, want %+v", i, c, want[i])
		}
		if i > 0 && c.GetRevision() != got[i-1].GetRevision()+1 {
			t.Errorf("change %d has revision %d after %d: revisions must be dense and in order", i, c.GetRevision(), got[i-1].GetRevision())
		}
		if c.GetTime() == nil {
			t.Errorf("change %d has no time", i)
		}
	}
}

// TestWatchChanges: from 0 the feed returns every write of a scripted
// sequence exactly once, in order (a call that changed nothing is not a
// change); resuming from the middle returns exactly the rest; live
// changes follow the replay; an idle stream sends progress; a compacted
// revision is OUT_OF_RANGE REVISION_COMPACTED naming where to resume.
func TestWatchChanges(t *testing.T) {
	env := testsrv.StartWith(t, pgtest.NewDatabase(t), nil, func(c *app.Config) { c.ChangesProgress = 300 * time.Millisecond })
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	want := []wantChange{{pb.ChangeKind_CHANGE_KIND_TOKEN, "", "tokens/"}}
	revs := []int64{0} // the revision each write reported (0: none reported)
	step := func(w wantChange, call func() (int64, error)) {
		t.Helper()
		rev, err := call()
		if err != nil {
			t.Fatalf("%s: %v", w.resource, err)
		}
		want = append(want, w)
		revs = append(revs, rev)
	}
	acct, global, catalog, token := pb.ChangeKind_CHANGE_KIND_ACCOUNT, pb.ChangeKind_CHANGE_KIND_GLOBAL, pb.ChangeKind_CHANGE_KIND_CATALOG, pb.ChangeKind_CHANGE_KIND_TOKEN
	for _, id := range []string{"acct", "acct2"} {
		step(wantChange{acct, id, "accounts/" + id}, func() (int64, error) {
			a, err := env.Accounts.UpsertAccount(admin, &pb.UpsertAccountRequest{Account: &pb.Account{Id: id, Plan: pb.Plan_PLAN_STARTER}})
			return a.GetRevision(), err
		})
	}
	step(wantChange{acct, "acct", "accounts/acct/overrides/openai"}, func() (int64, error) {
		o, err := env.Config.UpsertIntegrationOverride(admin, upsertReq("acct", pb.Integration_INTEGRATION_OPENAI, &pb.IntegrationOverride{Model: proto.String("gpt-4.1")}))
		return o.GetRevision(), err
	})
	for _, id := range []string{"acct", "acct2"} {
		step(wantChange{acct, id, "accounts/" + id + "/prompts/ideas"}, func() (int64, error) {
			p, err := env.Prompts.CustomizePrompt(admin, &pb.CustomizePromptRequest{AccountId: id, PromptType: "ideas", Text: "Mine: {{clusters}}"})
			return p.GetRevision(), err
		})
	}
	// A reset of a prompt never customized changes nothing: no change.
	if _, err := env.Prompts.ResetPrompt(admin, &pb.ResetPromptRequest{AccountId: "acct", PromptType: "clustering"}); err != nil {
		t.Fatal(err)
	}
	step(wantChange{global, "", "global_settings"}, func() (int64, error) {
		g, err := env.Config.UpdateGlobalSettings(admin, &pb.UpdateGlobalSettingsRequest{Settings: &pb.GlobalSettings{Openai: &pb.IntegrationDefaults{MaxTokens: proto.Int32(3000)}}})
		return g.GetRevision(), err
	})
	middle := len(want) - 1
	step(wantChange{catalog, "", "models/openai/gpt-test"}, func() (int64, error) {
		m, err := env.Config.UpsertModel(admin, &pb.UpsertModelRequest{Model: &pb.Model{Integration: pb.Integration_INTEGRATION_OPENAI, Model: "gpt-test",
			Enabled: true, MaxOutputTokens: proto.Int32(1000), MinTemperature: proto.Float64(0), MaxTemperature: proto.Float64(1)}})
		return m.GetRevision(), err
	})
	step(wantChange{global, "", "global_prompts/clustering"}, func() (int64, error) {
		p, err := env.Prompts.UpsertGlobalPrompt(admin, &pb.UpsertGlobalPromptRequest{Prompt: &pb.GlobalPrompt{PromptType: "clustering",
			Text: "Cluster {{keywords}}", Variables: []string{"keywords"}}})
		return p.GetRevision(), err
	})
	var tokenID string
	step(wantChange{token, "", "tokens/"}, func() (int64, error) {
		r, err := env.Tokens.CreateToken(admin, &pb.CreateTokenRequest{Name: "w", Role: pb.Role_ROLE_SERVICE})
		tokenID = r.GetToken().GetId()
		return 0, err
	})
	step(wantChange{token, "", "tokens/"}, func() (int64, error) {
		_, err := env.Tokens.RevokeToken(admin, &pb.RevokeTokenRequest{Id: tokenID})
		return 0, err
	})
	step(wantChange{acct, "", "account_prompts"}, func() (int64, error) { // two accounts: account_id empty
		_, err := env.Prompts.BulkResetPrompts(admin, &pb.BulkResetPromptsRequest{PromptTypes: []string{"ideas"}})
		return 0, err
	})
	step(wantChange{acct, "acct", "accounts/acct/overrides/openai"}, func() (int64, error) {
		_, err := env.Config.DeleteIntegrationOverride(admin, &pb.DeleteIntegrationOverrideRequest{AccountId: "acct", Integration: pb.Integration_INTEGRATION_OPENAI})
		return 0, err
	})
	step(wantChange{acct, "acct2", "accounts/acct2"}, func() (int64, error) {
		_, err := env.Accounts.DeleteAccount(admin, &pb.DeleteAccountRequest{Id: "acct2"})
		return 0, err
	})

	all, head := feed(t, env, admin, 0)
	checkFeed(t, all, want)
	for i, rev := range revs {
		if rev != 0 && all[i].GetRevision() != rev {
			t.Errorf("change %d (%s) has revision %d; the write reported %d", i, all[i].GetResource(), all[i].GetRevision(), rev)
		}
	}
	if last := all[len(all)-1].GetRevision(); head != last {
		t.Errorf("progress after the replay says %d, the last change is %d", head, last)
	}
	rest, _ := feed(t, env, admin, all[middle].GetRevision())
	checkFeed(t, rest, want[middle+1:])
	if rest[0].GetRevision() != all[middle+1].GetRevision() {
		t.Errorf("resumed at %d, want %d", rest[0].GetRevision(), all[middle+1].GetRevision())
	}

	// Live: a stream at the head sees the next write, then idles with progress.
	ctx, cancel := context.WithCancel(admin)
	defer cancel()
	live, err := env.Changes.WatchChanges(ctx, &pb.WatchChangesRequest{FromRevision: head})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := live.Recv(); err != nil || !c.GetProgress() || c.GetRevision() != head {
		t.Fatalf("first event at the head: %v, %v; want progress at %d", c, err, head)
	}
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_GROWTH)
	if c, err := live.Recv(); err != nil || c.GetRevision() != head+1 || c.GetResource() != "accounts/acct" {
		t.Fatalf("live change: %v, %v", c, err)
	}
	if c, err := live.Recv(); err != nil || !c.GetProgress() || c.GetRevision() != head+1 {
		t.Fatalf("idle stream: %v, %v; want progress at %d", c, err, head+1)
	}

	// From now (-1): no history, progress at the head.
	if got, at := feed(t, env, admin, -1); len(got) != 0 || at != head+1 {
		t.Fatalf("from now: %v, progress at %d; want none at %d", got, at, head+1)
	}
	// Ahead of the newest (a restored database): start over from the head.
	s, err := env.Changes.WatchChanges(admin, &pb.WatchChangesRequest{FromRevision: head + 1000})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Recv()
	if f := testsrv.WantError(t, err, codes.OutOfRange, domain.ReasonRevisionCompacted); f.Info.GetMetadata()["oldest_revision"] != strconv.FormatInt(head+1, 10) {
		t.Fatalf("ahead of the head: metadata %v", f.Info.GetMetadata())
	}

	// Retention: compact everything; replaying from 0 is refused, naming
	// where to resume, and resuming there works.
	if _, err := env.Store.CompactChanges(context.Background(), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	s, err = env.Changes.WatchChanges(admin, &pb.WatchChangesRequest{FromRevision: 0})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Recv()
	f := testsrv.WantError(t, err, codes.OutOfRange, domain.ReasonRevisionCompacted)
	oldest, _ := strconv.ParseInt(f.Info.GetMetadata()["oldest_revision"], 10, 64)
	if oldest != head+1 {
		t.Fatalf("oldest_revision = %q, want %d", f.Info.GetMetadata()["oldest_revision"], head+1)
	}
	if got, at := feed(t, env, admin, oldest); len(got) != 0 || at != oldest {
		t.Fatalf("resuming at the oldest revision: %v, progress at %d", got, at)
	}
	// Only ADMIN and SERVICE may follow the feed.
	s, err = env.Changes.WatchChanges(testsrv.Ctx(env.Token(t, domain.RoleAccount, "acct")), &pb.WatchChangesRequest{})
	if err == nil {
		_, err = s.Recv()
	}
	testsrv.WantError(t, err, codes.PermissionDenied, domain.ReasonRoleNotAllowed)
}

// TestFeedResumesAfterCut: a replica whose feed connection is cut
// (pg_terminate_backend) and cannot reconnect for a while misses none of
// the writes made meanwhile: it applies them from the feed when it is back,
// without revalidating everything.
func TestFeedResumesAfterCut(t *testing.T) {
	a := testsrv.Start(t)
	proxy := testsrv.NewProxy(t, a.DatabaseURL)
	b := testsrv.StartOn(t, proxy.URL(a.DatabaseURL), a.Keys)
	admin := testsrv.Ctx(a.Token(t, domain.RoleAdmin, ""))
	setPlan(t, a, admin, "acct", pb.Plan_PLAN_STARTER)
	read := func() *pb.ModelConfig {
		c, err := b.Config.GetModelConfig(admin, &pb.GetModelConfigRequest{AccountId: "acct", Function: "generate_content"})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// B has applied every change so far and holds acct fresh in memory.
	h0, err := a.Store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "B is in step", func() bool { return b.Feed.Position() >= h0 })
	read()
	resets := b.Cache.Stats.ListenerResets.Load()

	proxy.Refuse(true)
	super, err := pgx.Connect(context.Background(), a.ServerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer super.Close(context.Background())
	if _, err := super.Exec(context.Background(), `SELECT pg_terminate_backend($1)`, int32(b.Feed.BackendPID())); err != nil {
		t.Fatal(err)
	}
	eventually(t, 3*time.Second, "B's feed notices", func() bool { return !b.Feed.Connected.Load() })
	for i, model := range []string{"gpt-4.1", "gpt-4o", "gpt-4.1-mini"} {
		setModel(t, a, admin, model)
		if i == 0 {
			setPlan(t, a, admin, "other", pb.Plan_PLAN_GROWTH)
		}
	}
	head, err := a.Store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // longer than B's feed interval: nothing reaches B
	if got := read().GetModel(); got != "gpt-4o-mini" {
		t.Fatalf("B applied a change while cut off: model %s", got)
	}

	proxy.Refuse(false)
	eventually(t, 3*time.Second, "B's feed resumes", func() bool { return b.Feed.Connected.Load() && b.Feed.Position() >= head })
	if got := read().GetModel(); got != "gpt-4.1-mini" {
		t.Fatalf("after resuming, B serves %s, want gpt-4.1-mini", got)
	}
	if r := b.Cache.Stats.ListenerResets.Load(); r != resets {
		t.Fatalf("B revalidated everything %d times: it should have resumed from its position", r-resets)
	}
}
