package web_test

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// Browser tests of the author profile and content strategy pages; each
// checks the page, then the service over gRPC.

// confirm accepts the open confirmation dialog.
func (p *page) confirm(title string) {
	p.t.Helper()
	p.waitText(`dialog[open] h2`, title)
	p.click(`dialog[open] [data-confirm]`)
	p.waitFor("the dialog to close", `!document.querySelector('dialog')`)
}

// fieldError is the error shown beside the input named field (empty when
// none), and whether the input is marked invalid.
func (p *page) fieldError(field string) (string, bool) {
	p.t.Helper()
	got := eval[[]string](p, fmt.Sprintf(`(() => { const i = document.querySelector('[data-field="' + %s + '"]');
		if (!i) return ['<no field>', ''];
		const e = document.getElementById(i.id + '-error');
		return [e && !e.hidden ? e.textContent : '', i.getAttribute('aria-invalid') || '']; })()`, js(field)))
	return got[0], got[1] == "true"
}

func TestConsoleAdminCreatesAndArchivesGlobalProfile(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	env, base := startHTTP(t)
	env.Account(t, "acme", domain.PlanStarter)
	admin := env.Token(t, domain.RoleAdmin, "")
	acme := env.Token(t, domain.RoleAccount, "acme")
	p := openPage(t, base)
	p.signIn(admin, "/admin/profiles")
	if h := p.text(`main h1`); h != "Global Author Profiles" {
		t.Errorf("heading %q", h)
	}
	// The seeded library, the platform default and the Starter limit.
	p.waitVisible(`#author_profile-row-friendly-guide`)
	if b := p.text(`#author_profile-row-expert-practitioner td.state`); !strings.Contains(b, "platform default") {
		t.Errorf("the platform default's state: %q", b)
	}
	if v := eval[string](p, `document.querySelector('#author_profile-limit-PLAN_STARTER input').value`); v != "5" {
		t.Errorf("Starter limit shown as %q", v)
	}

	// A new profile: a language not in canonical form is refused beside
	// its field; fixed, it is added.
	const form = `#author_profile-form`
	p.click(`[data-action=add]`)
	p.waitVisible(form)
	p.audit("admin global author profiles")
	p.setValue(form+` [data-field="author_profile.id"]`, "plain-english-editor")
	p.setValue(form+` [data-field="author_profile.name"]`, "Plain English editor")
	p.setValue(form+` [data-field="author_profile.tone"]`, "clear, direct")
	p.setValue(form+` [data-field="author_profile.language"]`, "en-gb")
	p.setValue(form+` [data-field="author_profile.style_guide"]`, "Short words. Short sentences. Active voice.")
	p.click(form + ` button[type=submit]`)
	p.waitVisible(form + ` .error-reason`)
	if msg, invalid := p.fieldError("author_profile.language"); !invalid || !strings.Contains(msg, `"en-GB"`) || !strings.Contains(msg, "VALIDATION_FAILED") {
		t.Errorf("language field error %q (invalid %v)", msg, invalid)
	}
	if !eval[bool](p, `document.activeElement === document.querySelector('[data-field="author_profile.language"]')`) {
		t.Error("focus did not move to the bad field")
	}
	p.setValue(form+` [data-field="author_profile.language"]`, "en-GB")
	p.click(form + ` button[type=submit]`)
	row := `#author_profile-row-plain-english-editor`
	p.waitVisible(row)
	if s := p.text(row + ` td.state`); !strings.Contains(s, "offered") {
		t.Errorf("new profile's state %q", s)
	}

	// Archiving the platform default is refused with the reason.
	p.click(`#author_profile-row-expert-practitioner [data-action=archive]`)
	p.confirm("Archive “Expert practitioner”?")
	p.waitText(`main .error-reason`, "ITEM_IN_USE")

	// Archive the new one (asked first): flagged in the list.
	p.click(row + ` [data-action=archive]`)
	p.confirm("Archive “Plain English editor”?")
	p.waitText(row+` td.state`, "archived")
	if !eval[bool](p, `document.querySelector(`+js(row)+`).classList.contains('archived') && !!document.querySelector(`+js(row+` [data-action=unarchive]`)+`)`) {
		t.Error("the archived row is not flagged, or offers no unarchive")
	}
	// Not offered as the platform default any more.
	if eval[bool](p, `!!document.querySelector('#author_profile-default option[value="plain-english-editor"]')`) {
		t.Error("an archived profile is offered as the platform default")
	}

	// The service: stored archived, with two history entries; not offered
	// to accounts.
	globals, err := env.Profiles.ListGlobalAuthorProfiles(testsrv.Ctx(admin), &pb.ListGlobalAuthorProfilesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var got *pb.AuthorProfile
	for _, g := range globals.GetAuthorProfiles() {
		if g.GetId() == "plain-english-editor" {
			got = g
		}
		if g.GetId() == "expert-practitioner" && g.GetArchived() {
			t.Error("the platform default was archived")
		}
	}
	if got == nil || !got.GetArchived() || got.GetLanguage() != "en-GB" || got.GetTone() != "clear, direct" || got.GetName() != "Plain English editor" {
		t.Fatalf("stored profile %v", got)
	}
	hist, err := env.History.ListHistory(testsrv.Ctx(admin), &pb.ListHistoryRequest{Kind: pb.ItemKind_ITEM_KIND_AUTHOR_PROFILE, ItemId: "plain-english-editor"})
	if err != nil || len(hist.GetEntries()) != 2 || !hist.GetEntries()[0].GetAfter().GetAuthorProfile().GetArchived() ||
		hist.GetEntries()[0].GetActorName() != "test-admin" {
		t.Fatalf("history %v (%v)", hist.GetEntries(), err)
	}
	list, err := env.Profiles.ListAuthorProfiles(testsrv.Ctx(acme), &pb.ListAuthorProfilesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list.GetAuthorProfiles() {
		if a.GetId() == "plain-english-editor" {
			t.Error("an archived profile is offered to an account")
		}
	}

	// The history on the page: the archive is the current version.
	p.click(row + ` [data-action=history]`)
	p.waitFor("the profile's history", `document.querySelectorAll('#global-author_profile-history li.history-entry').length === 2`)
	if first := p.text(`#global-author_profile-history li.history-entry`); !strings.Contains(first, "current version") || !strings.Contains(first, "archived after this change") {
		t.Errorf("newest history entry %q", first)
	}
}

func TestConsoleAccountCustomizesAndResetsStrategy(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	env, base := startHTTP(t)
	env.Account(t, "acme", domain.PlanStarter)
	admin := env.Token(t, domain.RoleAdmin, "")
	acme := env.Token(t, domain.RoleAccount, "acme")
	p := openPage(t, base)
	p.signIn(acme, "/settings/strategies")
	row := `#content_strategy-row-product-led`
	if s := p.text(row + ` td.state`); !strings.Contains(s, "platform") {
		t.Errorf("state before customizing %q", s)
	}

	// Customize: the platform version stays beside the form.
	p.click(row + ` [data-action=customize]`)
	const form = `#content_strategy-form`
	p.waitVisible(form + ` .platform-version`)
	p.audit("account content strategies")
	const objective = "Turn operations managers into trial sign-ups."
	p.setValue(form+` [data-field="content_strategy.objective"]`, objective)
	// Refused first: no article type, and a minimum above the maximum;
	// each error beside its field (the types' beside their group).
	const boxes = form + ` fieldset[data-field="content_strategy.article_types"] input`
	checked := eval[[]string](p, `[...document.querySelectorAll(`+js(boxes)+`)].filter((c) => c.checked).map((c) => { c.checked = false; return c.value; })`)
	p.setValue(form+` [data-field="content_strategy.word_count_min"]`, "3000")
	p.setValue(form+` [data-field="content_strategy.word_count_max"]`, "2000")
	p.click(form + ` button[type=submit]`)
	p.waitVisible(form + ` .error-reason`)
	if msg, invalid := p.fieldError("content_strategy.word_count_min"); !invalid || !strings.Contains(msg, "more than word_count_max") {
		t.Errorf("word count error %q (invalid %v)", msg, invalid)
	}
	if msg, invalid := p.fieldError("content_strategy.article_types"); !invalid || !strings.Contains(msg, "at least one of") {
		t.Errorf("article types error %q (invalid %v)", msg, invalid)
	}
	for _, v := range checked {
		if v != "landing_page" { // no landing pages
			p.click(form + ` input[value=` + v + `]`)
		}
	}
	p.setValue(form+` [data-field="content_strategy.word_count_min"]`, "1200")
	p.click(form + ` button[type=submit]`)
	p.waitText(row+` td.state`, "customized")

	cs, err := env.Strategies.GetContentStrategy(testsrv.Ctx(acme), &pb.GetContentStrategyRequest{Id: "product-led"})
	if err != nil || !cs.GetIsCustomized() || cs.GetSource() != pb.Source_SOURCE_ACCOUNT || cs.GetObjective() != objective ||
		cs.GetWordCountMin() != 1200 || strings.Contains(strings.Join(cs.GetArticleTypes(), ","), "landing_page") {
		t.Fatalf("customized strategy %v (%v)", cs, err)
	}

	// The platform edits its version: "default changed", and the new text
	// beside the account's, marked as differing.
	globals, err := env.Strategies.ListGlobalContentStrategies(testsrv.Ctx(admin), &pb.ListGlobalContentStrategiesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var g *pb.ContentStrategy
	for _, x := range globals.GetContentStrategies() {
		if x.GetId() == "product-led" {
			g = x
		}
	}
	const added = "\n- Add a short FAQ when the brief lists customer questions."
	g.StructureGuidelines += added
	rev := g.GetRevision()
	g.Source, g.Revision, g.GlobalRevision = 0, 0, 0
	if _, err := env.Strategies.UpsertGlobalContentStrategy(testsrv.Ctx(admin), &pb.UpsertGlobalContentStrategyRequest{ContentStrategy: g, ExpectedRevision: &rev}); err != nil {
		t.Fatal(err)
	}
	p.do(reload())
	p.ready()
	p.waitText(row+` td.state`, "default changed")
	p.click(row + ` [data-action=edit]`)
	p.waitVisible(form + ` .notice.warning`)
	if v := p.text(form + ` .platform-version`); !strings.Contains(v, "Add a short FAQ") || !strings.Contains(v, "differs from yours") {
		t.Errorf("platform version beside the form: %q", v)
	}
	if v := eval[string](p, `document.querySelector('#content_strategy-form [data-field="content_strategy.objective"]').value`); v != objective {
		t.Errorf("the form holds %q, not the account's objective", v)
	}

	// Reset (asked first): the live platform version.
	p.click(row + ` [data-action=reset]`)
	p.confirm("Reset “Product-led content”?")
	p.waitFor("the platform badge", `!(document.querySelector(`+js(row+` td.state`)+`)?.textContent || 'customized').includes('customized')`)
	if s := p.text(row + ` td.state`); !strings.Contains(s, "platform") || strings.Contains(s, "default changed") {
		t.Errorf("state after reset %q", s)
	}
	cs, err = env.Strategies.GetContentStrategy(testsrv.Ctx(acme), &pb.GetContentStrategyRequest{Id: "product-led"})
	if err != nil || cs.GetIsCustomized() || cs.GetSource() != pb.Source_SOURCE_GLOBAL || !strings.HasSuffix(cs.GetStructureGuidelines(), added) || cs.GetDefaultChanged() {
		t.Fatalf("after reset %v (%v)", cs, err)
	}
	hist, err := env.History.ListHistory(testsrv.Ctx(acme), &pb.ListHistoryRequest{Kind: pb.ItemKind_ITEM_KIND_CONTENT_STRATEGY})
	if err != nil || len(hist.GetEntries()) != 2 || hist.GetEntries()[0].GetAction() != "reset" || hist.GetEntries()[1].GetAction() != "customize" {
		t.Fatalf("history %v (%v)", hist.GetEntries(), err)
	}
}

func TestConsoleAccountCreatesProfilesToTheLimitAndSetsDefault(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	env, base := startHTTP(t)
	env.Account(t, "acme", domain.PlanStarter)
	acme := env.Token(t, domain.RoleAccount, "acme")
	p := openPage(t, base)
	p.signIn(acme, "/settings/profiles")
	p.waitText(`#author_profile-usage`, "0 of 5")

	// Starter keeps five of its own.
	const form = `#author_profile-form`
	create := func(i int) {
		p.click(`[data-action=create]`)
		p.waitVisible(form)
		p.setValue(form+` [data-field="author_profile.id"]`, fmt.Sprintf("acme-%d", i))
		p.setValue(form+` [data-field="author_profile.name"]`, fmt.Sprintf("Acme voice %d", i))
		p.setValue(form+` [data-field="author_profile.language"]`, "en")
		p.click(form + ` button[type=submit]`)
	}
	for i := 1; i <= 5; i++ {
		create(i)
		p.waitVisible(fmt.Sprintf(`#author_profile-row-acme-%d`, i))
		if s := p.text(fmt.Sprintf(`#author_profile-row-acme-%d td.state`, i)); !strings.Contains(s, "your own") {
			t.Errorf("acme-%d's state %q", i, s)
		}
	}
	p.waitText(`#author_profile-usage`, "5 of 5")

	// The sixth: refused, with the plan and its limit.
	create(6)
	p.waitText(form+` .error-reason`, "PLAN_LIMIT_REACHED")
	box := p.text(form + ` .error-box`)
	for _, want := range []string{"RESOURCE_EXHAUSTED", "plan", "PLAN_STARTER", "limit", "5", "delete one or upgrade"} {
		if !strings.Contains(box, want) {
			t.Errorf("error box %q lacks %q", box, want)
		}
	}
	p.audit("account author profiles")

	list, err := env.Profiles.ListAuthorProfiles(testsrv.Ctx(acme), &pb.ListAuthorProfilesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	own := 0
	for _, a := range list.GetAuthorProfiles() {
		if strings.HasPrefix(a.GetId(), "acme-") {
			own++
			if a.GetSource() != pb.Source_SOURCE_ACCOUNT || a.GetLanguage() != "en" {
				t.Errorf("own profile %v", a)
			}
		}
	}
	if own != 5 || list.GetDefaultId() != "expert-practitioner" {
		t.Fatalf("%d own profiles (want 5), default %q", own, list.GetDefaultId())
	}

	// The default for jobs: acme-3.
	p.click(form + ` button.secondary`) // cancel the refused form
	p.setValue(`#author_profile-default select`, "acme-3")
	p.click(`#author_profile-default button[type=submit]`)
	p.waitText(`#author_profile-default .default-state`, "get acme-3 (your choice)")
	p.waitText(`#author_profile-row-acme-3 td.state`, "default for jobs")

	acct, err := env.Accounts.GetAccount(testsrv.Ctx(acme), &pb.GetAccountRequest{})
	if err != nil || acct.GetDefaultAuthorProfileId() != "acme-3" || acct.GetDefaultContentStrategyId() != "" {
		t.Fatalf("account %v (%v)", acct, err)
	}
	gc, err := env.Config.GetGenerationContext(testsrv.Ctx(acme), &pb.GetGenerationContextRequest{Function: "generate_content"})
	if err != nil || gc.GetAuthorProfile().GetId() != "acme-3" || gc.GetContentStrategy().GetId() != "pillar-cluster-seo" {
		t.Fatalf("generation context %v (%v)", gc, err)
	}
}

func TestConsoleAccountRestoresProfileVersion(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	env, base := startHTTP(t)
	env.Account(t, "acme", domain.PlanGrowth)
	acme := env.Token(t, domain.RoleAccount, "acme")
	ctx := testsrv.Ctx(acme)
	// Three versions: the first, then two edits of its style guide.
	if _, err := env.Profiles.CreateAuthorProfile(ctx, &pb.CreateAuthorProfileRequest{AuthorProfile: &pb.AuthorProfile{
		Id: "acme-voice", Name: "Acme voice", Language: "en", StyleGuide: "Version one."}}); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"Version two.", "Version three."} {
		if _, err := env.Profiles.UpdateAuthorProfile(ctx, &pb.UpdateAuthorProfileRequest{
			AuthorProfile: &pb.AuthorProfile{Id: "acme-voice", StyleGuide: text}}); err != nil {
			t.Fatal(err)
		}
	}
	hist, err := env.History.ListHistory(ctx, &pb.ListHistoryRequest{Kind: pb.ItemKind_ITEM_KIND_AUTHOR_PROFILE, ItemId: "acme-voice"})
	if err != nil || len(hist.GetEntries()) != 3 {
		t.Fatalf("history %v (%v)", hist.GetEntries(), err)
	}
	first := hist.GetEntries()[2].GetId()

	p := openPage(t, base)
	p.signIn(acme, "/settings/profiles")
	p.click(`#author_profile-row-acme-voice [data-action=history]`)
	entry := fmt.Sprintf(`#author_profile-history li[data-entry="%d"]`, first)
	p.waitVisible(entry)
	p.audit("account profile history")
	if n := eval[int](p, `document.querySelectorAll('#author_profile-history li.history-entry').length`); n != 3 {
		t.Errorf("%d history entries shown, want 3", n)
	}
	if s := p.text(`#author_profile-history li.history-entry`); !strings.Contains(s, "current version") || !strings.Contains(s, "Changed: style guide") {
		t.Errorf("newest entry %q", s)
	}

	// Someone edits it after the page loaded: the restore is refused
	// (expected_revision), not applied over that edit.
	if _, err := env.Profiles.UpdateAuthorProfile(ctx, &pb.UpdateAuthorProfileRequest{
		AuthorProfile: &pb.AuthorProfile{Id: "acme-voice", StyleGuide: "Version four."}}); err != nil {
		t.Fatal(err)
	}
	p.click(entry + ` [data-action=restore]`)
	p.confirm("Restore “Acme voice”?")
	p.waitText(`#author_profile-history .error-reason`, "REVISION_MISMATCH")
	got, err := env.Profiles.GetAuthorProfile(ctx, &pb.GetAuthorProfileRequest{Id: "acme-voice"})
	if err != nil || got.GetStyleGuide() != "Version four." {
		t.Fatalf("after a refused restore: %v (%v)", got, err)
	}

	// Read again, the restore applies.
	p.do(reload())
	p.ready()
	p.click(`#author_profile-row-acme-voice [data-action=history]`)
	p.waitVisible(entry)
	p.click(entry + ` [data-action=restore]`)
	p.confirm("Restore “Acme voice”?")
	p.waitText(`#status`, "Restored Acme voice")
	p.waitText(`#author_profile-history li.history-entry`, "restored")

	got, err = env.Profiles.GetAuthorProfile(ctx, &pb.GetAuthorProfileRequest{Id: "acme-voice"})
	if err != nil || got.GetStyleGuide() != "Version one." {
		t.Fatalf("after restore: %v (%v)", got, err)
	}
	hist, err = env.History.ListHistory(ctx, &pb.ListHistoryRequest{Kind: pb.ItemKind_ITEM_KIND_AUTHOR_PROFILE, ItemId: "acme-voice"})
	if err != nil || len(hist.GetEntries()) != 5 {
		t.Fatalf("history %v (%v)", hist.GetEntries(), err)
	}
	if e := hist.GetEntries()[0]; e.GetAction() != "restore" || e.GetActorRole() != pb.Role_ROLE_ACCOUNT ||
		e.GetBefore().GetAuthorProfile().GetStyleGuide() != "Version four." || e.GetAfter().GetAuthorProfile().GetStyleGuide() != "Version one." {
		t.Fatalf("restore entry %v", e)
	}
}

func TestConsoleFreeAccountItemsAreReadOnly(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	env, base := startHTTP(t)
	env.Account(t, "freebie", domain.PlanStarter)
	free := env.Token(t, domain.RoleAccount, "freebie")
	ctx := testsrv.Ctx(free)
	// Kept from its Starter days: an own profile and a customized strategy.
	if _, err := env.Profiles.CreateAuthorProfile(ctx, &pb.CreateAuthorProfileRequest{AuthorProfile: &pb.AuthorProfile{
		Id: "freebie-voice", Name: "Freebie voice", Language: "en"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Strategies.UpdateContentStrategy(ctx, &pb.UpdateContentStrategyRequest{
		ContentStrategy: &pb.ContentStrategy{Id: "news-and-trends", Objective: "Be first."}}); err != nil {
		t.Fatal(err)
	}
	env.Account(t, "freebie", domain.PlanFree)

	p := openPage(t, base)
	p.signIn(free, "/settings/profiles")
	notice := p.text(`.notice.readonly`)
	for _, want := range []string{"Read-only", "Free plan", "PLAN_UPGRADE_REQUIRED"} {
		if !strings.Contains(notice, want) {
			t.Errorf("read-only notice %q lacks %q", notice, want)
		}
	}
	p.audit("Free account author profiles")
	// Nothing to create, customize, edit or restore; the kept own profile
	// is listed apart, deletable.
	if eval[bool](p, `!!document.querySelector('main [data-action=create], main [data-action=customize], main [data-action=edit], main [data-action=restore]')`) {
		t.Error("a Free account is offered a change its plan does not allow")
	}
	if eval[bool](p, `!!document.querySelector('#author_profile-table [data-item="freebie-voice"]')`) {
		t.Error("an own profile the plan does not apply is listed as usable")
	}
	p.waitVisible(`#author_profile-suppressed [data-item="freebie-voice"]`)
	// Viewing a profile shows it read-only.
	p.click(`#author_profile-row-friendly-guide [data-action=view]`)
	p.waitVisible(`#author_profile-form`)
	if !eval[bool](p, `[...document.querySelectorAll('#author_profile-form input[type=text], #author_profile-form textarea')].every((e) => e.readOnly) &&
		!document.querySelector('#author_profile-form button[type=submit]')`) {
		t.Error("the profile view is editable on Free")
	}

	// It may delete what it kept.
	p.click(`#author_profile-suppressed [data-action=delete]`)
	p.confirm("Delete “Freebie voice”?")
	p.waitFor("the kept profile to go", `!document.querySelector('#author_profile-suppressed')`)
	list, err := env.Profiles.ListAuthorProfiles(ctx, &pb.ListAuthorProfilesRequest{})
	if err != nil || len(list.GetSuppressedAuthorProfiles()) != 0 {
		t.Fatalf("after delete: %v (%v)", list, err)
	}

	// Strategies: the customization is kept, not applied, and resettable.
	p.click(`#sidebar a[href="#/settings/strategies"]`)
	p.waitVisible(`#content_strategy-row-news-and-trends`)
	p.ready()
	if n := p.text(`.notice.readonly`); !strings.Contains(n, "PLAN_UPGRADE_REQUIRED") {
		t.Errorf("strategies notice %q", n)
	}
	if s := p.text(`#content_strategy-row-news-and-trends td.state`); !strings.Contains(s, "not applied on this plan") {
		t.Errorf("kept customization's state %q", s)
	}
	if eval[bool](p, `!!document.querySelector('main [data-action=create], main [data-action=customize], main [data-action=edit], main [data-action=restore]')`) {
		t.Error("a Free account is offered a change its plan does not allow")
	}
	cs, err := env.Strategies.GetContentStrategy(ctx, &pb.GetContentStrategyRequest{Id: "news-and-trends"})
	if err != nil || !cs.GetOverridesSuppressed() || cs.GetSource() != pb.Source_SOURCE_GLOBAL || cs.GetObjective() == "Be first." {
		t.Fatalf("Free account's strategy %v (%v)", cs, err)
	}
	_, err = env.Profiles.CreateAuthorProfile(ctx, &pb.CreateAuthorProfileRequest{AuthorProfile: &pb.AuthorProfile{Id: "x", Name: "x", Language: "en"}})
	testsrv.WantError(t, err, codes.PermissionDenied, "PLAN_UPGRADE_REQUIRED")
}

func TestConsoleAdminPreviewsGenerationContext(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	env, base := startHTTP(t)
	env.Account(t, "acme", domain.PlanStarter)
	admin := env.Token(t, domain.RoleAdmin, "")
	acme := env.Token(t, domain.RoleAccount, "acme")
	const key = "sk-context-preview-000000000k3y"
	if _, err := env.Config.UpdateGlobalSettings(testsrv.Ctx(admin), &pb.UpdateGlobalSettingsRequest{
		Settings: &pb.GlobalSettings{Openai: &pb.IntegrationDefaults{ApiKey: key}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Profiles.CreateAuthorProfile(testsrv.Ctx(acme), &pb.CreateAuthorProfileRequest{AuthorProfile: &pb.AuthorProfile{
		Id: "acme-voice", Name: "Acme voice", Language: "en-GB", StyleGuide: "Numbers, not adjectives."}}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Accounts.SetAccountDefaults(testsrv.Ctx(acme), &pb.SetAccountDefaultsRequest{DefaultAuthorProfileId: "acme-voice"}); err != nil {
		t.Fatal(err)
	}

	// From the account's page: its content generation, with the account's
	// default profile and the platform's default strategy.
	p := openPage(t, base)
	p.signIn(admin, "/admin/accounts/acme")
	p.click(`a[href="#/admin/context/acme"]`)
	p.waitVisible(`#context-author_profile`)
	p.ready()
	p.audit("admin generation context")
	if s := p.text(`#context-author_profile-title`); !strings.Contains(s, "Acme voice") || !strings.Contains(s, "account's own") {
		t.Errorf("profile %q", s)
	}
	if s := p.text(`#context-content_strategy-title`); !strings.Contains(s, "pillar-cluster-seo") {
		t.Errorf("strategy %q", s)
	}
	if s := p.text(`#context-model tr[data-setting="Model"]`); !strings.Contains(s, "gpt-4o-mini") || !strings.Contains(s, "platform default") {
		t.Errorf("model row %q", s)
	}
	if s := p.text(`#context-prompt`); !strings.Contains(s, "content_generation") {
		t.Errorf("prompt %q", s)
	}

	// A job naming a profile and another function.
	p.setValue(`#context-form [data-field="function"]`, "generate_ideas")
	p.setValue(`#context-form [data-field="author_profile_id"]`, "news-reporter")
	p.click(`#context-form button[type=submit]`)
	p.waitText(`#context-author_profile-title`, "News reporter")
	p.waitText(`#context-prompt-title`, "ideas")
	if s := p.text(`#context-author_profile-title`); !strings.Contains(s, "named by the job") {
		t.Errorf("profile %q", s)
	}
	// The key is configured, and never on the page.
	if s := p.text(`#context-model tr[data-setting="API key"]`); !strings.Contains(s, "configured") {
		t.Errorf("key row %q", s)
	}
	if strings.Contains(p.everything(), key) {
		t.Error("the page holds the API key")
	}

	// An unknown account: the reason, beside the account field.
	p.setValue(`#context-form [data-field="account_id"]`, "nobody")
	p.click(`#context-form button[type=submit]`)
	p.waitText(`#context-form .error-reason`, "ACCOUNT_NOT_FOUND")
	if msg, invalid := p.fieldError("account_id"); !invalid || !strings.Contains(msg, "ACCOUNT_NOT_FOUND") {
		t.Errorf("account field error %q (invalid %v)", msg, invalid)
	}
	p.audit("admin generation context, unknown account")

	// The service gives the same answer.
	gc, err := env.Config.GetGenerationContext(testsrv.Ctx(admin), &pb.GetGenerationContextRequest{AccountId: "acme", Function: "generate_ideas", AuthorProfileId: "news-reporter"})
	if err != nil || gc.GetAuthorProfile().GetId() != "news-reporter" || gc.GetPrompt().GetPromptType() != "ideas" || gc.GetModelConfig().GetApiKey() != "" {
		t.Fatalf("generation context %v (%v)", gc, err)
	}
}

func TestConsoleAdminStrategyDefaultLimitsAndRestore(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	env, base := startHTTP(t)
	env.Account(t, "acme", domain.PlanStarter)
	admin := env.Token(t, domain.RoleAdmin, "")
	p := openPage(t, base)
	p.signIn(admin, "/admin/strategies")
	p.waitVisible(`#content_strategy-row-product-led`)
	p.audit("admin global strategies")

	// The platform default.
	p.setValue(`#content_strategy-default select`, "news-and-trends")
	p.click(`#content_strategy-default button[type=submit]`)
	p.waitText(`#content_strategy-row-news-and-trends td.state`, "platform default")

	// The Starter limit: out of range refused beside it, then set.
	const limit = `#content_strategy-limit-PLAN_STARTER`
	p.setValue(limit+` input`, "20000")
	p.click(limit + ` button[type=submit]`)
	p.waitVisible(limit + ` .error-reason`)
	if msg, invalid := p.fieldError("plan_limit.max_items"); !invalid || !strings.Contains(msg, "0-10000") {
		t.Errorf("limit field error %q (invalid %v)", msg, invalid)
	}
	p.setValue(limit+` input`, "7")
	p.click(limit + ` button[type=submit]`)
	p.waitText(`#status`, "Starter accounts may keep 7 content strategies")
	p.ready()

	// Two edits, then restore the first: the second's article type goes,
	// its word count stays.
	row := `#content_strategy-row-product-led`
	const form = `#content_strategy-form`
	edit := func(do func()) {
		p.click(row + ` [data-action=edit]`)
		p.waitVisible(form)
		do()
		p.click(form + ` button[type=submit]`)
		p.waitFor("the editor to close", `!document.querySelector('#content_strategy-form')`)
		p.ready()
	}
	edit(func() { p.setValue(form+` [data-field="content_strategy.word_count_max"]`, "3000") })
	edit(func() { p.click(form + ` input[value=news]`) })
	if s := p.text(row); !strings.Contains(s, "3000") || !strings.Contains(s, "News") {
		t.Errorf("row after two edits %q", s)
	}
	p.click(row + ` [data-action=history]`)
	const entries = `#global-content_strategy-history li.history-entry`
	p.waitFor("two entries", `document.querySelectorAll(`+js(entries)+`).length === 2`)
	if s := p.text(entries); !strings.Contains(s, "current version") || !strings.Contains(s, "Changed: article types.") {
		t.Errorf("newest entry %q", s)
	}
	p.click(entries + `:nth-of-type(2) [data-action=restore]`)
	p.confirm("Restore “Product-led content”?")
	p.waitText(entries, "restored")
	p.ready()
	if s := p.text(row); strings.Contains(s, "News") || !strings.Contains(s, "3000") {
		t.Errorf("row after the restore %q", s)
	}

	// The service.
	gs, err := env.Config.GetGlobalSettings(testsrv.Ctx(admin), &pb.GetGlobalSettingsRequest{})
	if err != nil || gs.GetDefaultContentStrategyId() != "news-and-trends" {
		t.Fatalf("platform default %q (%v)", gs.GetDefaultContentStrategyId(), err)
	}
	limits, err := env.Config.ListPlanLimits(testsrv.Ctx(admin), &pb.ListPlanLimitsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range limits.GetPlanLimits() {
		want := map[pb.Plan]int32{pb.Plan_PLAN_STARTER: 5, pb.Plan_PLAN_GROWTH: 25, pb.Plan_PLAN_SCALE: 100}[l.GetPlan()]
		if l.GetKind() == pb.ItemKind_ITEM_KIND_CONTENT_STRATEGY && l.GetPlan() == pb.Plan_PLAN_STARTER {
			want = 7
		}
		if l.GetMaxItems() != want {
			t.Errorf("limit %v, want %d", l, want)
		}
	}
	cs, err := env.Strategies.GetContentStrategy(testsrv.Ctx(admin), &pb.GetContentStrategyRequest{AccountId: "acme", Id: "product-led"})
	if err != nil || cs.GetWordCountMax() != 3000 || strings.Contains(strings.Join(cs.GetArticleTypes(), ","), "news") {
		t.Fatalf("restored strategy %v (%v)", cs, err)
	}
	hist, err := env.History.ListHistory(testsrv.Ctx(admin), &pb.ListHistoryRequest{Kind: pb.ItemKind_ITEM_KIND_CONTENT_STRATEGY, ItemId: "product-led"})
	if err != nil || len(hist.GetEntries()) != 3 || hist.GetEntries()[0].GetAction() != "restore" || hist.GetEntries()[0].GetActorName() != "test-admin" {
		t.Fatalf("history %v (%v)", hist.GetEntries(), err)
	}
}
