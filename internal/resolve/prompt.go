package resolve

import (
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/validate"
)

// EffectivePrompt is the prompt text an account uses, and why.
type EffectivePrompt struct {
	PromptType          string
	Text                string
	Source              Source
	IsCustomized        bool
	DefaultChanged      bool
	GlobalRevision      int64
	Plan                domain.Plan
	Revision            int64
	Variables           []string
	OverridesSuppressed bool
}

// ResolvePrompt picks the account's text when it is customized and its
// plan applies customizations, else the live global text.
func ResolvePrompt(g domain.GlobalPrompt, a domain.Account, stored *domain.AccountPrompt) EffectivePrompt {
	out := EffectivePrompt{
		PromptType: g.PromptType, Text: g.Text, Source: SourceGlobal,
		GlobalRevision: g.Revision, Plan: a.Plan, Variables: g.Variables,
	}
	if stored == nil {
		return out
	}
	out.Revision = stored.Revision
	out.IsCustomized = stored.IsCustomized
	out.DefaultChanged = stored.IsCustomized && stored.DefaultPrompt != g.Text
	if !stored.IsCustomized {
		return out
	}
	if !a.Plan.AppliesOverrides() {
		out.OverridesSuppressed = true
		return out
	}
	out.Text, out.Source = stored.PromptValue, SourceAccount
	return out
}

// CustomizePrompt computes an account prompt after a customization.
// default_prompt records the global text the customization started from:
// set when the account goes from default to custom, kept while it edits
// its custom text, so default_changed keeps telling that the global moved.
// Customizing to exactly the global text is not a customization.
func CustomizePrompt(g domain.GlobalPrompt, cur *domain.AccountPrompt, text string) (domain.AccountPrompt, error) {
	var c domain.Collector
	validate.CheckTemplate(&c, "text", text, g.Variables)
	if err := c.Err(domain.ReasonValidationFailed); err != nil {
		return domain.AccountPrompt{}, err
	}
	if text == g.Text {
		return ResetPrompt(g), nil
	}
	next := domain.AccountPrompt{PromptType: g.PromptType, PromptValue: text, DefaultPrompt: g.Text, IsCustomized: true}
	if cur != nil && cur.IsCustomized {
		next.DefaultPrompt = cur.DefaultPrompt
	}
	return next, nil
}

// ResetPrompt computes an account prompt reset to the live global text
// (not the stored default_prompt, which may be an outdated global).
func ResetPrompt(g domain.GlobalPrompt) domain.AccountPrompt {
	return domain.AccountPrompt{PromptType: g.PromptType, PromptValue: g.Text, DefaultPrompt: g.Text}
}
