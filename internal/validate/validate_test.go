package validate

import (
	"math"
	"strings"
	"testing"

	"github.com/igny8/aiconfig/internal/domain"
	. "github.com/igny8/aiconfig/internal/domain/domaintest"
)

func TestValidateOverride(t *testing.T) {
	g, cat := Global(), Catalog()
	ok := []struct {
		name string
		o    domain.Override
	}{
		{"model only", domain.Override{Integration: domain.OpenAI, Params: domain.Params{Model: Ptr("gpt-4.1")}}},
		{"max_tokens alone within the global model's limit", domain.Override{Integration: domain.OpenAI, Params: domain.Params{MaxTokens: Ptr[int32](16384)}}},
		{"max_tokens within the overridden model's limit", domain.Override{Integration: domain.OpenAI, Params: domain.Params{Model: Ptr("gpt-4.1"), MaxTokens: Ptr[int32](32768)}}},
		{"temperature at range edge", domain.Override{Integration: domain.OpenAI, Params: domain.Params{Temperature: Ptr(2.0)}}},
		{"empty override", domain.Override{Integration: domain.OpenAI}},
		{"image options", domain.Override{Integration: domain.DallE, Params: domain.Params{ImageSize: Ptr("1792x1024"), ImageQuality: Ptr("hd"), ImageStyle: Ptr("natural")}}},
		{"gpt-5 without temperature", domain.Override{Integration: domain.OpenAI, Params: domain.Params{Model: Ptr("gpt-5"), MaxTokens: Ptr[int32](100000)}}},
	}
	for _, tc := range ok {
		if err := Override(tc.o, g, cat); err != nil {
			t.Errorf("%s: unexpected error %v", tc.name, err)
		}
	}
	bad := []struct {
		name, reason, field string
		o                   domain.Override
	}{
		{"unknown model", domain.ReasonModelNotAllowed, "override.model", domain.Override{Integration: domain.OpenAI, Params: domain.Params{Model: Ptr("gpt-4")}}},
		{"disabled model", domain.ReasonModelNotAllowed, "override.model", domain.Override{Integration: domain.OpenAI, Params: domain.Params{Model: Ptr("gpt-4-legacy")}}},
		{"model of another integration", domain.ReasonModelNotAllowed, "override.model", domain.Override{Integration: domain.OpenAI, Params: domain.Params{Model: Ptr("claude-sonnet-4-5")}}},
		{"temperature NaN", domain.ReasonValidationFailed, "override.temperature", domain.Override{Integration: domain.OpenAI, Params: domain.Params{Temperature: Ptr(math.NaN())}}},
		{"temperature +Inf", domain.ReasonValidationFailed, "override.temperature", domain.Override{Integration: domain.OpenAI, Params: domain.Params{Temperature: Ptr(math.Inf(1))}}},
		{"temperature -Inf", domain.ReasonValidationFailed, "override.temperature", domain.Override{Integration: domain.OpenAI, Params: domain.Params{Temperature: Ptr(math.Inf(-1))}}},
		{"temperature above range", domain.ReasonValidationFailed, "override.temperature", domain.Override{Integration: domain.OpenAI, Params: domain.Params{Temperature: Ptr(2.01)}}},
		{"temperature below range", domain.ReasonValidationFailed, "override.temperature", domain.Override{Integration: domain.OpenAI, Params: domain.Params{Temperature: Ptr(-0.1)}}},
		{"temperature above anthropic range", domain.ReasonValidationFailed, "override.temperature", domain.Override{Integration: domain.Anthropic, Params: domain.Params{Temperature: Ptr(1.2)}}},
		{"temperature on a model that takes none", domain.ReasonValidationFailed, "override.temperature", domain.Override{Integration: domain.OpenAI, Params: domain.Params{Model: Ptr("gpt-5"), Temperature: Ptr(0.5)}}},
		{"max_tokens zero", domain.ReasonValidationFailed, "override.max_tokens", domain.Override{Integration: domain.OpenAI, Params: domain.Params{MaxTokens: Ptr[int32](0)}}},
		{"max_tokens negative", domain.ReasonValidationFailed, "override.max_tokens", domain.Override{Integration: domain.OpenAI, Params: domain.Params{MaxTokens: Ptr[int32](-5)}}},
		{"max_tokens over the effective (global) model's limit", domain.ReasonValidationFailed, "override.max_tokens", domain.Override{Integration: domain.OpenAI, Params: domain.Params{MaxTokens: Ptr[int32](16385)}}},
		{"image size on a text integration", domain.ReasonValidationFailed, "override.image_size", domain.Override{Integration: domain.OpenAI, Params: domain.Params{ImageSize: Ptr("1024x1024")}}},
		{"temperature on an image integration", domain.ReasonValidationFailed, "override.temperature", domain.Override{Integration: domain.DallE, Params: domain.Params{Temperature: Ptr(0.5)}}},
		{"size not offered", domain.ReasonValidationFailed, "override.image_size", domain.Override{Integration: domain.DallE, Params: domain.Params{ImageSize: Ptr("640x480")}}},
		{"style on a model without styles", domain.ReasonValidationFailed, "override.image_style", domain.Override{Integration: domain.DallE, Params: domain.Params{Model: Ptr("dall-e-2"), ImageStyle: Ptr("vivid")}}},
		{"quality checked against the overridden model", domain.ReasonValidationFailed, "override.image_quality", domain.Override{Integration: domain.DallE, Params: domain.Params{Model: Ptr("dall-e-2"), ImageQuality: Ptr("hd")}}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) { WantViolation(t, Override(tc.o, g, cat), tc.reason, tc.field) })
	}
}

