package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// A row is one call of the table and its runs, one per round.
type row struct {
	name string
	ref  string // the reference row its × reference compares with
	runs []result
}

// report collects the measurements and prints them.
type report struct {
	accounts int
	rows     []*row
	byName   map[string]*row

	warmTime                     time.Duration // 0: not warmed
	warmCalls                    int
	warmServerCPU, warmDriverCPU time.Duration // replica A's and the driver's CPU time while warming
	// Replica A's resident memory and Go heap in use (MB): started and
	// idle, after warm-up, and after the load (before the writes).
	rssIdle, rssWarm, heapWarm, rssA, heapA float64
	startupA                                time.Duration // until A served reads, its preload included
	heldIdle                                int           // accounts A held when started (preloaded)

	// refAccounts is how many accounts the reference server answers for
	// (the first ones); 0: no reference server.
	refAccounts int

	visibility []time.Duration
	writes     result
	clients    []clientRow
}

func (rep *report) add(name, ref string, res result) {
	if rep.byName == nil {
		rep.byName = map[string]*row{}
	}
	r, ok := rep.byName[name]
	if !ok {
		r = &row{name: name, ref: ref}
		rep.byName[name] = r
		rep.rows = append(rep.rows, r)
	}
	r.runs = append(r.runs, res)
}

// median is the run with the median throughput.
func (r *row) median() result {
	runs := slices.Clone(r.runs)
	slices.SortFunc(runs, func(x, y result) int { return cmp.Compare(x.rps, y.rps) })
	return runs[len(runs)/2]
}

// paired compares each run of r with the mean of the runs of row base
// measured just before and just after its round, sorted: slow drifts of a
// shared machine cancel out, and no call gains from its place in the
// round. Nil when there is no such row (no reference without warm-up).
func (rep *report) paired(r *row, base string) []float64 {
	b := rep.byName[base]
	if b == nil {
		return nil
	}
	if b == r {
		return []float64{1}
	}
	var out []float64
	for i, run := range r.runs {
		if i+1 < len(b.runs) {
			out = append(out, run.rps/((b.runs[i].rps+b.runs[i+1].rps)/2))
		}
	}
	slices.Sort(out)
	return out
}

// ratio is the median of sorted ratios and its range, as table cells.
func ratio(q []float64) (median, runs string) {
	if len(q) == 0 {
		return "", ""
	}
	median = fmt.Sprintf("%.2f", q[len(q)/2])
	if len(q) > 1 {
		runs = fmt.Sprintf("%.2f–%.2f", q[0], q[len(q)-1])
	}
	return median, runs
}

func medianOf(q []float64) float64 {
	if len(q) == 0 {
		return math.NaN()
	}
	return q[len(q)/2]
}

func numCPU() int { return runtime.NumCPU() }

