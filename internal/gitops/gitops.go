// Package gitops writes the global layer (settings without API keys, the
// model catalog, global prompts) as YAML, and plans an import: it parses
// and validates a whole file first, then says what would change. The file
// is authoritative for what it lists; catalog models and prompt types it
// does not list are left as they are (models cannot be deleted, only
// disabled).
package gitops

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/store"
	"github.com/igny8/aiconfig/internal/validate"
)

// File is the YAML document.
type File struct {
	Settings Settings `yaml:"settings"`
	Models   []Model  `yaml:"models"`
	Prompts  []Prompt `yaml:"prompts"`
}

// Settings is the global singleton without keys or revision.
type Settings struct {
	TextIntegration  string              `yaml:"text_integration"`
	ImageIntegration string              `yaml:"image_integration"`
	Defaults         map[string]Defaults `yaml:"defaults"`
}

// Defaults are one provider's default parameters.
type Defaults struct {
	Model        string   `yaml:"model"`
	Temperature  *float64 `yaml:"temperature,omitempty"`
	MaxTokens    *int32   `yaml:"max_tokens,omitempty"`
	ImageSize    *string  `yaml:"image_size,omitempty"`
	ImageQuality *string  `yaml:"image_quality,omitempty"`
	ImageStyle   *string  `yaml:"image_style,omitempty"`
}

// Model is one catalog entry.
type Model struct {
	Integration     string   `yaml:"integration"`
	Model           string   `yaml:"model"`
	DisplayName     string   `yaml:"display_name,omitempty"`
	Enabled         bool     `yaml:"enabled"`
	MaxOutputTokens *int32   `yaml:"max_output_tokens,omitempty"`
	MinTemperature  *float64 `yaml:"min_temperature,omitempty"`
	MaxTemperature  *float64 `yaml:"max_temperature,omitempty"`
	ImageSizes      []string `yaml:"image_sizes,omitempty"`
	ImageQualities  []string `yaml:"image_qualities,omitempty"`
	ImageStyles     []string `yaml:"image_styles,omitempty"`
}

// Prompt is one global prompt.
type Prompt struct {
	PromptType  string   `yaml:"prompt_type"`
	Description string   `yaml:"description,omitempty"`
	Variables   []string `yaml:"variables,flow"`
	Text        string   `yaml:"text"`
}

const header = "# aiconfig global layer: settings (API keys are never exported), model catalog, global prompts.\n# Apply with: aiconfigd import FILE [--dry-run]\n"

// Export renders the layer; equal layers give identical bytes.
func Export(l store.GlobalLayer) ([]byte, error) {
	f := File{Settings: Settings{
		TextIntegration: l.Settings.TextIntegration.String(), ImageIntegration: l.Settings.ImageIntegration.String(),
		Defaults: map[string]Defaults{},
	}}
	for _, i := range domain.Integrations {
		f.Settings.Defaults[i.String()] = defaultsOf(l.Settings.Defaults[i].Params)
	}
	models := slices.Clone(l.Models)
	slices.SortFunc(models, func(a, b domain.Model) int {
		return strings.Compare(a.Integration.String()+"/"+a.ID, b.Integration.String()+"/"+b.ID)
	})
	for _, m := range models {
		f.Models = append(f.Models, modelOf(m))
	}
	prompts := slices.Clone(l.Prompts)
	slices.SortFunc(prompts, func(a, b domain.GlobalPrompt) int { return strings.Compare(a.PromptType, b.PromptType) })
	for _, p := range prompts {
		f.Prompts = append(f.Prompts, promptOf(p))
	}
	var buf bytes.Buffer
	buf.WriteString(header)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}

// The file's form of each part of the layer: Export writes it and the
// import's diff compares it, field by field.
func defaultsOf(p domain.Params) Defaults {
	return Defaults{Model: domain.Deref(p.Model), Temperature: p.Temperature, MaxTokens: p.MaxTokens,
		ImageSize: p.ImageSize, ImageQuality: p.ImageQuality, ImageStyle: p.ImageStyle}
}

func modelOf(m domain.Model) Model {
	return Model{Integration: m.Integration.String(), Model: m.ID, DisplayName: m.DisplayName, Enabled: m.Enabled,
		MaxOutputTokens: m.MaxOutputTokens, MinTemperature: m.MinTemperature, MaxTemperature: m.MaxTemperature,
		ImageSizes: m.ImageSizes, ImageQualities: m.ImageQualities, ImageStyles: m.ImageStyles}
}

