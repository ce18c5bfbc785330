package resolve

import (
	"github.com/igny8/aiconfig/internal/domain"
)

// EffectiveItem is an item (a prompt, author profile, content strategy) as
// an account uses it, and why.
type EffectiveItem struct {
	Kind    domain.ItemKind
	ID      string
	Content domain.Content
	// Meta is the global item's (a prompt's variables); nil for own items.
	Meta     any
	Archived bool // the global item's flag
	Source   Source
	// IsCustomized: the account stores a customization (whether or not its
	// plan applies it); DefaultChanged: and the global content moved since.
	IsCustomized, DefaultChanged bool
	// OverridesSuppressed: the account stores something its plan does not
	// apply.
	OverridesSuppressed bool
	Revision            int64 // the account's stored item's (0: none)
	GlobalRevision      int64 // 0 for an own item
	Plan                domain.Plan
	// Usable is false when the account cannot use the item: a global one
	// that is archived (unless the account's customization of it applies),
	// or an own one its plan does not apply. Such items are not offered,
	// not served by id, and never anyone's default.
	Usable bool
}

// Item decides what an account uses for one item id: its
// customization when it has one and its plan applies it, else the live
// global item; or its own item when its plan applies it. g is the global
// item of the id and stored the account's (each nil when there is none;
// not both).
//
// An own item shadows a global item of the same id (one the platform
// published after the account chose the id): the account keeps using its
// own, and only while its plan does not apply own items does it get the
// global (unless archived), as it would for a customization its plan does
// not apply.
func Item(g *domain.GlobalItem, a domain.Account, stored *domain.AccountItem) EffectiveItem {
	out := EffectiveItem{Plan: a.Plan, Source: SourceGlobal}
	applies := a.Plan.AppliesOverrides()
	if stored != nil && stored.Own() && g != nil && (applies || g.Archived) {
		g = nil // shadowed, for this account only
	}
	if g != nil {
		out.Kind, out.ID, out.Content, out.Meta, out.Archived = g.Kind, g.ID, g.Content, g.Meta, g.Archived
		out.GlobalRevision, out.Usable = g.Revision, !g.Archived
	}
	if stored == nil {
		return out
	}
	out.Kind, out.ID, out.Revision = stored.Kind, stored.ID, stored.Revision
	switch {
	case g == nil:
		out.Content, out.Source = stored.Content, SourceAccount
		out.Usable, out.OverridesSuppressed = applies, !applies
		return out
	case stored.Own(): // shadowing a global its plan falls back to
		out.OverridesSuppressed = true
		return out
	}
	out.IsCustomized = stored.IsCustomized
	out.DefaultChanged = stored.IsCustomized && !stored.Default.Equal(g.Content)
	switch {
	case !stored.IsCustomized:
	case !applies:
		out.OverridesSuppressed = true
	default:
		out.Content, out.Source, out.Usable = stored.Content, SourceAccount, true
	}
	return out
}

// Customize computes an account's item after it sets content on global
// item g (cur is what it stores, or nil). Default records the global
// content the customization started from: set when the account goes from
// default to custom, kept while it edits, so default_changed keeps saying
// the global moved. Content equal to the global is not a customization.
func Customize(g domain.GlobalItem, cur *domain.AccountItem, content domain.Content) domain.AccountItem {
	if content.Equal(g.Content) {
		return Reset(g)
	}
	next := domain.AccountItem{Kind: g.Kind, ID: g.ID, Content: content, Default: g.Content, IsCustomized: true}
	if cur != nil && cur.IsCustomized && !cur.Own() {
		next.Default = cur.Default
	}
	return next
}

// Reset computes an account's item reset to the live global content (not
// the stored default, which may be an outdated global: the note's reset
// would pin the account to it after an admin fixed the global).
func Reset(g domain.GlobalItem) domain.AccountItem {
	return domain.AccountItem{Kind: g.Kind, ID: g.ID, Content: g.Content, Default: g.Content}
}

// DefaultID is the item of kind k a generation job gets when it names
// none: the account's default if it can use it, else the platform's if it
// can use that, else "" (none).
func DefaultID(k domain.ItemKind, a domain.Account, g domain.GlobalSettings, usable func(id string) bool) string {
	for _, id := range []string{a.ItemDefaults[k], g.ItemDefaults[k]} {
		if id != "" && usable(id) {
			return id
		}
	}
	return ""
}
