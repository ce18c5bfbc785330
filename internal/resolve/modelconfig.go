package resolve

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/igny8/aiconfig/internal/domain"
)

// Source says where a resolved field came from.
type Source int

const (
	SourceGlobal Source = iota + 1
	SourceAccount
)

// Adjustment reports a stored value that could not be used as stored.
type Adjustment struct {
	Field, Requested, Applied, Reason string
}

// ModelConfig is the resolved configuration for one AI call.
type ModelConfig struct {
	Function    string
	Integration domain.Integration
	Model       string
	// SealedAPIKey is set only for a caller entitled to the key (SERVICE);
	// the API layer opens it just before answering.
	SealedAPIKey        string
	APIKeySet           bool
	Params              domain.Params // Model is left nil; see the Model field
	Sources             map[string]Source
	Plan                domain.Plan
	OverridesSuppressed bool
	Revision            int64
	Adjustments         []Adjustment
}

// ModelInput is everything GetModelConfig resolves from.
type ModelInput struct {
	Function string
	Global   domain.GlobalSettings
	Catalog  domain.Catalog
	Account  domain.Account
	// Override is the account's stored override for the integration the
	// function resolves to, or nil.
	Override *domain.Override
	// Caller decides whether the API key is revealed: SERVICE only.
	Caller domain.Role
}

// FunctionOf looks a function name up in the catalog.
func FunctionOf(function string) (domain.Function, error) {
	f, ok := domain.Functions[function]
	if !ok {
		return f, domain.Invalid(domain.ReasonUnknownFunction, domain.Violation{
			Field:       "function",
			Description: fmt.Sprintf("unknown function %q; valid functions: %s", function, strings.Join(domain.FunctionNames(), ", ")),
		})
	}
	return f, nil
}

// IntegrationFor resolves a function name to the provider that serves it.
func IntegrationFor(function string, g domain.GlobalSettings) (domain.Integration, error) {
	f, err := FunctionOf(function)
	if err != nil {
		return domain.IntegrationUnknown, err
	}
	if f.Kind == domain.KindImage {
		return g.ImageIntegration, nil
	}
	return g.TextIntegration, nil
}

// ModelConfigRevision is the revision a resolved configuration reports:
// the newest of what it is computed from, so it never goes backwards.
func ModelConfigRevision(g domain.GlobalSettings, cat domain.Catalog, a domain.Account) int64 {
	return max(g.Revision, cat.Revision(), a.ConfigRevision)
}

// Config merges global defaults, the account's override (when
// its plan applies overrides) and the catalog's limits, field by field.
func Config(in ModelInput) (ModelConfig, error) {
	integ, err := IntegrationFor(in.Function, in.Global)
	if err != nil {
		return ModelConfig{}, err
	}
	def := in.Global.Defaults[integ]
	fields := domain.FieldsFor(integ.Kind())
	out := ModelConfig{
		Function:    in.Function,
		Integration: integ,
		Plan:        in.Account.Plan,
		Sources:     map[string]Source{domain.FieldAPIKey: SourceGlobal},
		Revision:    ModelConfigRevision(in.Global, in.Catalog, in.Account),
	}

	eff := domain.Params{}
	for _, f := range fields {
		eff.CopyField(f, def.Params)
		out.Sources[f] = SourceGlobal
	}
	if ov := in.Override; ov != nil {
		for _, f := range fields {
			if !ov.Params.IsSet(f) {
				continue
			}
			if !in.Account.Plan.AppliesOverrides() {
				out.OverridesSuppressed = true
				continue
			}
			eff.CopyField(f, ov.Params)
			out.Sources[f] = SourceAccount
		}
	}

	// A model the account chose that is no longer enabled falls back to the
	// global model; the global model itself is kept valid by every write.
	model, _ := in.Catalog.Lookup(integ, domain.Deref(eff.Model))
	if out.Sources[domain.FieldModel] == SourceAccount && !model.Enabled {
		out.adjust(domain.FieldModel, domain.Deref(eff.Model), domain.Deref(def.Params.Model), "model is no longer enabled; using the global default")
		eff.Model = def.Params.Model
		out.Sources[domain.FieldModel] = SourceGlobal
		model, _ = in.Catalog.Lookup(integ, domain.Deref(eff.Model))
	}
	out.Model = domain.Deref(eff.Model)
	eff.Model = nil
	out.fitToModel(&eff, model, def.Params)
	out.Params = eff

	out.APIKeySet = def.APIKey.IsSet()
	sealed, err := KeyFor(in.Global, integ, in.Caller)
	if err != nil {
		return ModelConfig{}, err
	}
	out.SealedAPIKey = sealed
	return out, nil
}

