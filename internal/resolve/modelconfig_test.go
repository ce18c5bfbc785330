package resolve

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/igny8/aiconfig/internal/domain"
)

func ptr[T any](v T) *T { return &v }

// testCatalog mirrors the shape of the seeded catalog.
func testCatalog() Catalog {
	return NewCatalog([]domain.Model{
		{Integration: domain.OpenAI, ID: "gpt-4o-mini", Enabled: true, MaxOutputTokens: ptr[int32](16384), MinTemperature: ptr(0.0), MaxTemperature: ptr(2.0), Revision: 3},
		{Integration: domain.OpenAI, ID: "gpt-4o", Enabled: true, MaxOutputTokens: ptr[int32](16384), MinTemperature: ptr(0.0), MaxTemperature: ptr(2.0), Revision: 4},
		{Integration: domain.OpenAI, ID: "gpt-4.1", Enabled: true, MaxOutputTokens: ptr[int32](32768), MinTemperature: ptr(0.0), MaxTemperature: ptr(2.0), Revision: 5},
		{Integration: domain.OpenAI, ID: "gpt-5", Enabled: true, MaxOutputTokens: ptr[int32](128000), Revision: 6},
		{Integration: domain.OpenAI, ID: "gpt-4-legacy", Enabled: false, MaxOutputTokens: ptr[int32](8192), MinTemperature: ptr(0.0), MaxTemperature: ptr(2.0), Revision: 7},
		{Integration: domain.Anthropic, ID: "claude-sonnet-4-5", Enabled: true, MaxOutputTokens: ptr[int32](64000), MinTemperature: ptr(0.0), MaxTemperature: ptr(1.0), Revision: 8},
		{Integration: domain.DallE, ID: "dall-e-3", Enabled: true, ImageSizes: []string{"1024x1024", "1792x1024"}, ImageQualities: []string{"standard", "hd"}, ImageStyles: []string{"vivid", "natural"}, Revision: 9},
		{Integration: domain.DallE, ID: "dall-e-2", Enabled: true, ImageSizes: []string{"256x256", "1024x1024"}, ImageQualities: []string{"standard"}, Revision: 10},
		{Integration: domain.DallE, ID: "gpt-image-1", Enabled: true, ImageSizes: []string{"1024x1024", "1536x1024"}, ImageQualities: []string{"auto", "low", "high"}, Revision: 11},
		{Integration: domain.Runware, ID: "runware:101@1", Enabled: true, ImageSizes: []string{"1024x1024"}, Revision: 12},
	})
}

func testGlobal() domain.GlobalSettings {
	return domain.GlobalSettings{
		Defaults: map[domain.Integration]domain.Defaults{
			domain.OpenAI:    {Integration: domain.OpenAI, APIKey: domain.SealedKey{Sealed: "sealed-openai", Hint: "…0001"}, Params: domain.Params{Model: ptr("gpt-4o-mini"), Temperature: ptr(0.7), MaxTokens: ptr[int32](4000)}},
			domain.Anthropic: {Integration: domain.Anthropic, Params: domain.Params{Model: ptr("claude-sonnet-4-5"), Temperature: ptr(0.7), MaxTokens: ptr[int32](4000)}},
			domain.DallE:     {Integration: domain.DallE, APIKey: domain.SealedKey{Sealed: "sealed-dalle", Hint: "…0002"}, Params: domain.Params{Model: ptr("dall-e-3"), ImageSize: ptr("1024x1024"), ImageQuality: ptr("standard"), ImageStyle: ptr("vivid")}},
			domain.Runware:   {Integration: domain.Runware, Params: domain.Params{Model: ptr("runware:101@1"), ImageSize: ptr("1024x1024")}},
		},
		TextIntegration: domain.OpenAI, ImageIntegration: domain.DallE, Revision: 20,
	}
}

