// Package validate checks input: request fields, identifiers, catalog
// entries, settings, overrides and prompt templates, each failure a
// field violation (domain.Collector) so a caller sees every bad field at
// once. What applies once input is valid is internal/resolve's.
package validate

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/igny8/aiconfig/internal/domain"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// checkParams validates the set fields of p against model m, adding
// violations named prefix+field. strict(field) says whether a value the
// model does not take at all is an error (the caller set it) or is left for
// resolution to drop (it was set earlier, for another model).
func checkParams(c *domain.Collector, prefix string, p domain.Params, m domain.Model, strict func(string) bool) {
	if t := p.Temperature; t != nil {
		switch {
		case math.IsNaN(*t) || math.IsInf(*t, 0):
			c.Add(prefix+domain.FieldTemperature, "must be a finite number")
		case !m.TakesTemperature():
			if strict(domain.FieldTemperature) {
				c.Add(prefix+domain.FieldTemperature, "%s takes no temperature; leave it unset", m.ID)
			}
		case *t < *m.MinTemperature || *t > *m.MaxTemperature:
			c.Add(prefix+domain.FieldTemperature, "%g is outside %s's range %g..%g", *t, m.ID, *m.MinTemperature, *m.MaxTemperature)
		}
	}
	if n := p.MaxTokens; n != nil {
		switch {
		case *n < 1:
			c.Add(prefix+domain.FieldMaxTokens, "must be at least 1, got %d", *n)
		case m.MaxOutputTokens != nil && *n > *m.MaxOutputTokens:
			c.Add(prefix+domain.FieldMaxTokens, "%d is over %s's limit of %d output tokens", *n, m.ID, *m.MaxOutputTokens)
		}
	}
	checkOption(c, prefix+domain.FieldImageSize, p.ImageSize, m.ImageSizes, m.ID, strict(domain.FieldImageSize))
	checkOption(c, prefix+domain.FieldImageQuality, p.ImageQuality, m.ImageQualities, m.ID, strict(domain.FieldImageQuality))
	checkOption(c, prefix+domain.FieldImageStyle, p.ImageStyle, m.ImageStyles, m.ID, strict(domain.FieldImageStyle))
}

func checkOption(c *domain.Collector, field string, v *string, allowed []string, model string, strict bool) {
	switch {
	case v == nil || slices.Contains(allowed, *v):
	case len(allowed) == 0:
		if strict {
			c.Add(field, "%s has no such option; leave it unset", model)
		}
	default:
		c.Add(field, "%q is not offered by %s; allowed: %s", *v, model, strings.Join(allowed, ", "))
	}
}

// checkModel reports whether id names an enabled model of integ, adding a
// violation listing the allowed ones when it does not.
func checkModel(c *domain.Collector, field string, integ domain.Integration, id string, cat domain.Catalog) (domain.Model, bool) {
	m, ok := cat.Lookup(integ, id)
	if ok && m.Enabled {
		return m, true
	}
	what := "is not in the catalog"
	if ok {
		what = "is disabled"
	}
	c.Add(field, "model %q %s for %s; allowed: %s", id, what, integ, strings.Join(cat.EnabledIDs(integ), ", "))
	return domain.Model{}, false
}

// KindFields rejects set fields that do not belong to the integration's kind.
func KindFields(c *domain.Collector, prefix string, integ domain.Integration, p domain.Params) {
	allowed := domain.FieldsFor(integ.Kind())
	for _, f := range domain.ParamFields {
		if p.IsSet(f) && !slices.Contains(allowed, f) {
			c.Add(prefix+f, "does not apply to %s, %s; its fields are %s", integ, integ.Kind().Phrase(), strings.Join(allowed, ", "))
		}
	}
}