// KeyFor returns the sealed platform key a caller receives for integ:
// SERVICE callers get it (and an error when none is configured: a worker
// must never call a provider with an empty key); others get "".
func KeyFor(g domain.GlobalSettings, integ domain.Integration, caller domain.Role) (string, error) {
	if caller != domain.RoleService {
		return "", nil
	}
	key := g.Defaults[integ].APIKey
	if !key.IsSet() {
		return "", &domain.Error{
			Code:     domain.CodeFailedPrecondition,
			Reason:   domain.ReasonAPIKeyNotConfigured,
			Message:  fmt.Sprintf("no platform API key is configured for %s; an admin must set settings.%s.api_key", integ, integ),
			Metadata: map[string]string{"integration": integ.String()},
		}
	}
	return key.Sealed, nil
}

// fitToModel makes every parameter acceptable to the model, recording what
// it changed: values the model does not take are dropped, max_tokens and
// temperature are clamped, an image option outside the model's list falls
// back to the global value when that fits, else to the model's first value.
func (out *ModelConfig) fitToModel(p *domain.Params, m domain.Model, global domain.Params) {
	if m.ID == "" {
		return // unknown model: nothing to fit against
	}
	if p.Temperature != nil {
		t := *p.Temperature
		switch {
		case !m.TakesTemperature():
			out.adjust(domain.FieldTemperature, fmtFloat(t), "", m.ID+" takes no temperature")
			p.Temperature = nil
		case t < *m.MinTemperature || t > *m.MaxTemperature || math.IsNaN(t):
			c := math.Min(math.Max(t, *m.MinTemperature), *m.MaxTemperature)
			if math.IsNaN(t) {
				c = *m.MinTemperature
			}
			out.adjust(domain.FieldTemperature, fmtFloat(t), fmtFloat(c),
				fmt.Sprintf("outside %s's range %s..%s", m.ID, fmtFloat(*m.MinTemperature), fmtFloat(*m.MaxTemperature)))
			p.Temperature = &c
		}
	}
	if p.MaxTokens != nil && m.MaxOutputTokens != nil && *p.MaxTokens > *m.MaxOutputTokens {
		out.adjust(domain.FieldMaxTokens, fmt.Sprint(*p.MaxTokens), fmt.Sprint(*m.MaxOutputTokens),
			fmt.Sprintf("clamped to %s's limit", m.ID))
		limit := *m.MaxOutputTokens
		p.MaxTokens = &limit
	}
	p.ImageSize = out.fitOption(domain.FieldImageSize, p.ImageSize, global.ImageSize, m.ImageSizes, m.ID)
	p.ImageQuality = out.fitOption(domain.FieldImageQuality, p.ImageQuality, global.ImageQuality, m.ImageQualities, m.ID)
	p.ImageStyle = out.fitOption(domain.FieldImageStyle, p.ImageStyle, global.ImageStyle, m.ImageStyles, m.ID)
}

func (out *ModelConfig) fitOption(field string, v, global *string, allowed []string, model string) *string {
	if v == nil || slices.Contains(allowed, *v) {
		return v
	}
	if len(allowed) == 0 {
		out.adjust(field, *v, "", model+" has no "+field+" option")
		return nil
	}
	use := allowed[0]
	if global != nil && slices.Contains(allowed, *global) {
		use = *global
		out.Sources[field] = SourceGlobal
	}
	out.adjust(field, *v, use, fmt.Sprintf("%s does not offer %q", model, *v))
	return &use
}

func (out *ModelConfig) adjust(field, requested, applied, reason string) {
	out.Adjustments = append(out.Adjustments, Adjustment{Field: field, Requested: requested, Applied: applied, Reason: reason})
}

func fmtFloat(f float64) string { return fmt.Sprintf("%g", f) }