func TestResolveModelConfig(t *testing.T) {
	starter := domain.Account{ID: "a1", Plan: domain.PlanStarter, ConfigRevision: 30}
	free := domain.Account{ID: "a1", Plan: domain.PlanFree, ConfigRevision: 30}
	g, G, A := testGlobal(), SourceGlobal, SourceAccount
	anthropic := testGlobal()
	anthropic.TextIntegration = domain.Anthropic

	type want struct {
		integ       domain.Integration
		model       string
		params      domain.Params
		sources     map[string]Source
		suppressed  bool
		adjustments []string // fields adjusted
		key         string
	}
	textSources := func(m, t, n Source) map[string]Source {
		return map[string]Source{"model": m, "temperature": t, "max_tokens": n, "api_key": G}
	}
	imageSources := func(m, s, q, st Source) map[string]Source {
		return map[string]Source{"model": m, "image_size": s, "image_quality": q, "image_style": st, "api_key": G}
	}
	cases := []struct {
		name     string
		function string
		global   domain.GlobalSettings
		account  domain.Account
		override *domain.Override
		caller   domain.Role
		want     want
	}{
		{
			name: "global only", function: "generate_content", global: g, account: starter,
			want: want{integ: domain.OpenAI, model: "gpt-4o-mini", params: domain.Params{Temperature: ptr(0.7), MaxTokens: ptr[int32](4000)}, sources: textSources(G, G, G)},
		},
		{
			name: "override model and temperature, max_tokens inherited", function: "generate_ideas", global: g, account: starter,
			override: &domain.Override{Integration: domain.OpenAI, Params: domain.Params{Model: ptr("gpt-4.1"), Temperature: ptr(0.2)}},
			want:     want{integ: domain.OpenAI, model: "gpt-4.1", params: domain.Params{Temperature: ptr(0.2), MaxTokens: ptr[int32](4000)}, sources: textSources(A, A, G)},
		},
		{
			name: "free plan ignores stored override", function: "auto_cluster", global: g, account: free,
			override: &domain.Override{Integration: domain.OpenAI, Params: domain.Params{Model: ptr("gpt-4.1")}},
			want:     want{integ: domain.OpenAI, model: "gpt-4o-mini", params: domain.Params{Temperature: ptr(0.7), MaxTokens: ptr[int32](4000)}, sources: textSources(G, G, G), suppressed: true},
		},
		{
			name: "free plan with empty override is not suppressed", function: "auto_cluster", global: g, account: free,
			override: &domain.Override{Integration: domain.OpenAI},
			want:     want{integ: domain.OpenAI, model: "gpt-4o-mini", params: domain.Params{Temperature: ptr(0.7), MaxTokens: ptr[int32](4000)}, sources: textSources(G, G, G)},
		},
		{
			name: "disabled override model falls back to global", function: "generate_content", global: g, account: starter,
			override: &domain.Override{Integration: domain.OpenAI, Params: domain.Params{Model: ptr("gpt-4-legacy"), MaxTokens: ptr[int32](8000)}},
			want:     want{integ: domain.OpenAI, model: "gpt-4o-mini", params: domain.Params{Temperature: ptr(0.7), MaxTokens: ptr[int32](8000)}, sources: textSources(G, G, A), adjustments: []string{"model"}},
		},
		{
			name: "unknown override model falls back to global", function: "generate_content", global: g, account: starter,
			override: &domain.Override{Integration: domain.OpenAI, Params: domain.Params{Model: ptr("gpt-deleted")}},
			want:     want{integ: domain.OpenAI, model: "gpt-4o-mini", params: domain.Params{Temperature: ptr(0.7), MaxTokens: ptr[int32](4000)}, sources: textSources(G, G, G), adjustments: []string{"model"}},
		},
		{
			name: "max_tokens clamped to the effective model", function: "generate_content", global: g, account: starter,
			override: &domain.Override{Integration: domain.OpenAI, Params: domain.Params{Model: ptr("gpt-4o"), MaxTokens: ptr[int32](30000)}},
			want:     want{integ: domain.OpenAI, model: "gpt-4o", params: domain.Params{Temperature: ptr(0.7), MaxTokens: ptr[int32](16384)}, sources: textSources(A, G, A), adjustments: []string{"max_tokens"}},
		},
		{
			name: "model without temperature drops the inherited one", function: "generate_content", global: g, account: starter,
			override: &domain.Override{Integration: domain.OpenAI, Params: domain.Params{Model: ptr("gpt-5")}},
			want:     want{integ: domain.OpenAI, model: "gpt-5", params: domain.Params{MaxTokens: ptr[int32](4000)}, sources: textSources(A, G, G), adjustments: []string{"temperature"}},
		},
		{
			name: "anthropic is the text provider: its range clamps the temperature", function: "generate_content", global: anthropic, account: starter,
			override: &domain.Override{Integration: domain.Anthropic, Params: domain.Params{Temperature: ptr(1.5)}},
			want:     want{integ: domain.Anthropic, model: "claude-sonnet-4-5", params: domain.Params{Temperature: ptr(1.0), MaxTokens: ptr[int32](4000)}, sources: textSources(G, A, G), adjustments: []string{"temperature"}},
		},
		{
			name: "override of another integration does not apply", function: "generate_content", global: g, account: starter,
			override: nil,
			want:     want{integ: domain.OpenAI, model: "gpt-4o-mini", params: domain.Params{Temperature: ptr(0.7), MaxTokens: ptr[int32](4000)}, sources: textSources(G, G, G)},
		},
		{
			name: "image function, global only", function: "generate_images", global: g, account: starter,
			want: want{integ: domain.DallE, model: "dall-e-3", params: domain.Params{ImageSize: ptr("1024x1024"), ImageQuality: ptr("standard"), ImageStyle: ptr("vivid")}, sources: imageSources(G, G, G, G)},
		},
		{
			name: "image override: dall-e-2 has no style, inherited style dropped", function: "generate_images", global: g, account: starter,
			override: &domain.Override{Integration: domain.DallE, Params: domain.Params{Model: ptr("dall-e-2"), ImageSize: ptr("256x256")}},
			want:     want{integ: domain.DallE, model: "dall-e-2", params: domain.Params{ImageSize: ptr("256x256"), ImageQuality: ptr("standard")}, sources: imageSources(A, A, G, G), adjustments: []string{"image_style"}},
		},
		{
			name: "image override: inherited quality not offered uses the model's first", function: "generate_images", global: g, account: starter,
			override: &domain.Override{Integration: domain.DallE, Params: domain.Params{Model: ptr("gpt-image-1")}},
			want:     want{integ: domain.DallE, model: "gpt-image-1", params: domain.Params{ImageSize: ptr("1024x1024"), ImageQuality: ptr("auto")}, sources: imageSources(A, G, G, G), adjustments: []string{"image_quality", "image_style"}},
		},
		{
			name: "stored size no longer offered falls back to the global size", function: "generate_images", global: g, account: starter,
			override: &domain.Override{Integration: domain.DallE, Params: domain.Params{ImageSize: ptr("512x512")}},
			want:     want{integ: domain.DallE, model: "dall-e-3", params: domain.Params{ImageSize: ptr("1024x1024"), ImageQuality: ptr("standard"), ImageStyle: ptr("vivid")}, sources: imageSources(G, G, G, G), adjustments: []string{"image_size"}},
		},
		{
			name: "service caller receives the key", function: "generate_images", global: g, account: starter, caller: domain.RoleService,
			want: want{integ: domain.DallE, model: "dall-e-3", params: domain.Params{ImageSize: ptr("1024x1024"), ImageQuality: ptr("standard"), ImageStyle: ptr("vivid")}, sources: imageSources(G, G, G, G), key: "sealed-dalle"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.override != nil {
				tc.override.AccountID = tc.account.ID
			}
			caller := tc.caller
			if caller == domain.RoleUnknown {
				caller = domain.RoleAdmin
			}
			got, err := ResolveModelConfig(ModelInput{Function: tc.function, Global: tc.global, Catalog: testCatalog(), Account: tc.account, Override: tc.override, Caller: caller})
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got.Integration != tc.want.integ || got.Model != tc.want.model {
				t.Errorf("got %s/%s, want %s/%s", got.Integration, got.Model, tc.want.integ, tc.want.model)
			}
			if !reflect.DeepEqual(got.Params, tc.want.params) {
				t.Errorf("params = %s, want %s", show(got.Params), show(tc.want.params))
			}
			if !reflect.DeepEqual(got.Sources, tc.want.sources) {
				t.Errorf("sources = %v, want %v", got.Sources, tc.want.sources)
			}
			if got.OverridesSuppressed != tc.want.suppressed {
				t.Errorf("overrides_suppressed = %t, want %t", got.OverridesSuppressed, tc.want.suppressed)
			}
			var adjusted []string
			for _, a := range got.Adjustments {
				adjusted = append(adjusted, a.Field)
			}
			if !reflect.DeepEqual(adjusted, tc.want.adjustments) {
				t.Errorf("adjusted fields = %v, want %v (%+v)", adjusted, tc.want.adjustments, got.Adjustments)
			}
			if got.SealedAPIKey != tc.want.key {
				t.Errorf("api key revealed = %q, want %q", got.SealedAPIKey, tc.want.key)
			}
			if got.Plan != tc.account.Plan {
				t.Errorf("plan = %v, want %v", got.Plan, tc.account.Plan)
			}
			if got.Revision != 30 {
				t.Errorf("revision = %d, want the newest input revision 30", got.Revision)
			}
		})
	}
}

