// Package djangoimport moves the platform's settings from its Django models
// (the design note's GlobalIntegrationSettings, IntegrationSettings,
// GlobalAIPrompt, AIPrompt, with the plan on the account) into aiconfig
// (SPEC 18): it streams `manage.py dumpdata` JSON, maps every field as a
// YAML mapping says, applies the note's rules, and either shows what would
// change (dry run), writes it as one write, or verifies that aiconfig
// answers what the legacy code answers.
package djangoimport

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/igny8/aiconfig/internal/domain"
)

//go:embed default_mapping.yaml
var defaultMapping []byte

// DefaultMapping is the mapping used without --mapping, as --print-mapping
// prints it.
func DefaultMapping() []byte { return defaultMapping }

// Mapping says which Django model and field feeds what.
type Mapping struct {
	// Plans maps a billing.Plan slug to PLAN_FREE..PLAN_SCALE.
	Plans map[string]string `yaml:"plans"`
	// Integrations maps an integration_type / provider name to aiconfig's.
	Integrations map[string]string `yaml:"integrations"`
	// PromptTypes maps a legacy prompt_type to aiconfig's (same name when
	// absent).
	PromptTypes map[string]string `yaml:"prompt_types"`
	Models      struct {
		GlobalSettings Model `yaml:"global_settings"`
		Overrides      Model `yaml:"overrides"`
		GlobalPrompts  Model `yaml:"global_prompts"`
		AccountPrompts Model `yaml:"account_prompts"`
		Accounts       Model `yaml:"accounts"`
		Plans          Model `yaml:"plans"`
	} `yaml:"models"`
}

// Model maps one Django model: its dumpdata label, each field to a target
// (see targets), and the fields deliberately not imported.
type Model struct {
	Label  string            `yaml:"model"`
	Fields map[string]string `yaml:"fields"`
	Ignore []string          `yaml:"ignore"`
	// Config maps the keys of an IntegrationSettings config (overrides only).
	Config map[string]string `yaml:"config,omitempty"`
	// ID names the account field whose value is the aiconfig account id
	// ("pk": the primary key as text). Accounts only.
	ID string `yaml:"id,omitempty"`
}

// targets lists, per model role, what a field may feed.
var targets = map[string][]string{
	"global_settings": globalTargets(),
	"overrides":       {"account", "integration", "config"},
	"global_prompts":  {"prompt_type", "text", "description", "variables"},
	"account_prompts": {"account", "prompt_type", "prompt_value", "default_prompt", "is_customized"},
	"accounts":        {"name", "plan"},
	"plans":           {"slug"},
}

var configTargets = []string{domain.FieldModel, domain.FieldTemperature, domain.FieldMaxTokens,
	domain.FieldImageSize, domain.FieldImageQuality, domain.FieldImageStyle}

func globalTargets() []string {
	out := []string{"text_integration", "image_integration"}
	for _, i := range domain.Integrations {
		for _, f := range append([]string{"api_key"}, configTargets...) {
			out = append(out, i.String()+"."+f)
		}
	}
	return out
}

// LoadMapping reads a mapping file over the default: what the file names
// replaces or adds to the default's entries (so a file with only
// `plans: {enterprise: PLAN_SCALE}` is a whole mapping). path "" is the
// default alone. Unknown keys are errors.
func LoadMapping(path string) (*Mapping, error) {
	var m Mapping
	if err := decodeStrict(defaultMapping, &m); err != nil {
		return nil, fmt.Errorf("default mapping: %w", err)
	}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if err := decodeStrict(data, &m); err != nil {
			return nil, fmt.Errorf("mapping %s: %w", path, err)
		}
	}
	return &m, m.check()
}

func decodeStrict(data []byte, m *Mapping) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(m); err != nil && err != io.EOF {
		return err
	}
	return nil
}

// check refuses a mapping whose targets or values aiconfig does not know.
func (m *Mapping) check() error {
	var errs []string
	for slug, p := range m.Plans {
		if _, err := planOf(p); err != nil {
			errs = append(errs, fmt.Sprintf("plans.%s: %v", slug, err))
		}
	}
	for from, to := range m.Integrations {
		if _, err := domain.ParseIntegration(to); err != nil {
			errs = append(errs, fmt.Sprintf("integrations.%s: %q is not an integration (openai, anthropic, dalle, runware)", from, to))
		}
	}
	for role, mod := range m.roles() {
		if mod.Label == "" {
			errs = append(errs, fmt.Sprintf("models.%s.model: the dumpdata label (app.model) is required", role))
		}
		for f, t := range mod.Fields {
			if !slices.Contains(targets[role], t) {
				errs = append(errs, fmt.Sprintf("models.%s.fields.%s: unknown target %q (one of %s)", role, f, t, strings.Join(targets[role], ", ")))
			}
		}
		for k, t := range mod.Config {
			if !slices.Contains(configTargets, t) {
				errs = append(errs, fmt.Sprintf("models.%s.config.%s: unknown target %q (one of %s)", role, k, t, strings.Join(configTargets, ", ")))
			}
		}
	}
	if len(errs) > 0 {
		slices.Sort(errs)
		return fmt.Errorf("bad mapping:\n  %s", strings.Join(errs, "\n  "))
	}
	return nil
}

// roles lists the model sections by role name.
func (m *Mapping) roles() map[string]*Model {
	s := &m.Models
	return map[string]*Model{"global_settings": &s.GlobalSettings, "overrides": &s.Overrides, "global_prompts": &s.GlobalPrompts,
		"account_prompts": &s.AccountPrompts, "accounts": &s.Accounts, "plans": &s.Plans}
}

// planOf parses PLAN_SCALE (or scale).
func planOf(s string) (domain.Plan, error) {
	p, err := domain.ParsePlan(strings.TrimPrefix(strings.ToLower(s), "plan_"))
	if err != nil {
		return p, fmt.Errorf("%q is not one of PLAN_FREE, PLAN_STARTER, PLAN_GROWTH, PLAN_SCALE", s)
	}
	return p, nil
}

// keyLike matches a config key that holds a credential: api_key, apiKey,
// openai_key, secret, access_token, password... (not max_tokens).
var keyLike = regexp.MustCompile(`(?i)(^|[_.-])(api[_-]?key|apikey|key|secret|token|password|credentials?)$|[a-z]Key$|apikey$`)

// source returns the Django field feeding target in mod ("" when none).
func (mod *Model) source(target string) string {
	for f, t := range mod.Fields {
		if t == target {
			return f
		}
	}
	return ""
}
