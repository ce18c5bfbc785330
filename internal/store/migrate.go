package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/golang-migrate/migrate/v4"
	_ "github.com/golang-migrate/migrate/v4/database/pgx/v5" // registers pgx5://
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"

	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/secret"
	"github.com/igny8/aiconfig/migrations"
)

func newMigrate(databaseURL string) (*migrate.Migrate, error) {
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		return nil, err
	}
	u := databaseURL
	for _, p := range []string{"postgres://", "postgresql://"} {
		if strings.HasPrefix(u, p) {
			u = "pgx5://" + strings.TrimPrefix(u, p)
		}
	}
	m, err := migrate.NewWithSourceInstance("iofs", src, u)
	if err != nil {
		return nil, fmt.Errorf("open migrations: %w", explainConnectErr(err))
	}
	return m, nil
}

// sealStep is the migration after which plaintext API keys are sealed in
// Go (SQL has no key); the next migration drops the plaintext column.
const sealStep = 3

// MigrateUp applies every pending migration. Crossing sealStep, it seals
// any plaintext API keys with keys, which may be nil when none are stored.
func MigrateUp(databaseURL string, keys *secret.Keyring) error {
	m, err := newMigrate(databaseURL)
	if err != nil {
		return err
	}
	defer m.Close()
	v, dirty, err := m.Version()
	if err != nil && !errors.Is(err, migrate.ErrNilVersion) {
		return fmt.Errorf("migrate up: %w", err)
	}
	if !dirty && v <= sealStep {
		if err := m.Migrate(sealStep); err != nil && !errors.Is(err, migrate.ErrNoChange) {
			return fmt.Errorf("migrate up: %w", err)
		}
		if err := sealPlaintextKeys(context.Background(), databaseURL, keys); err != nil {
			return fmt.Errorf("migrate up: seal API keys: %w", err)
		}
	}
	if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("migrate up: %w", err)
	}
	return nil
}

// MigrateTo moves the schema to exactly version (for tests of upgrades).
func MigrateTo(databaseURL string, version uint) error {
	m, err := newMigrate(databaseURL)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := m.Migrate(version); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("migrate to %d: %w", version, err)
	}
	return nil
}

// MigrateDown rolls back the newest migration only; a full teardown is
// never one typo away.
func MigrateDown(databaseURL string) error {
	m, err := newMigrate(databaseURL)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := m.Steps(-1); err != nil {
		return fmt.Errorf("migrate down: %w", err)
	}
	return nil
}

// SchemaVersion reports the database's migration version and dirty flag
// (0 when nothing has been applied).
func SchemaVersion(databaseURL string) (uint, bool, error) {
	m, err := newMigrate(databaseURL)
	if err != nil {
		return 0, false, err
	}
	defer m.Close()
	v, dirty, err := m.Version()
	if errors.Is(err, migrate.ErrNilVersion) {
		return 0, false, nil
	}
	return v, dirty, err
}

// ExpectedVersion is the newest migration embedded in this binary.
func ExpectedVersion() uint {
	var latest uint
	entries, _ := fs.ReadDir(migrations.FS, ".")
	for _, e := range entries {
		n, _, ok := strings.Cut(e.Name(), "_")
		if v, err := strconv.ParseUint(n, 10, 32); ok && err == nil {
			latest = max(latest, uint(v))
		}
	}
	return latest
}

// CheckSchema fails with MIGRATIONS_PENDING unless the schema is exactly
// at ExpectedVersion and clean.
func (s *Store) CheckSchema(ctx context.Context) error {
	var v int64
	var dirty bool
	err := s.pool.QueryRow(ctx, `SELECT version, dirty FROM schema_migrations LIMIT 1`).Scan(&v, &dirty)
	var pgErr interface{ SQLState() string }
	if errors.As(err, &pgErr) && pgErr.SQLState() == "42P01" { // undefined_table: never migrated
		v, err = 0, nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		v, err = 0, nil
	}
	if err != nil {
		return mapErr(err)
	}
	want := ExpectedVersion()
	if dirty || uint(v) != want {
		return &domain.Error{
			Code:     domain.CodeFailedPrecondition,
			Reason:   domain.ReasonMigrationsPending,
			Message:  fmt.Sprintf("database schema is at version %d (dirty=%t), this binary needs %d: run `aiconfigd migrate up` or serve with --migrate", v, dirty, want),
			Metadata: map[string]string{"current_version": fmt.Sprint(v), "expected_version": fmt.Sprint(want)},
		}
	}
	return nil
}