//nolint:gocognit // a flat sequence of optional report sections, each an if; a bench tool, not served code
func (rep *report) print(w io.Writer) {
	placement := fmt.Sprintf("load driver and servers share %d CPUs", numCPU())
	if *serverCPUs != "" {
		placement = fmt.Sprintf("servers on CPU %s, load driver on %d other CPU(s)", *serverCPUs, numCPU())
	}
	fmt.Fprintf(w, "\n%d accounts, %d callers over %d connections, %s per run, median of %d interleaved runs;\n%s\n\n",
		rep.accounts, *concurrency, *conns, *duration, *rounds, placement)
	cells := [][]string{{"call", "req/s", "p50", "p99", "server CPU/call", "driver CPU/call", "RSS", "× floor", "runs", "× reference", "runs"}}
	for _, r := range rep.rows {
		m := r.median()
		xf, xfRuns := ratio(rep.paired(r, floorName))
		xr, xrRuns := ratio(rep.paired(r, r.ref))
		serverCPU, rss := m.serverCPU.Round(100*time.Nanosecond).String(), fmt.Sprintf("%.0f MB", m.rssMB)
		if r.name == pgbenchName {
			serverCPU, rss = "", "" // PostgreSQL's own, not measured
		}
		cells = append(cells, []string{r.name, thousands(m.rps), m.p50.Round(time.Microsecond).String(), m.p99.Round(time.Microsecond).String(),
			serverCPU, m.driverCPU.Round(100 * time.Nanosecond).String(), rss, xf, xfRuns, xr, xrRuns})
	}
	withRef := rep.byName[refModelName] != nil
	if !withRef { // no reference server: drop its columns
		for i := range cells {
			cells[i] = cells[i][:len(cells[i])-2]
		}
	}
	markdownTable(w, cells)
	fmt.Fprintln(w, "(× floor: median over the rounds of each run's throughput ÷ the mean of the floors just before and after its round;")
	if withRef {
		fmt.Fprintln(w, " × reference: the same with the reference server's runs of the same call, GetModelConfig's for the floor; the reference")
		fmt.Fprintln(w, " server runs with aiconfigd's server options (its stream workers too), the goroutine-per-call one with grpc-go's defaults;")
		fmt.Fprintf(w, " cache-off's with pgbench sending its statements (the token lookup, then one pipelined snapshot), %d clients, prepared;\n", pgbenchConns)
	}
	fmt.Fprintln(w, " runs: lowest–highest)")
	if withRef && rep.refAccounts < rep.accounts {
		fmt.Fprintf(w, "The reference server answers from the captured answers of the first %s accounts (the same mix of plans and customizations),\n"+
			"so its load draws from those; aiconfigd's draws from all %s (a smaller map may favour the reference).\n",
			thousands(float64(rep.refAccounts)), thousands(float64(rep.accounts)))
	}
	if withRef {
		fmt.Fprintln(w, "\nagainst the references (medians of the paired ratios):")
		for _, t := range []struct {
			name   string
			target float64
		}{{floorName, 0.85}, {modelCachedName, 0.85}, {promptCachedName, 0.75}, {modelOffName, 0.8}} {
			if r := rep.byName[t.name]; r != nil {
				q := rep.paired(r, r.ref)
				verdict := "met"
				if medianOf(q) < t.target {
					verdict = "NOT met"
				}
				fmt.Fprintf(w, "  %-36s %.2f × %s (target ≥ %.2f: %s)%s\n", t.name, medianOf(q), r.ref, t.target, verdict, rep.cpuBeside(r))
			}
		}
	}
	if on, off := rep.byName[modelCachedName], rep.byName[modelOffName]; on != nil && off != nil {
		fmt.Fprintf(w, "\ncached ÷ cache-off GetModelConfig throughput: %.1f×\n", on.median().rps/off.median().rps)
	}
	vis := rep.visibility
	fmt.Fprintf(w, "write on replica A visible to a watch on replica B, %d writes: p50 %s, p99 %s, max %s\n",
		len(vis), pct(vis, 50).Round(time.Microsecond), pct(vis, 99).Round(time.Microsecond), pct(vis, 100).Round(time.Microsecond))
	if rep.warmTime > 0 {
		fmt.Fprintf(w, "warm-up of replica A, allowed every CPU: %d calls in %s (%.0f calls/s), CPU per call: replica A %s, load driver %s\n",
			rep.warmCalls, rep.warmTime.Round(100*time.Millisecond), float64(rep.warmCalls)/rep.warmTime.Seconds(),
			(rep.warmServerCPU / time.Duration(max(rep.warmCalls, 1))).Round(100*time.Nanosecond), (rep.warmDriverCPU / time.Duration(max(rep.warmCalls, 1))).Round(100*time.Nanosecond))
		if rep.heldIdle > 0 { // preloaded: the start's RSS already holds the accounts
			fmt.Fprintf(w, "replica A with %d accounts cached: RSS %.0f MB, Go heap in use %.0f MB (RSS %.0f MB when started, holding %d accounts, serving reads %s after its start)\n",
				rep.accounts, rep.rssA, rep.heapA, rep.rssIdle, rep.heldIdle, rep.startupA.Round(100*time.Millisecond))
		} else {
			fmt.Fprintf(w, "replica A with %d accounts cached: RSS %.0f MB, Go heap in use %.0f MB (RSS %.0f MB when started: %.2f KB per account)\n",
				rep.accounts, rep.rssA, rep.heapA, rep.rssIdle, (rep.rssA-rep.rssIdle)*1024/float64(rep.accounts))
		}
		if r := rep.byName[refModelName]; r != nil {
			fmt.Fprintf(w, "reference server with the same answers: RSS %.0f MB\n", r.median().rssMB)
		}
	} else {
		fmt.Fprintf(w, "replica A, not warmed, after the load: RSS %.0f MB, Go heap in use %.0f MB\n", rep.rssA, rep.heapA)
	}
	fmt.Fprintf(w, "writes/s with %d concurrent writers (UpsertIntegrationOverride, random Starter+ accounts, replica A): %.0f, p50 %s, p99 %s\n",
		*writers, rep.writes.rps, rep.writes.p50.Round(time.Microsecond), rep.writes.p99.Round(time.Microsecond))
	if len(rep.clients) > 0 {
		fmt.Fprintln(w, "\nthe clients, after the load: the Go client in the load driver's process, the Python one a child of it, both reading replica A;")
		fmt.Fprintln(w, "staleness: from a write's reply on A until a Go client of replica B answers with it (the feed's event, the answer reloaded)")
		fmt.Fprintln(w)
		cells := [][]string{{"client", "p50", "p99", "allocs/call", "calls", "target", ""}}
		for _, c := range rep.clients {
			if c.skipped != "" {
				cells = append(cells, []string{c.name, "", "", "", "", c.target, c.skipped})
				continue
			}
			allocs := ""
			if c.allocs >= 0 {
				allocs = fmt.Sprintf("%.2f", c.allocs)
			}
			verdict := "met"
			if !c.met {
				verdict = "NOT met"
			}
			cells = append(cells, []string{c.name, roundDuration(c.p50), roundDuration(c.p99), allocs, thousands(float64(c.count)), c.target, verdict})
		}
		markdownTable(w, cells, 5, 6)
		for _, c := range rep.clients {
			if c.feedP50 > 0 {
				fmt.Fprintf(w, "(staleness: the change feed's event reached the client of B after p50 %s, p99 %s; the rest is the answer's reload)\n",
					roundDuration(c.feedP50), roundDuration(c.feedP99))
			}
		}
	}
}

