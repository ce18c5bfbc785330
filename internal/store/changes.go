package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/igny8/aiconfig/internal/domain"
)

// ChangeChannel is the PostgreSQL NOTIFY channel every write wakes the
// feed's followers on. The payload is only a hint (the revision); the
// changes table is the truth.
const ChangeChannel = "aiconfig_changes"

// ChangeKind says which cached data a write made stale.
type ChangeKind string

const (
	ChangeGlobal  ChangeKind = "global"  // global settings or global prompts
	ChangeCatalog ChangeKind = "catalog" // the model catalog
	ChangeAccount ChangeKind = "account" // one account (AccountID), or several (AccountID "")
	ChangeToken   ChangeKind = "token"   // a token created or revoked
)

// widerThan orders kinds by how much a cache must drop for them, so a
// write over several resources announces the widest.
func (k ChangeKind) widerThan(o ChangeKind) bool {
	rank := map[ChangeKind]int{ChangeToken: 1, ChangeAccount: 2, ChangeCatalog: 3, ChangeGlobal: 4}
	return rank[k] > rank[o]
}

// Change is one committed write, as the changes table keeps it.
type Change struct {
	Revision  int64
	Kind      ChangeKind
	AccountID string // the account written, or "" (none, or several for ChangeAccount)
	Resource  string // as in the audit log, e.g. "accounts/acme/overrides/openai"
	Time      time.Time
}

// AllAccounts reports whether the change may affect every account's data
// (a write over several accounts, or to the global layer).
func (c Change) AllAccounts() bool {
	return c.Kind == ChangeGlobal || c.Kind == ChangeCatalog || (c.Kind == ChangeAccount && c.AccountID == "")
}

// ResourceBulkImport names the one change of a bulk import
// (import-django): a GLOBAL change that also rewrote any number of
// accounts' rows, so a cache drops every account entry too.
const ResourceBulkImport = "import-django"

// AccountRows reports whether the change may have rewritten several
// accounts' own rows (not only the global layer they resolve against).
func (c Change) AccountRows() bool {
	return (c.Kind == ChangeAccount && c.AccountID == "") || c.Resource == ResourceBulkImport
}

// OnChange registers f to hear of every write this store commits, at once,
// before the feed brings it (so a replica reads its own writes). Call it
// before serving.
func (s *Store) OnChange(f func(Change)) { s.onChange = f }

// Compacted is the OUT_OF_RANGE for a feed position whose history was
// deleted by retention: the reader must start over from through.
func Compacted(from, through int64) *domain.Error {
	return &domain.Error{Code: domain.CodeOutOfRange, Reason: domain.ReasonRevisionCompacted,
		Message: fmt.Sprintf("changes up to revision %d are no longer kept (retention), so changes after %d cannot be replayed: "+
			"drop what you cached and resume from revision %d", through, from, through),
		Metadata: map[string]string{"oldest_revision": strconv.FormatInt(through, 10), "from_revision": strconv.FormatInt(from, 10)}}
}

// ahead is the OUT_OF_RANGE for a feed position beyond the newest
// revision: the database was restored or replaced since the reader was in
// step. Like a compacted one, the reader must drop what it holds and start
// over, from head (same reason, so readers handle both alike).
func ahead(from, head int64) *domain.Error {
	return &domain.Error{Code: domain.CodeOutOfRange, Reason: domain.ReasonRevisionCompacted,
		Message: fmt.Sprintf("revision %d is ahead of the newest, %d: the database was restored or replaced; "+
			"drop what you cached and resume from revision %d", from, head, head),
		Metadata: map[string]string{"oldest_revision": strconv.FormatInt(head, 10), "from_revision": strconv.FormatInt(from, 10)}}
}

// txBeginner is what a pool and a single connection share.
type txBeginner interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

// changesAfter reads up to limit changes above after, in revision order,
// in one snapshot with the compaction mark so that a concurrent compaction
// cannot make it skip rows silently. It also returns the newest revision.
func changesAfter(ctx context.Context, db txBeginner, after int64, limit int) (out []Change, head int64, err error) {
	err = pgx.BeginTxFunc(ctx, db, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var through int64
		if err := tx.QueryRow(ctx, `SELECT revision, compacted_through FROM revisions WHERE id = 1`).Scan(&head, &through); err != nil {
			return err
		}
		switch {
		case after < through:
			return Compacted(after, through)
		case after > head:
			return ahead(after, head)
		}
		rows, err := tx.Query(ctx, `SELECT revision, kind, COALESCE(account_id, ''), resource, created_at
			FROM changes WHERE revision > $1 ORDER BY revision LIMIT $2`, after, limit)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Change, error) {
			var c Change
			return c, r.Scan(&c.Revision, &c.Kind, &c.AccountID, &c.Resource, &c.Time)
		})
		return err
	})
	return out, head, mapErr(err)
}

// ChangesAfter returns up to limit changes with a revision above after, in
// order, and the newest revision at the time, or OUT_OF_RANGE
// REVISION_COMPACTED when some were deleted.
func (s *Store) ChangesAfter(ctx context.Context, after int64, limit int) ([]Change, int64, error) {
	return changesAfter(ctx, s.pool, after, limit)
}

// Head returns the newest committed revision.
func (s *Store) Head(ctx context.Context) (int64, error) {
	var rev int64
	err := s.pool.QueryRow(ctx, `SELECT revision FROM revisions WHERE id = 1`).Scan(&rev)
	return rev, mapErr(err)
}

// CompactChanges deletes the changes written before cutoff (a prefix of
// the feed, since times follow revisions) and records how far the feed is
// compacted. It returns how many rows it deleted.
func (s *Store) CompactChanges(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var through *int64
		if err := tx.QueryRow(ctx, `SELECT max(revision) FROM changes WHERE created_at < $1`, cutoff).Scan(&through); err != nil || through == nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM changes WHERE revision <= $1`, *through)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		_, err = tx.Exec(ctx, `UPDATE revisions SET compacted_through = greatest(compacted_through, $1) WHERE id = 1`, *through)
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		err = nil
	}
	return n, mapErr(err)
}
