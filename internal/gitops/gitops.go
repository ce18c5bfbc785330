// Package gitops writes the global layer (settings without API keys, the
// model catalog, global prompts, author profiles and content strategies,
// plan limits) as YAML, and plans an import: it parses and validates a
// whole file first, then says what would change. The file is
// authoritative for what it lists; models, items and limits it does not
// list are left as they are (models and items cannot be deleted, only
// disabled or archived).
package gitops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
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
	Settings          Settings                       `yaml:"settings"`
	Models            []Model                        `yaml:"models"`
	Prompts           []Prompt                       `yaml:"prompts"`
	AuthorProfiles    []Item[domain.AuthorProfile]   `yaml:"author_profiles"`
	ContentStrategies []Item[domain.ContentStrategy] `yaml:"content_strategies"`
	PlanLimits        []PlanLimit                    `yaml:"plan_limits"`
}

// Settings is the global singleton without keys or revision.
type Settings struct {
	TextIntegration  string              `yaml:"text_integration"`
	ImageIntegration string              `yaml:"image_integration"`
	Defaults         map[string]Defaults `yaml:"defaults"`
	// DefaultItems names the platform's default item per kind (e.g.
	// author_profile: expert-practitioner); kinds it does not list are left
	// as they are, "" clears one.
	DefaultItems map[string]string `yaml:"default_items,omitempty"`
}

// Item is one global item of a kind with own items: its id, whether it
// is archived, and its content's fields.
type Item[C domain.Content] struct {
	ID       string `yaml:"id"`
	Archived bool   `yaml:"archived,omitempty"`
	Content  C      `yaml:",inline"`
}

