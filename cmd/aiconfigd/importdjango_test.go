package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/pgtest"
	"github.com/igny8/aiconfig/internal/secret"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// The legacy project (testdata/django) is run with Debian's python3 and
// its Django: the import is tested on real dumpdata output only.
const legacyPython = "/usr/bin/python3"

var legacyDir, _ = filepath.Abs("../../testdata/django")

// The plaintext keys the seed stores; none may appear in any output.
var fixtureKeys = []string{"sk-legacy-openai-0123456789abcdefWXYZ", "sk-ant-legacy-anthropic-9876543210QRST",
	"sk-legacy-dalle-5555555555555555DALL", "sk-account-own-key-DO-NOT-IMPORT-7777"}

const djangoDumpModels = "system.GlobalIntegrationSettings system.IntegrationSettings system.GlobalAIPrompt system.AIPrompt accounts.Account billing.Plan"

// manage runs the legacy project's manage.py on the SQLite file db.
func manage(t *testing.T, db string, args ...string) string {
	t.Helper()
	cmd := exec.Command(legacyPython, append([]string{"manage.py"}, args...)...)
	cmd.Dir = legacyDir
	cmd.Env = append(os.Environ(), "AICONFIG_LEGACY_DB="+db)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("manage.py %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return string(out)
}

// dumpdata dumps the six models of db into a file in dir.
func dumpdata(t *testing.T, db, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(manage(t, db, append([]string{"dumpdata"}, strings.Fields(djangoDumpModels)...)...)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var legacy struct {
	once     sync.Once
	dir      string
	db, dump string
	ids      map[string]string // account name → pk
}

// legacyFixture seeds the legacy project once per package run and dumps
// it; each test copies what it changes.
func legacyFixture(t *testing.T) (db, dump string, ids map[string]string) {
	t.Helper()
	if err := exec.Command(legacyPython, "-c", "import django").Run(); err != nil {
		t.Skip("the legacy Django project needs Debian's python3-django (apt-get install python3-django): " + legacyPython + " cannot import django")
	}
	legacy.once.Do(func() {
		dir, err := os.MkdirTemp("", "aiconfig-legacy-")
		if err != nil {
			t.Fatal(err)
		}
		legacy.dir, legacy.db = dir, filepath.Join(dir, "legacy.sqlite3")
		manage(t, legacy.db, "migrate", "--run-syncdb", "-v0")
		manage(t, legacy.db, "seed_legacy")
		legacy.dump = dumpdata(t, legacy.db, dir, "dump.json")
		legacy.ids = accountIDs(t, legacy.dump)
	})
	if legacy.ids == nil {
		t.Fatal("the legacy fixture failed in an earlier test")
	}
	return legacy.db, legacy.dump, legacy.ids
}

func accountIDs(t *testing.T, dump string) map[string]string {
	b, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	var objs []struct {
		Model  string
		PK     json.Number
		Fields map[string]any
	}
	if err := json.Unmarshal(b, &objs); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, o := range objs {
		if o.Model == "accounts.account" {
			ids[o.Fields["name"].(string)] = o.PK.String()
		}
	}
	return ids
}

// importEnv is the binary's environment for an import into a fresh
// database, and the secret key it seals with.
func importEnv(t *testing.T) (env []string, url, key string) {
	key = secret.NewKey()
	url = pgtest.NewDatabase(t)
	return cleanEnv("AICONFIG_DATABASE_URL="+url, "AICONFIG_SECRET_KEY="+key), url, key
}

// writeMapping writes the mapping the platform needs: its old
// "enterprise" plan is sold as Scale.
func writeMapping(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "mapping.yaml")
	if err := os.WriteFile(path, []byte("plans: {enterprise: PLAN_SCALE}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// noKeys fails if any output holds one of the fixture's keys.
func noKeys(t *testing.T, what string, outputs ...string) {
	t.Helper()
	for _, out := range outputs {
		for _, k := range fixtureKeys {
			if strings.Contains(out, k) || strings.Contains(out, k[len(k)/2:]) {
				t.Errorf("%s holds an API key (or half of one)", what)
			}
		}
	}
}

func wantLines(t *testing.T, what, out string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(out, l) {
			t.Errorf("%s: no %q in\n%s", what, l, out)
		}
	}
}

func query[T any](t *testing.T, url, sql string, args ...any) T {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var v T
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

// TestImportDjangoRefusesWhatItCannotMap: an unknown field and an
// unmapped plan stop the import (exit 2), naming model, field, first pk,
// and the accounts; nothing is written.
func TestImportDjangoRefusesWhatItCannotMap(t *testing.T) {
	_, dump, ids := legacyFixture(t)
	env, url, _ := importEnv(t)
	out, stderr, code := runBin(t, env, "", "import-django", "--apply", dump)
	if code != 2 {
		t.Fatalf("unknown field: exit %d, want 2\n%s%s", code, out, stderr)
	}
	wantLines(t, "unknown field", stderr, "field openai_organization of model system.globalintegrationsettings (first pk 1)", "--allow-unknown")
	out, stderr, code = runBin(t, env, "", "import-django", "--apply", "--allow-unknown", dump)
	if code != 2 {
		t.Fatalf("unmapped plan: exit %d, want 2\n%s%s", code, out, stderr)
	}
	wantLines(t, "unmapped plan", stderr, fmt.Sprintf("account %s (Enterprise Legacy): plan enterprise", ids["Enterprise Legacy"]), "plans: {enterprise: PLAN_SCALE}")
	noKeys(t, "the refusals", out, stderr)
	if n := query[int](t, url, `SELECT count(*) FROM accounts`); n != 0 {
		t.Errorf("a refused import wrote %d accounts", n)
	}
	// Standard input works the same; --print-mapping shows the default.
	b, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	if _, stderr, code = runBin(t, env, string(b), "import-django", "-"); code != 2 || !strings.Contains(stderr, "field openai_organization") {
		t.Errorf("a dump on stdin: exit %d\n%s", code, stderr)
	}
	if out, _, code = runBin(t, env, "", "import-django", "--print-mapping"); code != 0 || !strings.Contains(out, "openai_api_key: openai.api_key") {
		t.Errorf("--print-mapping: exit %d\n%s", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("plans: {enterprise: PLAN_ENTERPRISE}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code = runBin(t, env, "", "import-django", "--mapping", bad, dump); code != 2 || !strings.Contains(stderr, "plans.enterprise") {
		t.Errorf("a bad mapping: exit %d\n%s", code, stderr)
	}
}

// TestImportDjango: the dry run lists every warning the note's rules call
// for and writes nothing; --apply writes one revision with one GLOBAL
// change and audit rows naming the dump; a second --apply changes
// nothing; --verify finds no unexplained difference and counts the
// explained ones by reason, and fails once aiconfig is changed behind its
// back. No output holds a key.
func TestImportDjango(t *testing.T) {
	_, dump, ids := legacyFixture(t)
	env, url, _ := importEnv(t)
	mapping := writeMapping(t)
	var outputs []string
	run := func(extra ...string) (string, string, int) {
		args := append(append([]string{"import-django"}, extra...), "--allow-unknown", "--mapping", mapping, dump)
		out, stderr, code := runBin(t, env, "", args...)
		outputs = append(outputs, out, stderr)
		return out, stderr, code
	}

	out, stderr, code := run()
	if code != 0 {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, stderr)
	}
	id := func(name string) string { return ids[name] }
	wantLines(t, "dry run", out,
		"accounts: 40 in the dump: 40 new, 0 changed, 0 unchanged",
		"prompt customizations: 3 in the dump: 3 new",
		"~ settings.openai.api_key: set from the dump",
		"~ prompt content_generation text:",
		"unknown_field: field openai_organization of model system.globalintegrationsettings (first pk 1)",
		"api_key_in_override_ignored: 1\n",
		fmt.Sprintf("account %s (openai): config api_key not imported", id("Starter Own Key")),
		fmt.Sprintf("account %s (openai): imported, and suppressed while the account is on PLAN_FREE", id("Free With Override")),
		"free_plan_customization_suppressed: 1\n",
		fmt.Sprintf("account %s, prompt ideas: customization imported, and suppressed", id("Free With Override")),
		fmt.Sprintf("account %s: plan enterprise imported as PLAN_SCALE", id("Enterprise Legacy")),
		fmt.Sprintf("account %s (openai): model gpt-4 is not in the catalog, not imported", id("Growth Retired Model")),
		fmt.Sprintf("account %s (openai): max_tokens 100000 is above gpt-4o-mini's limit 16384: imported, clamped when read", id("Starter Too Many Tokens")),
		fmt.Sprintf("account %s, prompt content_generation: not customized; the legacy code served its stored default_prompt", id("Starter Not Customized")),
		fmt.Sprintf("account %s, prompt content_generation: customized from an older global prompt", id("Growth Stale Custom")),
		"dry run: ")
	wantLines(t, "dry run stderr", stderr, "the dump holds plaintext API keys (openai_api_key, anthropic_api_key, dalle_api_key)")
	if n := query[int](t, url, `SELECT count(*) FROM accounts`); n != 0 {
		t.Fatalf("the dry run wrote %d accounts", n)
	}
	before := query[int64](t, url, `SELECT revision FROM revisions`)

	out, stderr, code = run("--apply")
	rev := regexp.MustCompile(`applied \d+ changes as revision (\d+)`).FindStringSubmatch(out)
	if code != 0 || rev == nil {
		t.Fatalf("--apply: exit %d\n%s%s", code, out, stderr)
	}
	if got := query[int64](t, url, `SELECT revision FROM revisions`); fmt.Sprint(got) != rev[1] || got != before+1 {
		t.Errorf("--apply took revision %d (said %s), want exactly one after %d", got, rev[1], before)
	}
	if kind := query[string](t, url, `SELECT string_agg(kind, ',') FROM changes WHERE revision > $1`, before); kind != "global" {
		t.Errorf("--apply appended changes %q, want one global", kind)
	}
	sha := regexp.MustCompile(`dump sha256:([0-9a-f]{64})`).FindStringSubmatch(out)
	audited := query[int](t, url, `SELECT count(*) FROM audit_events WHERE actor_name = 'import-django' AND request_id = $1 AND resource LIKE 'accounts/%'`, "dump-sha256:"+sha[1])
	if audited != 40+12+3 {
		t.Errorf("%d audit rows name the dump's digest for accounts, overrides and prompts, want 55", audited)
	}
	noKeys(t, "the audit log", query[string](t, url, `SELECT coalesce(string_agg(coalesce(before::text, '') || coalesce(after::text, ''), ' '), '') FROM audit_events`))

	out, stderr, code = run("--apply")
	if code != 0 || !strings.Contains(out, "0 changes: aiconfig already holds what the dump holds") {
		t.Errorf("a second --apply: exit %d\n%s%s", code, out, stderr)
	}
	if got := query[int64](t, url, `SELECT revision FROM revisions`); got != before+1 {
		t.Errorf("a second --apply moved the revision to %d", got)
	}

	out, stderr, code = run("--verify")
	if code != 0 {
		t.Fatalf("--verify: exit %d\n%s%s", code, out, stderr)
	}
	wantLines(t, "--verify", out, "verify: 40 accounts, 5 functions, 6 prompt types: 440 answers compared",
		"free_plan_customization_suppressed: 1\n", "model_not_in_catalog: 4\n", "outside_catalog_limits: 4\n",
		"stale_default_prompt_served_by_legacy: 1\n", "free_plan_override_suppressed: ", "unexplained differences: 0\n")

	// A change behind the import's back is a difference nothing explains.
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `UPDATE integration_overrides SET max_tokens = 1234 WHERE account_id = $1`, id("Starter Nulls")); err != nil {
		t.Fatal(err)
	}
	out, stderr, code = run("--verify")
	if code != 1 {
		t.Fatalf("--verify after a change: exit %d, want 1\n%s%s", code, out, stderr)
	}
	wantLines(t, "--verify after a change", out, "unexplained differences: 4\n",
		fmt.Sprintf(`account %s, generate_content, max_tokens: legacy "2000", aiconfig "1234"`, id("Starter Nulls")))
	noKeys(t, "the command's output", outputs...)
}

// TestImportDjangoServerFollows: a running server that cached an
// account's answer answers from the import as soon as it is applied (the
// import's change event drops its cache), with the dump's platform key.
func TestImportDjangoServerFollows(t *testing.T) {
	_, dump, ids := legacyFixture(t)
	env, url, key := importEnv(t)
	ring, err := secret.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	srv := testsrv.StartOn(t, url, ring)
	id := ids["Starter Nulls"]
	srv.Account(t, id, domain.PlanFree)
	// An admin sees everything but the key, which only a worker gets, and
	// only once one is configured.
	ctx := testsrv.Ctx(srv.Token(t, domain.RoleAdmin, ""))
	get := func() *pb.ModelConfig {
		mc, err := srv.Config.GetModelConfig(ctx, &pb.GetModelConfigRequest{AccountId: id, Function: "generate_content"})
		if err != nil {
			t.Fatal(err)
		}
		return mc
	}
	if mc := get(); mc.Model != "gpt-4o-mini" || mc.Plan != pb.Plan_PLAN_FREE {
		t.Fatalf("before the import: %s on %s", mc.Model, mc.Plan)
	}
	out, stderr, code := runBin(t, env, "", "import-django", "--apply", "--allow-unknown", "--mapping", writeMapping(t), dump)
	if code != 0 {
		t.Fatalf("--apply: exit %d\n%s%s", code, out, stderr)
	}
	var mc *pb.ModelConfig
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if mc = get(); mc.Model == "gpt-4o" {
			break
		}
	}
	if mc.Model != "gpt-4o" || mc.GetMaxTokens() != 2000 || mc.GetTemperature() != 0.7 || mc.Plan != pb.Plan_PLAN_STARTER {
		t.Errorf("after the import: %s max_tokens %d temperature %g on %s; want the override gpt-4o, 2000, the global 0.7, on starter",
			mc.Model, mc.GetMaxTokens(), mc.GetTemperature(), mc.Plan)
	}
	worker, err := srv.Config.GetModelConfig(testsrv.Ctx(srv.Token(t, domain.RoleService, "")),
		&pb.GetModelConfigRequest{AccountId: id, Function: "generate_content"})
	if err != nil {
		t.Fatal(err)
	}
	if worker.ApiKey != fixtureKeys[0] { // compared, never printed
		t.Error("the worker does not get the dump's OpenAI key")
	}
	noKeys(t, "the server's log", srv.Logs.String())
}

// TestImportDjangoCatchUp: a newer dump of the legacy project, changed
// during the cutover, applies only its differences.
func TestImportDjangoCatchUp(t *testing.T) {
	db, dump, ids := legacyFixture(t)
	env, url, _ := importEnv(t)
	mapping := writeMapping(t)
	if out, stderr, code := runBin(t, env, "", "import-django", "--apply", "--allow-unknown", "--mapping", mapping, dump); code != 0 {
		t.Fatalf("first --apply: exit %d\n%s%s", code, out, stderr)
	}
	dir := t.TempDir()
	copyDB := filepath.Join(dir, "legacy.sqlite3")
	b, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(copyDB, b, 0o600); err != nil {
		t.Fatal(err)
	}
	manage(t, copyDB, "shell", "-c", fmt.Sprintf(`
from accounts.models import Account
from billing.models import Plan
from system.models import IntegrationSettings, AIPrompt
IntegrationSettings.objects.filter(account_id=%[1]s, integration_type="openai").update(config={"model": "gpt-4.1", "temperature": 0.2})
IntegrationSettings.objects.filter(account_id=%[2]s).delete()
a = Account.objects.get(pk=%[3]s); a.plan = Plan.objects.get(slug="growth"); a.save()
AIPrompt.objects.filter(account_id=%[4]s).update(is_customized=False)
Account.objects.create(name="New During Cutover", slug="new-during-cutover", plan=Plan.objects.get(slug="starter"))
`, ids["Starter Nulls"], ids["Scale Empty Config"], ids["Free Plain"], ids["Growth Stale Custom"]))
	newer := dumpdata(t, copyDB, dir, "newer.json")
	before := query[int64](t, url, `SELECT revision FROM revisions`)
	out, stderr, code := runBin(t, env, "", "import-django", "--apply", "--allow-unknown", "--mapping", mapping, newer)
	if code != 0 {
		t.Fatalf("catch-up --apply: exit %d\n%s%s", code, out, stderr)
	}
	wantLines(t, "catch-up", out,
		"accounts: 41 in the dump: 1 new, 1 changed, 39 unchanged",
		"overrides: 11 in the dump: 0 new, 1 changed, 10 unchanged, 1 removed",
		"prompt customizations: 2 in the dump: 0 new, 0 changed, 2 unchanged, 1 removed",
		"global layer: 0 changes",
		"applied 5 changes as revision")
	if got := query[int64](t, url, `SELECT revision FROM revisions`); got != before+1 {
		t.Errorf("the catch-up took revisions %d..%d, want one", before+1, got)
	}
	sha := regexp.MustCompile(`dump sha256:([0-9a-f]{64})`).FindStringSubmatch(out)
	if n := query[int](t, url, `SELECT count(*) FROM audit_events WHERE request_id = $1`, "dump-sha256:"+sha[1]); n != 5 {
		t.Errorf("the catch-up wrote %d audit rows, want one per change (5)", n)
	}
	if out, stderr, code = runBin(t, env, "", "import-django", "--verify", "--allow-unknown", "--mapping", mapping, newer); code != 0 || !strings.Contains(out, "unexplained differences: 0\n") {
		t.Errorf("--verify after the catch-up: exit %d\n%s%s", code, out, stderr)
	}
}
