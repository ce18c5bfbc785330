package djangoimport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/resolve"
	"github.com/igny8/aiconfig/internal/store"
)

// Reasons a difference is explained by the note's rules (SPEC 18).
const (
	ReasonFreeOverride      = store.FindingFreeOverride
	ReasonFreeCustomization = store.FindingFreeCustomization
	ReasonModelNotInCatalog = store.FindingModelNotInCatalog
	ReasonOutsideLimits     = store.FindingOutsideLimits
	ReasonStaleDefault      = store.FindingStaleDefaultServed
	ReasonEmptyCustom       = store.FindingEmptyCustomizationSkips
)

// VerifyResult counts what --verify compared: answers (one per account
// and function, one per account and prompt type), the fields that
// differ, by the reason that explains them, and a sample of the others.
type VerifyResult struct {
	Accounts, Answers, Equal int
	Explained                map[string]int
	Unexplained              int
	Samples                  []string
}

// verifier compares one account at a time.
type verifier struct {
	g       store.DumpGlobal
	layer   store.GlobalLayer
	cat     domain.Catalog
	prompts map[string]*domain.GlobalItem
	open    func(integ domain.Integration) (string, error)
	res     VerifyResult
}

// Verify stages the dump (changing nothing) and compares, for every
// account of it, every function and every prompt type, the legacy code's
// answer with aiconfig's, computed from the database by internal/resolve
// as the server does. It prints the counts and returns them.
func Verify(ctx context.Context, st *store.Store, r io.Reader, opt Options) (VerifyResult, error) {
	d := NewReader(r, opt.Mapping, opt.AllowUnknown)
	v := &verifier{res: VerifyResult{Explained: map[string]int{}}}
	start := func(g store.DumpGlobal, l store.GlobalLayer) error {
		if g.Settings == nil {
			return dumpError("the dump holds no %s: verify compares against its global settings", opt.Mapping.Models.GlobalSettings.Label)
		}
		v.g, v.layer, v.cat = g, l, domain.NewCatalog(l.Models)
		v.prompts = map[string]*domain.GlobalItem{}
		for i := range l.Items {
			if l.Items[i].Kind == domain.ItemPrompt {
				v.prompts[l.Items[i].ID] = &l.Items[i]
			}
		}
		v.open = func(integ domain.Integration) (string, error) {
			k := l.Settings.Defaults[integ].APIKey
			if !k.IsSet() {
				return "", nil
			}
			if opt.Keys == nil {
				return "", errors.New("verify compares API keys: set AICONFIG_SECRET_KEY to the key the import sealed them with")
			}
			return opt.Keys.Open(k.Sealed, domain.KeyAAD(integ))
		}
		return nil
	}
	err := st.VerifyDump(ctx, store.DumpSource{Rows: d, Finish: d.Global}, start, v.account)
	if err != nil {
		return v.res, err
	}
	v.print(opt.Out, d)
	return v.res, nil
}

// account compares one account's answers.
func (v *verifier) account(a *store.VerifyAccount) error {
	v.res.Accounts++
	if a.Stored == nil {
		v.res.Answers++
		v.unexplained(fmt.Sprintf("account %s: not in aiconfig (run import-django --apply first)", a.AccountID))
		return nil
	}
	for _, fn := range domain.FunctionNames() {
		if err := v.modelConfig(a, fn); err != nil {
			return err
		}
	}
	for _, p := range v.g.Prompts {
		v.prompt(a, p.ID, promptTextOf(p.Content))
	}
	return nil
}

func promptTextOf(c domain.Content) string {
	t, _ := c.(domain.PromptText)
	return string(t)
}