func promptOf(p domain.GlobalPrompt) Prompt {
	return Prompt{PromptType: p.PromptType, Description: p.Description, Variables: nonNil(p.Variables), Text: p.Text}
}

// Parse reads a file strictly: every unknown key is an error naming its
// path in the file (and the key it was probably meant to be).
func Parse(b []byte) (File, error) {
	var f File
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return f, fmt.Errorf("not a valid aiconfig file: %w", err)
	}
	if doc.Kind == 0 {
		return f, fmt.Errorf("not a valid aiconfig file: it is empty (aiconfigd export writes one)")
	}
	if problems := unknownKeys(&doc, reflect.TypeFor[File](), ""); len(problems) > 0 {
		return f, fmt.Errorf("not a valid aiconfig file; nothing was changed:\n  %s", strings.Join(problems, "\n  "))
	}
	if err := doc.Decode(&f); err != nil {
		return f, fmt.Errorf("not a valid aiconfig file: %w", err)
	}
	return f, nil
}

// Plan is what an import would write.
type Plan struct {
	Settings *domain.GlobalSettings // nil: unchanged
	Models   []domain.Model         // to create or replace
	Prompts  []domain.GlobalPrompt  // to create or replace
	Diff     []string               // one entry per changed field, for people (a text's entry is a line diff)
}

// Empty reports whether the plan changes nothing.
func (p Plan) Empty() bool { return p.Settings == nil && len(p.Models) == 0 && len(p.Prompts) == 0 }

// MakePlan validates the whole file against the layer it would produce
// and lists the differences from cur. Any problem fails the whole plan,
// naming each bad entry.
func MakePlan(cur store.GlobalLayer, f File) (Plan, error) {
	var problems []string
	bad := func(where string, err error) { problems = append(problems, where+": "+err.Error()) }
	var plan Plan
	var modelDiff []string // listed after the settings, in the file's order

	// Models first: settings are validated against the catalog they yield.
	byKey := map[string]domain.Model{}
	for _, m := range cur.Models {
		byKey[m.Integration.String()+"/"+m.ID] = m
	}
	after := slices.Clone(cur.Models)
	seen := map[string]bool{}
	for i, fm := range f.Models {
		where := fmt.Sprintf("models[%d] (%s/%s)", i, fm.Integration, fm.Model)
		integ, err := domain.ParseIntegration(fm.Integration)
		if err != nil {
			bad(where, err)
			continue
		}
		m := domain.Model{Integration: integ, ID: fm.Model, DisplayName: fm.DisplayName, Enabled: fm.Enabled,
			MaxOutputTokens: fm.MaxOutputTokens, MinTemperature: fm.MinTemperature, MaxTemperature: fm.MaxTemperature,
			ImageSizes: fm.ImageSizes, ImageQualities: fm.ImageQualities, ImageStyles: fm.ImageStyles}
		if err := validate.ValidateModel(m); err != nil {
			bad(where, err)
			continue
		}
		key := integ.String() + "/" + m.ID
		if seen[key] {
			bad(where, fmt.Errorf("listed twice"))
			continue
		}
		seen[key] = true
		old, exists := byKey[key]
		m.Revision = old.Revision
		if exists && sameModel(old, m) {
			continue
		}
		plan.Models = append(plan.Models, m)
		if exists {
			modelDiff = append(modelDiff, changed("~ model "+key, modelOf(old), modelOf(m))...)
			after = slices.DeleteFunc(after, func(x domain.Model) bool { return x.Integration == integ && x.ID == m.ID })
		} else {
			modelDiff = append(modelDiff, "+ model "+key)
		}
		after = append(after, m)
	}

	next := cur.Settings
	next.Defaults = map[domain.Integration]domain.Defaults{}
	for k, v := range cur.Settings.Defaults {
		next.Defaults[k] = v
	}
	var settingsErr bool
	if t, err := domain.ParseIntegration(f.Settings.TextIntegration); err != nil {
		bad("settings.text_integration", err)
		settingsErr = true
	} else {
		next.TextIntegration = t
	}
	if t, err := domain.ParseIntegration(f.Settings.ImageIntegration); err != nil {
		bad("settings.image_integration", err)
		settingsErr = true
	} else {
		next.ImageIntegration = t
	}
	for name := range f.Settings.Defaults {
		if _, err := domain.ParseIntegration(name); err != nil {
			bad("settings.defaults."+name, err)
			settingsErr = true
		}
	}
	for _, i := range domain.Integrations {
		d, ok := f.Settings.Defaults[i.String()]
		if !ok {
			bad("settings.defaults."+i.String(), fmt.Errorf("missing: every provider needs its defaults"))
			settingsErr = true
			continue
		}
		cd := next.Defaults[i] // keeps the API key
		cd.Params = domain.Params{Model: &d.Model, Temperature: d.Temperature, MaxTokens: d.MaxTokens,
			ImageSize: d.ImageSize, ImageQuality: d.ImageQuality, ImageStyle: d.ImageStyle}
		next.Defaults[i] = cd
	}
	if !settingsErr {
		var all []string
		for _, i := range domain.Integrations {
			for _, fld := range domain.FieldsFor(i.Kind()) {
				all = append(all, i.String()+"."+fld)
			}
		}
		if err := validate.ValidateGlobal(next, domain.NewCatalog(after), all); err != nil {
			bad("settings", err)
		} else if !reflect.DeepEqual(paramsOf(next), paramsOf(cur.Settings)) ||
			next.TextIntegration != cur.Settings.TextIntegration || next.ImageIntegration != cur.Settings.ImageIntegration {
			plan.Settings = &next
			plan.Diff = append(plan.Diff, settingsDiff(cur.Settings, next)...)
		}
	}
	plan.Diff = append(plan.Diff, modelDiff...)

	prompts := map[string]domain.GlobalPrompt{}
	for _, p := range cur.Prompts {
		prompts[p.PromptType] = p
	}
	seenPrompt := map[string]bool{}
	for i, fp := range f.Prompts {
		where := fmt.Sprintf("prompts[%d] (%s)", i, fp.PromptType)
		p := domain.GlobalPrompt{PromptType: fp.PromptType, Text: fp.Text, Description: fp.Description, Variables: nonNil(fp.Variables)}
		if err := validate.ValidateGlobalPrompt(p); err != nil {
			bad(where, err)
			continue
		}
		if seenPrompt[p.PromptType] {
			bad(where, fmt.Errorf("listed twice"))
			continue
		}
		seenPrompt[p.PromptType] = true
		old, exists := prompts[p.PromptType]
		if exists && old.Text == p.Text && old.Description == p.Description && slices.Equal(old.Variables, p.Variables) {
			continue
		}
		plan.Prompts = append(plan.Prompts, p)
		if exists {
			plan.Diff = append(plan.Diff, changed("~ prompt "+p.PromptType, promptOf(old), promptOf(p))...)
		} else {
			plan.Diff = append(plan.Diff, "+ prompt "+p.PromptType)
		}
	}
	if len(problems) > 0 {
		return Plan{}, fmt.Errorf("the file is invalid; nothing was changed:\n  %s", strings.Join(problems, "\n  "))
	}
	return plan, nil
}

