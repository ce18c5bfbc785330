package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/igny8/aiconfig/internal/domain"
)

const tokenCols = `id, name, role, COALESCE(account_id, ''), created_at, revoked_at`

func scanToken(row pgx.Row) (domain.Token, error) {
	var t domain.Token
	var role string
	if err := row.Scan(&t.ID, &t.Name, &role, &t.AccountID, &t.CreatedAt, &t.RevokedAt); err != nil {
		return t, err
	}
	var err error
	t.Role, err = domain.ParseRole(role)
	return t, err
}

// CreateToken stores a token's record and the hash of its secret.
func (s *Store) CreateToken(ctx context.Context, t domain.Token, secretHash []byte) (domain.Token, error) {
	var account any
	if t.AccountID != "" {
		account = t.AccountID
	}
	var out domain.Token
	err := s.write(ctx, func(w *Write) (err error) {
		out, err = scanToken(w.QueryRow(ctx, `INSERT INTO tokens (id, name, role, account_id, secret_hash) VALUES ($1, $2, $3, $4, $5)
			RETURNING `+tokenCols, t.ID, t.Name, t.Role.String(), account, secretHash))
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == pgForeignKeyViolation {
			return domain.AccountNotFound(t.AccountID)
		}
		if err != nil {
			return err
		}
		w.Record(ChangeToken, out.AccountID, "tokens/"+out.ID, nil, out)
		return nil
	})
	return out, err
}

const authenticateSQL = `SELECT id, name, role, COALESCE(account_id, '') FROM tokens
	WHERE secret_hash = $1 AND revoked_at IS NULL`

// Authenticate finds the active token whose secret hashes to secretHash.
func (s *Store) Authenticate(ctx context.Context, secretHash []byte) (domain.Principal, bool, error) {
	var p domain.Principal
	var role string
	err := s.pool.QueryRow(ctx, authenticateSQL, secretHash).Scan(&p.TokenID, &p.Name, &role, &p.AccountID)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, false, nil
	}
	if err != nil {
		return p, false, mapErr(err)
	}
	p.Role, err = domain.ParseRole(role)
	return p, err == nil, err
}

// ListTokens returns up to limit tokens with id > after, in id order.
func (s *Store) ListTokens(ctx context.Context, after string, limit int, includeRevoked bool) ([]domain.Token, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+tokenCols+` FROM tokens WHERE id > $1 AND ($3 OR revoked_at IS NULL) ORDER BY id LIMIT $2`,
		after, limit, includeRevoked)
	if err != nil {
		return nil, mapErr(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.Token, error) { return scanToken(r) })
	return out, mapErr(err)
}

// RevokeToken marks a token revoked; revoking twice keeps the first time.
func (s *Store) RevokeToken(ctx context.Context, id string) (domain.Token, error) {
	var out domain.Token
	err := s.write(ctx, func(w *Write) error {
		before, err := scanToken(w.QueryRow(ctx, `SELECT `+tokenCols+` FROM tokens WHERE id = $1`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return domain.NotFound(domain.ReasonTokenNotFound, "token %q does not exist", id)
		}
		if err != nil {
			return err
		}
		if out, err = scanToken(w.QueryRow(ctx, `UPDATE tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING `+tokenCols,
			id, time.Now())); err != nil {
			return err
		}
		w.Record(ChangeToken, out.AccountID, "tokens/"+id, before, out)
		return nil
	})
	return out, err
}
