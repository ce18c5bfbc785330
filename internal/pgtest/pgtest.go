// Package pgtest gives each test a fresh PostgreSQL database cloned from a
// migrated template (pgtestdb), so tests run against the real schema and
// never share state.
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for pgtestdb
	"github.com/peterldowns/pgtestdb"
	"github.com/peterldowns/pgtestdb/migrators/common"

	"github.com/igny8/aiconfig/internal/store"
	"github.com/igny8/aiconfig/migrations"
)

// ServerURLEnv names the admin URL of the test server; `make test` sets it
// from scripts/pg.sh, which finds or starts PostgreSQL.
const ServerURLEnv = "AICONFIG_TEST_DATABASE_URL"

// RunEnv names the id of one `make test` run. Set, the templates the run
// makes are its own (the id is part of their hash) and carry the comment
// "aiconfig test run <id>", so `scripts/pg.sh --drop-test-run <id>` drops
// exactly them, and the databases cloned from them, when the run ends;
// parallel test packages of the run share them, and other runs on the
// same server are left alone. Unset (a plain go test), the template is
// shared and kept between runs, so the next run skips the migrations.
const RunEnv = "AICONFIG_TEST_RUN"

// RunComment is the comment a run's templates carry.
func RunComment(id string) string { return "aiconfig test run " + id }

// migrator applies the embedded migrations with the service's own code,
// and hashes them so the template is rebuilt whenever they change. empty:
// no migrations, for tests of the migrations themselves.
type migrator struct{ empty bool }

func (m migrator) Hash() (string, error) {
	h := "empty"
	if !m.empty {
		var err error
		if h, err = common.HashDirs(migrations.FS, "*.sql", "."); err != nil {
			return "", err
		}
	}
	if id := os.Getenv(RunEnv); id != "" {
		h += " " + RunComment(id)
	}
	return h, nil
}

func (m migrator) Migrate(ctx context.Context, db *sql.DB, conf pgtestdb.Config) error {
	if !m.empty {
		if err := store.MigrateUp(conf.URL(), nil); err != nil {
			return err
		}
	}
	if id := os.Getenv(RunEnv); id != "" {
		// COMMENT takes no parameters: the name and id are quoted here.
		q := fmt.Sprintf(`COMMENT ON DATABASE "%s" IS '%s'`, strings.ReplaceAll(conf.Database, `"`, `""`),
			strings.ReplaceAll(RunComment(id), "'", "''"))
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("marking the template with the test run: %w", err)
		}
	}
	return nil
}

// Config is the pgtestdb configuration for the test server.
func Config(t testing.TB) pgtestdb.Config {
	raw := os.Getenv(ServerURLEnv)
	if raw == "" {
		raw = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("%s: %v", ServerURLEnv, err)
	}
	pw, _ := u.User.Password()
	return pgtestdb.Config{
		DriverName: "pgx",
		Host:       u.Hostname(),
		Port:       u.Port(),
		User:       u.User.Username(),
		Password:   pw,
		Database:   strings.TrimPrefix(u.Path, "/"),
		Options:    u.RawQuery,
		// A test that stops mid-way may leave pool connections behind.
		ForceTerminateConnections: true,
	}
}

// NewDatabase returns the URL of a fresh migrated database, dropped when
// the test passes.
func NewDatabase(t testing.TB) string {
	t.Helper()
	return pgtestdb.Custom(t, Config(t), migrator{}).URL()
}

// EmptyDatabase returns the URL of a fresh database with no schema at all,
// dropped when the test passes.
func EmptyDatabase(t testing.TB) string {
	t.Helper()
	return pgtestdb.Custom(t, Config(t), migrator{empty: true}).URL()
}