// Identifier patterns; migrations/0001_core.up.sql states the same as CHECKs.
var (
	idPattern      = regexp.MustCompile(`^[A-Za-z0-9._:@-]{1,128}$`)
	modelIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:@/-]{1,128}$`)
)

// CheckAccountID validates an account id in the request field named field.
// It runs on every hot-path call, so it checks bytes instead of running
// idPattern (which states the same rule, as does the accounts CHECK).
func CheckAccountID(field, id string) error {
	if id == "" {
		return domain.InvalidField(field, "is required")
	}
	if !validAccountID(id) {
		return domain.InvalidField(field, "must be 1-128 characters of letters, digits, '.', '_', ':', '@' or '-'")
	}
	return nil
}

func validAccountID(id string) bool {
	if len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("._:@-", c) >= 0) {
			return false
		}
	}
	return true
}

// Account checks an account before it is stored.
func Account(a domain.Account) error {
	var c domain.Collector
	if err := CheckAccountID("account.id", a.ID); err != nil {
		c.Merge("account.id", err)
	}
	if len(a.Name) > 256 {
		c.Add("account.name", "must be at most 256 bytes")
	} else {
		checkText(&c, "account.name", a.Name, chars(256), false)
	}
	if !a.Plan.Valid() {
		c.Add("account.plan", "must be one of PLAN_FREE, PLAN_STARTER, PLAN_GROWTH, PLAN_SCALE")
	}
	return c.Err(domain.ReasonValidationFailed)
}

// Model checks a catalog entry on its own.
//
//nolint:gocognit // a flat list of independent field checks, one if each
func Model(m domain.Model) error {
	var c domain.Collector
	if !m.Integration.Valid() {
		c.Add("model.integration", "must be one of %s", domain.EnumNames(0))
		return c.Err(domain.ReasonValidationFailed)
	}
	if !modelIDPattern.MatchString(m.ID) {
		c.Add("model.model", "must be 1-128 characters of letters, digits, '.', '_', ':', '@', '/' or '-'")
	}
	if m.Integration.Kind() == domain.KindText {
		if m.MaxOutputTokens == nil || *m.MaxOutputTokens < 1 {
			c.Add("model.max_output_tokens", "is required for a text model and must be at least 1")
		}
		if (m.MinTemperature == nil) != (m.MaxTemperature == nil) {
			c.Add("model.min_temperature", "set both min_temperature and max_temperature, or neither for a model that takes no temperature")
		} else if m.TakesTemperature() {
			lo, hi := *m.MinTemperature, *m.MaxTemperature
			if math.IsNaN(lo) || math.IsNaN(hi) || lo < 0 || hi > 2 || lo > hi {
				c.Add("model.min_temperature", "the range must satisfy 0 <= min_temperature <= max_temperature <= 2")
			}
		}
		for _, f := range []struct {
			name string
			list []string
		}{{"image_sizes", m.ImageSizes}, {"image_qualities", m.ImageQualities}, {"image_styles", m.ImageStyles}} {
			if len(f.list) > 0 {
				c.Add("model."+f.name, "does not apply to a text model")
			}
		}
	} else {
		if m.MaxOutputTokens != nil || m.MinTemperature != nil || m.MaxTemperature != nil {
			c.Add("model.max_output_tokens", "token and temperature limits do not apply to an image model")
		}
		if len(m.ImageSizes) == 0 {
			c.Add("model.image_sizes", "an image model needs at least one size")
		}
		for _, f := range []struct {
			name string
			list []string
		}{{"image_sizes", m.ImageSizes}, {"image_qualities", m.ImageQualities}, {"image_styles", m.ImageStyles}} {
			for i, v := range f.list {
				if strings.TrimSpace(v) == "" || len(v) > 64 || slices.Index(f.list, v) != i {
					c.Add("model."+f.name, "values must be non-empty, at most 64 bytes and distinct")
					break
				}
			}
		}
	}
	if len(m.DisplayName) > 128 {
		c.Add("model.display_name", "must be at most 128 bytes")
	}
	return c.Err(domain.ReasonValidationFailed)
}

// GlobalSettings checks that every default passes validation against the
// catalog. explicit lists the "integration.field" paths the request set:
// those must also apply to the model; older inapplicable values are left
// for resolution to drop.
func GlobalSettings(g domain.GlobalSettings, cat domain.Catalog, explicit []string) error {
	var c domain.Collector
	if g.TextIntegration.Kind() != domain.KindText || !g.TextIntegration.Valid() {
		c.Add("settings.text_integration", "must be a text provider: %s", domain.EnumNames(domain.KindText))
	}
	if g.ImageIntegration.Kind() != domain.KindImage || !g.ImageIntegration.Valid() {
		c.Add("settings.image_integration", "must be an image provider: %s", domain.EnumNames(domain.KindImage))
	}
	reason := domain.ReasonValidationFailed
	for _, integ := range domain.Integrations {
		d := g.Defaults[integ]
		prefix := "settings." + integ.String() + "."
		KindFields(&c, prefix, integ, d.Params)
		if d.Params.Model == nil {
			c.Add(prefix+domain.FieldModel, "is required")
			continue
		}
		m, ok := checkModel(&c, prefix+domain.FieldModel, integ, *d.Params.Model, cat)
		if !ok {
			reason = domain.ReasonModelNotAllowed
			continue
		}
		checkParams(&c, prefix, d.Params, m, func(f string) bool {
			return slices.Contains(explicit, integ.String()+"."+f)
		})
	}
	return c.Err(reason)
}

// CheckAPIKey validates a key being set; messages never echo the key.
func CheckAPIKey(c *domain.Collector, field, key string) {
	if key == "" {
		return
	}
	if len(key) > 512 {
		c.Add(field, "must be at most 512 bytes")
	}
	if strings.IndexFunc(key, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r > unicode.MaxASCII }) >= 0 {
		c.Add(field, "must be printable ASCII without spaces")
	}
}

// Override checks an override's fields against the effective
// combination: each set field against the effective model (its own model
// if set, else the global one).
func Override(o domain.Override, g domain.GlobalSettings, cat domain.Catalog) error {
	var c domain.Collector
	const prefix = "override."
	KindFields(&c, prefix, o.Integration, o.Params)
	modelID := domain.Deref(g.Defaults[o.Integration].Params.Model)
	if o.Params.Model != nil {
		modelID = *o.Params.Model
	}
	var m domain.Model
	reason := domain.ReasonValidationFailed
	if o.Params.Model != nil {
		var ok bool
		if m, ok = checkModel(&c, prefix+domain.FieldModel, o.Integration, modelID, cat); !ok {
			reason = domain.ReasonModelNotAllowed
		}
	} else {
		m, _ = cat.Lookup(o.Integration, modelID)
	}
	if m.ID != "" {
		checkParams(&c, prefix, o.Params, m, func(string) bool { return true })
	} else if t := o.Params.Temperature; t != nil && (math.IsNaN(*t) || math.IsInf(*t, 0)) {
		c.Add(prefix+domain.FieldTemperature, "must be a finite number")
	}
	return c.Err(reason)
}

// Text checks every string a request carries, at any depth: each must be
// UTF-8 without NUL characters, which PostgreSQL cannot store (the server's
// codec turns invalid UTF-8 into NUL so that this one check names the
// field). It reports the first bad field by its path.
func Text(m proto.Message) error {
	if field := badText(m.ProtoReflect(), ""); field != "" {
		return domain.InvalidField(field, "must be UTF-8 text without NUL characters")
	}
	return nil
}

func badText(m protoreflect.Message, prefix string) (field string) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := prefix + string(fd.Name())
		switch {
		case fd.IsMap():
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				at := name + "[" + k.String() + "]"
				switch {
				case fd.MapKey().Kind() == protoreflect.StringKind && strings.IndexByte(k.String(), 0) >= 0:
					field = name
				case fd.MapValue().Kind() == protoreflect.StringKind && strings.IndexByte(mv.String(), 0) >= 0:
					field = at
				case fd.MapValue().Kind() == protoreflect.MessageKind:
					field = badText(mv.Message(), at+".")
				}
				return field == ""
			})
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len() && field == ""; i++ {
				at := name + "[" + strconv.Itoa(i) + "]"
				switch fd.Kind() {
				case protoreflect.StringKind:
					if strings.IndexByte(l.Get(i).String(), 0) >= 0 {
						field = at
					}
				case protoreflect.MessageKind:
					field = badText(l.Get(i).Message(), at+".")
				}
			}
		case fd.Kind() == protoreflect.StringKind:
			if strings.IndexByte(v.String(), 0) >= 0 {
				field = name
			}
		case fd.Kind() == protoreflect.MessageKind:
			field = badText(v.Message(), name+".")
		}
		return field == ""
	})
	return field
}
