package web_test

import (
	"strings"
	"testing"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// The console after the platform published a profile with the id of an
// account's own (docs/items.md): the account sees its own once, marked as
// hiding the platform's, with an own item's actions; another account sees
// the platform's; creating the id again is refused at the id field.
func TestConsoleOwnProfileHidesGlobalOfItsID(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	env, base := startHTTP(t)
	env.Account(t, "acme", domain.PlanStarter)
	env.Account(t, "other", domain.PlanStarter)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	acme := env.Token(t, domain.RoleAccount, "acme")
	if _, err := env.Profiles.CreateAuthorProfile(testsrv.Ctx(acme), &pb.CreateAuthorProfileRequest{AuthorProfile: &pb.AuthorProfile{
		Id: "house-voice", Name: "Acme voice", Language: "en"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Profiles.UpsertGlobalAuthorProfile(admin, &pb.UpsertGlobalAuthorProfileRequest{AuthorProfile: &pb.AuthorProfile{
		Id: "house-voice", Name: "Platform voice", Language: "en", StyleGuide: "Plain words."}}); err != nil {
		t.Fatal(err)
	}

	p := openPage(t, base)
	p.signIn(acme, "/settings/profiles")
	row := `#author_profile-row-house-voice`
	p.waitVisible(row)
	state := p.text(row + ` td.state`)
	if !strings.Contains(state, "your own") || !strings.Contains(state, "hides the platform's profile") || strings.Contains(state, "platform\n") {
		t.Errorf("state %q", state)
	}
	if rows := eval[[]string](p, `[...document.querySelectorAll('tr[data-item="house-voice"]')].map((e) => e.tagName + " " + e.id)`); len(rows) != 1 {
		t.Errorf("house-voice is listed %d times: %v", len(rows), rows)
	}
	if s := p.text(row); !strings.Contains(s, "Acme voice") || strings.Contains(s, "Platform voice") {
		t.Errorf("row %q", s)
	}
	actions := eval[[]string](p, `[...document.querySelectorAll('`+`#author_profile-row-house-voice`+` [data-action]')].map((b) => b.dataset.action)`)
	if got := strings.Join(actions, ","); !strings.Contains(got, "edit") || !strings.Contains(got, "delete") ||
		strings.Contains(got, "customize") || strings.Contains(got, "reset") {
		t.Errorf("actions %s", got)
	}
	p.waitText(`#author_profile-usage`, "1 of 5")

	// Creating the id again: refused at the id field, ALREADY_EXISTS.
	const form = `#author_profile-form`
	p.click(`[data-action=create]`)
	p.waitVisible(form)
	p.setValue(form+` [data-field="author_profile.id"]`, "house-voice")
	p.setValue(form+` [data-field="author_profile.name"]`, "Again")
	p.setValue(form+` [data-field="author_profile.language"]`, "en")
	p.click(form + ` button[type=submit]`)
	p.waitText(form+` .error-reason`, "ITEM_ALREADY_EXISTS")
	if msg, invalid := p.fieldError("author_profile.id"); msg == "" || !invalid {
		t.Errorf("the id field shows %q (invalid %v)", msg, invalid)
	}
	p.checkLabels()

	// Another account gets the platform's.
	q := openPage(t, base)
	q.signIn(env.Token(t, domain.RoleAccount, "other"), "/settings/profiles")
	q.waitVisible(row)
	if s := q.text(row); !strings.Contains(s, "Platform voice") || strings.Contains(s, "your own") {
		t.Errorf("another account's row %q", s)
	}
}