func show(p domain.Params) string {
	s := ""
	if p.Temperature != nil {
		s += " temperature=" + fmtFloat(*p.Temperature)
	}
	if p.MaxTokens != nil {
		s += " max_tokens=" + fmtFloat(float64(*p.MaxTokens))
	}
	for _, f := range []struct {
		n string
		v *string
	}{{"size", p.ImageSize}, {"quality", p.ImageQuality}, {"style", p.ImageStyle}} {
		if f.v != nil {
			s += " " + f.n + "=" + *f.v
		}
	}
	return "{" + s + " }"
}

func TestResolveModelConfigKeys(t *testing.T) {
	g := testGlobal()
	acct := domain.Account{ID: "a1", Plan: domain.PlanGrowth}
	for _, role := range []domain.Role{domain.RoleAdmin, domain.RoleAccount} {
		got, err := ResolveModelConfig(ModelInput{Function: "generate_content", Global: g, Catalog: testCatalog(), Account: acct, Caller: role})
		if err != nil || got.SealedAPIKey != "" || !got.APIKeySet {
			t.Errorf("%s: key=%q set=%t err=%v; want no key, api_key_set", role, got.SealedAPIKey, got.APIKeySet, err)
		}
	}
	// Anthropic has no key: workers must not get an empty one.
	g.TextIntegration = domain.Anthropic
	_, err := ResolveModelConfig(ModelInput{Function: "generate_content", Global: g, Catalog: testCatalog(), Account: acct, Caller: domain.RoleService})
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.CodeFailedPrecondition || de.Reason != domain.ReasonAPIKeyNotConfigured {
		t.Fatalf("service caller without key: err = %v, want FAILED_PRECONDITION API_KEY_NOT_CONFIGURED", err)
	}
	got, err := ResolveModelConfig(ModelInput{Function: "generate_content", Global: g, Catalog: testCatalog(), Account: acct, Caller: domain.RoleAdmin})
	if err != nil || got.APIKeySet {
		t.Errorf("admin without key: set=%t err=%v; want api_key_set false, no error", got.APIKeySet, err)
	}
}

func TestUnknownFunction(t *testing.T) {
	_, err := ResolveModelConfig(ModelInput{Function: "generate_poems", Global: testGlobal(), Catalog: testCatalog(), Account: domain.Account{Plan: domain.PlanScale}})
	var de *domain.Error
	if !errors.As(err, &de) || de.Reason != domain.ReasonUnknownFunction || de.Violations[0].Field != "function" {
		t.Fatalf("err = %v, want UNKNOWN_FUNCTION on field function", err)
	}
	for _, name := range domain.FunctionNames() {
		if !strings.Contains(de.Violations[0].Description, name) {
			t.Errorf("message %q does not name valid function %s", de.Violations[0].Description, name)
		}
	}
}
