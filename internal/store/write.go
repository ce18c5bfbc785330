package store

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/igny8/aiconfig/internal/audit"
	"github.com/igny8/aiconfig/internal/domain"
)

// Write is one write transaction in progress. Every write to the
// configuration goes through Store.write, which runs the same steps in the
// same order, so that no write can forget one and none commits half of
// them:
//
//  1. take the next revision by incrementing the one `revisions` row: its
//     lock is held until commit, so writes are serialized and a write that
//     commits later always has the higher revision;
//  2. the resource's own work (the function given to write): read what it
//     changes, check it, write its rows at Rev, its history, and Record
//     what it changed;
//  3. one audit row per Record, one `changes` row for the write, NOTIFY;
//  4. commit, then tell this replica (OnChange) at once.
//
// A write that records nothing rolls back: it takes no revision and
// announces nothing (a call that asked for no change, noted with
// Unchanged, still gets its audit row).
//
// A call made with an idempotency key (WithKey, idempotency.go) adds one
// step on each side: in step 1, with the revision, it looks its key up —
// found, the write stops there and returns the *Recorded (a duplicate of a
// call that committed first); and step 4 waits for the call's answer:
// the transaction is left open in the Keyed, and Store.Commit records the
// key with the answer in it, then commits and tells OnChange. A keyed call
// that writes nothing still records its key (and its Unchanged audit row)
// in a transaction of its own, so its retry is answered alike.
type Write struct {
	pgx.Tx
	// Rev is this write's revision: every row it writes carries it.
	Rev       int64
	records   []record
	unchanged *record
	// requestID, when set, replaces the call's request id in the write's
	// audit rows (an import names its dump's digest).
	requestID string
	// last holds statements whose results the write does not need, sent
	// with the audit and change rows in one round trip (Queue).
	last pgx.Batch
}

// Queue adds a statement to send with the write's last round trip (its
// audit and change rows): a write holds every other writer back until it
// commits, so round trips under it count.
func (w *Write) Queue(sql string, args ...any) { w.last.Queue(sql, args...) }

type record struct {
	kind          ChangeKind
	accountID     string
	resource      string
	before, after any
	// audited: the write stored this record's audit rows itself (a bulk
	// write, see RecordAudited); it only names the change.
	audited bool
}

// Record notes one resource the write changed, for the audit log (before
// and after are domain values or nil; their JSON never holds a secret) and
// the change feed.
func (w *Write) Record(kind ChangeKind, accountID, resource string, before, after any) {
	w.records = append(w.records, record{kind: kind, accountID: accountID, resource: resource, before: before, after: after})
}

// RecordAudited notes changes whose audit rows the write inserted itself,
// set-based (a bulk import writes thousands, one INSERT ... SELECT): it
// adds no audit row, and counts for the change feed like Record.
func (w *Write) RecordAudited(kind ChangeKind, resource string) {
	w.records = append(w.records, record{kind: kind, resource: resource, audited: true})
}

// Unchanged notes that the call changed nothing (e.g. a reset of a prompt
// never customized): the write rolls back, and the call's audit row (with
// neither before nor after) names resource.
func (w *Write) Unchanged(accountID, resource string) {
	w.unchanged = &record{accountID: accountID, resource: resource}
}

// errNothingWritten rolls back a write that recorded nothing.
var errNothingWritten = errors.New("nothing written")

// write runs fn as one write transaction (see Write). One whose
// connection was lost before it asked to commit (a pooled connection the
// database dropped, as after its restart) changed nothing: it is tried
// again on a fresh connection. One lost while committing may have
// committed, and is not.
func (s *Store) write(ctx context.Context, fn func(w *Write) error) error {
	for attempt := 1; ; attempt++ {
		committing, err := s.writeOnce(ctx, nil, fn)
		if attempt == 3 || committing || !s.lost(ctx, err) {
			return mapErr(err)
		}
	}
}

// lost reports whether err means the connection was lost, and if so drops
// the pool's idle connections: after a database restart they are all dead.
// A caller's deadline or cancellation is not a lost connection (pgx reports
// it as a timeout): nothing to reset, and no time left to try again.
func (s *Store) lost(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil || !lostConnection(err) {
		return false
	}
	s.pool.Reset()
	return true
}

