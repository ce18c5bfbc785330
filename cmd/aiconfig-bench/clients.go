package main

// The clients' rows (issue 13): the Go client's cached read, measured in
// this process against replica A; the Python client's, by
// clients/python/bench.py in a child process against A; and how long a
// write through A takes to show through a Go client of replica B. They run
// after the load, so that they do not disturb the hot-path rounds.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/igny8/aiconfig/client"
	"github.com/igny8/aiconfig/internal/clientbench"
)

const (
	goClientName  = "Go client: cached ModelConfig"
	pyClientName  = "Python client: cached model_config"
	stalenessName = "write on A → Go client of B (staleness)"

	pythonBench = "clients/python/bench.py" // relative to the repository, where make bench runs
	// The account the Python read and the staleness writes use: Starter or
	// above (overrides apply), and not the one visibility writes.
	clientAccount = "acct-2"
)

// clientRow is one client measurement, or why there is none.
type clientRow struct {
	name     string
	p50, p99 time.Duration
	allocs   float64 // heap allocations per call; < 0: not measured
	count    int     // calls or writes
	// Staleness only: when the change feed's event reached the client (the
	// rest is the answer's reload).
	feedP50, feedP99 time.Duration
	target           string
	met              bool
	skipped          string // why it was not measured ("": it was)
}

// measureClients measures the three client rows.
func measureClients(a, b *server, ids, functions []string, serviceToken, adminToken string) ([]clientRow, error) {
	ctx := context.Background()
	var rows []clientRow

	fmt.Println("measuring the Go client's cached reads…")
	c, err := inStepClient(a, serviceToken)
	if err != nil {
		return nil, err
	}
	accounts := ids[:min(1000, len(ids))]
	r, err := clientbench.MeasureCachedReads(ctx, c, accounts, functions, 2_000_000)
	c.Close()
	if err != nil {
		return nil, fmt.Errorf("the Go client's cached reads: %w", err)
	}
	rows = append(rows, clientRow{name: fmt.Sprintf("%s (%s keys)", goClientName, thousands(float64(r.Keys))), p50: r.P50, p99: r.P99,
		allocs: r.AllocsPerCall, count: r.Calls, target: "p50 ≤ 1µs, ≤ 1 alloc", met: r.P50 <= time.Microsecond && r.AllocsPerCall <= 1})

	fmt.Println("measuring the Python client's cached reads…")
	rows = append(rows, measurePython(a, serviceToken))

	fmt.Printf("measuring write → client staleness over %d writes…\n", *writes)
	c, err = inStepClient(b, serviceToken)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := c.ModelConfig(ctx, clientAccount, "generate_content"); err != nil {
		return nil, err
	}
	s, err := clientbench.MeasureStaleness(ctx, c, a.addr, adminToken, clientAccount, *writes)
	if err != nil {
		return nil, fmt.Errorf("staleness: %w", err)
	}
	rows = append(rows, clientRow{name: stalenessName, p50: s.P50, p99: s.P99, allocs: -1, count: s.N,
		feedP50: s.Feed.P50, feedP99: s.Feed.P99, target: "p99 ≤ 10ms", met: s.P99 <= 10*time.Millisecond})
	return rows, nil
}

// inStepClient is a Go client of s with the SERVICE token, its change feed
// in step.
func inStepClient(s *server, token string) (*client.Client, error) {
	c, err := client.New(s.addr, client.WithToken(token), client.WithInsecure(), client.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(10 * time.Second); !c.Stats().InStep; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			c.Close()
			return nil, fmt.Errorf("a client of %s did not get its change feed in step", s.addr)
		}
	}
	return c, nil
}

// measurePython runs the Python client's benchmark against a, or says why
// it cannot.
func measurePython(a *server, token string) clientRow {
	row := clientRow{name: pyClientName + " (1 key)", allocs: -1, target: "p50 ≤ 20µs"}
	if *python == "" {
		row.skipped = "skipped (-python=\"\")"
		return row
	}
	if _, err := exec.LookPath(*python); err != nil {
		row.skipped = fmt.Sprintf("skipped: no %s (apt-get install python3 python3-grpcio python3-protobuf)", *python)
		return row
	}
	if out, err := exec.Command(*python, "-c", "import grpc, google.protobuf").CombinedOutput(); err != nil {
		row.skipped = fmt.Sprintf("skipped: %s cannot import grpcio and protobuf (apt-get install python3-grpcio python3-protobuf): %s",
			*python, lastLine(out))
		return row
	}
	if _, err := os.Stat(pythonBench); err != nil {
		row.skipped = "skipped: no " + pythonBench + " here (run from the repository, as make bench does)"
		return row
	}
	cmd := exec.Command(*python, pythonBench, "--target", a.addr, "--account", clientAccount, "--json")
	cmd.Env = append(os.Environ(), "AICONFIG_TOKEN="+token) // not on the command line, where ps shows it
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		row.skipped = fmt.Sprintf("FAILED: %s: %v: %s", pythonBench, err, lastLine(stderr.Bytes()))
		return row
	}
	var res struct {
		P50us float64 `json:"p50_us"`
		P99us float64 `json:"p99_us"`
		Calls int     `json:"calls"`
	}
	if err := json.Unmarshal([]byte(lastLine(out)), &res); err != nil {
		row.skipped = fmt.Sprintf("FAILED: %s printed %q: %v", pythonBench, lastLine(out), err)
		return row
	}
	row.p50, row.p99 = time.Duration(res.P50us*1000), time.Duration(res.P99us*1000)
	row.count, row.met = res.Calls, row.p50 <= 20*time.Microsecond
	return row
}

func lastLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	return s[strings.LastIndexByte(s, '\n')+1:]
}
