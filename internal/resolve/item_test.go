package resolve

import (
	"testing"

	"github.com/igny8/aiconfig/internal/domain"
)

// TestResolveAndCustomizeItem: the rules every kind shares, shown on a
// prompt (as the prompt tests always did) and an author profile (archived
// globals, own items).
func TestResolveAndCustomizeItem(t *testing.T) {
	g := domain.GlobalPrompt{PromptType: "ideas", Text: "Ideas for {{clusters}}", Variables: []string{"clusters"}, Revision: 7}.Item()
	starter := domain.Account{ID: "a", Plan: domain.PlanStarter}
	free := domain.Account{ID: "a", Plan: domain.PlanFree}

	e := Item(&g, starter, nil)
	if !e.Content.Equal(g.Content) || e.Source != SourceGlobal || e.IsCustomized || e.GlobalRevision != 7 || !e.Usable {
		t.Fatalf("nothing stored: %+v", e)
	}
	custom := Customize(g, nil, domain.PromptText("My ideas for {{clusters}}"))
	if !custom.IsCustomized || !custom.Default.Equal(g.Content) {
		t.Fatalf("customize: %+v", custom)
	}
	if e := Item(&g, starter, &custom); !e.Content.Equal(custom.Content) || e.Source != SourceAccount || e.DefaultChanged {
		t.Fatalf("customized: %+v", e)
	}
	if e := Item(&g, free, &custom); !e.Content.Equal(g.Content) || e.Source != SourceGlobal || !e.OverridesSuppressed || !e.IsCustomized || !e.Usable {
		t.Fatalf("customized but free: %+v", e)
	}
	g2 := g
	g2.Content = domain.PromptText("Better ideas for {{clusters}}")
	if e := Item(&g2, starter, &custom); !e.DefaultChanged {
		t.Fatalf("global changed: %+v", e)
	}
	// Editing a customization keeps the base it started from.
	if again := Customize(g2, &custom, domain.PromptText("Edited {{clusters}}")); !again.Default.Equal(g.Content) {
		t.Errorf("re-customize moved the default to %v", again.Default)
	}
	// Customizing to the exact global content is not a customization.
	if same := Customize(g2, &custom, g2.Content); same.IsCustomized || !same.Content.Equal(g2.Content) || !same.Default.Equal(g2.Content) {
		t.Fatalf("customize to the global content: %+v", same)
	}
	if r := Reset(g2); r.IsCustomized || !r.Content.Equal(g2.Content) || !r.Default.Equal(g2.Content) {
		t.Fatalf("reset: %+v", r)
	}

	// Archived: not usable, unless the account's customization applies.
	p := domain.GlobalItem{Kind: domain.ItemAuthorProfile, ID: "guide", Content: domain.AuthorProfile{Name: "Guide", Language: "en"}, Archived: true, Revision: 3}
	if e := Item(&p, starter, nil); e.Usable || !e.Archived {
		t.Fatalf("archived, nothing stored: %+v", e)
	}
	mine := Customize(p, nil, domain.AuthorProfile{Name: "My guide", Language: "en"})
	if e := Item(&p, starter, &mine); !e.Usable || e.Source != SourceAccount {
		t.Fatalf("archived, customized: %+v", e)
	}
	if e := Item(&p, free, &mine); e.Usable || !e.OverridesSuppressed {
		t.Fatalf("archived, customized, free: %+v", e)
	}
	reset := Reset(p)
	if e := Item(&p, starter, &reset); e.Usable {
		t.Fatalf("archived, reset: %+v", e)
	}

	// Own items apply while the plan applies account items.
	own := domain.AccountItem{Kind: domain.ItemAuthorProfile, ID: "mine", Content: domain.AuthorProfile{Name: "Mine", Language: "de"}, Revision: 9}
	if e := Item(nil, starter, &own); !e.Usable || e.Source != SourceAccount || e.IsCustomized || e.Revision != 9 || e.GlobalRevision != 0 {
		t.Fatalf("own: %+v", e)
	}
	if e := Item(nil, free, &own); e.Usable || !e.OverridesSuppressed || e.Source != SourceAccount {
		t.Fatalf("own on free: %+v", e)
	}
}

func TestDefaultID(t *testing.T) {
	k := domain.ItemAuthorProfile
	g := domain.GlobalSettings{ItemDefaults: map[domain.ItemKind]string{k: "platform"}}
	a := domain.Account{ItemDefaults: map[domain.ItemKind]string{k: "mine"}}
	usable := map[string]bool{"platform": true, "mine": true}
	check := func(want string) {
		t.Helper()
		if got := DefaultID(k, a, g, func(id string) bool { return usable[id] }); got != want {
			t.Errorf("DefaultID = %q, want %q", got, want)
		}
	}
	check("mine")
	usable["mine"] = false // deleted, archived, hidden by a downgrade
	check("platform")
	usable["platform"] = false
	check("")
	check2 := DefaultID(domain.ItemContentStrategy, a, g, func(string) bool { return true })
	if check2 != "" {
		t.Errorf("no defaults of the kind: %q", check2)
	}
}

// TestOwnItemShadowsGlobal: a global published with the id of an
// account's own item does not replace it for that account: the account
// keeps its own (whole: no global meta, revision or archived flag), and
// gets the global only while its plan does not apply own items.
func TestOwnItemShadowsGlobal(t *testing.T) {
	g := domain.GlobalItem{Kind: domain.ItemAuthorProfile, ID: "voice", Content: domain.AuthorProfile{Name: "Platform voice", Language: "en"}, Revision: 9}
	own := domain.AccountItem{AccountID: "a", Kind: domain.ItemAuthorProfile, ID: "voice", Content: domain.AuthorProfile{Name: "Our voice", Language: "de"}, Revision: 4}
	starter := domain.Account{ID: "a", Plan: domain.PlanStarter}
	free := domain.Account{ID: "a", Plan: domain.PlanFree}

	e := Item(&g, starter, &own)
	if !e.Content.Equal(own.Content) || e.Source != SourceAccount || !e.Usable || e.GlobalRevision != 0 || e.Meta != nil ||
		e.IsCustomized || e.DefaultChanged || e.OverridesSuppressed || e.Revision != 4 {
		t.Fatalf("own shadowing a global: %+v", e)
	}
	archived := g
	archived.Archived = true
	if e := Item(&archived, starter, &own); !e.Usable || e.Archived || !e.Content.Equal(own.Content) {
		t.Fatalf("own shadowing an archived global: %+v", e)
	}
	// On Free own items do not apply: the global does, flagged.
	e = Item(&g, free, &own)
	if !e.Content.Equal(g.Content) || e.Source != SourceGlobal || !e.Usable || !e.OverridesSuppressed || e.GlobalRevision != 9 || e.Revision != 4 {
		t.Fatalf("own shadowing a global, on Free: %+v", e)
	}
	if e := Item(&archived, free, &own); e.Usable || !e.OverridesSuppressed || e.Source != SourceAccount || !e.Content.Equal(own.Content) {
		t.Fatalf("own shadowing an archived global, on Free: %+v", e)
	}
	// Another account gets the global.
	if e := Item(&g, domain.Account{ID: "b", Plan: domain.PlanStarter}, nil); !e.Content.Equal(g.Content) || e.Source != SourceGlobal {
		t.Fatalf("another account: %+v", e)
	}
}
