package web_test

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// Browser tests: a real Chromium drives the console against a real server
// and database; each checks the page and then the service over gRPC.

func TestConsoleAdminSetsAPIKey(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	env, base := startHTTP(t)
	env.Account(t, "acme", domain.PlanStarter)
	admin := env.Token(t, domain.RoleAdmin, "")
	worker := env.Token(t, domain.RoleService, "")
	p := openPage(t, base)
	p.signIn(admin, "/admin/settings")

	// The token lives in this tab's sessionStorage only.
	if got := eval[string](p, `sessionStorage.getItem('aiconfig.token') || ''`); got != admin {
		t.Error("the token is not in sessionStorage")
	}
	if c := eval[string](p, `document.cookie`); c != "" || strings.Contains(eval[string](p, `location.href`), admin) {
		t.Errorf("the token escaped sessionStorage (cookie %q)", c)
	}
	p.audit("admin global settings")

	// No key yet: set one (confirmed: workers use it at once).
	const first, second = "sk-console-first-00000000wxyz", "sk-console-second-0000000abcd"
	p.waitText(`#key-openai-state`, "not set")
	p.click(`#provider-openai .key-block > .actions button`)
	p.typeInto(`#key-openai-form input`, first)
	p.click(`#key-openai-form button[type=submit]`)
	p.waitText(`dialog[open] h2`, "Set the OpenAI API key?")
	p.click(`dialog[open] [data-confirm]`)
	p.waitText(`#provider-openai .key-hint`, "…wxyz")

	// Replacing it asks first: cancel changes nothing, confirm replaces.
	p.click(`#provider-openai .key-block > .actions button`)
	p.typeInto(`#key-openai-form input`, second)
	p.click(`#key-openai-form button[type=submit]`)
	p.waitText(`dialog[open] h2`, "Replace the OpenAI API key?")
	p.click(`dialog[open] button[value=cancel]`)
	p.waitFor("the dialog to close", `!document.querySelector('dialog')`)
	gs, err := env.Config.GetGlobalSettings(testsrv.Ctx(admin), &pb.GetGlobalSettingsRequest{})
	if err != nil || gs.GetOpenai().GetApiKeyHint() != "…wxyz" {
		t.Fatalf("after cancel: %v, %v", gs.GetOpenai(), err)
	}
	p.click(`#key-openai-form button[type=submit]`)
	p.waitVisible(`dialog[open]`)
	p.click(`dialog[open] [data-confirm]`)
	p.waitText(`#provider-openai .key-hint`, "…abcd")
	p.waitText(`#status`, "ends …abcd")

	// The page shows hints only: neither key is in its text, markup,
	// fields or storage.
	all := p.everything()
	for _, key := range []string{first, second} {
		if strings.Contains(all, key) {
			t.Errorf("the page holds an API key it was given")
		}
	}

	// The service: the second key is the one workers get.
	gs, err = env.Config.GetGlobalSettings(testsrv.Ctx(admin), &pb.GetGlobalSettingsRequest{})
	if err != nil || !gs.GetOpenai().GetApiKeySet() || gs.GetOpenai().GetApiKeyHint() != "…abcd" {
		t.Fatalf("global settings %v, %v", gs.GetOpenai(), err)
	}
	mc, err := env.Config.GetModelConfig(testsrv.Ctx(worker), &pb.GetModelConfigRequest{AccountId: "acme", Function: "generate_content"})
	if err != nil || mc.GetApiKey() != second {
		t.Fatalf("a worker gets key %q (%v)", mc.GetApiKey(), err)
	}
	// Two audited writes by the console's admin, with hints only.
	events, err := env.Audit.ListAuditEvents(testsrv.Ctx(admin), &pb.ListAuditEventsRequest{Resource: "global_settings"})
	if err != nil {
		t.Fatal(err)
	}
	if len(events.GetEvents()) != 2 {
		t.Fatalf("%d audit rows for global_settings, want 2", len(events.GetEvents()))
	}
	for _, e := range events.GetEvents() {
		b, _ := protojson.Marshal(e)
		if e.GetRpc() != "/aiconfig.v1.ConfigService/UpdateGlobalSettings" || e.GetActorName() != "test-admin" ||
			strings.Contains(string(b), first) || strings.Contains(string(b), second) {
			t.Errorf("audit row %s", b)
		}
	}
}

