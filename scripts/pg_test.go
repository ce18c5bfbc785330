package scripts

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/igny8/aiconfig/internal/pgtest"
)

// TestDropTestRun: the templates a `make test` run makes (AICONFIG_TEST_RUN)
// are its own, and `pg.sh --drop-test-run` drops them and their clones,
// and nothing of another run.
func TestDropTestRun(t *testing.T) {
	url, err := exec.Command("bash", "pg.sh").Output()
	if err != nil {
		t.Fatalf("pg.sh: %v", err)
	}
	t.Setenv(pgtest.ServerURLEnv, strings.TrimSpace(string(url)))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, strings.TrimSpace(string(url)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// databases lists the test databases a run's templates name.
	databases := func(run string) []string {
		rows, _ := conn.Query(ctx, `
			SELECT i.datname FROM pg_database t
			JOIN pg_shdescription s ON s.objoid = t.oid AND s.classoid = 'pg_database'::regclass
			JOIN pg_database i ON i.datname = t.datname OR starts_with(i.datname, t.datname || '_inst_')
			WHERE s.description = $1 ORDER BY 1`, pgtest.RunComment(run))
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return names
	}
	mine, other := fmt.Sprintf("pgtest-%d-a", time.Now().UnixNano()), fmt.Sprintf("pgtest-%d-b", time.Now().UnixNano())
	kept := map[string]string{} // run → a clone left behind, as a failed test leaves it
	for _, run := range []string{mine, other} {
		t.Setenv(pgtest.RunEnv, run)
		t.Run(run, func(t *testing.T) {
			pgtest.NewDatabase(t) // dropped when the subtest ends
			pgtest.EmptyDatabase(t)
		})
		// A clone a failed test would leave: made outside any test, so kept.
		kept[run] = cloneOutsideATest(t, run)
	}
	t.Cleanup(func() { _ = exec.Command("bash", "pg.sh", "--drop-test-run", other).Run() }) // best effort: make test drops runs too
	for _, run := range []string{mine, other} {
		if got := databases(run); len(got) != 3 || !contains(got, kept[run]) {
			t.Fatalf("run %s left %v; want its two templates and the kept clone %s", run, got, kept[run])
		}
	}
	if out, err := exec.Command("bash", "pg.sh", "--drop-test-run", mine).CombinedOutput(); err != nil {
		t.Fatalf("pg.sh --drop-test-run: %v\n%s", err, out)
	}
	var left int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_database WHERE datname = $1`, kept[mine]).Scan(&left); err != nil || left != 0 {
		t.Errorf("the run's kept clone %s is still there (%d, %v)", kept[mine], left, err)
	}
	if got := databases(mine); len(got) != 0 {
		t.Errorf("after --drop-test-run, the run's databases remain: %v", got)
	}
	if got := databases(other); len(got) != 3 {
		t.Errorf("another run's databases were touched: %v left, want 3", got)
	}
	if out, err := exec.Command("bash", "pg.sh", "--drop-test-run", "x'; DROP DATABASE postgres; --").CombinedOutput(); err == nil {
		t.Errorf("pg.sh accepted a run id with quotes: %s", out)
	}
}

// cloneOutsideATest clones the run's migrated template as pgtestdb does,
// into a database no test will drop.
func cloneOutsideATest(t *testing.T, run string) string {
	t.Helper()
	var url string
	t.Run("clone", func(t *testing.T) { url = pgtest.NewDatabase(t) })
	// The subtest dropped its database; clone the template again by name.
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	tpl := cfg.Database[:strings.Index(cfg.Database, "_inst_")]
	name := tpl + "_inst_kept"
	conn, err := pgx.Connect(context.Background(), os.Getenv(pgtest.ServerURLEnv))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), fmt.Sprintf(`CREATE DATABASE %q TEMPLATE %q`, name, tpl)); err != nil {
		t.Fatal(err)
	}
	return name
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
