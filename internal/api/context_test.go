package api_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/app"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// fourReads is what a job would otherwise read in four calls.
func fourReads(t *testing.T, env *testsrv.Env, ctx context.Context, account, function, profileID, strategyID string) *pb.GenerationContext {
	t.Helper()
	mc, err := env.Config.GetModelConfig(ctx, &pb.GetModelConfigRequest{AccountId: account, Function: function})
	if err != nil {
		t.Fatal(err)
	}
	out := &pb.GenerationContext{ModelConfig: mc}
	out.Prompt, err = env.Prompts.GetEffectivePrompt(ctx, &pb.GetEffectivePromptRequest{AccountId: account, PromptType: domain.Functions[function].PromptType})
	if err != nil {
		t.Fatal(err)
	}
	if profileID != "" {
		if out.AuthorProfile, err = env.Profiles.GetAuthorProfile(ctx, &pb.GetAuthorProfileRequest{AccountId: account, Id: profileID}); err != nil {
			t.Fatal(err)
		}
	}
	if strategyID != "" {
		if out.ContentStrategy, err = env.Strategies.GetContentStrategy(ctx, &pb.GetContentStrategyRequest{AccountId: account, Id: strategyID}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestGenerationContext: for every function the right prompt type; the
// named items, else the account's defaults, else the platform's; each part
// equal to its own read, for SERVICE (with the key) and ADMIN callers,
// from the cache and with the cache off; a named item the account cannot
// use is NOT_FOUND naming it.
func TestGenerationContext(t *testing.T) {
	cached := testsrv.Start(t)
	uncached := testsrv.StartWith(t, cached.DatabaseURL, cached.Keys, func(c *app.Config) { c.CacheDisabled = true })
	admin := testsrv.Ctx(cached.Token(t, domain.RoleAdmin, ""))
	service := testsrv.Ctx(cached.Token(t, domain.RoleService, ""))
	if _, err := cached.Config.UpdateGlobalSettings(admin, &pb.UpdateGlobalSettingsRequest{
		Settings:   &pb.GlobalSettings{Openai: &pb.IntegrationDefaults{ApiKey: "sk-context-openai-1234"}, Dalle: &pb.IntegrationDefaults{ApiKey: "sk-context-dalle-5678"}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"openai.api_key", "dalle.api_key"}}}); err != nil {
		t.Fatal(err)
	}
	// "acct": an override, a customized prompt, an own profile as its
	// default and a customized strategy; "plain": nothing of its own.
	setPlan(t, cached, admin, "acct", pb.Plan_PLAN_GROWTH)
	setPlan(t, cached, admin, "plain", pb.Plan_PLAN_STARTER)
	if _, err := cached.Config.UpsertIntegrationOverride(admin, upsertReq("acct", pb.Integration_INTEGRATION_OPENAI, &pb.IntegrationOverride{Model: proto.String("gpt-4.1")})); err != nil {
		t.Fatal(err)
	}
	if _, err := cached.Prompts.CustomizePrompt(admin, &pb.CustomizePromptRequest{AccountId: "acct", PromptType: "content_generation",
		Text: "Write it our way. {{idea}} {{keywords}}"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cached.Profiles.CreateAuthorProfile(admin, &pb.CreateAuthorProfileRequest{AccountId: "acct", AuthorProfile: &pb.AuthorProfile{
		Id: "house-voice", Name: "House voice", Language: "de", StyleGuide: "Sie-Form, kurze Sätze."}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cached.Strategies.UpdateContentStrategy(admin, &pb.UpdateContentStrategyRequest{AccountId: "acct",
		ContentStrategy: &pb.ContentStrategy{Id: "news-and-trends", WordCountMax: 900}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cached.Accounts.SetAccountDefaults(admin, &pb.SetAccountDefaultsRequest{AccountId: "acct",
		DefaultAuthorProfileId: "house-voice", DefaultContentStrategyId: "news-and-trends"}); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		account, profileID, strategyID string // requested ("" for the defaults)
		wantProfile, wantStrategy      string
	}{
		{"acct", "", "", "house-voice", "news-and-trends"},
		{"acct", "friendly-guide", "product-led", "friendly-guide", "product-led"},
		{"plain", "", "", "expert-practitioner", "pillar-cluster-seo"},
		{"plain", "news-reporter", "", "news-reporter", "pillar-cluster-seo"},
	}
	for _, replica := range []struct {
		name string
		env  *testsrv.Env
	}{{"cached", cached}, {"cache off", uncached}} {
		for _, caller := range []struct {
			name string
			ctx  context.Context
		}{{"service", service}, {"admin", admin}} {
			for _, tc := range cases {
				for function, f := range domain.Functions {
					what := replica.name + "/" + caller.name + "/" + tc.account + "/" + function + "/" + tc.profileID
					got, err := replica.env.Config.GetGenerationContext(caller.ctx, &pb.GetGenerationContextRequest{AccountId: tc.account,
						Function: function, AuthorProfileId: tc.profileID, ContentStrategyId: tc.strategyID})
					if err != nil {
						t.Fatalf("%s: %v", what, err)
					}
					want := fourReads(t, replica.env, caller.ctx, tc.account, function, tc.wantProfile, tc.wantStrategy)
					want.Revision = got.GetRevision()
					if !proto.Equal(got, want) {
						t.Fatalf("%s: the context differs from the four reads:\n got %v\nwant %v", what, got, want)
					}
					if got.GetPrompt().GetPromptType() != f.PromptType {
						t.Errorf("%s: prompt type %s, want %s", what, got.GetPrompt().GetPromptType(), f.PromptType)
					}
					if (got.GetModelConfig().GetApiKey() != "") != (caller.name == "service") {
						t.Errorf("%s: api key %q for a %s caller", what, got.GetModelConfig().GetApiKey(), caller.name)
					}
					if rev := got.GetRevision(); rev < got.GetModelConfig().GetRevision() || rev < got.GetPrompt().GetGlobalRevision() ||
						rev < got.GetAuthorProfile().GetRevision() || rev < got.GetContentStrategy().GetGlobalRevision() {
						t.Errorf("%s: revision %d is older than a part's", what, rev)
					}
				}
			}
		}
	}
	// The mapping SPEC section 13 fixes.
	for function, want := range map[string]string{"auto_cluster": "clustering", "generate_ideas": "ideas", "generate_content": "content_generation",
		"generate_image_prompts": "image_prompt_extraction", "generate_images": "image_prompt_template"} {
		got, err := cached.Config.GetGenerationContext(admin, &pb.GetGenerationContextRequest{AccountId: "plain", Function: function})
		if err != nil || got.GetPrompt().GetPromptType() != want {
			t.Errorf("%s: prompt %v, %v; want %s", function, got.GetPrompt().GetPromptType(), err, want)
		}
	}
	// An ACCOUNT token reads its own, naming no account.
	user := testsrv.Ctx(cached.Token(t, domain.RoleAccount, "acct"))
	if got, err := cached.Config.GetGenerationContext(user, &pb.GetGenerationContextRequest{Function: "generate_ideas"}); err != nil ||
		got.GetAuthorProfile().GetId() != "house-voice" || got.GetModelConfig().GetApiKey() != "" {
		t.Fatalf("account caller: %v, %v", got, err)
	}

	// A named item the account cannot use: NOT_FOUND naming it.
	for _, env := range []*testsrv.Env{cached, uncached} {
		for _, tc := range []struct {
			req           *pb.GetGenerationContextRequest
			reason, field string
		}{
			{&pb.GetGenerationContextRequest{AccountId: "plain", Function: "generate_content", AuthorProfileId: "house-voice"}, domain.ReasonAuthorProfileNotFound, "author_profile_id"},
			{&pb.GetGenerationContextRequest{AccountId: "acct", Function: "generate_content", ContentStrategyId: "no-such"}, domain.ReasonContentStrategyNotFound, "content_strategy_id"},
		} {
			_, err := env.Config.GetGenerationContext(service, tc.req)
			f := testsrv.WantError(t, err, codes.NotFound, tc.reason)
			if id := tc.req.GetAuthorProfileId() + tc.req.GetContentStrategyId(); f.Info.GetMetadata()[tc.field] != id || !strings.Contains(f.Message, id) {
				t.Errorf("NOT_FOUND should name %s %q: %v %s", tc.field, id, f.Info.GetMetadata(), f.Message)
			}
		}
		_, err := env.Config.GetGenerationContext(service, &pb.GetGenerationContextRequest{AccountId: "acct", Function: "write_poems"})
		testsrv.WantViolation(t, err, domain.ReasonUnknownFunction, "function")
		_, err = env.Config.GetGenerationContext(service, &pb.GetGenerationContextRequest{AccountId: "acct", Function: "generate_content", AuthorProfileId: "Not a slug"})
		testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "author_profile_id")
	}

	// Without a platform default and no account default: no profile.
	if _, err := cached.Config.UpdateGlobalSettings(admin, &pb.UpdateGlobalSettingsRequest{Settings: &pb.GlobalSettings{},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"default_author_profile_id"}}}); err != nil {
		t.Fatal(err)
	}
	if got, err := cached.Config.GetGenerationContext(admin, &pb.GetGenerationContextRequest{AccountId: "plain", Function: "generate_content"}); err != nil ||
		got.GetAuthorProfile() != nil || got.GetContentStrategy().GetId() != "pillar-cluster-seo" {
		t.Fatalf("no profile default: %v, %v", got, err)
	}
}
