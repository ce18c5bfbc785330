package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const (
	pgInvalidCatalogName = "3D000" // the database named in the URL does not exist
	pgDuplicateDatabase  = "42P04"
)

// explainConnectErr turns a connection error that has a known remedy into
// one that says it.
func explainConnectErr(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == pgInvalidCatalogName {
		return fmt.Errorf("%s: create it with `aiconfigd migrate up --create-database` (or createdb, then `aiconfigd migrate up`)", pgErr.Message)
	}
	return err
}

// CreateDatabase creates the database databaseURL names, unless it
// exists, by connecting to the server's maintenance database (postgres,
// else template1) as the same user; it reports whether it created it.
func CreateDatabase(ctx context.Context, databaseURL string) (bool, error) {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return false, errors.New("invalid database URL (details withheld: they may include a password)")
	}
	name := cfg.Database
	if name == "" {
		return false, errors.New("the database URL names no database")
	}
	var conn *pgx.Conn
	for _, maintenance := range []string{"postgres", "template1"} {
		cfg.Database = maintenance
		if conn, err = pgx.ConnectConfig(ctx, cfg); err == nil {
			break
		}
	}
	if err != nil {
		return false, fmt.Errorf("create database %q: %w", name, err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil || exists {
		return false, err
	}
	_, err = conn.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == pgDuplicateDatabase {
		return false, nil // created meanwhile by someone else
	}
	if err != nil {
		return false, fmt.Errorf("create database %q: %w", name, err)
	}
	return true, nil
}