func TestConsoleAdminSetsOverride(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	env, base := startHTTP(t)
	env.Account(t, "acme", domain.PlanGrowth)
	admin := env.Token(t, domain.RoleAdmin, "")
	p := openPage(t, base)
	p.signIn(admin, "/admin/accounts")
	p.click(`#accounts-table a[href="#/admin/accounts/acme"]`)
	p.waitText(`main h1`, "Account acme")
	p.ready()
	p.audit("admin account page")

	// A temperature the model does not take: the error names the reason
	// and the field, beside the field, and focus goes there.
	const form = `#override-openai`
	temp := form + ` input[data-field="override.temperature"]`
	p.setValue(form+` select[data-field="override.model"]`, "gpt-4.1")
	p.setValue(temp, "3")
	p.click(form + ` button[type=submit]`)
	p.waitVisible(form + ` .error-box .error-reason`)
	if box := p.text(form + ` .error-box`); !strings.Contains(box, "VALIDATION_FAILED") || !strings.Contains(box, "override.temperature") {
		t.Errorf("error box: %s", box)
	}
	beside := eval[[]string](p, `(() => { const i = document.querySelector(`+js(temp)+`);
		const described = (i.getAttribute('aria-describedby') || '').split(' ').map((id) => document.getElementById(id).textContent).join(' | ');
		return [i.getAttribute('aria-invalid'), String(document.activeElement === i), described]; })()`)
	if beside[0] != "true" || beside[1] != "true" || !strings.Contains(beside[2], "outside gpt-4.1's range") || !strings.Contains(beside[2], "VALIDATION_FAILED") {
		t.Errorf("the field's error (aria-invalid, focused, description): %q", beside)
	}
	p.audit("admin account page, override refused")
	if _, err := env.Config.GetIntegrationOverride(testsrv.Ctx(admin), &pb.GetIntegrationOverrideRequest{AccountId: "acme", Integration: pb.Integration_INTEGRATION_OPENAI}); err == nil {
		t.Fatal("a refused override was stored")
	}

	// Fixed: saved, and the table says where each value now comes from.
	p.setValue(temp, "0.4")
	p.click(form + ` button[type=submit]`)
	row := `tr[data-function="generate_content"]`
	p.waitText(row+` td.model`, "gpt-4.1")
	if cell := p.text(row + ` td.model`); !strings.Contains(cell, "account override") {
		t.Errorf("model cell %q does not say it comes from the account", cell)
	}
	params := p.text(row + ` .params`)
	if !strings.Contains(params, "Temperature: 0.4 account override") || !strings.Contains(params, "Max output tokens: 4000 platform default") {
		t.Errorf("parameters cell %q", params)
	}
	if img := p.text(`tr[data-function="generate_images"] td.model`); !strings.Contains(img, "dall-e-3 platform default") {
		t.Errorf("image function %q", img)
	}

	ov, err := env.Config.GetIntegrationOverride(testsrv.Ctx(admin), &pb.GetIntegrationOverrideRequest{AccountId: "acme", Integration: pb.Integration_INTEGRATION_OPENAI})
	if err != nil || ov.GetModel() != "gpt-4.1" || ov.GetTemperature() != 0.4 || ov.MaxTokens != nil {
		t.Fatalf("stored override %v (%v)", ov, err)
	}
	mc, err := env.Config.GetModelConfig(testsrv.Ctx(admin), &pb.GetModelConfigRequest{AccountId: "acme", Function: "generate_content"})
	if err != nil || mc.GetSources()["model"] != pb.Source_SOURCE_ACCOUNT || mc.GetSources()["max_tokens"] != pb.Source_SOURCE_GLOBAL {
		t.Fatalf("model config %v (%v)", mc, err)
	}
}

