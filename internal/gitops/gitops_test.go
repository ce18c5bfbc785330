package gitops_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/gitops"
	"github.com/igny8/aiconfig/internal/pgtest"
	"github.com/igny8/aiconfig/internal/store"
	"github.com/igny8/aiconfig/internal/testsrv"
)

func export(t *testing.T, st *store.Store) []byte {
	t.Helper()
	l, err := st.LoadGlobalLayer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, err := gitops.Export(l)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestExportImportRoundTrip(t *testing.T) {
	// A source whose global layer differs from the seed in every part.
	src := testsrv.Start(t)
	admin := testsrv.Ctx(src.Token(t, domain.RoleAdmin, ""))
	if _, err := src.Config.UpdateGlobalSettings(admin, &pb.UpdateGlobalSettingsRequest{Settings: &pb.GlobalSettings{
		Openai:           &pb.IntegrationDefaults{Model: "gpt-4.1", MaxTokens: proto.Int32(6000), ApiKey: "sk-never-exported-1234567890"},
		ImageIntegration: pb.Integration_INTEGRATION_RUNWARE}}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Config.UpsertModel(admin, &pb.UpsertModelRequest{Model: &pb.Model{Integration: pb.Integration_INTEGRATION_ANTHROPIC,
		Model: "claude-3-5-haiku", DisplayName: "Claude 3.5 Haiku", Enabled: false, MaxOutputTokens: proto.Int32(8192),
		MinTemperature: proto.Float64(0), MaxTemperature: proto.Float64(1)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Prompts.UpsertGlobalPrompt(admin, &pb.UpsertGlobalPromptRequest{Prompt: &pb.GlobalPrompt{PromptType: "meta_description",
		Text: "Write a meta description under 155 characters for: {{title}}\nKeep: \"quotes\", #hash, and: colons.", Description: "SEO meta", Variables: []string{"title"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Profiles.UpsertGlobalAuthorProfile(admin, &pb.UpsertGlobalAuthorProfileRequest{AuthorProfile: &pb.AuthorProfile{
		Id: "tech-explainer", Name: "Tech explainer", Language: "en-US", Tone: "patient: precise", StyleGuide: "One idea per paragraph.\nDefine acronyms."}}); err != nil {
		t.Fatal(err)
	}
	news, err := src.Strategies.ListGlobalContentStrategies(admin, &pb.ListGlobalContentStrategiesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	archived := news.GetContentStrategies()[0] // news-and-trends
	archived.Archived = true
	if _, err := src.Strategies.UpsertGlobalContentStrategy(admin, &pb.UpsertGlobalContentStrategyRequest{ContentStrategy: archived}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Config.UpdatePlanLimit(admin, &pb.UpdatePlanLimitRequest{PlanLimit: &pb.PlanLimit{Plan: pb.Plan_PLAN_STARTER,
		Kind: pb.ItemKind_ITEM_KIND_AUTHOR_PROFILE, MaxItems: 8}}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Config.UpdateGlobalSettings(admin, &pb.UpdateGlobalSettingsRequest{Settings: &pb.GlobalSettings{
		DefaultAuthorProfileId: "tech-explainer"}}); err != nil {
		t.Fatal(err)
	}
	first := export(t, src.Store)
	if bytes.Contains(first, []byte("sk-never-exported")) || bytes.Contains(first, []byte("aicenc")) {
		t.Fatal("the export contains an API key")
	}

	dst, err := store.Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	before := export(t, dst)

	// Dry run: the plan, and nothing written.
	plan, err := gitops.Import(context.Background(), dst, first, true)
	if err != nil {
		t.Fatal(err)
	}
	diff := strings.Join(plan.Diff, "\n")
	for _, want := range []string{"~ settings", "+ model anthropic/claude-3-5-haiku", "+ prompt meta_description",
		"+ author_profile tech-explainer", "~ content_strategy news-and-trends archived: false → true", "~ plan_limit starter/author_profile: 5 → 8"} {
		if !strings.Contains(diff, want) {
			t.Errorf("dry-run diff lacks %q:\n%s", want, diff)
		}
	}
	if !bytes.Equal(export(t, dst), before) {
		t.Fatal("a dry run changed the database")
	}

	if _, err := gitops.Import(context.Background(), dst, first, false); err != nil {
		t.Fatal(err)
	}
	if second := export(t, dst); !bytes.Equal(first, second) {
		t.Fatalf("export → import → export differs:\n--- first\n%s\n--- second\n%s", first, second)
	}
	// Importing again changes nothing.
	if plan, err := gitops.Import(context.Background(), dst, first, false); err != nil || !plan.Empty() {
		t.Fatalf("second import: %v, %v", plan.Diff, err)
	}
}

func TestInvalidImportChangesNothing(t *testing.T) {
	st, err := store.Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	good := export(t, st)
	cases := map[string]struct {
		edit    func(string) string
		mention string
	}{
		"bad model limit": {func(s string) string {
			return strings.Replace(s, "max_output_tokens: 16384", "max_output_tokens: -5", 1)
		}, "models["},
		"default model not in catalog": {func(s string) string {
			return strings.Replace(s, "model: gpt-4o-mini\n      temperature", "model: gpt-9\n      temperature", 1)
		}, "settings"},
		"prompt with an undeclared variable": {func(s string) string {
			return strings.Replace(s, "{{keywords}}", "{{keyword}}", 1)
		}, "prompts["},
		"unknown key": {func(s string) string { return s + "extra: true\n" }, "extra"},
		"profile with a bad language": {func(s string) string {
			return strings.Replace(s, "    language: en\n", "    language: english\n", 1)
		}, "author_profiles[0] (expert-practitioner)"},
		"strategy with min above max": {func(s string) string {
			return strings.Replace(s, "word_count_min: 400", "word_count_min: 4000", 1)
		}, "content_strategies[0] (news-and-trends)"},
		"unknown key in a profile": {func(s string) string {
			return strings.Replace(s, "    tone: confident", "    voice: x\n    tone: confident", 1)
		}, "voice"},
		"default item that does not exist": {func(s string) string {
			return strings.Replace(s, "author_profile: expert-practitioner", "author_profile: nobody", 1)
		}, "settings.default_items.author_profile"},
		"plan limit for free": {func(s string) string {
			return strings.Replace(s, "plan: starter", "plan: free", 1)
		}, "plan_limits["},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			bad := tc.edit(string(good))
			if bad == string(good) {
				t.Fatal("the edit did not apply; fix the test")
			}
			// A valid change alongside the bad one must not be applied either.
			bad = strings.Replace(bad, "text_integration: openai", "text_integration: anthropic", 1)
			_, err := gitops.Import(context.Background(), st, []byte(bad), false)
			if err == nil || !strings.Contains(err.Error(), tc.mention) {
				t.Fatalf("error %v should name %q", err, tc.mention)
			}
			if !bytes.Equal(export(t, st), good) {
				t.Fatal("an invalid import changed the database")
			}
		})
	}
}

// TestImportDiffIsFieldLevel: a dry run names each changed field with its
// old and new value, not only the entry.
func TestImportDiffIsFieldLevel(t *testing.T) {
	st, err := store.Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	good := string(export(t, st))
	edit := func(s, old, new string) string {
		t.Helper()
		if !strings.Contains(s, old) {
			t.Fatalf("the export has no %q; fix the test", old)
		}
		return strings.Replace(s, old, new, 1)
	}
	changed := edit(good, "model: gpt-4o-mini\n      temperature: 0.7\n", "model: gpt-4o-mini\n      temperature: 0.5\n")
	plan, err := gitops.Import(context.Background(), st, []byte(changed), true)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"~ settings.openai.temperature: 0.7 → 0.5"}; !slices.Equal(plan.Diff, want) {
		t.Fatalf("diff %q, want %q", plan.Diff, want)
	}

	changed = edit(changed, "text_integration: openai", "text_integration: anthropic")
	changed = edit(changed, "display_name: GPT-4o mini\n    enabled: true", "display_name: GPT-4o mini\n    enabled: false")
	changed = edit(changed, "      - Every keyword belongs to exactly one cluster", "      - Each keyword belongs to exactly one cluster")
	plan, err = gitops.Import(context.Background(), st, []byte(changed), true)
	if err == nil || !strings.Contains(err.Error(), `settings.openai.model: model "gpt-4o-mini" is disabled`) {
		t.Fatalf("disabling the default model should be refused, naming it: %v", err)
	}
	changed = edit(changed, "display_name: GPT-4o mini\n    enabled: false", "display_name: GPT-4o mini\n    enabled: true")
	changed = edit(changed, "display_name: GPT-4o mini", "display_name: GPT-4o Mini")
	if plan, err = gitops.Import(context.Background(), st, []byte(changed), true); err != nil {
		t.Fatal(err)
	}
	diff := strings.Join(plan.Diff, "\n")
	for _, want := range []string{
		"~ settings.text_integration: openai → anthropic",
		"~ settings.openai.temperature: 0.7 → 0.5",
		`~ model openai/gpt-4o-mini display_name: "GPT-4o mini" → "GPT-4o Mini"`,
		"~ prompt clustering text:\n    - - Every keyword belongs to exactly one cluster; do not invent keywords.\n    + - Each keyword belongs",
	} {
		if !strings.Contains(diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, diff)
		}
	}
}

// TestUnknownKeysNameTheirPath: a misspelt key anywhere in the file is an
// error naming its path and the key it probably meant.
func TestUnknownKeysNameTheirPath(t *testing.T) {
	st, err := store.Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	good := string(export(t, st))
	bad := strings.Replace(good, "text_integration:", "text_integraton:", 1)
	bad = strings.Replace(bad, "model: gpt-4o-mini\n      temperature: 0.7\n", "model: gpt-4o-mini\n      temprature: 0.7\n", 1)
	bad = strings.Replace(bad, "    enabled: true", "    enabld: true", 1)
	bad = strings.Replace(bad, "  - prompt_type: clustering", "  - prompt_type: clustering\n    colour: blue", 1)
	_, err = gitops.Import(context.Background(), st, []byte(bad), true)
	if err == nil {
		t.Fatal("unknown keys were accepted")
	}
	for _, want := range []string{
		"settings.text_integraton: unknown key (did you mean text_integration?)",
		"settings.defaults.openai.temprature: unknown key (did you mean temperature?)",
		"models[0].enabld: unknown key (did you mean enabled?)",
		"prompts[0].colour: unknown key (valid keys: prompt_type, description, variables, text)",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "gitops.") {
		t.Errorf("the error names Go types:\n%v", err)
	}
}