// PlanLimit is how many own items of a kind a plan's accounts may keep.
type PlanLimit struct {
	Plan     string `yaml:"plan"`
	Kind     string `yaml:"kind"`
	MaxItems int32  `yaml:"max_items"`
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

const header = "# aiconfig global layer: settings (API keys are never exported), model catalog, global prompts,\n" +
	"# author profiles and content strategies, plan limits.\n# Apply with: aiconfigd import FILE [--dry-run]\n"

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
	for k, id := range l.Settings.ItemDefaults {
		if f.Settings.DefaultItems == nil {
			f.Settings.DefaultItems = map[string]string{}
		}
		f.Settings.DefaultItems[k.String()] = id
	}
	for _, it := range sortedItems(l.Items, domain.ItemPrompt) {
		p := domain.GlobalPromptOf(it)
		f.Prompts = append(f.Prompts, promptOf(p))
	}
	f.AuthorProfiles = exportItems[domain.AuthorProfile](l.Items, domain.ItemAuthorProfile)
	f.ContentStrategies = exportItems[domain.ContentStrategy](l.Items, domain.ItemContentStrategy)
	for _, pl := range l.PlanLimits { // by kind and plan, as the store lists them
		f.PlanLimits = append(f.PlanLimits, PlanLimit{Plan: pl.Plan.String(), Kind: pl.Kind.String(), MaxItems: pl.MaxItems})
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

// sortedItems are the items of kind k, by id.
func sortedItems(items []domain.GlobalItem, k domain.ItemKind) []domain.GlobalItem {
	var out []domain.GlobalItem
	for _, it := range items {
		if it.Kind == k {
			out = append(out, it)
		}
	}
	slices.SortFunc(out, func(a, b domain.GlobalItem) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func exportItems[C domain.Content](items []domain.GlobalItem, k domain.ItemKind) []Item[C] {
	var out []Item[C]
	for _, it := range sortedItems(items, k) {
		out = append(out, Item[C]{ID: it.ID, Archived: it.Archived, Content: it.Content.(C)}) //nolint:forcetypeassert // items of this kind decode to its own content type C
	}
	return out
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
	Settings   *domain.GlobalSettings // nil: unchanged
	Models     []domain.Model         // to create or replace
	Items      []domain.GlobalItem    // to create or replace: prompts, profiles, strategies
	PlanLimits []domain.PlanLimit     // to set
	Diff       []string               // one entry per changed field, for people (a text's entry is a line diff)
}

// Empty reports whether the plan changes nothing.
func (p Plan) Empty() bool {
	return p.Settings == nil && len(p.Models) == 0 && len(p.Items) == 0 && len(p.PlanLimits) == 0
}

// MakePlan validates the whole file against the layer it would produce
// and lists the differences from cur. Any problem fails the whole plan,
// naming each bad entry.
//
//nolint:gocognit // the plan's per-resource diff, one block per resource kind; issue 22 item 3 tracks splitting it per kind
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
		if err := validate.Model(m); err != nil {
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
	next.ItemDefaults = maps.Clone(cur.Settings.ItemDefaults)
	for _, name := range slices.Sorted(maps.Keys(f.Settings.DefaultItems)) {
		id := f.Settings.DefaultItems[name]
		k, err := domain.ParseItemKind(name)
		if err != nil || !k.Info().Own {
			bad("settings.default_items."+name, fmt.Errorf("not a kind with defaults (author_profile, content_strategy)"))
			settingsErr = true
			continue
		}
		if next.ItemDefaults == nil {
			next.ItemDefaults = map[domain.ItemKind]string{}
		}
		next.ItemDefaults[k] = id
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
		if err := validate.GlobalSettings(next, domain.NewCatalog(after), all); err != nil {
			bad("settings", err)
		} else if !reflect.DeepEqual(paramsOf(next), paramsOf(cur.Settings)) || !sameDefaults(next.ItemDefaults, cur.Settings.ItemDefaults) ||
			next.TextIntegration != cur.Settings.TextIntegration || next.ImageIntegration != cur.Settings.ImageIntegration {
			plan.Settings = &next
			plan.Diff = append(plan.Diff, settingsDiff(cur.Settings, next)...)
		}
	}
	plan.Diff = append(plan.Diff, modelDiff...)

	prompts := map[string]domain.GlobalPrompt{}
	for _, it := range sortedItems(cur.Items, domain.ItemPrompt) {
		prompts[it.ID] = domain.GlobalPromptOf(it)
	}
	seenPrompt := map[string]bool{}
	for i, fp := range f.Prompts {
		where := fmt.Sprintf("prompts[%d] (%s)", i, fp.PromptType)
		p := domain.GlobalPrompt{PromptType: fp.PromptType, Text: fp.Text, Description: fp.Description, Variables: nonNil(fp.Variables)}
		if err := validate.GlobalPrompt(p); err != nil {
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
		plan.Items = append(plan.Items, p.Item())
		if exists {
			plan.Diff = append(plan.Diff, changed("~ prompt "+p.PromptType, promptOf(old), promptOf(p))...)
		} else {
			plan.Diff = append(plan.Diff, "+ prompt "+p.PromptType)
		}
	}
	planItems(&plan, cur, domain.ItemAuthorProfile, f.AuthorProfiles, validate.AuthorProfile, bad)
	planItems(&plan, cur, domain.ItemContentStrategy, f.ContentStrategies, validate.ContentStrategy, bad)
	planLimits(&plan, cur, f.PlanLimits, bad)
	if plan.Settings != nil {
		checkDefaultItems(*plan.Settings, cur, plan.Items, bad)
	}
	if len(problems) > 0 {
		return Plan{}, fmt.Errorf("the file is invalid; nothing was changed:\n  %s", strings.Join(problems, "\n  "))
	}
	return plan, nil
}

// planItems plans the global items of kind k a file lists: each valid, new
// or changed one is written whole. Items it does not list stay.
func planItems[C domain.Content](plan *Plan, cur store.GlobalLayer, k domain.ItemKind, list []Item[C],
	check func(*domain.Collector, string, C), bad func(string, error)) {
	existing := map[string]domain.GlobalItem{}
	for _, it := range sortedItems(cur.Items, k) {
		existing[it.ID] = it
	}
	seen := map[string]bool{}
	info := k.Info()
	for i, fi := range list {
		where := fmt.Sprintf("%s[%d] (%s)", info.Collection, i, fi.ID)
		var c domain.Collector
		if err := validate.CheckSlug("id", fi.ID); err != nil {
			c.Merge("id", err)
		}
		check(&c, "", fi.Content)
		if err := c.Err(domain.ReasonValidationFailed); err != nil {
			bad(where, err)
			continue
		}
		if seen[fi.ID] {
			bad(where, fmt.Errorf("listed twice"))
			continue
		}
		seen[fi.ID] = true
		it := domain.GlobalItem{Kind: k, ID: fi.ID, Content: fi.Content, Archived: fi.Archived}
		old, exists := existing[fi.ID]
		switch {
		case !exists:
			plan.Diff = append(plan.Diff, "+ "+info.Name+" "+fi.ID)
		case old.Archived == it.Archived && old.Content.Equal(it.Content):
			continue
		default:
			entry := "~ " + info.Name + " " + fi.ID
			lines := fieldDiff(entry+" ", old.Content, it.Content)
			if old.Archived != it.Archived {
				lines = append([]string{fmt.Sprintf("%s archived: %t → %t", entry, old.Archived, it.Archived)}, lines...)
			}
			plan.Diff = append(plan.Diff, lines...)
		}
		plan.Items = append(plan.Items, it)
	}
}

// planLimits plans the plan limits a file lists.
func planLimits(plan *Plan, cur store.GlobalLayer, list []PlanLimit, bad func(string, error)) {
	seen := map[string]bool{}
	for i, fl := range list {
		where := fmt.Sprintf("plan_limits[%d] (%s/%s)", i, fl.Plan, fl.Kind)
		p, perr := domain.ParsePlan(fl.Plan)
		k, kerr := domain.ParseItemKind(fl.Kind)
		if err := errors.Join(perr, kerr); err != nil {
			bad(where, err)
			continue
		}
		l := domain.PlanLimit{Plan: p, Kind: k, MaxItems: fl.MaxItems}
		if err := validate.PlanLimit(l); err != nil {
			bad(where, err)
			continue
		}
		key := fl.Plan + "/" + fl.Kind
		if seen[key] {
			bad(where, fmt.Errorf("listed twice"))
			continue
		}
		seen[key] = true
		i := slices.IndexFunc(cur.PlanLimits, func(x domain.PlanLimit) bool { return x.Plan == p && x.Kind == k })
		switch {
		case i < 0:
			plan.Diff = append(plan.Diff, fmt.Sprintf("+ plan_limit %s: %d", key, l.MaxItems))
		case cur.PlanLimits[i].MaxItems == l.MaxItems:
			continue
		default:
			plan.Diff = append(plan.Diff, fmt.Sprintf("~ plan_limit %s: %d → %d", key, cur.PlanLimits[i].MaxItems, l.MaxItems))
		}
		plan.PlanLimits = append(plan.PlanLimits, l)
	}
}

// checkDefaultItems: each default item the settings name must be a global
// item, as it is or as the file makes it, that is not archived (what the
// store checks on apply; checked here too so a dry run says so).
func checkDefaultItems(next domain.GlobalSettings, cur store.GlobalLayer, planned []domain.GlobalItem, bad func(string, error)) {
	for _, k := range domain.OwnKinds {
		id := next.ItemDefaults[k]
		if id == "" {
			continue
		}
		var found *domain.GlobalItem
		for _, list := range [][]domain.GlobalItem{cur.Items, planned} { // the file's version last, so it wins
			for _, it := range list {
				if it.Kind == k && it.ID == id {
					found = &it
				}
			}
		}
		switch where := "settings.default_items." + k.String(); {
		case found == nil:
			bad(where, fmt.Errorf("there is no global %s %q", k.Info().Noun, id))
		case found.Archived:
			bad(where, fmt.Errorf("global %s %q is archived", k.Info().Noun, id))
		}
	}
}

// sameDefaults compares default items, an empty id standing for none.
func sameDefaults(a, b map[domain.ItemKind]string) bool {
	for _, k := range domain.OwnKinds {
		if a[k] != b[k] {
			return false
		}
	}
	return true
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
		return store.LayerChanges{Settings: plan.Settings, Models: plan.Models, Items: plan.Items, PlanLimits: plan.PlanLimits}, err
	})
	return plan, err
}