func TestConsoleAccountCustomizesAndResetsPrompt(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	env, base := startHTTP(t)
	env.Account(t, "acme", domain.PlanStarter)
	admin := env.Token(t, domain.RoleAdmin, "")
	acme := env.Token(t, domain.RoleAccount, "acme")
	p := openPage(t, base)
	p.signIn(acme, "/")
	if h := p.text(`main h1`); h != "AI Model Selection" {
		t.Errorf("an account lands on %q", h)
	}
	if who := p.text(`#whoami`); !strings.Contains(who, "Starter plan") {
		t.Errorf("header says %q", who)
	}
	p.click(`#sidebar a[href="#/settings/prompts"]`)
	p.waitVisible(`#prompts-acme-table`)
	p.ready()
	p.audit("account custom prompts list")
	// A list first; each prompt opens on its own page.
	if n := eval[int](p, `document.querySelectorAll('main textarea').length`); n != 0 {
		t.Errorf("%d text areas on the list", n)
	}
	p.click(`#prompts-acme-table a[href="#/settings/prompts/clustering"]`)
	p.waitVisible(`#prompt-clustering textarea`)
	p.ready()
	p.audit("account custom prompt")

	// Text without the prompt's variable: refused, field and reason shown.
	const card = `#prompt-clustering`
	p.setValue(card+` textarea`, "Group these by intent")
	p.click(card + ` button[type=submit]`)
	p.waitVisible(card + ` .error-reason`)
	if box := p.text(card + ` .error-box`); !strings.Contains(box, "VALIDATION_FAILED") || !strings.Contains(box, "text") || !strings.Contains(box, "{{keywords}}") {
		t.Errorf("error box %q", box)
	}
	if inv := eval[string](p, `document.querySelector('#prompt-clustering textarea').getAttribute('aria-invalid') || ''`); inv != "true" {
		t.Error("the prompt field is not marked invalid")
	}
	p.audit("account custom prompts, text refused")

	// Customize.
	const mine = "Group by search intent: {{keywords}}"
	p.setValue(card+` textarea`, mine)
	p.click(card + ` button[type=submit]`)
	p.waitText(`#prompt-clustering-title`, "customized")
	ep, err := env.Prompts.GetEffectivePrompt(testsrv.Ctx(acme), &pb.GetEffectivePromptRequest{PromptType: "clustering"})
	if err != nil || ep.GetText() != mine || ep.GetSource() != pb.Source_SOURCE_ACCOUNT {
		t.Fatalf("effective prompt %v (%v)", ep, err)
	}

	// The platform changes its default: the page says so, beside both texts.
	g, err := env.Prompts.GetGlobalPrompt(testsrv.Ctx(admin), &pb.GetGlobalPromptRequest{PromptType: "clustering"})
	if err != nil {
		t.Fatal(err)
	}
	g.Text += "\nNever put a brand name in a cluster's title."
	if _, err := env.Prompts.UpsertGlobalPrompt(testsrv.Ctx(admin), &pb.UpsertGlobalPromptRequest{Prompt: g}); err != nil {
		t.Fatal(err)
	}
	p.do(reload())
	p.waitText(`#prompt-clustering-title`, "default changed")
	p.ready()
	if d := p.text(card + ` .prompt-default`); !strings.Contains(d, "Never put a brand name") {
		t.Errorf("the default beside the prompt is not the live one: %q", d)
	}
	if v := eval[string](p, `document.querySelector('#prompt-clustering textarea').value`); v != mine {
		t.Errorf("the account's text is %q", v)
	}

	// Reset, confirmed: back to the live default.
	p.click(card + ` [data-action=reset]`)
	p.waitVisible(`dialog[open]`)
	p.click(`dialog[open] [data-confirm]`)
	p.waitText(`#prompt-clustering-title`, "platform default")
	p.waitFor("the reset text", `document.querySelector('#prompt-clustering textarea').value.includes('Never put a brand name')`)
	ep, err = env.Prompts.GetEffectivePrompt(testsrv.Ctx(acme), &pb.GetEffectivePromptRequest{PromptType: "clustering"})
	if err != nil || ep.GetIsCustomized() || ep.GetSource() != pb.Source_SOURCE_GLOBAL || ep.GetText() != g.GetText() {
		t.Fatalf("after reset: %v (%v)", ep, err)
	}
	hist, err := env.Prompts.ListPromptHistory(testsrv.Ctx(acme), &pb.ListPromptHistoryRequest{PromptType: "clustering"})
	if err != nil || len(hist.GetEntries()) != 2 || hist.GetEntries()[0].GetAction() != "reset" || hist.GetEntries()[1].GetAction() != "customize" ||
		hist.GetEntries()[0].GetActorRole() != pb.Role_ROLE_ACCOUNT {
		t.Fatalf("history %v (%v)", hist.GetEntries(), err)
	}
}