// cpuBeside is the server CPU per call of r's median run and of its
// reference's, for the lines against the references ("" for pgbench,
// whose CPU is PostgreSQL's own and not measured).
func (rep *report) cpuBeside(r *row) string {
	base := rep.byName[r.ref]
	if base == nil || r.name == pgbenchName || r.ref == pgbenchName {
		if r.name != pgbenchName {
			return fmt.Sprintf("; server CPU/call %s", roundDuration(r.median().serverCPU))
		}
		return ""
	}
	return fmt.Sprintf("; server CPU/call %s against %s", roundDuration(r.median().serverCPU), roundDuration(base.median().serverCPU))
}

// roundDuration keeps about three significant digits: 61ns, 1.23µs,
// 478µs, 4.56ms, 12.3ms.
func roundDuration(d time.Duration) string {
	for unit := time.Duration(1); ; unit *= 10 {
		if d < 1000*unit {
			return d.Round(unit).String()
		}
	}
}

// markdownTable prints cells (the first row is the header) as a Markdown
// table: the first column and textCols left-aligned, the others (numbers)
// right-aligned.
func markdownTable(w io.Writer, cells [][]string, textCols ...int) {
	left := func(i int) bool { return i == 0 || slices.Contains(textCols, i) }
	width := make([]int, len(cells[0]))
	for _, r := range cells {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	pad := func(s string, n int, right bool) string {
		p := strings.Repeat(" ", n-utf8.RuneCountInString(s))
		if right {
			return p + s
		}
		return s + p
	}
	for k, r := range cells {
		var b strings.Builder
		for i, c := range r {
			b.WriteString("| " + pad(c, width[i], !left(i) && k > 0) + " ")
		}
		fmt.Fprintln(w, b.String()+"|")
		if k == 0 {
			b.Reset()
			for i := range r {
				if left(i) {
					b.WriteString("| " + strings.Repeat("-", width[i]) + " ")
				} else {
					b.WriteString("| " + strings.Repeat("-", width[i]-1) + ": ")
				}
			}
			fmt.Fprintln(w, b.String()+"|")
		}
	}
}

// thousands formats n rounded, with commas: 58,932.
func thousands(n float64) string {
	s := fmt.Sprintf("%.0f", n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// jsonRow is a row of the -json file; fields that do not apply are left out.
type jsonRow struct {
	Call           string    `json:"call"`
	RPS            *float64  `json:"rps,omitempty"`
	ServerCPUus    *float64  `json:"server_cpu_us,omitempty"`
	DriverCPUus    *float64  `json:"driver_cpu_us,omitempty"`
	P50us          *float64  `json:"p50_us,omitempty"`
	P99us          *float64  `json:"p99_us,omitempty"`
	MaxUs          *float64  `json:"max_us,omitempty"`
	XFloor         *float64  `json:"x_floor,omitempty"`
	XFloorRuns     []float64 `json:"x_floor_runs,omitempty"` // every round's ratio, sorted
	XReference     *float64  `json:"x_reference,omitempty"`
	XReferenceRuns []float64 `json:"x_reference_runs,omitempty"`
	RSSMB          *float64  `json:"rss_mb,omitempty"`  // the server's, at the end of the median run
	HeapMB         *float64  `json:"heap_mb,omitempty"` // replica A's Go heap in use
	Runs           int       `json:"runs,omitempty"`    // measurements the medians are of
	Count          int       `json:"count,omitempty"`   // calls or writes timed
	Seconds        *float64  `json:"seconds,omitempty"`
	Accounts       int       `json:"accounts"`
	// The client rows: allocations per call (Go), the target and whether
	// it was met, or why the row was not measured.
	AllocsPerCall *float64 `json:"allocs_per_call,omitempty"`
	FeedP50us     *float64 `json:"feed_p50_us,omitempty"` // staleness: the change feed's event
	FeedP99us     *float64 `json:"feed_p99_us,omitempty"`
	Target        string   `json:"target,omitempty"`
	Met           *bool    `json:"met,omitempty"`
	Skipped       string   `json:"skipped,omitempty"`
}

func num(x float64, digits int) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	p := math.Pow(10, float64(digits))
	v := math.Round(x*p) / p
	return &v
}

func us(d time.Duration) *float64 { return num(float64(d)/float64(time.Microsecond), 1) }

func nums(q []float64) []float64 {
	if len(q) < 2 {
		return nil
	}
	out := make([]float64, len(q))
	for i, x := range q {
		out[i] = *num(x, 3)
	}
	return out
}

func (rep *report) jsonRows() []jsonRow {
	var out []jsonRow
	for _, r := range rep.rows {
		m := r.median()
		xf, xr := rep.paired(r, floorName), rep.paired(r, r.ref)
		accounts := rep.accounts
		if r.name == refModelName || r.name == refPromptName || r.name == refPerCallName {
			accounts = rep.refAccounts // the accounts its load draws from
		}
		j := jsonRow{Call: r.name, RPS: num(m.rps, 1), ServerCPUus: us(m.serverCPU), DriverCPUus: us(m.driverCPU),
			P50us: us(m.p50), P99us: us(m.p99), RSSMB: num(m.rssMB, 1), Runs: len(r.runs), Accounts: accounts,
			XFloorRuns: nums(xf), XReferenceRuns: nums(xr)}
		if r.name == pgbenchName {
			j.ServerCPUus, j.RSSMB = nil, nil // PostgreSQL's own, not measured
		}
		if len(xf) > 0 {
			j.XFloor = num(medianOf(xf), 3)
		}
		if len(xr) > 0 {
			j.XReference = num(medianOf(xr), 3)
		}
		out = append(out, j)
	}
	out = append(out, jsonRow{Call: "replica A serving reads after its start (its preload included)", Accounts: rep.accounts,
		Seconds: num(rep.startupA.Seconds(), 2), RSSMB: num(rep.rssIdle, 1)})
	if rep.warmTime > 0 {
		out = append(out, jsonRow{Call: "warm-up of replica A (the reference sample and customized accounts, every call; one call for each other account A did not hold)", Accounts: rep.accounts,
			RPS: num(float64(rep.warmCalls)/rep.warmTime.Seconds(), 1), Seconds: num(rep.warmTime.Seconds(), 1), Count: rep.warmCalls,
			ServerCPUus: us(rep.warmServerCPU / time.Duration(rep.warmCalls)), DriverCPUus: us(rep.warmDriverCPU / time.Duration(rep.warmCalls)),
			RSSMB: num(rep.rssWarm, 1), HeapMB: num(rep.heapWarm, 1)})
	}
	vis := rep.visibility
	out = append(out, jsonRow{Call: "UpsertIntegrationOverride on A visible to WatchModelConfig on B", Accounts: rep.accounts,
		P50us: us(pct(vis, 50)), P99us: us(pct(vis, 99)), MaxUs: us(pct(vis, 100)), Count: len(vis)})
	w := rep.writes
	out = append(out, jsonRow{Call: fmt.Sprintf("UpsertIntegrationOverride, %d writers", *writers), Accounts: rep.accounts,
		RPS: num(w.rps, 1), ServerCPUus: us(w.serverCPU), DriverCPUus: us(w.driverCPU), P50us: us(w.p50), P99us: us(w.p99),
		RSSMB: num(w.rssMB, 1), Runs: 1})
	for _, c := range rep.clients {
		j := jsonRow{Call: c.name, Accounts: rep.accounts, Target: c.target, Skipped: c.skipped}
		if c.skipped == "" {
			met := c.met
			j.P50us, j.P99us, j.Count, j.Met = num(c.p50.Seconds()*1e6, 3), num(c.p99.Seconds()*1e6, 3), c.count, &met
			if c.allocs >= 0 {
				j.AllocsPerCall = num(c.allocs, 3)
			}
			if c.feedP50 > 0 {
				j.FeedP50us, j.FeedP99us = us(c.feedP50), us(c.feedP99)
			}
		}
		out = append(out, j)
	}
	return out
}

func (rep *report) writeJSON(file string) error {
	b, err := json.MarshalIndent(rep.jsonRows(), "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, append(b, '\n'), 0o644)
}
