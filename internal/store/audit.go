package store

import (
	"context"
	"encoding/json"
	"reflect"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/igny8/aiconfig/internal/audit"
	"github.com/igny8/aiconfig/internal/domain"
)

// Audit outcomes.
const (
	OutcomeOK     = "ok"
	OutcomeDenied = "denied"
)

// toJSON is the audit form of a domain value: nil (SQL NULL) for none, a
// nil pointer included (a create's "before"); it never holds a secret
// (domain.SealedKey marshals as its hint).
func toJSON(v any) ([]byte, error) {
	if rv := reflect.ValueOf(v); !rv.IsValid() || rv.Kind() == reflect.Pointer && rv.IsNil() {
		return nil, nil
	}
	return json.Marshal(v)
}

// execer is what a transaction and the pool share.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func insertAudit(ctx context.Context, q execer, c audit.Call, resource, accountID, outcome, reason string, before, after []byte) error {
	return insertAuditRow(ctx, q, c, resource, accountID, outcome, reason, before, after, "", 1)
}

func insertAuditRow(ctx context.Context, q execer, c audit.Call, resource, accountID, outcome, reason string, before, after []byte, peer string, count int) error {
	_, err := q.Exec(ctx, auditInsert, auditArgs(c, resource, accountID, outcome, reason, before, after, peer, count)...)
	return err
}

const auditInsert = `INSERT INTO audit_events (actor_token_id, actor_name, actor_role, rpc, resource, account_id, outcome, reason, before, after,
		request_id, peer, count)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`

func auditArgs(c audit.Call, resource, accountID, outcome, reason string, before, after []byte, peer string, count int) []any {
	var acct any
	if accountID != "" {
		acct = accountID
	}
	return []any{c.Actor.TokenID, c.Actor.Name, roleName(c.Actor.Role), c.RPC, resource, acct, outcome, reason, before, after, c.RequestID, peer, count}
}

func roleName(r domain.Role) string {
	if !r.Valid() {
		return ""
	}
	return r.String()
}

// RecordDenied appends the audit row of count refused write attempts from
// peer (the caller is the context's call).
func (s *Store) RecordDenied(ctx context.Context, reason, accountID, peer string, count int) error {
	return mapErr(insertAuditRow(ctx, s.pool, audit.From(ctx), "", accountID, OutcomeDenied, reason, nil, nil, peer, count))
}

// AuditFilter selects audit events; zero fields match anything.
type AuditFilter struct {
	AccountID string
	Resource  string // exact, or a prefix when it ends in "/"
	ActorName string
	Start     time.Time
	End       time.Time
}

// ListAuditEvents returns up to limit events with id < before (0: from
// the newest), newest first.
func (s *Store) ListAuditEvents(ctx context.Context, f AuditFilter, before int64, limit int) ([]domain.AuditEvent, error) {
	var start, end *time.Time
	if !f.Start.IsZero() {
		start = &f.Start
	}
	if !f.End.IsZero() {
		end = &f.End
	}
	rows, err := s.pool.Query(ctx, `
		SELECT id, created_at, actor_token_id, actor_name, actor_role, rpc, resource, COALESCE(account_id, ''), outcome, reason,
			before, after, request_id, peer, count
		FROM audit_events
		WHERE ($1 = '' OR account_id = $1)
			AND ($2 = '' OR resource = $2 OR (right($2, 1) = '/' AND starts_with(resource, $2)))
			AND ($3 = '' OR actor_name = $3)
			AND ($4::timestamptz IS NULL OR created_at >= $4)
			AND ($5::timestamptz IS NULL OR created_at < $5)
			AND ($6 = 0 OR id < $6)
		ORDER BY id DESC LIMIT $7`, f.AccountID, f.Resource, f.ActorName, start, end, before, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.AuditEvent, error) {
		var e domain.AuditEvent
		var role string
		err := r.Scan(&e.ID, &e.CreatedAt, &e.ActorTokenID, &e.ActorName, &role, &e.RPC, &e.Resource, &e.AccountID, &e.Outcome,
			&e.Reason, &e.Before, &e.After, &e.RequestID, &e.Peer, &e.Count)
		e.ActorRole, _ = domain.ParseRole(role)
		return e, err
	})
	return out, mapErr(err)
}
