package djangoimport

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/store"
	"github.com/igny8/aiconfig/internal/validate"
)

// setParam sets one parameter from a dump value; ok false: the value has
// the wrong type.
func setParam(p *domain.Params, field string, v json.RawMessage) bool {
	switch field {
	case domain.FieldTemperature:
		x, ok := float(v)
		p.Temperature = x
		return ok
	case domain.FieldMaxTokens:
		n, ok := integer(v)
		p.MaxTokens = n
		return ok
	}
	var s *string
	if v != nil {
		t, err := jsonText(v)
		if err != nil {
			return false
		}
		s = &t
	}
	switch field {
	case domain.FieldModel:
		p.Model = s
	case domain.FieldImageSize:
		p.ImageSize = s
	case domain.FieldImageQuality:
		p.ImageQuality = s
	case domain.FieldImageStyle:
		p.ImageStyle = s
	}
	return true
}

// integration maps a legacy provider name.
func (d *Reader) integration(name string) (domain.Integration, bool) {
	to, ok := d.m.Integrations[name]
	if !ok {
		return domain.IntegrationUnknown, false
	}
	i, err := domain.ParseIntegration(to)
	return i, err == nil
}

func (d *Reader) unmappedIntegration(f fields, target, name string) error {
	return f.fail(target, "integration %q is not mapped (integrations: %s; add it under integrations:)", name, strings.Join(sortedKeys(d.m.Integrations), ", "))
}

// globalSettings keeps the singleton's values (the last one wins).
func (d *Reader) globalSettings(f fields) error {
	g := &domain.GlobalSettings{Defaults: map[domain.Integration]domain.Defaults{}}
	for _, which := range []string{"text_integration", "image_integration"} {
		name, err := f.str(which)
		if err != nil || name == nil {
			return err
		}
		i, ok := d.integration(*name)
		if !ok {
			return d.unmappedIntegration(f, which, *name)
		}
		if which == "text_integration" {
			g.TextIntegration = i
		} else {
			g.ImageIntegration = i
		}
	}
	for _, integ := range domain.Integrations {
		def := domain.Defaults{Integration: integ}
		for _, field := range configTargets {
			target := integ.String() + "." + field
			if f.mod.source(target) == "" {
				continue
			}
			if !setParam(&def.Params, field, f.raw(target)) {
				return f.fail(target, "unexpected value %s", f.raw(target))
			}
		}
		g.Defaults[integ] = def
		if f.mod.source(integ.String()+".api_key") != "" {
			key, err := f.text(integ.String() + ".api_key")
			if err != nil {
				return err
			}
			d.global.APIKeys[integ] = key
			if key != "" {
				d.KeysInDump = append(d.KeysInDump, f.mod.source(integ.String()+".api_key"))
			}
		}
	}
	d.global.Settings = g
	return nil
}

func (d *Reader) promptType(name string) string {
	if to, ok := d.m.PromptTypes[name]; ok {
		return to
	}
	return name
}

func (d *Reader) globalPrompt(f fields) error {
	var p domain.GlobalPrompt
	var err error
	if p.PromptType, err = f.text("prompt_type"); err != nil {
		return err
	}
	p.PromptType = d.promptType(p.PromptType)
	if p.Text, err = f.text("text"); err != nil {
		return err
	}
	if p.Description, err = f.text("description"); err != nil {
		return err
	}
	p.Variables = []string{}
	if v := f.raw("variables"); v != nil {
		if err := json.Unmarshal(v, &p.Variables); err != nil {
			return f.fail("variables", "want a list of names, got %s", v)
		}
	}
	d.global.Prompts = append(d.global.Prompts, p.Item())
	return nil
}

func (d *Reader) plan(f fields) error {
	slug, err := f.text("slug")
	if err != nil {
		return err
	}
	p := store.DumpPlan{PK: f.pk, Slug: slug}
	if name, ok := d.m.Plans[slug]; ok {
		p.Plan, _ = planOf(name) // checked with the mapping
	}
	d.global.Plans = append(d.global.Plans, p)
	return nil
}

func (d *Reader) account(f fields) (*store.DumpRow, error) {
	r := &store.DumpRow{Kind: store.RowAccount, PK: f.pk, AccountPK: f.pk, AccountID: f.pk}
	if id := f.mod.ID; id != "" && id != "pk" {
		v := f.o.Fields[id]
		s, err := jsonText(v)
		if err != nil || s == "" {
			return nil, dumpError("%s pk %s: the account id field %s is %s", f.mod.Label, f.pk, id, v)
		}
		r.AccountID = s
	}
	if validate.CheckAccountID("id", r.AccountID) != nil {
		d.badIDs++
		if len(d.badIDSamples) < 20 {
			d.badIDSamples = append(d.badIDSamples, fmt.Sprintf("account pk %s: id %q", f.pk, r.AccountID))
		}
	}
	var err error
	if r.Name, err = f.text("name"); err != nil {
		return nil, err
	}
	r.Name = truncate(r.Name, 256)
	r.PlanRef, err = f.text("plan")
	return r, err
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

func (d *Reader) override(f fields) (*store.DumpRow, error) {
	r := &store.DumpRow{Kind: store.RowOverride, PK: f.pk}
	var err error
	if r.AccountPK, err = f.text("account"); err != nil {
		return nil, err
	}
	name, err := f.text("integration")
	if err != nil {
		return nil, err
	}
	integ, ok := d.integration(name)
	if !ok {
		return nil, d.unmappedIntegration(f, "integration", name)
	}
	r.Integration = integ.String()
	var config map[string]json.RawMessage
	if v := f.raw("config"); v != nil {
		if err := json.Unmarshal(v, &config); err != nil {
			return nil, f.fail("config", "want a JSON object, got %s", jsonKind(v)) // it may hold keys
		}
	}
	for _, key := range sortedKeys(config) {
		field, mapped := f.mod.Config[key]
		switch {
		case mapped:
			if v := config[key]; string(v) != "null" && !setParam(&r.Params, field, v) {
				return nil, f.fail("config", "config %s: unexpected value %s", key, v)
			}
		case keyLike.MatchString(key):
			r.KeyFields = append(r.KeyFields, key) // the name only: never the value
		default:
			if err := d.unknown(fmt.Sprintf("config key %s of model %s (first pk %s) is not in the mapping", key, f.mod.Label, f.pk)); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

func (d *Reader) accountPrompt(f fields) (*store.DumpRow, error) {
	r := &store.DumpRow{Kind: store.RowPrompt, PK: f.pk}
	var err error
	if r.AccountPK, err = f.text("account"); err != nil {
		return nil, err
	}
	if r.PromptType, err = f.text("prompt_type"); err != nil {
		return nil, err
	}
	r.PromptType = d.promptType(r.PromptType)
	if r.Value, err = f.text("prompt_value"); err != nil {
		return nil, err
	}
	if r.Default, err = f.text("default_prompt"); err != nil {
		return nil, err
	}
	var ok bool
	if r.Customized, ok = boolean(f.raw("is_customized")); !ok {
		return nil, f.fail("is_customized", "want true or false")
	}
	return r, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
