package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/igny8/aiconfig/internal/app"
	"github.com/igny8/aiconfig/internal/pgtest"
)

// TestServeCacheBudget: serve logs the cache's budget and where it comes
// from: half of GOMEMLIMIT, the setting, or (neither set) the rule applied
// to this machine's cgroup; and when the accounts do not fit, a warning
// at start names AICONFIG_CACHE_MAX_BYTES rather than serving from the
// database in silence.
func TestServeCacheBudget(t *testing.T) {
	url := pgtest.NewDatabase(t)
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	// 20,000 accounts that store nothing of their own take about 1.4 MB.
	if _, err := conn.Exec(context.Background(), `INSERT INTO accounts (id, name, plan, revision, config_revision)
		SELECT 'bulk-' || i, 'Bulk account ' || i, 'free', 1, 1 FROM generate_series(1, 20000) i`); err != nil {
		t.Fatal(err)
	}
	const doesNotFit = "the accounts do not fit the cache"
	env := func(extra ...string) []string {
		var out []string
		for _, kv := range cleanEnv("AICONFIG_DATABASE_URL=" + url) {
			if !strings.HasPrefix(kv, "GOMEMLIMIT=") {
				out = append(out, kv)
			}
		}
		return append(out, extra...)
	}
	budget := func(s *serving) (bytes, source string) {
		// JSON numbers come back as floats: print them whole.
		var n float64
		if _, err := fmt.Sscan(s.logged(t, "cache budget", "cache_max_bytes"), &n); err != nil {
			t.Fatalf("cache budget: cache_max_bytes: %v", err)
		}
		return fmt.Sprintf("%.0f", n), s.logged(t, "cache budget", "source")
	}

	s := startServe(t, env("GOMEMLIMIT=64MiB"), "--listen", "127.0.0.1:0", "--metrics-listen", "")
	s.waitLogged(t, "preloaded")
	if b, src := budget(s); b != fmt.Sprint(32<<20) || src != "half of GOMEMLIMIT 64 MiB" {
		t.Errorf("with GOMEMLIMIT=64MiB: %s bytes from %q", b, src)
	}
	if strings.Contains(s.logs.String(), doesNotFit) {
		t.Errorf("20,000 plain accounts in 32 MiB were said not to fit:\n%s", s.logs.String())
	}
	s.stop()

	// The setting wins over GOMEMLIMIT; 1 MiB holds some 14,000 plain accounts.
	s = startServe(t, env("GOMEMLIMIT=64MiB", "AICONFIG_CACHE_MAX_BYTES=1048576"), "--listen", "127.0.0.1:0", "--metrics-listen", "")
	s.waitLogged(t, doesNotFit)
	if b, src := budget(s); b != "1048576" || src != "AICONFIG_CACHE_MAX_BYTES" {
		t.Errorf("with AICONFIG_CACHE_MAX_BYTES=1048576: %s bytes from %q", b, src)
	}
	warning := logLine(s, doesNotFit)
	for _, want := range []string{"AICONFIG_CACHE_MAX_BYTES (now 1048576 bytes", `"level":"WARN"`, `"source":"AICONFIG_CACHE_MAX_BYTES"`} {
		if !strings.Contains(warning, want) {
			t.Errorf("the warning lacks %q: %s", want, warning)
		}
	}
	s.stop()

	// Neither: the rule on this machine's limits (a cgroup's, or none).
	s = startServe(t, env(), "--listen", "127.0.0.1:0", "--metrics-listen", "")
	l := app.ReadMemoryLimits()
	want := app.PlanMemory(0, app.MemoryLimits{Cgroup: l.Cgroup, CgroupFile: l.CgroupFile})
	if b, src := budget(s); b != fmt.Sprint(want.CacheBytes) || src != want.CacheSource {
		t.Errorf("with no setting and no GOMEMLIMIT: %s bytes from %q; want %d from %q", b, src, want.CacheBytes, want.CacheSource)
	}
}

// waitLogged waits until a line with msg is logged.
func (s *serving) waitLogged(t *testing.T, msg string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); logLine(s, msg) == ""; time.Sleep(25 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log:\n%s", msg, s.logs.String())
		}
	}
}

// logLine is the first line of s's log whose message starts with msg.
func logLine(s *serving, msg string) string {
	for _, line := range strings.Split(s.logs.String(), "\n") {
		if strings.Contains(line, `"msg":"`+msg) {
			return line
		}
	}
	return ""
}
