package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ChangeChannel is the PostgreSQL NOTIFY channel every write announces
// itself on; each replica LISTENs to it to invalidate its cache.
const ChangeChannel = "aiconfig_changes"

// ChangeKind says which cached data a write made stale.
type ChangeKind string

const (
	ChangeGlobal      ChangeKind = "global"       // settings, catalog, global prompts
	ChangeAccount     ChangeKind = "account"      // one account, its overrides and prompts
	ChangeAllAccounts ChangeKind = "all_accounts" // a bulk write over accounts
	ChangeTokens      ChangeKind = "tokens"       // any token (created, revoked, deleted)
	ChangePing        ChangeKind = "ping"         // a replica checking its own listener
)

// Change is one committed write, as sent on ChangeChannel:
// "rev kind key unix-micros" (the time the writer announced it, for
// measuring how long other replicas take to hear).
type Change struct {
	Revision int64
	Kind     ChangeKind
	Key      string // account id for ChangeAccount, nonce for ChangePing
	At       time.Time
}

func (c Change) String() string {
	return fmt.Sprintf("%d %s %s %d", c.Revision, c.Kind, c.Key, c.At.UnixMicro())
}

// ParseChange reads a notification payload.
func ParseChange(payload string) (Change, error) {
	parts := strings.Split(payload, " ")
	if len(parts) != 4 {
		return Change{}, fmt.Errorf("bad change payload %q", payload)
	}
	rev, err1 := strconv.ParseInt(parts[0], 10, 64)
	at, err2 := strconv.ParseInt(parts[3], 10, 64)
	if err1 != nil || err2 != nil {
		return Change{}, fmt.Errorf("bad change payload %q", payload)
	}
	return Change{Revision: rev, Kind: ChangeKind(parts[1]), Key: parts[2], At: time.UnixMicro(at)}, nil
}

// txn is a transaction that also collects the changes it announces, so
// the store can report them to its own replica right after commit.
type txn struct {
	pgx.Tx
	changes *[]Change
}

// announce queues a NOTIFY, delivered by PostgreSQL only if and when the
// transaction commits, in commit order.
func announce(ctx context.Context, tx pgx.Tx, c Change) error {
	c.At = time.Now()
	if t, ok := tx.(*txn); ok {
		*t.changes = append(*t.changes, c)
	}
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, ChangeChannel, c.String())
	return err
}

// OnChange registers f to hear of every write this store commits, at once
// (other replicas hear through NOTIFY). Call it before serving.
func (s *Store) OnChange(f func(Change)) { s.onChange = f }

// Ping sends a ping change through the database, for a listener to check
// that it still hears.
func (s *Store) SendPing(ctx context.Context, nonce string) error {
	_, err := s.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, ChangeChannel, Change{Kind: ChangePing, Key: nonce, At: time.Now()}.String())
	return mapErr(err)
}
