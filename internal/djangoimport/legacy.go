package djangoimport

import (
	"fmt"
	"strconv"

	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/store"
)

// The legacy code's answers, ported from testdata/django/system/legacy.py
// (the note's "How it works"), faithfully: the plan is never consulted,
// no value is checked against a catalog, and a non-customized AIPrompt
// serves its stored default_prompt.

// answer is one model configuration: each field's value as text ("" for
// none), and the API key (compared by equality only, never shown).
type answer struct {
	integration domain.Integration
	fields      map[string]string
	apiKey      string
}

// legacyModelConfig is get_model_config(function_name, account).
func legacyModelConfig(function string, g store.DumpGlobal, overrides map[string]domain.Params) answer {
	f := domain.Functions[function]
	gs := g.Settings
	provider := gs.TextIntegration
	if f.Kind == domain.KindImage {
		provider = gs.ImageIntegration
	}
	config := overrides[provider.String()]
	global := gs.Defaults[provider].Params
	out := answer{integration: provider, fields: map[string]string{}, apiKey: g.APIKeys[provider]} // ALWAYS from global
	for _, field := range domain.FieldsFor(f.Kind) {
		v := paramText(config, field)
		if v == "" {
			v = paramText(global, field)
		}
		out.fields[field] = v
	}
	return out
}

// legacyPrompt is AIPrompt.get_effective_prompt(account, prompt_type).
func legacyPrompt(row *store.LegacyPrompt, global string) string {
	if row != nil {
		if row.Customized {
			return row.Value
		}
		return row.Default
	}
	return global
}

// paramText is one parameter as text ("" when unset).
func paramText(p domain.Params, field string) string {
	switch field {
	case domain.FieldModel:
		return domain.Deref(p.Model)
	case domain.FieldTemperature:
		if p.Temperature == nil {
			return ""
		}
		return strconv.FormatFloat(*p.Temperature, 'g', -1, 64)
	case domain.FieldMaxTokens:
		if p.MaxTokens == nil {
			return ""
		}
		return fmt.Sprint(*p.MaxTokens)
	case domain.FieldImageSize:
		return domain.Deref(p.ImageSize)
	case domain.FieldImageQuality:
		return domain.Deref(p.ImageQuality)
	case domain.FieldImageStyle:
		return domain.Deref(p.ImageStyle)
	}
	return ""
}
