package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/secret"
)

// sealPlaintextKeys seals API keys stored in plaintext before migration
// 0003 (the step between 0003 and 0004 of MigrateUp), in one transaction.
func sealPlaintextKeys(ctx context.Context, databaseURL string, keys *secret.Keyring) error {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT integration, api_key FROM global_integration_defaults WHERE api_key <> '' FOR UPDATE`)
		if err != nil {
			return err
		}
		type plain struct{ integ, key string }
		found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (plain, error) {
			var p plain
			return p, r.Scan(&p.integ, &p.key)
		})
		if err != nil || len(found) == 0 {
			return err
		}
		if keys == nil {
			return fmt.Errorf("%d plaintext API keys must be sealed: %w", len(found), secret.ErrNoKey)
		}
		for _, p := range found {
			integ, err := domain.ParseIntegration(p.integ)
			if err != nil {
				return err
			}
			sealed, err := keys.Seal(p.key, domain.KeyAAD(integ))
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE global_integration_defaults SET api_key_sealed = $2, api_key_hint = $3, api_key = ''
				WHERE integration = $1`, p.integ, sealed, secret.Hint(p.key)); err != nil {
				return err
			}
		}
		return nil
	})
}

// CheckKeys opens every stored API key with the configured keyring, so a
// missing or wrong secret key stops the server at start, not at a worker's
// first call.
func (s *Store) CheckKeys(ctx context.Context, keys *secret.Keyring) error {
	g, err := s.GetGlobal(ctx)
	if err != nil {
		return err
	}
	var problems keysError
	for _, integ := range domain.Integrations {
		d := g.Defaults[integ]
		if !d.APIKey.IsSet() {
			continue
		}
		if _, err := keys.Open(d.APIKey.Sealed, domain.KeyAAD(integ)); err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", integ, err))
		}
	}
	if len(problems) > 0 {
		return problems
	}
	return nil
}

// keysError lists every stored key that does not open, keeping the causes
// (errors.Is finds secret.ErrNoKey, so `serve` can say where a dev key is).
type keysError []error

func (e keysError) Error() string {
	parts := make([]string, len(e))
	for i, err := range e {
		parts[i] = err.Error()
	}
	return "stored API keys cannot be opened: " + strings.Join(parts, "; ")
}

func (e keysError) Unwrap() []error { return e }

// RotateKeys re-seals every stored API key under the keyring's active key
// in one transaction, and returns how many it re-sealed.
func (s *Store) RotateKeys(ctx context.Context, keys *secret.Keyring) (int, error) {
	if keys == nil {
		return 0, secret.ErrNoKey
	}
	n := 0
	err := s.write(ctx, func(w *Write) error {
		// Never seal under a key a live replica cannot open: its callers
		// would fail until it has the key.
		lacking, err := replicasLacking(ctx, w, keys.ActiveID())
		if err != nil {
			return err
		}
		if len(lacking) > 0 {
			return keyNotDeployed(keys.ActiveID(), lacking)
		}
		rows, err := w.Query(ctx, `SELECT integration, api_key_sealed FROM global_integration_defaults WHERE api_key_sealed <> ''`)
		if err != nil {
			return err
		}
		type row struct{ integ, sealed string }
		found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			return x, r.Scan(&x.integ, &x.sealed)
		})
		if err != nil {
			return err
		}
		for _, x := range found {
			integ, err := domain.ParseIntegration(x.integ)
			if err != nil {
				return err
			}
			plain, err := keys.Open(x.sealed, domain.KeyAAD(integ))
			if err != nil {
				return fmt.Errorf("%s: %w", x.integ, err)
			}
			resealed, err := keys.Seal(plain, domain.KeyAAD(integ))
			if err != nil {
				return err
			}
			if _, err := w.Exec(ctx, `UPDATE global_integration_defaults SET api_key_sealed = $2 WHERE integration = $1`, x.integ, resealed); err != nil {
				return err
			}
			n++
		}
		// The layer's sealed keys changed: caches load it again.
		if _, err := w.Exec(ctx, `UPDATE global_settings SET revision = $1 WHERE id = 1`, w.Rev); err != nil {
			return err
		}
		w.Record(ChangeGlobal, "", "global_settings", nil, map[string]any{"resealed_keys": n, "active_key_id": keys.ActiveID()})
		return nil
	})
	return n, err
}
