package resolve

import (
	"maps"
	"slices"
	"strings"

	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/validate"
)

// OverridePatch is an UpsertIntegrationOverride request in domain terms.
// Paths is nil when the request had no update_mask: then every set field
// of Params changes. With a mask, each listed path takes the request's
// value, and an unset value clears the field back to the global default.
type OverridePatch struct {
	Params domain.Params
	Paths  []string
}

// ApplyOverridePatch merges a patch into the stored parameters.
func ApplyOverridePatch(cur domain.Params, patch OverridePatch, integ domain.Integration) (domain.Params, error) {
	var c domain.Collector
	allowed := domain.FieldsFor(integ.Kind())
	paths := patch.Paths
	if paths == nil {
		validate.KindFields(&c, "override.", integ, patch.Params)
		for _, f := range allowed {
			if patch.Params.IsSet(f) {
				paths = append(paths, f)
			}
		}
	} else {
		for _, p := range paths {
			switch {
			case slices.Contains(allowed, p):
			case slices.Contains(domain.ParamFields, p):
				c.Add("update_mask", "path %q does not apply to %s, %s; its fields are %s", p, integ, integ.Kind().Phrase(), strings.Join(allowed, ", "))
			default:
				c.Add("update_mask", "unknown path %q; allowed paths: %s", p, strings.Join(allowed, ", "))
			}
		}
	}
	if err := c.Err(domain.ReasonValidationFailed); err != nil {
		return domain.Params{}, err
	}
	out := cur
	for _, p := range paths {
		out.CopyField(p, patch.Params)
	}
	return out, nil
}

// DefaultsPatch is one provider's part of an UpdateGlobalSettings request.
// The API layer checks (CheckAPIKey) and seals a new key before it gets here.
type DefaultsPatch struct {
	APIKey *domain.SealedKey
	Params domain.Params
}

// GlobalPatch is an UpdateGlobalSettings request in domain terms; Paths is
// nil without an update_mask, as for OverridePatch.
type GlobalPatch struct {
	Defaults         map[domain.Integration]DefaultsPatch
	TextIntegration  *domain.Integration
	ImageIntegration *domain.Integration
	// ItemDefaults are the default items the request names, by kind ("":
	// none); without a mask, only the kinds present change.
	ItemDefaults map[domain.ItemKind]string
	Paths        []string
}

// itemDefaultPath is the update_mask path of the platform's default item
// of kind k, e.g. "default_author_profile_id".
func itemDefaultPath(k domain.ItemKind) string { return "default_" + k.String() + "_id" }

// globalPaths lists every updatable leaf path, e.g. "openai.api_key".
func globalPaths() []string {
	paths := []string{"text_integration", "image_integration"}
	for _, k := range domain.OwnKinds {
		paths = append(paths, itemDefaultPath(k))
	}
	for _, integ := range domain.Integrations {
		paths = append(paths, integ.String()+"."+domain.FieldAPIKey)
		for _, f := range domain.FieldsFor(integ.Kind()) {
			paths = append(paths, integ.String()+"."+f)
		}
	}
	return paths
}

// itemDefaultOf is the kind whose default an update_mask path names.
func itemDefaultOf(path string) (domain.ItemKind, bool) {
	for _, k := range domain.OwnKinds {
		if itemDefaultPath(k) == path {
			return k, true
		}
	}
	return domain.ItemKindUnknown, false
}

// ApplyGlobalPatch merges a patch into the current settings, validates the
// result against the catalog and returns it with the paths it changed.
//
//nolint:gocognit // field-mask dispatch over every settings path in one switch; issue 22 item 3 tracks splitting it
func ApplyGlobalPatch(cur domain.GlobalSettings, patch GlobalPatch, cat domain.Catalog) (domain.GlobalSettings, []string, error) {
	var c domain.Collector
	valid := globalPaths()
	paths := patch.Paths
	if paths == nil {
		for _, integ := range domain.Integrations {
			d := patch.Defaults[integ]
			validate.KindFields(&c, "settings."+integ.String()+".", integ, d.Params)
			if d.APIKey != nil {
				paths = append(paths, integ.String()+"."+domain.FieldAPIKey)
			}
			for _, f := range domain.FieldsFor(integ.Kind()) {
				if d.Params.IsSet(f) {
					paths = append(paths, integ.String()+"."+f)
				}
			}
		}
		if patch.TextIntegration != nil {
			paths = append(paths, "text_integration")
		}
		if patch.ImageIntegration != nil {
			paths = append(paths, "image_integration")
		}
		for _, k := range domain.OwnKinds {
			if _, ok := patch.ItemDefaults[k]; ok {
				paths = append(paths, itemDefaultPath(k))
			}
		}
	} else {
		for _, p := range paths {
			if !slices.Contains(valid, p) {
				c.Add("update_mask", "unknown path %q; paths look like openai.model, openai.api_key, dalle.image_size, text_integration, default_author_profile_id", p)
			}
		}
	}
	if err := c.Err(domain.ReasonValidationFailed); err != nil {
		return domain.GlobalSettings{}, nil, err
	}

	out := cur
	out.Defaults = maps.Clone(cur.Defaults)
	out.ItemDefaults = maps.Clone(cur.ItemDefaults)
	if out.ItemDefaults == nil {
		out.ItemDefaults = map[domain.ItemKind]string{}
	}
	for _, p := range paths {
		if k, ok := itemDefaultOf(p); ok {
			out.ItemDefaults[k] = patch.ItemDefaults[k] // unset in a masked path clears it
			continue
		}
		switch p {
		case "text_integration":
			if patch.TextIntegration == nil {
				c.Add("settings.text_integration", "is required")
			} else {
				out.TextIntegration = *patch.TextIntegration
			}
		case "image_integration":
			if patch.ImageIntegration == nil {
				c.Add("settings.image_integration", "is required")
			} else {
				out.ImageIntegration = *patch.ImageIntegration
			}
		default:
			name, field, _ := strings.Cut(p, ".")
			integ, _ := domain.ParseIntegration(name)
			d := out.Defaults[integ]
			src := patch.Defaults[integ]
			if field == domain.FieldAPIKey {
				d.APIKey = domain.Deref(src.APIKey) // unset in a masked path clears the key
			} else {
				d.Params.CopyField(field, src.Params)
			}
			out.Defaults[integ] = d
		}
	}
	if err := c.Err(domain.ReasonValidationFailed); err != nil {
		return domain.GlobalSettings{}, nil, err
	}
	if err := validate.GlobalSettings(out, cat, paths); err != nil {
		return domain.GlobalSettings{}, nil, err
	}
	return out, paths, nil
}
