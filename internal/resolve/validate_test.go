package resolve

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/igny8/aiconfig/internal/domain"
)

// violation asserts err is INVALID_ARGUMENT with reason and a violation on field.
func violation(t *testing.T, err error, reason, field string) {
	t.Helper()
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.CodeInvalid {
		t.Fatalf("err = %v, want INVALID_ARGUMENT", err)
	}
	if de.Reason != reason {
		t.Errorf("reason = %s, want %s", de.Reason, reason)
	}
	for _, v := range de.Violations {
		if v.Field == field {
			return
		}
	}
	t.Errorf("violations %+v name no field %q", de.Violations, field)
}

func TestValidateOverride(t *testing.T) {
	g, cat := testGlobal(), testCatalog()
	ok := []struct {
		name string
		o    domain.Override
	}{
		{"model only", domain.Override{Integration: domain.OpenAI, Params: domain.Params{Model: ptr("gpt-4.1")}}},
		{"max_tokens alone within the global model's limit", domain.Override{Integration: domain.OpenAI, Params: domain.Params{MaxTokens: ptr[int32](16384)}}},
		{"max_tokens within the overridden model's limit", domain.Override{Integration: domain.OpenAI, Params: domain.Params{Model: ptr("gpt-4.1"), MaxTokens: ptr[int32](32768)}}},
		{"temperature at range edge", domain.Override{Integration: domain.OpenAI, Params: domain.Params{Temperature: ptr(2.0)}}},
		{"empty override", domain.Override{Integration: domain.OpenAI}},
		{"image options", domain.Override{Integration: domain.DallE, Params: domain.Params{ImageSize: ptr("1792x1024"), ImageQuality: ptr("hd"), ImageStyle: ptr("natural")}}},
		{"gpt-5 without temperature", domain.Override{Integration: domain.OpenAI, Params: domain.Params{Model: ptr("gpt-5"), MaxTokens: ptr[int32](100000)}}},
	}
	for _, tc := range ok {
		if err := ValidateOverride(tc.o, g, cat); err != nil {
			t.Errorf("%s: unexpected error %v", tc.name, err)
		}
	}
	bad := []struct {
		name, reason, field string
		o                   domain.Override
	}{
		{"unknown model", domain.ReasonModelNotAllowed, "override.model", domain.Override{Integration: domain.OpenAI, Params: domain.Params{Model: ptr("gpt-4")}}},
		{"disabled model", domain.ReasonModelNotAllowed, "override.model", domain.Override{Integration: domain.OpenAI, Params: domain.Params{Model: ptr("gpt-4-legacy")}}},
		{"model of another integration", domain.ReasonModelNotAllowed, "override.model", domain.Override{Integration: domain.OpenAI, Params: domain.Params{Model: ptr("claude-sonnet-4-5")}}},
		{"temperature NaN", domain.ReasonValidationFailed, "override.temperature", domain.Override{Integration: domain.OpenAI, Params: domain.Params{Temperature: ptr(math.NaN())}}},
		{"temperature +Inf", domain.ReasonValidationFailed, "override.temperature", domain.Override{Integration: domain.OpenAI, Params: domain.Params{Temperature: ptr(math.Inf(1))}}},
		{"temperature -Inf", domain.ReasonValidationFailed, "override.temperature", domain.Override{Integration: domain.OpenAI, Params: domain.Params{Temperature: ptr(math.Inf(-1))}}},
		{"temperature above range", domain.ReasonValidationFailed, "override.temperature", domain.Override{Integration: domain.OpenAI, Params: domain.Params{Temperature: ptr(2.01)}}},
		{"temperature below range", domain.ReasonValidationFailed, "override.temperature", domain.Override{Integration: domain.OpenAI, Params: domain.Params{Temperature: ptr(-0.1)}}},
		{"temperature above anthropic range", domain.ReasonValidationFailed, "override.temperature", domain.Override{Integration: domain.Anthropic, Params: domain.Params{Temperature: ptr(1.2)}}},
		{"temperature on a model that takes none", domain.ReasonValidationFailed, "override.temperature", domain.Override{Integration: domain.OpenAI, Params: domain.Params{Model: ptr("gpt-5"), Temperature: ptr(0.5)}}},
		{"max_tokens zero", domain.ReasonValidationFailed, "override.max_tokens", domain.Override{Integration: domain.OpenAI, Params: domain.Params{MaxTokens: ptr[int32](0)}}},
		{"max_tokens negative", domain.ReasonValidationFailed, "override.max_tokens", domain.Override{Integration: domain.OpenAI, Params: domain.Params{MaxTokens: ptr[int32](-5)}}},
		{"max_tokens over the effective (global) model's limit", domain.ReasonValidationFailed, "override.max_tokens", domain.Override{Integration: domain.OpenAI, Params: domain.Params{MaxTokens: ptr[int32](16385)}}},
		{"image size on a text integration", domain.ReasonValidationFailed, "override.image_size", domain.Override{Integration: domain.OpenAI, Params: domain.Params{ImageSize: ptr("1024x1024")}}},
		{"temperature on an image integration", domain.ReasonValidationFailed, "override.temperature", domain.Override{Integration: domain.DallE, Params: domain.Params{Temperature: ptr(0.5)}}},
		{"size not offered", domain.ReasonValidationFailed, "override.image_size", domain.Override{Integration: domain.DallE, Params: domain.Params{ImageSize: ptr("640x480")}}},
		{"style on a model without styles", domain.ReasonValidationFailed, "override.image_style", domain.Override{Integration: domain.DallE, Params: domain.Params{Model: ptr("dall-e-2"), ImageStyle: ptr("vivid")}}},
		{"quality checked against the overridden model", domain.ReasonValidationFailed, "override.image_quality", domain.Override{Integration: domain.DallE, Params: domain.Params{Model: ptr("dall-e-2"), ImageQuality: ptr("hd")}}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) { violation(t, ValidateOverride(tc.o, g, cat), tc.reason, tc.field) })
	}
}

