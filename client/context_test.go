package client

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/testsrv"
)

const getGenerationContext = "GetGenerationContext"

// The generation context is cached like the other reads: one call per
// account, function, profile and strategy; an account write drops that
// account's contexts, a global write all; each answer is the server's.
func TestGenerationContextCached(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.client()
	ctx := context.Background()
	direct := testsrv.Ctx(s.service)
	read := func(account, profile string) GenerationContext {
		t.Helper()
		g, err := c.GenerationContext(ctx, &pb.GetGenerationContextRequest{AccountId: account, Function: "generate_content", AuthorProfileId: profile})
		if err != nil {
			t.Fatalf("%s %q: %v", account, profile, err)
		}
		return g
	}
	same := func(g GenerationContext, account, profile string) {
		t.Helper()
		want, err := s.env.Config.GetGenerationContext(direct, &pb.GetGenerationContextRequest{AccountId: account, Function: "generate_content", AuthorProfileId: profile})
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(g.GenerationContext, want) {
			t.Errorf("%s %q: the client holds\n%v\nthe server answers\n%v", account, profile, g, want)
		}
	}

	before := handled(t, s.env, getGenerationContext)
	g := read("acme", "")
	if g.APIKey() != testAPIKey || g.GetPrompt().GetPromptType() != "content_generation" || g.GetAuthorProfile().GetId() == "" || g.GetContentStrategy().GetId() == "" {
		t.Fatalf("first answer: key set %v, prompt %q, profile %q, strategy %q", g.APIKey() != "",
			g.GetPrompt().GetPromptType(), g.GetAuthorProfile().GetId(), g.GetContentStrategy().GetId())
	}
	for range 100 {
		if again := read("acme", ""); again.GenerationContext != g.GenerationContext {
			t.Fatal("a cached read returned another answer")
		}
	}
	// Another profile is another entry; so is another account.
	named := read("acme", "friendly-guide")
	read("beta", "")
	if n := handled(t, s.env, getGenerationContext) - before; n != 3 {
		t.Errorf("103 reads of 3 contexts made %d calls, want 3", n)
	}
	same(g, "acme", "")
	same(named, "acme", "friendly-guide")
	profile := g.GetAuthorProfile().GetId() // the platform's default profile

	// Customizing acme's profile is an account write: acme's contexts go,
	// beta's stay, and the next read has the new tone.
	p, err := s.env.Profiles.UpdateAuthorProfile(testsrv.Ctx(s.admin), &pb.UpdateAuthorProfileRequest{AccountId: "acme",
		AuthorProfile: &pb.AuthorProfile{Id: profile, Tone: "dry, exact"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"tone"}}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the write to reach the client", func() bool { return c.Stats().Revision >= p.GetRevision() })
	before = handled(t, s.env, getGenerationContext)
	read("beta", "")
	if n := handled(t, s.env, getGenerationContext) - before; n != 0 {
		t.Errorf("beta's context made %d calls after a write to acme; it should have stayed cached", n)
	}
	g = read("acme", "")
	if got := g.GetAuthorProfile(); got.GetTone() != "dry, exact" || !got.GetIsCustomized() {
		t.Errorf("acme's profile after customizing it: tone %q, customized %v", got.GetTone(), got.GetIsCustomized())
	}
	read("acme", "friendly-guide")
	if n := handled(t, s.env, getGenerationContext) - before; n != 2 {
		t.Errorf("acme's two contexts made %d calls after its write, want 2", n)
	}
	same(g, "acme", "")

	// So is naming another default profile.
	acct, err := s.env.Accounts.SetAccountDefaults(testsrv.Ctx(s.admin), &pb.SetAccountDefaultsRequest{AccountId: "acme", DefaultAuthorProfileId: "friendly-guide"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new default to reach the client", func() bool { return c.Stats().Revision >= acct.GetRevision() })
	if g = read("acme", ""); g.GetAuthorProfile().GetId() != "friendly-guide" {
		t.Errorf("acme's context after naming friendly-guide its default has profile %q", g.GetAuthorProfile().GetId())
	}

	// A global write drops every context.
	gp, err := s.env.Strategies.ListGlobalContentStrategies(testsrv.Ctx(s.admin), &pb.ListGlobalContentStrategiesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	strategy := proto.Clone(gp.GetContentStrategies()[0]).(*pb.ContentStrategy)
	strategy.KeywordGuidelines = "One main keyword per article."
	strategy.Source, strategy.Revision, strategy.GlobalRevision = 0, 0, 0
	if _, err := s.env.Strategies.UpsertGlobalContentStrategy(testsrv.Ctx(s.admin), &pb.UpsertGlobalContentStrategyRequest{ContentStrategy: strategy}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the global write to drop every context", func() bool { return c.Stats().Entries == 0 })
	same(read("beta", ""), "beta", "")
}

// A profile or strategy the account cannot use is NOT_FOUND naming it;
// failures are not cached.
func TestGenerationContextErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.client()
	ctx := context.Background()
	if _, err := s.env.Profiles.CreateAuthorProfile(testsrv.Ctx(s.admin), &pb.CreateAuthorProfileRequest{AccountId: "acme",
		AuthorProfile: &pb.AuthorProfile{Id: "acme-voice", Name: "Acme voice", Language: "en"}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		req           *pb.GetGenerationContextRequest
		reason, field string
	}{
		{&pb.GetGenerationContextRequest{AccountId: "beta", Function: "generate_content", AuthorProfileId: "acme-voice"}, ReasonAuthorProfileNotFound, "author_profile_id"},
		{&pb.GetGenerationContextRequest{AccountId: "acme", Function: "generate_content", ContentStrategyId: "no-such"}, ReasonContentStrategyNotFound, "content_strategy_id"},
	} {
		before := handled(t, s.env, getGenerationContext)
		for range 2 {
			_, err := c.GenerationContext(ctx, tc.req)
			e := wantError(t, tc.field, err, codes.NotFound, tc.reason)
			if id := tc.req.GetAuthorProfileId() + tc.req.GetContentStrategyId(); e.Metadata[tc.field] != id {
				t.Errorf("%s: metadata %v does not name %q", tc.reason, e.Metadata, id)
			}
		}
		if n := handled(t, s.env, getGenerationContext) - before; n != 2 {
			t.Errorf("%s: 2 failing reads made %d calls, want 2", tc.reason, n)
		}
	}
	_, err := c.GenerationContext(ctx, &pb.GetGenerationContextRequest{AccountId: "acme", Function: "write_poems"})
	if e := wantError(t, "unknown function", err, codes.InvalidArgument, ReasonUnknownFunction); len(e.FieldViolations) == 0 || e.FieldViolations[0].Field != "function" {
		t.Errorf("violations %v do not name the function", e.FieldViolations)
	}
	_, err = c.GenerationContext(ctx, &pb.GetGenerationContextRequest{AccountId: "nobody", Function: "generate_content"})
	wantError(t, "unknown account", err, codes.NotFound, ReasonAccountNotFound)
	if st := c.Stats(); st.Entries != 0 {
		t.Errorf("%d entries after failures only, want 0", st.Entries)
	}
}
