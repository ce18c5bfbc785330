package store

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Idempotent writes (SPEC 17). A call made with an idempotency key carries
// a *Keyed in its context (WithKey). Store.write then does two things more
// (write.go): right after taking the revision lock it looks the key up, so
// a duplicate that raced past the caller's own look-up finds the first
// call's row and writes nothing (*Recorded as the error); and instead of
// committing, it leaves the transaction open in the Keyed, for the caller
// to Commit with the call's answer. The key's row and the write thus commit
// together or not at all: an answer lost after COMMIT is in the table.

// Keyed is one call's idempotency key, and the write it holds open.
type Keyed struct {
	TokenID, Key, Method string
	Hash                 []byte // SHA-256 of the request's deterministic encoding

	tx      pgx.Tx  // the write, done but not committed
	ch      *Change // its change row, announced after commit; nil: nothing changed
	pending bool
}

type keyedKey struct{}

// WithKey makes the writes of ctx's call record k (see Keyed).
func WithKey(ctx context.Context, k *Keyed) context.Context {
	return context.WithValue(ctx, keyedKey{}, k)
}

func keyedFrom(ctx context.Context) *Keyed {
	k, _ := ctx.Value(keyedKey{}).(*Keyed)
	return k
}

// Recorded is the row a key left: the method and request hash it was
// first used with, and the answer given. As an error, it says a write
// found its key already recorded (a concurrent duplicate that committed
// first) and wrote nothing.
type Recorded struct {
	Method string
	Hash   []byte
	Answer []byte
}

func (r *Recorded) Error() string { return "idempotency key already recorded" }

// Same reports whether k is a retry of the call r recorded.
func (r *Recorded) Same(k *Keyed) bool { return r.Method == k.Method && bytes.Equal(r.Hash, k.Hash) }

const keyedSelect = `SELECT method, request_hash, answer FROM idempotency_keys WHERE token_id = $1 AND key = $2`

// LookupKey returns what tokenID's key recorded, if anything.
func (s *Store) LookupKey(ctx context.Context, tokenID, key string) (*Recorded, error) {
	r := &Recorded{}
	err := s.pool.QueryRow(ctx, keyedSelect, tokenID, key).Scan(&r.Method, &r.Hash, &r.Answer)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, mapErr(err)
	}
	return r, nil
}

// hold keeps a finished write's transaction open in k for Commit.
func (k *Keyed) hold(tx pgx.Tx, ch *Change) {
	k.tx, k.ch, k.pending = tx, ch, true
}

// Rollback abandons the write k holds, if any (the call failed after it).
func (k *Keyed) Rollback(ctx context.Context) {
	if k.pending {
		_ = k.tx.Rollback(context.WithoutCancel(ctx))
		k.pending = false
	}
}

// Commit records k with the call's answer and commits the write it holds
// (or, if the call wrote nothing, records k alone). A key recorded
// meanwhile by a concurrent duplicate is returned as *Recorded, and this
// call's write, if any, rolled back.
func (s *Store) Commit(ctx context.Context, k *Keyed, answer []byte) error {
	if answer == nil {
		answer = []byte{}
	}
	tx := k.tx
	if !k.pending {
		var err error
		if tx, err = s.pool.Begin(ctx); err != nil {
			return mapErr(err)
		}
	}
	k.pending = false
	// After the batch's COMMIT pgx still takes the transaction for open:
	// this rollback then only returns the connection (the server warns
	// that no transaction is in progress).
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// The key's row and COMMIT go in one round trip (as readBatch sends its
	// snapshot), so a keyed write holds the revision lock one round trip
	// longer than it would unkeyed, not two. A concurrent duplicate that
	// wrote nothing (and so took no lock) may have recorded the key first:
	// the unique key makes this INSERT wait for it, then fail, and the
	// failed transaction does not commit.
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO idempotency_keys (token_id, key, method, request_hash, answer) VALUES ($1, $2, $3, $4, $5)`,
		k.TokenID, k.Key, k.Method, k.Hash, answer)
	b.Queue(`COMMIT`).Exec(func(tag pgconn.CommandTag) error {
		if tag.String() == "ROLLBACK" {
			return pgx.ErrTxCommitRollback
		}
		return nil
	})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != pgUniqueViolation {
			return mapErr(err)
		}
		_ = tx.Rollback(ctx)
		r, err := s.LookupKey(ctx, k.TokenID, k.Key)
		if err != nil {
			return err
		}
		if r == nil { // pruned in between: nothing sensible left to answer
			return mapErr(errors.New("idempotency key vanished"))
		}
		return r
	}
	if k.ch != nil && s.onChange != nil {
		s.markLocal(k.ch.Revision)
		s.onChange(*k.ch)
	}
	return nil
}

// PruneKeys deletes the idempotency keys recorded before cutoff and
// returns how many.
func (s *Store) PruneKeys(ctx context.Context, cutoff time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, cutoff)
	if err != nil {
		return 0, mapErr(err)
	}
	return tag.RowsAffected(), nil
}