func TestConsoleFreeAccountIsReadOnly(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	env, base := startHTTP(t)
	env.Account(t, "freebie", domain.PlanStarter)
	admin := env.Token(t, domain.RoleAdmin, "")
	free := env.Token(t, domain.RoleAccount, "freebie")
	model := "gpt-4o"
	if _, err := env.Config.UpsertIntegrationOverride(testsrv.Ctx(admin), &pb.UpsertIntegrationOverrideRequest{
		Override: &pb.IntegrationOverride{AccountId: "freebie", Integration: pb.Integration_INTEGRATION_OPENAI, Model: &model}}); err != nil {
		t.Fatal(err)
	}
	env.Account(t, "freebie", domain.PlanFree) // a downgrade keeps it, unapplied

	p := openPage(t, base)
	p.signIn(free, "/settings/ai")
	notice := p.text(`.notice.readonly`)
	if !strings.Contains(notice, "Read-only") || !strings.Contains(notice, "PLAN_UPGRADE_REQUIRED") || !strings.Contains(notice, "Free plan") {
		t.Errorf("read-only notice %q", notice)
	}
	if cell := p.text(`tr[data-function="generate_content"] td.model`); !strings.Contains(cell, "gpt-4o-mini platform default") {
		t.Errorf("Free account's model cell %q", cell)
	}
	if !eval[bool](p, `document.querySelector('#override-openai fieldset').disabled && !document.querySelector('main button[type=submit]')`) {
		t.Error("a Free account can edit its model choices")
	}
	if b := p.text(`#override-openai-title .badge`); !strings.Contains(b, "not applied") {
		t.Errorf("stored override badge %q", b)
	}
	p.audit("Free account AI model selection")

	p.click(`#sidebar a[href="#/settings/prompts"]`)
	p.waitVisible(`#prompts-freebie-table`)
	p.ready()
	if notice := p.text(`.notice.readonly`); !strings.Contains(notice, "PLAN_UPGRADE_REQUIRED") {
		t.Errorf("prompts notice %q", notice)
	}
	p.audit("Free account custom prompts list")
	p.click(`#prompts-freebie-table a[href="#/settings/prompts/clustering"]`)
	p.waitVisible(`#prompt-clustering textarea`)
	p.ready()
	if notice := p.text(`.notice.readonly`); !strings.Contains(notice, "PLAN_UPGRADE_REQUIRED") {
		t.Errorf("prompt page notice %q", notice)
	}
	if !eval[bool](p, `[...document.querySelectorAll('textarea')].every((t) => t.readOnly) && !document.querySelector('main button[type=submit]')`) {
		t.Error("a Free account can edit its prompts")
	}
	p.audit("Free account custom prompt")

	// The service agrees: the override is kept and not applied.
	mc, err := env.Config.GetModelConfig(testsrv.Ctx(free), &pb.GetModelConfigRequest{Function: "generate_content"})
	if err != nil || !mc.GetOverridesSuppressed() || mc.GetModel() != "gpt-4o-mini" || mc.GetPlan() != pb.Plan_PLAN_FREE {
		t.Fatalf("model config %v (%v)", mc, err)
	}
	ov, err := env.Config.GetIntegrationOverride(testsrv.Ctx(free), &pb.GetIntegrationOverrideRequest{Integration: pb.Integration_INTEGRATION_OPENAI})
	if err != nil || ov.GetModel() != "gpt-4o" {
		t.Fatalf("stored override %v (%v)", ov, err)
	}
}