func TestUnknownModelMessageListsAllowed(t *testing.T) {
	err := ValidateOverride(domain.Override{Integration: domain.OpenAI, Params: domain.Params{Model: ptr("gpt-4")}}, testGlobal(), testCatalog())
	if msg := err.Error(); !strings.Contains(msg, "gpt-4.1") || !strings.Contains(msg, "gpt-4o-mini") || strings.Contains(msg, "gpt-4-legacy") {
		t.Errorf("message %q should list the enabled models and only those", msg)
	}
}

func TestApplyOverridePatch(t *testing.T) {
	cur := domain.Params{Model: ptr("gpt-4.1"), Temperature: ptr(0.3), MaxTokens: ptr[int32](900)}
	// Mask path with an unset value clears only that field.
	got, err := ApplyOverridePatch(cur, OverridePatch{Paths: []string{"temperature"}}, domain.OpenAI)
	if err != nil || got.Temperature != nil || *got.Model != "gpt-4.1" || *got.MaxTokens != 900 {
		t.Fatalf("clear temperature: got %s model=%v err=%v", show(got), got.Model, err)
	}
	// Without a mask, only present fields change.
	got, err = ApplyOverridePatch(cur, OverridePatch{Params: domain.Params{MaxTokens: ptr[int32](100)}}, domain.OpenAI)
	if err != nil || *got.MaxTokens != 100 || *got.Temperature != 0.3 || *got.Model != "gpt-4.1" {
		t.Fatalf("no mask: got %s err=%v", show(got), err)
	}
	// Fields outside the mask are ignored (AIP-134).
	got, err = ApplyOverridePatch(cur, OverridePatch{Params: domain.Params{Model: ptr("gpt-4o"), MaxTokens: ptr[int32](5)}, Paths: []string{"max_tokens"}}, domain.OpenAI)
	if err != nil || *got.Model != "gpt-4.1" || *got.MaxTokens != 5 {
		t.Fatalf("mask subset: got model=%v %s err=%v", *got.Model, show(got), err)
	}
	violation(t, func() error {
		_, err := ApplyOverridePatch(cur, OverridePatch{Paths: []string{"api_key"}}, domain.OpenAI)
		return err
	}(), domain.ReasonValidationFailed, "update_mask")
	violation(t, func() error {
		_, err := ApplyOverridePatch(cur, OverridePatch{Paths: []string{"image_size"}}, domain.OpenAI)
		return err
	}(), domain.ReasonValidationFailed, "update_mask")
	violation(t, func() error {
		_, err := ApplyOverridePatch(cur, OverridePatch{Params: domain.Params{ImageStyle: ptr("vivid")}}, domain.OpenAI)
		return err
	}(), domain.ReasonValidationFailed, "override.image_style")
}

