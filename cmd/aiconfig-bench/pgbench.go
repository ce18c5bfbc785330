package main

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/igny8/aiconfig/internal/access"
	"github.com/igny8/aiconfig/internal/store"
)

// pgbenchConns is the database pool of the cache-off server and pgbench's
// client count: both keep as many statements in flight.
const pgbenchConns = 4

// pgbenchName is the row of pgbench replaying a cache-off GetModelConfig's
// statements: its × reference.
const pgbenchName = "pgbench of cache-off's statements"

// findPgbench is a pgbench of PostgreSQL 14 or later (the first with
// \startpipeline), or "" if there is none.
func findPgbench() string {
	candidates, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
	if p, err := exec.LookPath("pgbench"); err == nil {
		candidates = append([]string{p}, candidates...)
	}
	for _, p := range candidates {
		out, err := exec.Command(p, "--version").Output()
		if m := pgbenchVersion.FindSubmatch(out); err == nil && m != nil {
			if v, _ := strconv.Atoi(string(m[1])); v >= 14 {
				return p
			}
		}
	}
	return ""
}

var pgbenchVersion = regexp.MustCompile(`\(PostgreSQL\) (\d+)`)

// pgbenchScript is what a cache-off GetModelConfig sends the database,
// as a pgbench script: the token lookup, then the snapshot read of a
// random account and the global layer as one pipeline.
func pgbenchScript(serviceSecret string, accounts int) string {
	h := access.HashSecret(serviceSecret)
	auth, pipeline := store.UncachedCallSQL()
	for _, q := range append([]string{auth}, pipeline...) {
		// Only $1 is replaced; anything else pgbench would misread.
		if otherParam.MatchString(q) || strings.Contains(q, ":") {
			panic("pgbench cannot replay this statement as it is: " + q)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\\set n random(1, %d)\n", accounts)
	b.WriteString(strings.ReplaceAll(auth, "$1", `'\x`+hex.EncodeToString(h[:])+`'::bytea`) + ";\n")
	b.WriteString("\\startpipeline\n")
	for _, q := range pipeline {
		b.WriteString(strings.ReplaceAll(q, "$1", "('acct-' || (:n)::text)") + ";\n")
	}
	b.WriteString("\\endpipeline\n")
	return b.String()
}

var otherParam = regexp.MustCompile(`\$([2-9]|1[0-9])`)

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// runPgbench runs script for -duration with pgbenchConns clients over
// prepared statements (as pgx sends them), and reads each transaction's
// latency from pgbench's log.
func runPgbench(bin, dbURL, script string) (result, error) {
	dir, err := os.MkdirTemp("", "aiconfig-pgbench")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "call.sql")
	if err := os.WriteFile(file, []byte(script), 0o600); err != nil {
		return result{}, err
	}
	secs := int(math.Ceil(duration.Seconds()))
	cmd := exec.Command(bin, "-n", "-M", "prepared", "-c", strconv.Itoa(pgbenchConns), "-j", "1", "-T", strconv.Itoa(secs),
		"-f", file, "-l", "--log-prefix", filepath.Join(dir, "log"), dbURL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("pgbench: %v: %s", err, out)
	}
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		return result{}, fmt.Errorf("pgbench printed no tps: %s", out)
	}
	res := result{}
	res.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	// The log has a line per transaction: client, transaction, latency (µs), …
	logs, _ := filepath.Glob(filepath.Join(dir, "log*"))
	var lat []time.Duration
	for _, l := range logs {
		f, err := os.Open(l)
		if err != nil {
			return result{}, err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) >= 3 {
				if us, err := strconv.ParseInt(f[2], 10, 64); err == nil { // not "failed" or "skipped"
					lat = append(lat, time.Duration(us)*time.Microsecond)
				}
			}
		}
		f.Close()
	}
	if len(lat) == 0 {
		return result{}, errors.New("pgbench logged no transactions")
	}
	res.p50, res.p99 = pct(lat, 50), pct(lat, 99)
	res.driverCPU = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()) / time.Duration(len(lat))
	return res, nil
}
