package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/igny8/aiconfig/internal/djangoimport"
	"github.com/igny8/aiconfig/internal/secret"
)

// benchImport measures aiconfigd import-django (SPEC 18) on a generated
// dump of n accounts, one in ten with an override and one in ten with a
// customized prompt: the first --apply (everything new), the same dump
// again (nothing to change), and the dry run; each run's accounts/s and
// the import process's peak RSS (its rusage maxrss).
func benchImport(ctx context.Context, dbURL string, n int) error {
	dir, err := os.MkdirTemp("", "aiconfig-import-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dump := filepath.Join(dir, "dump.json")
	f, err := os.Create(dump)
	if err != nil {
		return err
	}
	t0 := time.Now()
	if err := djangoimport.WriteSyntheticDump(f, n, 1); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	st, _ := os.Stat(dump)
	fmt.Printf("generated a dump of %d accounts (%.1f MB) in %s\n", n, float64(st.Size())/1e6, time.Since(t0).Round(10*time.Millisecond))
	env := append(os.Environ(), "AICONFIG_DATABASE_URL="+dbURL, "AICONFIG_SECRET_KEY="+secret.NewKey())
	dbName := dbURL[strings.LastIndex(dbURL, "/")+1:]
	if i := strings.IndexByte(dbName, '?'); i >= 0 {
		dbName = dbName[:i]
	}
	fmt.Printf("%-28s %10s %12s %10s %10s %14s %11s\n", "aiconfigd import-django", "time", "accounts/s", "CPU (cmd", "+ db)", "accounts/CPU-s", "peak RSS")
	for _, step := range []struct{ name, flag string }{{"--apply (all new)", "--apply"}, {"--apply again (0 changes)", "--apply"}, {"dry run", ""}} {
		args := []string{"import-django", dump}
		if step.flag != "" {
			args = append([]string{"import-django", step.flag}, dump)
		}
		cmd := exec.CommandContext(ctx, *serverBinary, args...)
		cmd.Env = env
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		stop := make(chan struct{})
		dbCPU := watchBackends(dbName, stop)
		t := time.Now()
		err := cmd.Run()
		took := time.Since(t)
		close(stop)
		db := <-dbCPU
		if err != nil {
			return fmt.Errorf("%s: %v\n%s", step.name, err, out.String())
		}
		ps := cmd.ProcessState
		own := ps.UserTime() + ps.SystemTime()
		rss := ps.SysUsage().(*syscall.Rusage).Maxrss //nolint:forcetypeassert // a *syscall.Rusage on Linux, the only OS the bench runs on; KiB there
		fmt.Printf("%-28s %10s %12.0f %10s %10s %14.0f %8.1f MB\n", step.name, took.Round(time.Millisecond), float64(n)/took.Seconds(),
			own.Round(time.Millisecond), db.Round(time.Millisecond), float64(n)/(own+db).Seconds(), float64(rss)/1024)
	}
	return nil
}

// watchBackends samples, until stop, the CPU time of the PostgreSQL
// backends serving database dbName (found by their process title), and
// sends the total of each one's last sample: on a machine shared with
// other work the wall time measures the others too, CPU time does not.
// Autovacuum workers are left out: the one that analyzes the first
// import's 100,000 new rows would otherwise be counted against the next.
func watchBackends(dbName string, stop <-chan struct{}) <-chan time.Duration {
	out := make(chan time.Duration, 1)
	go func() {
		last := map[string]time.Duration{}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
			for _, p := range procs {
				title, err := os.ReadFile(p)
				if err != nil || !strings.HasPrefix(string(title), "postgres: ") || !strings.Contains(string(title), " "+dbName+" ") ||
					strings.HasPrefix(string(title), "postgres: autovacuum") {
					continue
				}
				if cpu, ok := procCPU(filepath.Join(filepath.Dir(p), "stat")); ok {
					last[p] = cpu
				}
			}
			select {
			case <-stop:
				var total time.Duration
				for _, c := range last {
					total += c
				}
				out <- total
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

// procCPU reads a process's user + system time from /proc/PID/stat.
func procCPU(path string) (time.Duration, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, false
	}
	var user, sys int64
	if _, err := fmt.Sscan(f[11], &user); err != nil {
		return 0, false
	}
	if _, err := fmt.Sscan(f[12], &sys); err != nil {
		return 0, false
	}
	return time.Duration(user+sys) * time.Second / 100, true // USER_HZ is 100 on Linux
}