func TestApplyGlobalPatch(t *testing.T) {
	cur, cat := testGlobal(), testCatalog()
	key := domain.SealedKey{Sealed: "sealed-new", Hint: "…9999"}
	next, paths, err := ApplyGlobalPatch(cur, GlobalPatch{Defaults: map[domain.Integration]DefaultsPatch{
		domain.OpenAI: {APIKey: &key, Params: domain.Params{Model: ptr("gpt-4.1")}},
	}}, cat)
	if err != nil || next.Defaults[domain.OpenAI].APIKey != key || *next.Defaults[domain.OpenAI].Params.Model != "gpt-4.1" ||
		*next.Defaults[domain.OpenAI].Params.Temperature != 0.7 || len(paths) != 2 {
		t.Fatalf("no-mask update: paths=%v err=%v", paths, err)
	}
	if cur.Defaults[domain.OpenAI].APIKey == key {
		t.Fatal("ApplyGlobalPatch changed its input")
	}
	// A masked api_key with no value clears the key.
	next, _, err = ApplyGlobalPatch(cur, GlobalPatch{Paths: []string{"openai.api_key"}}, cat)
	if err != nil || next.Defaults[domain.OpenAI].APIKey.IsSet() {
		t.Fatalf("clear key: err=%v", err)
	}
	// Switching to a model without temperature while setting one is refused...
	_, _, err = ApplyGlobalPatch(cur, GlobalPatch{Defaults: map[domain.Integration]DefaultsPatch{
		domain.OpenAI: {Params: domain.Params{Model: ptr("gpt-5"), Temperature: ptr(0.5)}},
	}}, cat)
	violation(t, err, domain.ReasonValidationFailed, "settings.openai.temperature")
	// ...but the stored one is left for resolution to drop.
	if _, _, err = ApplyGlobalPatch(cur, GlobalPatch{Defaults: map[domain.Integration]DefaultsPatch{
		domain.OpenAI: {Params: domain.Params{Model: ptr("gpt-5")}},
	}}, cat); err != nil {
		t.Fatalf("switch to gpt-5: %v", err)
	}
	bad := []struct {
		name, reason, field string
		patch               GlobalPatch
	}{
		{"unknown path", domain.ReasonValidationFailed, "update_mask", GlobalPatch{Paths: []string{"openai.apikey"}}},
		{"clearing the model", domain.ReasonValidationFailed, "settings.openai.model", GlobalPatch{Paths: []string{"openai.model"}}},
		{"image field on text provider", domain.ReasonValidationFailed, "update_mask", GlobalPatch{Paths: []string{"openai.image_size"}}},
		{"disabled model", domain.ReasonModelNotAllowed, "settings.openai.model", GlobalPatch{Defaults: map[domain.Integration]DefaultsPatch{domain.OpenAI: {Params: domain.Params{Model: ptr("gpt-4-legacy")}}}}},
		{"max_tokens over the new model's limit", domain.ReasonValidationFailed, "settings.openai.max_tokens", GlobalPatch{Defaults: map[domain.Integration]DefaultsPatch{domain.OpenAI: {Params: domain.Params{MaxTokens: ptr[int32](20000)}}}}},
		{"image integration as text provider", domain.ReasonValidationFailed, "settings.text_integration", GlobalPatch{TextIntegration: ptr(domain.DallE)}},
		{"NaN temperature", domain.ReasonValidationFailed, "settings.anthropic.temperature", GlobalPatch{Defaults: map[domain.Integration]DefaultsPatch{domain.Anthropic: {Params: domain.Params{Temperature: ptr(math.NaN())}}}}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ApplyGlobalPatch(cur, tc.patch, cat)
			violation(t, err, tc.reason, tc.field)
		})
	}
}

func TestValidateModelAndAccount(t *testing.T) {
	if err := ValidateModel(domain.Model{Integration: domain.OpenAI, ID: "gpt-4.5", MaxOutputTokens: ptr[int32](16384), MinTemperature: ptr(0.0), MaxTemperature: ptr(2.0)}); err != nil {
		t.Errorf("valid text model: %v", err)
	}
	violation(t, ValidateModel(domain.Model{Integration: domain.OpenAI, ID: "x"}), domain.ReasonValidationFailed, "model.max_output_tokens")
	violation(t, ValidateModel(domain.Model{Integration: domain.DallE, ID: "img"}), domain.ReasonValidationFailed, "model.image_sizes")
	violation(t, ValidateModel(domain.Model{Integration: domain.OpenAI, ID: "y", MaxOutputTokens: ptr[int32](1), MinTemperature: ptr(1.5), MaxTemperature: ptr(0.5)}), domain.ReasonValidationFailed, "model.min_temperature")
	violation(t, ValidateAccount(domain.Account{ID: "", Plan: domain.PlanFree}), domain.ReasonValidationFailed, "account.id")
	violation(t, ValidateAccount(domain.Account{ID: "ok", Plan: domain.PlanUnknown}), domain.ReasonValidationFailed, "account.plan")
	violation(t, ValidateAccount(domain.Account{ID: "ok", Plan: domain.Plan(9)}), domain.ReasonValidationFailed, "account.plan")
	violation(t, ValidateAccount(domain.Account{ID: "bad id!", Plan: domain.PlanFree}), domain.ReasonValidationFailed, "account.id")
}

func TestCheckAPIKey(t *testing.T) {
	for _, key := range []string{"sk-abc def", "sk-abc\n", "sk-ключ-1234567890", strings.Repeat("k", 513)} {
		var c domain.Collector
		CheckAPIKey(&c, "settings.openai.api_key", key)
		err := c.Err(domain.ReasonValidationFailed)
		violation(t, err, domain.ReasonValidationFailed, "settings.openai.api_key")
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
