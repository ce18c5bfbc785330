// Command aiconfig-screenshots starts bin/aiconfigd with its HTTP door over
// a fresh database with demo data, and writes a PNG of every console page,
// taken by headless Chromium, to .data/screenshots/ (make screenshots).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/igny8/aiconfig/internal/access"
	"github.com/igny8/aiconfig/internal/audit"
	"github.com/igny8/aiconfig/internal/devdb"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/secret"
	"github.com/igny8/aiconfig/internal/store"
)

var (
	serverURL = flag.String("server-url", os.Getenv("AICONFIG_SCREENSHOTS_SERVER_URL"), "PostgreSQL admin URL; a fresh database is created there and dropped after")
	binary    = flag.String("binary", "bin/aiconfigd", "the aiconfigd binary")
	outDir    = flag.String("out", ".data/screenshots", "where the PNGs go")
	chromium  = flag.String("chromium", envOr("AICONFIG_CHROMIUM", "/usr/bin/chromium"), "Chromium or Chrome binary")
	width     = flag.Int("width", 1360, "window width")
	height    = flag.Int("height", 900, "window height")
)

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "aiconfig-screenshots:", err)
		os.Exit(1)
	}
}

func run() error {
	if *serverURL == "" {
		return errors.New("set -server-url or AICONFIG_SCREENSHOTS_SERVER_URL (make screenshots does)")
	}
	if _, err := os.Stat(*chromium); err != nil {
		return fmt.Errorf("no Chromium at %s (set AICONFIG_CHROMIUM or -chromium): %w", *chromium, err)
	}
	ctx := context.Background()
	dbURL, drop, err := devdb.Create(ctx, *serverURL, fmt.Sprintf("aiconfig_screens_%d", os.Getpid()))
	if err != nil {
		return err
	}
	defer drop()
	if err := store.MigrateUp(dbURL, nil); err != nil {
		return err
	}
	tokens, err := issueTokens(ctx, dbURL)
	if err != nil {
		return err
	}
	srv, err := startServer(dbURL)
	if err != nil {
		return err
	}
	defer srv.stop()
	if err := demoData(srv.base, tokens); err != nil {
		return err
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return err
	}
	n, err := shoot(srv.base, tokens)
	if err != nil {
		return err
	}
	fmt.Printf("wrote %d screenshots to %s\n", n, *outDir)
	return nil
}

type tokenSet struct{ admin, acme, free string }

func issueTokens(ctx context.Context, dbURL string) (tokenSet, error) {
	// Audited as a command, as aiconfigd token create is.
	ctx = audit.WithCall(ctx, audit.Call{Actor: domain.Principal{Name: "cli:screenshots"}, RPC: "cli:screenshots"})
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		return tokenSet{}, err
	}
	defer st.Close()
	var t tokenSet
	// Accounts first: account tokens name them.
	for _, a := range []domain.Account{{ID: "acme", Name: "Acme Inc", Plan: domain.PlanStarter}, {ID: "freebie", Name: "Freebie Blog", Plan: domain.PlanStarter}} {
		if _, err := st.UpsertAccount(ctx, a, nil); err != nil {
			return t, err
		}
	}
	for _, x := range []struct {
		dst     *string
		name    string
		role    domain.Role
		account string
	}{{&t.admin, "ops-admin", domain.RoleAdmin, ""}, {&t.acme, "acme-owner", domain.RoleAccount, "acme"}, {&t.free, "freebie-owner", domain.RoleAccount, "freebie"}} {
		if _, *x.dst, err = access.IssueToken(ctx, st, x.name, x.role, x.account); err != nil {
			return t, err
		}
	}
	return t, nil
}

type server struct {
	cmd  *exec.Cmd
	base string
}