func TestConsoleRefusesBadTokens(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	env, base := startHTTP(t)
	admin := env.Token(t, domain.RoleAdmin, "")
	worker := env.Token(t, domain.RoleService, "")
	p := openPage(t, base)

	// A wrong token: the error, its reason, on the field; nothing kept.
	p.open("/admin/settings")
	p.typeInto(`input[name=token]`, "aic_this-is-not-a-token\n")
	p.waitText(`.error-reason`, "TOKEN_INVALID")
	if code := p.text(`.error-code`); code != "UNAUTHENTICATED" {
		t.Errorf("code %q", code)
	}
	field := eval[[]string](p, `(() => { const i = document.querySelector('input[name=token]');
		return [i.getAttribute('aria-invalid') || '', String(document.activeElement === i),
			(i.getAttribute('aria-describedby') || '').split(' ').map((id) => document.getElementById(id).textContent).join(' | ')]; })()`)
	if field[0] != "true" || field[1] != "true" || !strings.Contains(field[2], "TOKEN_INVALID") {
		t.Errorf("token field (aria-invalid, focused, description): %q", field)
	}
	if eval[bool](p, `sessionStorage.length > 0 || !document.getElementById('sidebar').hidden`) {
		t.Error("a wrong token was kept, or opened the console")
	}
	p.audit("sign-in, token refused")

	// A SERVICE token has no pages here.
	p.setValue(`input[name=token]`, worker)
	p.do(clickSubmit())
	p.waitText(`.error-reason`, "ROLE_NOT_ALLOWED")

	// A token revoked while signed in: back to sign-in, saying why.
	created, err := env.Tokens.CreateToken(testsrv.Ctx(admin), &pb.CreateTokenRequest{Name: "console-user", Role: pb.Role_ROLE_ADMIN})
	if err != nil {
		t.Fatal(err)
	}
	p.setValue(`input[name=token]`, created.GetSecret())
	p.do(clickSubmit())
	p.waitVisible(`#sidebar a[aria-current=page]`)
	p.ready()
	if _, err := env.Tokens.RevokeToken(testsrv.Ctx(admin), &pb.RevokeTokenRequest{Id: created.GetToken().GetId()}); err != nil {
		t.Fatal(err)
	}
	p.click(`#sidebar a[href="#/admin/prompts"]`)
	p.waitText(`.error-reason`, "TOKEN_INVALID")
	if eval[bool](p, `sessionStorage.length > 0 || !document.getElementById('sidebar').hidden`) {
		t.Error("the revoked token was kept")
	}

	// The service: the refused calls changed nothing; the one sign-in
	// that worked is on record as the token's creation and revocation.
	events, err := env.Audit.ListAuditEvents(testsrv.Ctx(admin), &pb.ListAuditEventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events.GetEvents() {
		if r := e.GetRpc(); r != "/aiconfig.v1.TokenService/CreateToken" && r != "/aiconfig.v1.TokenService/RevokeToken" && !strings.HasPrefix(r, "unknown") {
			t.Errorf("unexpected audit row %v", e)
		}
	}
	_, err = env.Config.GetGlobalSettings(testsrv.Ctx(created.GetSecret()), &pb.GetGlobalSettingsRequest{})
	testsrv.WantError(t, err, codes.Unauthenticated, "TOKEN_INVALID")
}