func (v *verifier) modelConfig(a *store.VerifyAccount, fn string) error {
	v.res.Answers++
	legacy := legacyModelConfig(fn, v.g, a.LegacyOverrides)
	integ, err := resolve.IntegrationFor(fn, v.layer.Settings)
	if err != nil {
		return err
	}
	mc, err := resolve.Config(resolve.ModelInput{Function: fn, Global: v.layer.Settings, Catalog: v.cat,
		Account: *a.Stored, Override: a.Overrides[integ], Caller: domain.RoleAdmin})
	if err != nil {
		return err
	}
	key, err := v.open(integ)
	if err != nil {
		return err
	}
	equal := true
	if key != legacy.apiKey || integ != legacy.integration {
		equal = false
		v.unexplained(fmt.Sprintf("account %s, %s: api_key or provider differs (legacy %s, aiconfig %s; key values not shown)",
			a.AccountID, fn, legacy.integration, integ))
	}
	got := mc.Params
	got.Model = &mc.Model
	for _, field := range domain.FieldsFor(integ.Kind()) {
		want, have := legacy.fields[field], paramText(got, field)
		if want == have {
			continue
		}
		equal = false
		if reason := v.explainField(a, legacy.integration, field, mc); reason != "" {
			v.res.Explained[reason]++
			continue
		}
		v.unexplained(fmt.Sprintf("account %s, %s, %s: legacy %q, aiconfig %q", a.AccountID, fn, field, want, have))
	}
	if equal {
		v.res.Equal++
	}
	return nil
}

// explainField names the rule that explains a field's difference, or "".
func (v *verifier) explainField(a *store.VerifyAccount, integ domain.Integration, field string, mc resolve.ModelConfig) string {
	legacy, ok := a.LegacyOverrides[integ.String()]
	fromOverride := ok && legacy.IsSet(field)
	if fromOverride && !a.Stored.Plan.AppliesOverrides() {
		return ReasonFreeOverride
	}
	if legacy.Model != nil {
		if m, ok := v.cat.Lookup(integ, *legacy.Model); !ok || !m.Enabled {
			return ReasonModelNotInCatalog // the account's model fell back, and what depends on it
		}
	}
	for _, adj := range mc.Adjustments {
		if adj.Field == field {
			return ReasonOutsideLimits
		}
	}
	if fromOverride && !a.Overrides[integ].Params.IsSet(field) {
		return ReasonOutsideLimits // a value aiconfig cannot store (see the import's findings)
	}
	return ""
}

// prompt compares one prompt type's text.
func (v *verifier) prompt(a *store.VerifyAccount, ptype, dumpGlobal string) {
	v.res.Answers++
	var row *store.LegacyPrompt
	if p, ok := a.LegacyPrompts[ptype]; ok {
		row = &p
	}
	want := legacyPrompt(row, dumpGlobal)
	eff := resolve.Item(v.prompts[ptype], *a.Stored, a.Items[ptype])
	have := promptTextOf(eff.Content)
	if want == have {
		v.res.Equal++
		return
	}
	reason := ""
	switch {
	case row == nil:
	case row.Customized && !a.Stored.Plan.AppliesOverrides():
		reason = ReasonFreeCustomization
	case row.Customized && a.Items[ptype] == nil:
		reason = ReasonEmptyCustom
	case !row.Customized && row.Default != dumpGlobal:
		reason = ReasonStaleDefault
	}
	if reason != "" {
		v.res.Explained[reason]++
		return
	}
	v.unexplained(fmt.Sprintf("account %s, prompt %s: legacy and aiconfig texts differ (legacy %d bytes, aiconfig %d bytes, source %v)",
		a.AccountID, ptype, len(want), len(have), eff.Source))
}

func (v *verifier) unexplained(line string) {
	v.res.Unexplained++
	if len(v.res.Samples) < 20 {
		v.res.Samples = append(v.res.Samples, line)
	}
}

func (v *verifier) print(w io.Writer, d *Reader) {
	r := v.res
	fmt.Fprintf(w, "dump sha256:%s\n", d.SHA256())
	fmt.Fprintf(w, "verify: %d accounts, %d functions, %d prompt types: %d answers compared, %d equal\n",
		r.Accounts, len(domain.Functions), len(v.g.Prompts), r.Answers, r.Equal)
	total := 0
	for _, n := range r.Explained {
		total += n
	}
	fmt.Fprintf(w, "explained differences: %d\n", total)
	reasons := make([]string, 0, len(r.Explained))
	for k := range r.Explained {
		reasons = append(reasons, k)
	}
	sort.Strings(reasons)
	for _, k := range reasons {
		fmt.Fprintf(w, "  %s: %d\n", k, r.Explained[k])
	}
	fmt.Fprintf(w, "unexplained differences: %d\n", r.Unexplained)
	for _, s := range r.Samples {
		fmt.Fprintf(w, "  %s\n", s)
	}
}