func startServer(dbURL string) (*server, error) {
	grpcAddr, err := devdb.FreeAddr()
	if err != nil {
		return nil, err
	}
	httpAddr, err := devdb.FreeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(*binary, "serve", "--listen", grpcAddr, "--metrics-listen", "", "--http-listen", httpAddr, "--drain-delay", "0s")
	cmd.Env = append(os.Environ(), "AICONFIG_DATABASE_URL="+dbURL, "AICONFIG_SECRET_KEY="+secret.NewKey(), "AICONFIG_LOG_LEVEL=warn")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, base: "http://" + httpAddr}
	for i := 0; ; i++ {
		res, err := http.Get(s.base + "/")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return s, nil
			}
		}
		if i > 100 {
			s.stop()
			return nil, fmt.Errorf("the server on %s did not start: %v", httpAddr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	_ = s.cmd.Wait()
}

// call makes one JSON call, as any HTTP client of the service would.
func call(base, token, method, body string) error {
	req, err := http.NewRequest(http.MethodPost, base+"/aiconfig.v1."+method, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		return fmt.Errorf("%s: HTTP %d %s", method, res.StatusCode, b)
	}
	return nil
}

// demoData makes a platform worth looking at: keys, accounts on every
// plan, overrides, a customized prompt whose default then changed, a
// Free account with choices kept from its Starter days.
func demoData(base string, t tokenSet) error {
	steps := []struct{ token, method, body string }{
		{t.admin, "ConfigService/UpdateGlobalSettings", `{"settings": {"openai": {"apiKey": "sk-demo-openai-000000000000a1b2"}, "dalle": {"apiKey": "sk-demo-dalle-0000000000000c3d4"}}, "updateMask": "openai.apiKey,dalle.apiKey"}`},
		{t.admin, "AccountService/UpsertAccount", `{"account": {"id": "globex", "name": "Globex Corporation", "plan": "PLAN_GROWTH"}}`},
		{t.admin, "AccountService/UpsertAccount", `{"account": {"id": "initech", "name": "Initech", "plan": "PLAN_SCALE"}}`},
		{t.admin, "AccountService/UpsertAccount", `{"account": {"id": "umbrella", "name": "Umbrella Media", "plan": "PLAN_FREE"}}`},
		{t.acme, "ConfigService/UpsertIntegrationOverride", `{"override": {"integration": "INTEGRATION_OPENAI", "model": "gpt-4.1", "temperature": 0.4}}`},
		{t.admin, "ConfigService/UpsertIntegrationOverride", `{"override": {"accountId": "globex", "integration": "INTEGRATION_DALLE", "imageQuality": "hd"}}`},
		{t.acme, "PromptService/CustomizePrompt", `{"promptType": "clustering", "text": "Group these keywords by search intent, one cluster per intent, and name each cluster: {{keywords}}"}`},
		{t.acme, "PromptService/CustomizePrompt", `{"promptType": "ideas", "text": "Suggest five article ideas for our B2B audience, for each of these keyword clusters: {{clusters}}"}`},
		{t.free, "ConfigService/UpsertIntegrationOverride", `{"override": {"integration": "INTEGRATION_OPENAI", "model": "gpt-4o"}}`},
		{t.free, "AuthorProfileService/CreateAuthorProfile", `{"authorProfile": {"id": "freebie-voice", "name": "Freebie voice", "language": "en", "tone": "chatty",
			"styleGuide": "Short posts, first person, one joke at most."}}`},
		// The library: a new global profile, and an archived one.
		{t.admin, "AuthorProfileService/UpsertGlobalAuthorProfile", `{"authorProfile": {"id": "plain-english-editor", "name": "Plain English editor",
			"description": "Clear, short, jargon-free writing for any audience.", "tone": "clear, direct", "language": "en-GB", "audience": "Everyone",
			"styleGuide": "Use short words and short sentences. One idea per paragraph. Active voice. No jargon."}}`},
		{t.admin, "AuthorProfileService/UpsertGlobalAuthorProfile", `{"authorProfile": {"id": "legacy-seo-writer", "name": "Legacy SEO writer",
			"description": "Keyword-dense copy from an older playbook; kept for accounts that customized it.", "tone": "promotional", "language": "en",
			"styleGuide": "Repeat the main keyword in every heading."}}`},
		// Acme: a profile of its own as its default, a customized strategy.
		{t.acme, "AuthorProfileService/CreateAuthorProfile", `{"authorProfile": {"id": "acme-voice", "name": "Acme voice", "language": "en-GB",
			"tone": "dry, exact", "audience": "Operations managers", "styleGuide": "British spelling. Short sentences. Numbers, not adjectives."}}`},
		{t.acme, "AuthorProfileService/UpdateAuthorProfile", `{"authorProfile": {"id": "friendly-guide", "tone": "warm, brief"}, "updateMask": "tone"}`},
		{t.acme, "AccountService/SetAccountDefaults", `{"defaultAuthorProfileId": "acme-voice", "updateMask": "defaultAuthorProfileId"}`},
		{t.acme, "ContentStrategyService/UpdateContentStrategy", `{"contentStrategy": {"id": "product-led", "wordCountMin": 1200, "wordCountMax": 2000,
			"objective": "Turn operations managers into trial sign-ups by showing the workflows they already run, done faster."},
			"updateMask": "wordCountMin,wordCountMax,objective"}`},
		{t.admin, "AccountService/UpsertAccount", `{"account": {"id": "freebie", "name": "Freebie Blog", "plan": "PLAN_FREE"}}`},
	}
	for _, s := range steps {
		if err := call(base, s.token, s.method, s.body); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}
	// The platform improves its ideas prompt after acme customized theirs.
	var gp struct {
		Prompts []struct {
			PromptType  string   `json:"promptType"`
			Text        string   `json:"text"`
			Description string   `json:"description"`
			Variables   []string `json:"variables"`
		} `json:"prompts"`
	}
	if err := callInto(base, t.admin, "PromptService/ListGlobalPrompts", `{}`, &gp); err != nil {
		return err
	}
	for _, p := range gp.Prompts {
		if p.PromptType != "ideas" {
			continue
		}
		p.Text += "\nPrefer ideas that answer a question the reader is searching for."
		b, _ := json.Marshal(map[string]any{"prompt": p})
		if err := call(base, t.admin, "PromptService/UpsertGlobalPrompt", string(b)); err != nil {
			return err
		}
	}
	// The platform revises the strategy acme customized ("default
	// changed"), and archives the legacy profile.
	if err := editGlobal(base, t.admin, "ContentStrategy", "product-led", func(s map[string]any) {
		s["structureGuidelines"] = fmt.Sprint(s["structureGuidelines"]) + "\n- Add a short FAQ when the brief lists customer questions."
	}); err != nil {
		return err
	}
	return editGlobal(base, t.admin, "AuthorProfile", "legacy-seo-writer", func(p map[string]any) { p["archived"] = true })
}

// editGlobal changes one global profile or strategy (kind "AuthorProfile"
// or "ContentStrategy") with UpsertGlobal…, which replaces it whole.
func editGlobal(base, token, kind, id string, edit func(map[string]any)) error {
	plural, field := "AuthorProfiles", "authorProfile"
	if kind == "ContentStrategy" {
		plural, field = "ContentStrategies", "contentStrategy"
	}
	service := kind + "Service"
	var got map[string][]map[string]any
	if err := callInto(base, token, service+"/ListGlobal"+plural, `{}`, &got); err != nil {
		return err
	}
	listField := strings.ToLower(plural[:1]) + plural[1:]
	for _, it := range got[listField] {
		if it["id"] != id {
			continue
		}
		item := map[string]any{}
		for k, v := range it { // the content, id and archived; not the output-only fields
			switch k {
			case "source", "isCustomized", "defaultChanged", "revision", "overridesSuppressed", "globalRevision":
			default:
				item[k] = v
			}
		}
		edit(item)
		b, _ := json.Marshal(map[string]any{field: item, "expectedRevision": it["revision"]})
		return call(base, token, service+"/UpsertGlobal"+kind, string(b))
	}
	return fmt.Errorf("no global %s %q", kind, id)
}

func callInto(base, token, method, body string, out any) error {
	req, _ := http.NewRequest(http.MethodPost, base+"/aiconfig.v1."+method, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		return fmt.Errorf("%s: HTTP %d %s", method, res.StatusCode, b)
	}
	return json.NewDecoder(bytes.NewReader(b)).Decode(out)
}

// A shot is one page as one signed-in user sees it.
type shot struct {
	file  string
	token string // "" for the sign-in page
	path  string // the page's #/path
	// then runs once the page is ready (e.g. to show an error).
	then []chromedp.Action[chromedp.Void]
}

// ready waits until the console has finished rendering the page.
var ready = chromedp.Poll[chromedp.Void](`document.querySelector('main h1') !== null && `+
	`!document.querySelector('main[aria-busy]') && !document.querySelector('.loading')`, chromedp.WithPollingTimeout(15*time.Second))

func shoot(base string, t tokenSet) (int, error) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(*chromium), chromedp.NoSandbox, chromedp.WindowSize(*width, *height))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	if err := chromedp.Do(bctx); err != nil {
		return 0, fmt.Errorf("starting Chromium: %w", err)
	}
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	shots := []shot{
		{file: "01-sign-in.png", path: "/"},
		{file: "02-sign-in-error.png", path: "/", then: []chromedp.Action[chromedp.Void]{
			chromedp.SendKeys(css(`input[name=token]`), "aic_not-a-token"),
			chromedp.Click(css(`form.signin button[type=submit]`)),
			chromedp.WaitVisible(css(`.error-reason`)),
		}},
		{file: "10-admin-global-settings.png", token: t.admin, path: "/admin/settings"},
		{file: "11-admin-replace-key.png", token: t.admin, path: "/admin/settings", then: []chromedp.Action[chromedp.Void]{
			chromedp.Click(css(`#provider-openai .key-block > .actions button`)),
			chromedp.SendKeys(css(`#key-openai-form input`), "sk-demo-new-openai-0000000e5f6"),
			chromedp.Click(css(`#key-openai-form button[type=submit]`)),
			chromedp.WaitVisible(css(`dialog[open]`)),
		}},
		{file: "12-admin-global-prompts.png", token: t.admin, path: "/admin/prompts"},
		{file: "12b-admin-global-prompt.png", token: t.admin, path: "/admin/prompts/content_generation"},
		{file: "13-admin-model-catalog.png", token: t.admin, path: "/admin/models"},
		{file: "14-admin-accounts.png", token: t.admin, path: "/admin/accounts"},
		{file: "15-admin-account-acme.png", token: t.admin, path: "/admin/accounts/acme"},
		{file: "16-admin-audit-log.png", token: t.admin, path: "/admin/audit"},
		{file: "17-admin-global-profiles.png", token: t.admin, path: "/admin/profiles"},
		{file: "18-admin-edit-global-profile.png", token: t.admin, path: "/admin/profiles", then: []chromedp.Action[chromedp.Void]{
			chromedp.Click(css(`#author_profile-row-friendly-guide [data-action=edit]`)),
			chromedp.WaitVisible(css(`#author_profile-form`)),
		}},
		{file: "19-admin-global-strategies.png", token: t.admin, path: "/admin/strategies"},
		{file: "1a-admin-generation-context.png", token: t.admin, path: "/admin/context/acme"},
		{file: "20-account-model-selection.png", token: t.acme, path: "/settings/ai"},
		{file: "21-account-validation-error.png", token: t.acme, path: "/settings/ai", then: []chromedp.Action[chromedp.Void]{
			chromedp.SetValue(css(`#override-openai input[data-field="override.temperature"]`), "3.5"),
			chromedp.Click(css(`#override-openai button[type=submit]`)),
			chromedp.WaitVisible(css(`#override-openai .error-reason`)),
		}},
		{file: "22-account-custom-prompts.png", token: t.acme, path: "/settings/prompts"},
		{file: "23-account-author-profiles.png", token: t.acme, path: "/settings/profiles"},
		{file: "24-account-content-strategies.png", token: t.acme, path: "/settings/strategies"},
		{file: "25-account-customize-strategy.png", token: t.acme, path: "/settings/strategies", then: []chromedp.Action[chromedp.Void]{
			chromedp.Click(css(`#content_strategy-row-product-led [data-action=edit]`)),
			chromedp.WaitVisible(css(`#content_strategy-form`)),
		}},
		{file: "26-account-create-profile-error.png", token: t.acme, path: "/settings/profiles", then: []chromedp.Action[chromedp.Void]{
			chromedp.Click(css(`[data-action=create]`)),
			chromedp.SendKeys(css(`#author_profile-form input[data-field="author_profile.id"]`), "Acme Formal"),
			chromedp.SendKeys(css(`#author_profile-form input[data-field="author_profile.language"]`), "EN_gb"),
			chromedp.Click(css(`#author_profile-form button[type=submit]`)),
			chromedp.WaitVisible(css(`#author_profile-form .error-reason`)),
		}},
		{file: "30-free-model-selection.png", token: t.free, path: "/settings/ai"},
		{file: "31-free-custom-prompts.png", token: t.free, path: "/settings/prompts"},
		{file: "32-free-author-profiles.png", token: t.free, path: "/settings/profiles"},
	}
	for _, s := range shots {
		if err := take(bctx, base, s); err != nil {
			return 0, fmt.Errorf("%s: %w", s.file, err)
		}
	}
	return len(shots), nil
}

// take opens a fresh tab (its own sessionStorage), opens the page, signs
// in on the form it shows as a person would, and saves a full-page PNG.
func take(bctx context.Context, base string, s shot) error {
	tab, cancel := chromedp.NewContext(bctx)
	defer cancel()
	if err := chromedp.Do(tab); err != nil {
		return err
	}
	ctx, cancelTimeout := context.WithTimeout(tab, 60*time.Second)
	defer cancelTimeout()
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	steps := []chromedp.Action[chromedp.Void]{chromedp.Navigate(base + "/#" + s.path), chromedp.WaitVisible(css(`input[name=token]`))}
	if s.token != "" {
		steps = append(steps,
			chromedp.SendKeys(css(`input[name=token]`), s.token),
			chromedp.Click(css(`form.signin button[type=submit]`)),
			chromedp.WaitVisible(css(`#sidebar a[aria-current=page]`)),
			ready)
	}
	steps = append(steps, s.then...)
	steps = append(steps, chromedp.Sleep(300*time.Millisecond)) // the toast's fade
	if err := chromedp.Do(ctx, steps...); err != nil {
		return err
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG (lower: JPEG)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(*outDir, strings.TrimSuffix(s.file, ".png")+".png"), png, 0o644)
}