func paramsOf(g domain.GlobalSettings) map[domain.Integration]domain.Params {
	out := map[domain.Integration]domain.Params{}
	for k, v := range g.Defaults {
		out[k] = v.Params
	}
	return out
}

func sameModel(a, b domain.Model) bool {
	a.Revision, b.Revision = 0, 0
	a.ImageSizes, b.ImageSizes = nonNil(a.ImageSizes), nonNil(b.ImageSizes)
	a.ImageQualities, b.ImageQualities = nonNil(a.ImageQualities), nonNil(b.ImageQualities)
	a.ImageStyles, b.ImageStyles = nonNil(a.ImageStyles), nonNil(b.ImageStyles)
	return reflect.DeepEqual(a, b)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Import parses and validates data and, unless dryRun, applies it in one
// transaction (planning again under the lock, so a concurrent change is
// not overwritten blindly). It returns the plan it applied or would apply.
func Import(ctx context.Context, st *store.Store, data []byte, dryRun bool) (Plan, error) {
	f, err := Parse(data)
	if err != nil {
		return Plan{}, err
	}
	if dryRun {
		cur, err := st.LoadGlobalLayer(ctx)
		if err != nil {
			return Plan{}, err
		}
		return MakePlan(cur, f)
	}
	var plan Plan
	err = st.ApplyLayer(ctx, func(cur store.GlobalLayer) (store.LayerChanges, error) {
		var err error
		plan, err = MakePlan(cur, f)
		return store.LayerChanges{Settings: plan.Settings, Models: plan.Models, Prompts: plan.Prompts}, err
	})
	return plan, err
}
