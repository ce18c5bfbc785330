package djangoimport

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/store"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "mapping.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestMappingIsReadOverTheDefault: a file names only what differs; an
// unknown key, target or plan is an error naming it.
func TestMappingIsReadOverTheDefault(t *testing.T) {
	m, err := LoadMapping(writeFile(t, "plans: {enterprise: PLAN_SCALE}\nmodels:\n  accounts:\n    id: slug\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Plans["enterprise"] != "PLAN_SCALE" || m.Plans["starter"] != "PLAN_STARTER" {
		t.Errorf("plans: %v; want the default's four and enterprise", m.Plans)
	}
	if m.Models.Accounts.ID != "slug" || m.Models.Accounts.Fields["plan"] != "plan" || m.Models.GlobalSettings.Fields["openai_api_key"] != "openai.api_key" {
		t.Errorf("the file's accounts.id and the default's fields: %+v", m.Models.Accounts)
	}
	for body, want := range map[string]string{
		"plan: {enterprise: PLAN_SCALE}\n":                          "field plan not found",
		"plans: {enterprise: PLAN_ENTERPRISE}\n":                    "plans.enterprise",
		"models:\n  overrides:\n    config: {api_key: api_key}\n":   `models.overrides.config.api_key: unknown target "api_key"`,
		"models:\n  accounts:\n    fields: {status: plan_status}\n": `models.accounts.fields.status: unknown target "plan_status"`,
		"integrations: {azure: azure_openai}\n":                     "integrations.azure",
	} {
		if _, err := LoadMapping(writeFile(t, body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("mapping %q: %v; want an error naming %q", body, err, want)
		}
	}
}

// TestReaderStreamsRows: per-account rows come out one at a time; a
// key-like config entry is reported by name, its value kept nowhere; the
// small models are kept for Global; the digest covers the whole input.
func TestReaderStreamsRows(t *testing.T) {
	const dump = `[
{"model": "billing.plan", "pk": 1, "fields": {"name": "Starter", "slug": "starter", "monthly_price": "29.00", "is_active": true}},
{"model": "accounts.account", "pk": 7, "fields": {"name": "Acme", "slug": "acme", "plan": 1, "status": "active", "created_at": null}},
{"model": "system.integrationsettings", "pk": 3, "fields": {"account": 7, "integration_type": "openai",
  "config": {"model": "gpt-4o", "temperature": null, "max_tokens": "2000", "api_key": "sk-secret-value-1234", "OpenAI_Secret": "x", "apiKey": "y", "access_token": "z"},
  "created_at": null, "updated_at": null}}
]
`
	m, err := LoadMapping("")
	if err != nil {
		t.Fatal(err)
	}
	d := NewReader(strings.NewReader(dump), m, false)
	var rows []*store.DumpRow
	for {
		r, err := d.Next()
		if err != nil {
			t.Fatal(err)
		}
		if r == nil {
			break
		}
		rows = append(rows, r)
	}
	if len(rows) != 2 || rows[0].AccountID != "7" || rows[0].PlanRef != "1" || rows[1].AccountPK != "7" {
		t.Fatalf("rows: %+v", rows)
	}
	o := rows[1]
	if domain.Deref(o.Params.Model) != "gpt-4o" || o.Params.Temperature != nil || domain.Deref(o.Params.MaxTokens) != 2000 {
		t.Errorf("override params: %+v", o.Params)
	}
	if strings.Join(o.KeyFields, ",") != "OpenAI_Secret,access_token,apiKey,api_key" {
		t.Errorf("key fields %v, want both key-like names", o.KeyFields)
	}
	for _, v := range o.Values() {
		if s, ok := v.(string); ok && strings.Contains(s, "sk-secret") {
			t.Error("a staged value holds the override's key")
		}
	}
	g, err := d.Global()
	if err != nil || len(g.Plans) != 1 || g.Plans[0].Plan != domain.PlanStarter {
		t.Errorf("global: %+v, %v", g, err)
	}
	if sum := sha256.Sum256([]byte(dump)); d.SHA256() != hex.EncodeToString(sum[:]) {
		t.Errorf("digest %s, want the whole input's", d.SHA256())
	}
}

// TestReaderRefusesWhatItCannotRead: an unknown config key, an unmapped
// integration and a dump that is not an array are errors naming them.
func TestReaderRefusesWhatItCannotRead(t *testing.T) {
	m, err := LoadMapping("")
	if err != nil {
		t.Fatal(err)
	}
	for dump, want := range map[string]string{
		`{"model": "x"}`: "a dump is a JSON array",
		`[{"model": "system.integrationsettings", "pk": 5, "fields": {"account": 1, "integration_type": "openai", "config": {"top_p": 1}}}]`:             "config key top_p of model system.integrationsettings (first pk 5)",
		`[{"model": "system.integrationsettings", "pk": 6, "fields": {"account": 1, "integration_type": "openai", "config": {"max_output_tokens": 1}}}]`: "config key max_output_tokens of model system.integrationsettings (first pk 6)",
		`[{"model": "system.integrationsettings", "pk": 5, "fields": {"account": 1, "integration_type": "azure", "config": {}}}]`:                        `integration "azure" is not mapped`,
		`[{"model": "accounts.account", "pk": 5, "fields": {"name": "a", "plan": 1, "tier": "gold"}}]`:                                                   "field tier of model accounts.account (first pk 5)",
	} {
		d := NewReader(strings.NewReader(dump), m, false)
		var err error
		for {
			var r *store.DumpRow
			if r, err = d.Next(); r == nil || err != nil {
				break
			}
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want an error naming %q", dump, err, want)
		}
	}
}

// TestReaderErrorsShowNoKey: a dump field the reader cannot use is named
// in the error, but a value that may hold an API key (an api_key field
// of the wrong type, a config that is not an object) is described by its
// JSON type only: the error reaches the terminal and CI logs.
func TestReaderErrorsShowNoKey(t *testing.T) {
	m, err := LoadMapping("")
	if err != nil {
		t.Fatal(err)
	}
	const secret = "sk-live-DO-NOT-PRINT-9876"
	for name, dump := range map[string]string{
		"api_key an object": `[{"model": "system.globalintegrationsettings", "pk": 1, "fields": {"default_text_provider": "openai", "default_image_provider": "dalle", "openai_api_key": {"value": "` + secret + `"}}}]`,
		"config a string": `[{"model": "accounts.account", "pk": 7, "fields": {"name": "Acme", "slug": "acme", "plan": 1, "status": "active", "created_at": null}},
{"model": "system.integrationsettings", "pk": 3, "fields": {"account": 7, "integration_type": "openai",
  "config": "{\"api_key\": \"` + secret + `\"}", "created_at": null, "updated_at": null}}]`,
	} {
		d := NewReader(strings.NewReader(dump), m, true)
		var err error
		for {
			var r *store.DumpRow
			if r, err = d.Next(); err != nil || r == nil {
				break
			}
		}
		if err == nil {
			_, err = d.Global()
		}
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "sk-live") {
			t.Errorf("%s: the error shows the key: %v", name, err)
		}
		if !strings.Contains(err.Error(), "want ") {
			t.Errorf("%s: the error does not say what was wanted: %v", name, err)
		}
	}
}