func TestUnknownModelMessageListsAllowed(t *testing.T) {
	err := Override(domain.Override{Integration: domain.OpenAI, Params: domain.Params{Model: Ptr("gpt-4")}}, Global(), Catalog())
	if msg := err.Error(); !strings.Contains(msg, "gpt-4.1") || !strings.Contains(msg, "gpt-4o-mini") || strings.Contains(msg, "gpt-4-legacy") {
		t.Errorf("message %q should list the enabled models and only those", msg)
	}
}

func TestValidateModelAndAccount(t *testing.T) {
	if err := Model(domain.Model{Integration: domain.OpenAI, ID: "gpt-4.5", MaxOutputTokens: Ptr[int32](16384), MinTemperature: Ptr(0.0), MaxTemperature: Ptr(2.0)}); err != nil {
		t.Errorf("valid text model: %v", err)
	}
	WantViolation(t, Model(domain.Model{Integration: domain.OpenAI, ID: "x"}), domain.ReasonValidationFailed, "model.max_output_tokens")
	WantViolation(t, Model(domain.Model{Integration: domain.DallE, ID: "img"}), domain.ReasonValidationFailed, "model.image_sizes")
	WantViolation(t, Model(domain.Model{Integration: domain.OpenAI, ID: "y", MaxOutputTokens: Ptr[int32](1), MinTemperature: Ptr(1.5), MaxTemperature: Ptr(0.5)}), domain.ReasonValidationFailed, "model.min_temperature")
	WantViolation(t, Account(domain.Account{ID: "", Plan: domain.PlanFree}), domain.ReasonValidationFailed, "account.id")
	WantViolation(t, Account(domain.Account{ID: "ok", Plan: domain.PlanUnknown}), domain.ReasonValidationFailed, "account.plan")
	WantViolation(t, Account(domain.Account{ID: "ok", Plan: domain.Plan(9)}), domain.ReasonValidationFailed, "account.plan")
	WantViolation(t, Account(domain.Account{ID: "bad id!", Plan: domain.PlanFree}), domain.ReasonValidationFailed, "account.id")
}

func TestCheckAPIKey(t *testing.T) {
	for _, key := range []string{"sk-abc def", "sk-abc\n", "sk-ключ-1234567890", strings.Repeat("k", 513)} {
		var c domain.Collector
		CheckAPIKey(&c, "settings.openai.api_key", key)
		err := c.Err(domain.ReasonValidationFailed)
		WantViolation(t, err, domain.ReasonValidationFailed, "settings.openai.api_key")
		if strings.Contains(err.Error(), strings.TrimSpace(key)) {
			t.Errorf("error %q echoes the key", err)
		}
	}
	var c domain.Collector
	CheckAPIKey(&c, "k", "sk-proj-AbC_123-xyz.456")
	if len(c.Violations) != 0 {
		t.Errorf("a normal key was refused: %v", c.Violations)
	}
}

// FuzzAccountID: the fast byte check agrees with idPattern, the rule as
// written (and as the database CHECK states it).
func FuzzAccountID(f *testing.F) {
	for _, s := range []string{"acme", "", "a b", "acct-1@x.com:9", strings.Repeat("a", 128), strings.Repeat("a", 129), "ü", "a\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := s != "" && validAccountID(s), idPattern.MatchString(s); got != want {
			t.Fatalf("validAccountID(%q) = %t, idPattern says %t", s, got, want)
		}
	})
}

// FuzzPromptType: the fast byte check agrees with promptTypeRE.
func FuzzPromptType(f *testing.F) {
	for _, s := range []string{"clustering", "", "A", "a-b", "a_1", strings.Repeat("a", 64), strings.Repeat("a", 65), "1a", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validPromptType(s), promptTypeRE.MatchString(s); got != want {
			t.Fatalf("validPromptType(%q) = %t, promptTypeRE says %t", s, got, want)
		}
	})
}
