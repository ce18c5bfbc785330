package resolve

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/igny8/aiconfig/internal/domain"
	. "github.com/igny8/aiconfig/internal/domain/domaintest"
)

func TestResolveModelConfig(t *testing.T) {
	starter := domain.Account{ID: "a1", Plan: domain.PlanStarter, ConfigRevision: 30}
	free := domain.Account{ID: "a1", Plan: domain.PlanFree, ConfigRevision: 30}
	g, G, A := Global(), SourceGlobal, SourceAccount
	anthropic := Global()
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
			want: want{integ: domain.OpenAI, model: "gpt-4o-mini", params: domain.Params{Temperature: Ptr(0.7), MaxTokens: Ptr[int32](4000)}, sources: textSources(G, G, G)},
		},
		{
			name: "override model and temperature, max_tokens inherited", function: "generate_ideas", global: g, account: starter,
			override: &domain.Override{Integration: domain.OpenAI, Params: domain.Params{Model: Ptr("gpt-4.1"), Temperature: Ptr(0.2)}},
			want:     want{integ: domain.OpenAI, model: "gpt-4.1", params: domain.Params{Temperature: Ptr(0.2), MaxTokens: Ptr[int32](4000)}, sources: textSources(A, A, G)},
		},
		{
			name: "free plan ignores stored override", function: "auto_cluster", global: g, account: free,
			override: &domain.Override{Integration: domain.OpenAI, Params: domain.Params{Model: Ptr("gpt-4.1")}},
			want:     want{integ: domain.OpenAI, model: "gpt-4o-mini", params: domain.Params{Temperature: Ptr(0.7), MaxTokens: Ptr[int32](4000)}, sources: textSources(G, G, G), suppressed: true},
		},
		{
			name: "free plan with empty override is not suppressed", function: "auto_cluster", global: g, account: free,
			override: &domain.Override{Integration: domain.OpenAI},
			want:     want{integ: domain.OpenAI, model: "gpt-4o-mini", params: domain.Params{Temperature: Ptr(0.7), MaxTokens: Ptr[int32](4000)}, sources: textSources(G, G, G)},
		},
		{
			name: "disabled override model falls back to global", function: "generate_content", global: g, account: starter,
			override: &domain.Override{Integration: domain.OpenAI, Params: domain.Params{Model: Ptr("gpt-4-legacy"), MaxTokens: Ptr[int32](8000)}},
			want:     want{integ: domain.OpenAI, model: "gpt-4o-mini", params: domain.Params{Temperature: Ptr(0.7), MaxTokens: Ptr[int32](8000)}, sources: textSources(G, G, A), adjustments: []string{"model"}},
		},
		{
			name: "unknown override model falls back to global", function: "generate_content", global: g, account: starter,
			override: &domain.Override{Integration: domain.OpenAI, Params: domain.Params{Model: Ptr("gpt-deleted")}},
			want:     want{integ: domain.OpenAI, model: "gpt-4o-mini", params: domain.Params{Temperature: Ptr(0.7), MaxTokens: Ptr[int32](4000)}, sources: textSources(G, G, G), adjustments: []string{"model"}},
		},
		{
			name: "max_tokens clamped to the effective model", function: "generate_content", global: g, account: starter,
			override: &domain.Override{Integration: domain.OpenAI, Params: domain.Params{Model: Ptr("gpt-4o"), MaxTokens: Ptr[int32](30000)}},
			want:     want{integ: domain.OpenAI, model: "gpt-4o", params: domain.Params{Temperature: Ptr(0.7), MaxTokens: Ptr[int32](16384)}, sources: textSources(A, G, A), adjustments: []string{"max_tokens"}},
		},
		{
			name: "model without temperature drops the inherited one", function: "generate_content", global: g, account: starter,
			override: &domain.Override{Integration: domain.OpenAI, Params: domain.Params{Model: Ptr("gpt-5")}},
			want:     want{integ: domain.OpenAI, model: "gpt-5", params: domain.Params{MaxTokens: Ptr[int32](4000)}, sources: textSources(A, G, G), adjustments: []string{"temperature"}},
		},
		{
			name: "anthropic is the text provider: its range clamps the temperature", function: "generate_content", global: anthropic, account: starter,
			override: &domain.Override{Integration: domain.Anthropic, Params: domain.Params{Temperature: Ptr(1.5)}},
			want:     want{integ: domain.Anthropic, model: "claude-sonnet-4-5", params: domain.Params{Temperature: Ptr(1.0), MaxTokens: Ptr[int32](4000)}, sources: textSources(G, A, G), adjustments: []string{"temperature"}},
		},
		{
			name: "override of another integration does not apply", function: "generate_content", global: g, account: starter,
			override: nil,
			want:     want{integ: domain.OpenAI, model: "gpt-4o-mini", params: domain.Params{Temperature: Ptr(0.7), MaxTokens: Ptr[int32](4000)}, sources: textSources(G, G, G)},
		},
		{
			name: "image function, global only", function: "generate_images", global: g, account: starter,
			want: want{integ: domain.DallE, model: "dall-e-3", params: domain.Params{ImageSize: Ptr("1024x1024"), ImageQuality: Ptr("standard"), ImageStyle: Ptr("vivid")}, sources: imageSources(G, G, G, G)},
		},
		{
			name: "image override: dall-e-2 has no style, inherited style dropped", function: "generate_images", global: g, account: starter,
			override: &domain.Override{Integration: domain.DallE, Params: domain.Params{Model: Ptr("dall-e-2"), ImageSize: Ptr("256x256")}},
			want:     want{integ: domain.DallE, model: "dall-e-2", params: domain.Params{ImageSize: Ptr("256x256"), ImageQuality: Ptr("standard")}, sources: imageSources(A, A, G, G), adjustments: []string{"image_style"}},
		},
		{
			name: "image override: inherited quality not offered uses the model's first", function: "generate_images", global: g, account: starter,
			override: &domain.Override{Integration: domain.DallE, Params: domain.Params{Model: Ptr("gpt-image-1")}},
			want:     want{integ: domain.DallE, model: "gpt-image-1", params: domain.Params{ImageSize: Ptr("1024x1024"), ImageQuality: Ptr("auto")}, sources: imageSources(A, G, G, G), adjustments: []string{"image_quality", "image_style"}},
		},
		{
			name: "stored size no longer offered falls back to the global size", function: "generate_images", global: g, account: starter,
			override: &domain.Override{Integration: domain.DallE, Params: domain.Params{ImageSize: Ptr("512x512")}},
			want:     want{integ: domain.DallE, model: "dall-e-3", params: domain.Params{ImageSize: Ptr("1024x1024"), ImageQuality: Ptr("standard"), ImageStyle: Ptr("vivid")}, sources: imageSources(G, G, G, G), adjustments: []string{"image_size"}},
		},
		{
			name: "service caller receives the key", function: "generate_images", global: g, account: starter, caller: domain.RoleService,
			want: want{integ: domain.DallE, model: "dall-e-3", params: domain.Params{ImageSize: Ptr("1024x1024"), ImageQuality: Ptr("standard"), ImageStyle: Ptr("vivid")}, sources: imageSources(G, G, G, G), key: "sealed-dalle"},
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
			got, err := Config(ModelInput{Function: tc.function, Global: tc.global, Catalog: Catalog(), Account: tc.account, Override: tc.override, Caller: caller})
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
	g := Global()
	acct := domain.Account{ID: "a1", Plan: domain.PlanGrowth}
	for _, role := range []domain.Role{domain.RoleAdmin, domain.RoleAccount} {
		got, err := Config(ModelInput{Function: "generate_content", Global: g, Catalog: Catalog(), Account: acct, Caller: role})
		if err != nil || got.SealedAPIKey != "" || !got.APIKeySet {
			t.Errorf("%s: key=%q set=%t err=%v; want no key, api_key_set", role, got.SealedAPIKey, got.APIKeySet, err)
		}
	}
	// Anthropic has no key: workers must not get an empty one.
	g.TextIntegration = domain.Anthropic
	_, err := Config(ModelInput{Function: "generate_content", Global: g, Catalog: Catalog(), Account: acct, Caller: domain.RoleService})
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.CodeFailedPrecondition || de.Reason != domain.ReasonAPIKeyNotConfigured {
		t.Fatalf("service caller without key: err = %v, want FAILED_PRECONDITION API_KEY_NOT_CONFIGURED", err)
	}
	got, err := Config(ModelInput{Function: "generate_content", Global: g, Catalog: Catalog(), Account: acct, Caller: domain.RoleAdmin})
	if err != nil || got.APIKeySet {
		t.Errorf("admin without key: set=%t err=%v; want api_key_set false, no error", got.APIKeySet, err)
	}
}

func TestUnknownFunction(t *testing.T) {
	_, err := Config(ModelInput{Function: "generate_poems", Global: Global(), Catalog: Catalog(), Account: domain.Account{Plan: domain.PlanScale}})
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
