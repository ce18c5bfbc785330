// Package store is the only code that talks to PostgreSQL. One file per
// aggregate; every write goes through Store.write (write.go), which takes
// the revision in commit order and records the audit rows and the change
// feed row in the same transaction. Errors leave this package as
// *domain.Error (or wrapped internal errors that never carry SQL text to a
// caller).
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/igny8/aiconfig/internal/domain"
)

// Store wraps a pgx pool.
type Store struct {
	pool     *pgxpool.Pool
	onChange func(Change)

	// local holds the revisions this process committed and already told
	// OnChange about, so the feed's follower does not apply them twice.
	localMu sync.Mutex
	local   map[int64]struct{}
}

// Open connects a pool to databaseURL and checks that it answers.
func Open(ctx context.Context, databaseURL string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// The parse error may quote the URL, password included.
		return nil, errors.New("invalid database URL (details withheld: they may include a password)")
	}
	for _, o := range opts {
		o(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", explainConnectErr(err))
	}
	return &Store{pool: pool}, nil
}

// Close releases the pool.
func (s *Store) Close() { s.pool.Close() }

// PoolStat reports the connection pool's state, for metrics.
func (s *Store) PoolStat() *pgxpool.Stat { return s.pool.Stat() }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error { return mapErr(s.pool.Ping(ctx)) }

// ConnConfig is the pool's connection config, for the feed's own connection.
func (s *Store) ConnConfig() *pgx.ConnConfig { return s.pool.Config().ConnConfig.Copy() }

// existing turns the read of the row a write replaces into the audit's
// "before": nil when there is no row (the zero row then stands for it, at
// revision 0), an error only when the read failed.
func existing[T any](row T, err error) (*T, error) {
	switch {
	case err == nil:
		return &row, nil
	case errors.Is(err, pgx.ErrNoRows):
		return nil, nil
	}
	return nil, err
}

// PostgreSQL error codes the store maps (Flipt's storage/sql/errors.go does the same).
const (
	pgForeignKeyViolation   = "23503"
	pgUniqueViolation       = "23505"
	pgCheckViolation        = "23514"
	pgSerializationFailure  = "40001"
	pgDeadlockDetected      = "40P01"
	pgAdminShutdown         = "57P01"
	pgCrashShutdown         = "57P02"
	pgCannotConnectNow      = "57P03"
	pgConnectionExceptionPf = "08"
	// Class 53: out of connections, memory or disk.
	pgInsufficientResourcesPf = "53"
)

// lostConnection reports whether err means the database could not be
// reached or the connection died (refused, reset, cut mid-reply, closed,
// timed out): the caller may retry, and a cache may answer from memory.
// A refused connection can wrap a PgError, so this is checked first.
func lostConnection(err error) bool {
	var connErr *pgconn.ConnectError
	var netErr net.Error
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && !errors.As(err, &connErr) {
		// The server ending the session: shut down, crashed, restarting.
		c := pgErr.Code
		return c == pgAdminShutdown || c == pgCrashShutdown || c == pgCannotConnectNow || c[:2] == pgConnectionExceptionPf
	}
	return errors.As(err, &connErr) || errors.As(err, &netErr) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE)
}

// mapErr turns driver errors into domain errors: unreachable database →
// UNAVAILABLE, lost concurrency races → ABORTED, constraint violations the
// validation should have caught → INVALID_ARGUMENT without SQL text.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return de
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if lostConnection(err) {
		return domain.Unavailable()
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == pgSerializationFailure || pgErr.Code == pgDeadlockDetected:
			return &domain.Error{Code: domain.CodeAborted, Reason: domain.ReasonRevisionMismatch,
				Message: "a concurrent write changed this resource; read it again and retry"}
		case pgErr.Code == pgCheckViolation || pgErr.Code == pgForeignKeyViolation || pgErr.Code == pgUniqueViolation:
			return &domain.Error{Code: domain.CodeInvalid, Reason: domain.ReasonValidationFailed,
				Message: "the request breaks a data invariant (" + pgErr.ConstraintName + ")"}
		case pgErr.Code[:2] == pgInsufficientResourcesPf:
			return domain.Unavailable()
		}
		return fmt.Errorf("database error %s", pgErr.Code)
	}
	return err
}
