package resolve

import (
	"math"
	"testing"

	"github.com/igny8/aiconfig/internal/domain"
	. "github.com/igny8/aiconfig/internal/domain/domaintest"
)

func TestApplyOverridePatch(t *testing.T) {
	cur := domain.Params{Model: Ptr("gpt-4.1"), Temperature: Ptr(0.3), MaxTokens: Ptr[int32](900)}
	// Mask path with an unset value clears only that field.
	got, err := ApplyOverridePatch(cur, OverridePatch{Paths: []string{"temperature"}}, domain.OpenAI)
	if err != nil || got.Temperature != nil || *got.Model != "gpt-4.1" || *got.MaxTokens != 900 {
		t.Fatalf("clear temperature: got %s model=%v err=%v", show(got), got.Model, err)
	}
	// Without a mask, only present fields change.
	got, err = ApplyOverridePatch(cur, OverridePatch{Params: domain.Params{MaxTokens: Ptr[int32](100)}}, domain.OpenAI)
	if err != nil || *got.MaxTokens != 100 || *got.Temperature != 0.3 || *got.Model != "gpt-4.1" {
		t.Fatalf("no mask: got %s err=%v", show(got), err)
	}
	// Fields outside the mask are ignored (AIP-134).
	got, err = ApplyOverridePatch(cur, OverridePatch{Params: domain.Params{Model: Ptr("gpt-4o"), MaxTokens: Ptr[int32](5)}, Paths: []string{"max_tokens"}}, domain.OpenAI)
	if err != nil || *got.Model != "gpt-4.1" || *got.MaxTokens != 5 {
		t.Fatalf("mask subset: got model=%v %s err=%v", *got.Model, show(got), err)
	}
	WantViolation(t, func() error {
		_, err := ApplyOverridePatch(cur, OverridePatch{Paths: []string{"api_key"}}, domain.OpenAI)
		return err
	}(), domain.ReasonValidationFailed, "update_mask")
	WantViolation(t, func() error {
		_, err := ApplyOverridePatch(cur, OverridePatch{Paths: []string{"image_size"}}, domain.OpenAI)
		return err
	}(), domain.ReasonValidationFailed, "update_mask")
	WantViolation(t, func() error {
		_, err := ApplyOverridePatch(cur, OverridePatch{Params: domain.Params{ImageStyle: Ptr("vivid")}}, domain.OpenAI)
		return err
	}(), domain.ReasonValidationFailed, "override.image_style")
}

func TestApplyGlobalPatch(t *testing.T) {
	cur, cat := Global(), Catalog()
	key := domain.SealedKey{Sealed: "sealed-new", Hint: "…9999"}
	next, paths, err := ApplyGlobalPatch(cur, GlobalPatch{Defaults: map[domain.Integration]DefaultsPatch{
		domain.OpenAI: {APIKey: &key, Params: domain.Params{Model: Ptr("gpt-4.1")}},
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
		domain.OpenAI: {Params: domain.Params{Model: Ptr("gpt-5"), Temperature: Ptr(0.5)}},
	}}, cat)
	WantViolation(t, err, domain.ReasonValidationFailed, "settings.openai.temperature")
	// ...but the stored one is left for resolution to drop.
	if _, _, err = ApplyGlobalPatch(cur, GlobalPatch{Defaults: map[domain.Integration]DefaultsPatch{
		domain.OpenAI: {Params: domain.Params{Model: Ptr("gpt-5")}},
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
		{"disabled model", domain.ReasonModelNotAllowed, "settings.openai.model", GlobalPatch{Defaults: map[domain.Integration]DefaultsPatch{domain.OpenAI: {Params: domain.Params{Model: Ptr("gpt-4-legacy")}}}}},
		{"max_tokens over the new model's limit", domain.ReasonValidationFailed, "settings.openai.max_tokens", GlobalPatch{Defaults: map[domain.Integration]DefaultsPatch{domain.OpenAI: {Params: domain.Params{MaxTokens: Ptr[int32](20000)}}}}},
		{"image integration as text provider", domain.ReasonValidationFailed, "settings.text_integration", GlobalPatch{TextIntegration: Ptr(domain.DallE)}},
		{"NaN temperature", domain.ReasonValidationFailed, "settings.anthropic.temperature", GlobalPatch{Defaults: map[domain.Integration]DefaultsPatch{domain.Anthropic: {Params: domain.Params{Temperature: Ptr(math.NaN())}}}}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ApplyGlobalPatch(cur, tc.patch, cat)
			WantViolation(t, err, tc.reason, tc.field)
		})
	}
}