// writeStaged is write for a write whose input is read once (a dump on
// stdin): stage runs first in the transaction, before the revision lock
// is taken (so loading its input holds no other writer back), and the
// write is not retried.
func (s *Store) writeStaged(ctx context.Context, stage func(tx pgx.Tx) error, fn func(w *Write) error) error {
	_, err := s.writeOnce(ctx, stage, fn)
	return mapErr(err)
}

// errTwoKeyedWrites: a keyed call holds its write open until it answers,
// so it cannot make a second one (which would wait for the first's lock).
var errTwoKeyedWrites = errors.New("a call with an idempotency key made two writes")

//nolint:gocognit // the one write path's fixed step order (lock, revision, rows, history, audit, change, NOTIFY), kept in one place on purpose (DESIGN: one write path)
func (s *Store) writeOnce(ctx context.Context, stage func(tx pgx.Tx) error, fn func(w *Write) error) (committing bool, err error) {
	var ch Change
	w := &Write{}
	k := keyedFrom(ctx)
	if k != nil && k.pending {
		return false, errTwoKeyedWrites
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	held := false
	defer func() { // after a commit: a no-op
		if !held {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	err = func() error {
		w.Tx = tx
		if stage != nil {
			if err := stage(tx); err != nil {
				return err
			}
		}
		if k == nil {
			if err := tx.QueryRow(ctx, `UPDATE revisions SET revision = revision + 1 WHERE id = 1 RETURNING revision`).Scan(&w.Rev); err != nil {
				return err
			}
		} else if err := s.lockKeyed(ctx, tx, k, &w.Rev); err != nil {
			return err
		}
		if err := fn(w); err != nil {
			return err
		}
		if len(w.records) == 0 {
			return errNothingWritten
		}
		call := audit.From(ctx)
		if w.requestID != "" {
			call.RequestID = w.requestID
		}
		for _, r := range w.records {
			if r.audited {
				continue
			}
			before, err := toJSON(r.before)
			if err != nil {
				return err
			}
			after, err := toJSON(r.after)
			if err != nil {
				return err
			}
			w.last.Queue(auditInsert, auditArgs(call, r.resource, r.accountID, OutcomeOK, "", before, after, "", 1)...)
		}
		ch = w.change()
		w.last.Queue(`INSERT INTO changes (revision, kind, account_id, resource) VALUES ($1, $2, NULLIF($3, ''), $4)
			RETURNING created_at`, ch.Revision, ch.Kind, ch.AccountID, ch.Resource).QueryRow(func(row pgx.Row) error { return row.Scan(&ch.Time) })
		// Delivered only if and when the transaction commits, in commit order.
		w.last.Queue(`SELECT pg_notify($1, $2)`, ChangeChannel, strconv.FormatInt(ch.Revision, 10))
		return tx.SendBatch(ctx, &w.last).Close()
	}()
	if errors.Is(err, errNothingWritten) {
		// Release the revision lock and the connection first: the audit row
		// takes another, and a full pool whose other connections wait for
		// this lock would never give one.
		_ = tx.Rollback(context.WithoutCancel(ctx))
		if k != nil {
			return false, s.holdUnchanged(ctx, k, w.unchanged)
		}
		if u := w.unchanged; u != nil {
			return false, insertAudit(ctx, s.pool, audit.From(ctx), u.resource, u.accountID, OutcomeOK, "", nil, nil)
		}
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if k != nil {
		held = true
		k.hold(tx, &ch)
		return false, nil
	}
	if err := tx.Commit(ctx); err != nil {
		return true, err
	}
	if s.onChange != nil {
		// Only after a commit known to succeed: a write whose commit failed
		// in flight may still have committed, and the feed must then apply it.
		s.markLocal(ch.Revision)
		s.onChange(ch)
	}
	return false, nil
}

// lockKeyed is step 1 for a keyed write: the revision, and in the same
// round trip the key's row. Under the revision lock every write that
// committed before is visible, so a duplicate that got here second finds
// the first one's row and stops.
func (s *Store) lockKeyed(ctx context.Context, tx pgx.Tx, k *Keyed, rev *int64) error {
	b := &pgx.Batch{}
	b.Queue(`UPDATE revisions SET revision = revision + 1 WHERE id = 1 RETURNING revision`).QueryRow(func(row pgx.Row) error {
		return row.Scan(rev)
	})
	r := &Recorded{}
	found := false
	b.Queue(keyedSelect, k.TokenID, k.Key).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			found = true
			if err := rows.Scan(&r.Method, &r.Hash, &r.Answer); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	if found {
		return r
	}
	return nil
}

// holdUnchanged is the end of a keyed write that changed nothing: its
// Unchanged audit row, if any, goes in a transaction of its own, held
// for Commit to record the key in (so a retry adds no second row).
func (s *Store) holdUnchanged(ctx context.Context, k *Keyed, u *record) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	if u != nil {
		if err := insertAudit(ctx, tx, audit.From(ctx), u.resource, u.accountID, OutcomeOK, "", nil, nil); err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
			return err
		}
	}
	k.hold(tx, nil)
	return nil
}

// snapshot is a read of several statements that agree with each other.
var snapshot = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}

// read runs fn in one snapshot, again on a fresh connection if the first
// was lost (reads are always safe to repeat).
func (s *Store) read(ctx context.Context, fn func(pgx.Tx) error) error {
	err := pgx.BeginTxFunc(ctx, s.pool, snapshot, fn)
	if s.lost(ctx, err) {
		err = pgx.BeginTxFunc(ctx, s.pool, snapshot, fn)
	}
	return mapErr(err)
}

// readBatch sends the reads queue queues as one repeatable-read snapshot
// in one round trip (BEGIN and COMMIT travel in the same pipeline), again
// on a fresh connection if the first was lost.
func (s *Store) readBatch(ctx context.Context, queue func(b *pgx.Batch)) error {
	// A failure part way leaves the connection in a failed transaction;
	// the pool then closes it rather than reuse it.
	err := s.pool.SendBatch(ctx, snapshotBatch(queue)).Close()
	if s.lost(ctx, err) {
		err = s.pool.SendBatch(ctx, snapshotBatch(queue)).Close()
	}
	return mapErr(err)
}

func snapshotBatch(queue func(b *pgx.Batch)) *pgx.Batch {
	b := &pgx.Batch{}
	b.Queue(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`)
	queue(b)
	b.Queue(`COMMIT`)
	return b
}

func (s *Store) markLocal(rev int64) {
	s.localMu.Lock()
	defer s.localMu.Unlock()
	if s.local == nil {
		s.local = map[int64]struct{}{}
	}
	s.local[rev] = struct{}{}
}

// takeLocal reports (once) whether this process already applied rev.
func (s *Store) takeLocal(rev int64) bool {
	s.localMu.Lock()
	defer s.localMu.Unlock()
	_, ok := s.local[rev]
	delete(s.local, rev)
	return ok
}

// pruneLocal forgets revisions at or below pos: a write whose feed row was
// read before OnChange heard of it was applied twice, harmlessly.
func (s *Store) pruneLocal(pos int64) {
	s.localMu.Lock()
	defer s.localMu.Unlock()
	for rev := range s.local {
		if rev <= pos {
			delete(s.local, rev)
		}
	}
}

// change is the feed's row for the write: one per write, naming the widest
// kind recorded, the account if all records name the same one, and the
// resource (or the resources' common prefix).
func (w *Write) change() Change {
	first := w.records[0]
	c := Change{Revision: w.Rev, Kind: first.kind, AccountID: first.accountID, Resource: first.resource}
	for _, r := range w.records[1:] {
		if r.kind.widerThan(c.Kind) {
			c.Kind = r.kind
		}
		if r.accountID != c.AccountID {
			c.AccountID = ""
		}
		c.Resource = commonPrefix(c.Resource, r.resource)
	}
	if c.Kind != ChangeAccount && c.Kind != ChangeToken {
		c.AccountID = ""
	}
	for _, r := range w.records {
		if r.audited { // a bulk write names itself (see ResourceBulkImport)
			c.Resource, c.AccountID = r.resource, ""
		}
	}
	return c
}

// commonPrefix is the longest shared prefix of two resource names that
// ends at a "/" (e.g. "models/" for two models), or "*".
func commonPrefix(a, b string) string {
	if a == b {
		return a
	}
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	if i := strings.LastIndexByte(a[:n], '/'); i >= 0 {
		return a[:i+1]
	}
	return "*"
}

// checkExpected compares an expected revision with a stored one (0 when
// nothing is stored yet).
func checkExpected(resource string, expected *int64, rev int64) error {
	if expected != nil && *expected != rev {
		return domain.RevisionMismatch(resource, *expected, rev)
	}
	return nil
}
