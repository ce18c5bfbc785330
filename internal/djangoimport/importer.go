package djangoimport

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/gitops"
	"github.com/igny8/aiconfig/internal/secret"
	"github.com/igny8/aiconfig/internal/store"
	"github.com/igny8/aiconfig/internal/validate"
)

// Actor is the name audit rows and history entries give the import.
const Actor = "import-django"

// Options are an import's settings.
type Options struct {
	Mapping      *Mapping
	Apply        bool
	AllowUnknown bool
	// Keys seal the dump's API keys (and open stored ones to compare);
	// nil: AICONFIG_SECRET_KEY is not set.
	Keys *secret.Keyring
	// Samples is how many lines each kind of warning prints (0: 50).
	Samples int
	// Out gets the report, Err the warnings about the dump itself.
	Out, Err io.Writer
}

// Import reads a dump from r and shows what it changes; with Apply it
// writes the changes as one write. The report never holds a key.
func Import(ctx context.Context, st *store.Store, r io.Reader, opt Options) (store.ImportReport, error) {
	d := NewReader(r, opt.Mapping, opt.AllowUnknown)
	samples := opt.Samples
	if samples <= 0 {
		samples = 50
	}
	rep, err := st.ImportDump(ctx, store.DumpSource{Rows: d, Finish: d.Global}, store.ImportOptions{
		Apply: opt.Apply, Keys: opt.Keys, Samples: samples, DumpSHA256: d.SHA256,
		CheckGlobal: func(next domain.GlobalSettings, models []domain.Model) error {
			return validate.GlobalSettings(next, domain.NewCatalog(models), nil)
		},
	})
	if len(d.KeysInDump) > 0 {
		fmt.Fprintf(opt.Err, "aiconfigd: warning: the dump holds plaintext API keys (%s): keep it out of logs, tickets and shared disks, and delete it once the cutover is done\n",
			strings.Join(d.KeysInDump, ", "))
	}
	if err != nil {
		return rep, err
	}
	printReport(opt.Out, d, &rep, opt.Apply)
	return rep, nil
}

// printReport writes counts per kind, the global layer's field diff and
// every warning, then what was done.
func printReport(w io.Writer, d *Reader, rep *store.ImportReport, applied bool) {
	fmt.Fprintf(w, "dump sha256:%s\n", d.SHA256())
	labels := sortedKeys(d.Objects)
	for _, l := range labels {
		fmt.Fprintf(w, "  %-36s %d objects\n", l, d.Objects[l])
	}
	for _, c := range rep.Counts {
		fmt.Fprintf(w, "%s: %d in the dump: %d new, %d changed, %d unchanged", c.Kind, c.InDump, c.New, c.Changed, c.Same)
		if c.Kind != "accounts" {
			fmt.Fprintf(w, ", %d removed", c.Deleted)
		}
		fmt.Fprintln(w)
	}
	printGlobal(w, rep)
	printWarnings(w, d, rep)
	n := rep.Changes()
	switch {
	case n == 0:
		fmt.Fprintln(w, "0 changes: aiconfig already holds what the dump holds")
	case !applied:
		fmt.Fprintf(w, "dry run: %d changes, nothing applied (run again with --apply)\n", n)
	default:
		fmt.Fprintf(w, "applied %d changes as revision %d\n", n, rep.Revision)
	}
}

func printGlobal(w io.Writer, rep *store.ImportReport) {
	var lines []string
	if rep.GlobalChanged {
		for _, l := range gitops.SettingsDiff(rep.Global, rep.NextGlobal) {
			if l != "~ settings" {
				lines = append(lines, l)
			}
		}
		for _, i := range rep.KeysChanged {
			state := "set from the dump"
			if !rep.NextGlobal.Defaults[i].APIKey.IsSet() {
				state = "cleared (the dump's is empty)"
			}
			lines = append(lines, fmt.Sprintf("~ settings.%s.api_key: %s", i, state))
		}
	}
	for _, p := range rep.PromptChanges {
		var before *domain.GlobalPrompt
		if p.Before != nil {
			b := domain.GlobalPromptOf(*p.Before)
			before = &b
		}
		lines = append(lines, gitops.PromptDiff(before, domain.GlobalPromptOf(p.After))...)
	}
	fmt.Fprintf(w, "global layer: %d changes\n", len(lines))
	for _, l := range lines {
		fmt.Fprintln(w, "  "+strings.ReplaceAll(l, "\n", "\n  "))
	}
}

func printWarnings(w io.Writer, d *Reader, rep *store.ImportReport) {
	total := len(d.Warnings)
	for _, f := range rep.Findings {
		total += f.Count
	}
	fmt.Fprintf(w, "warnings: %d\n", total)
	for _, msg := range d.Warnings {
		fmt.Fprintf(w, "  unknown_field: %s\n", msg)
	}
	sort.SliceStable(rep.Findings, func(i, j int) bool { return rep.Findings[i].Reason < rep.Findings[j].Reason })
	for _, f := range rep.Findings {
		fmt.Fprintf(w, "  %s: %d\n", f.Reason, f.Count)
		for _, s := range f.Samples {
			fmt.Fprintf(w, "    %s\n", s)
		}
		if f.Count > len(f.Samples) {
			fmt.Fprintf(w, "    ... and %d more\n", f.Count-len(f.Samples))
		}
	}
}
