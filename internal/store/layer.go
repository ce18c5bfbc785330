package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/igny8/aiconfig/internal/domain"
)

// LayerChanges is what an import writes to the global layer.
type LayerChanges struct {
	Settings *domain.GlobalSettings // nil: unchanged
	Models   []domain.Model
	Prompts  []domain.GlobalPrompt
}

// ApplyLayer plans against the global layer as it is under the singleton's
// row lock and writes the plan in the same transaction, every change
// audited: all of it or none of it.
func (s *Store) ApplyLayer(ctx context.Context, plan func(cur GlobalLayer) (LayerChanges, error)) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := loadLayer(ctx, tx, forUpdate)
		if err != nil {
			return err
		}
		ch, err := plan(cur)
		if err != nil {
			return err
		}
		rev, err := nextRevision(ctx, tx)
		if err != nil {
			return err
		}
		for _, m := range ch.Models {
			var before *domain.Model
			for _, x := range cur.Models {
				if x.Integration == m.Integration && x.ID == m.ID {
					before = &x
				}
			}
			out, err := writeModel(ctx, tx, m, rev)
			if err != nil {
				return err
			}
			if err := recordAudit(ctx, tx, "models/"+m.Integration.String()+"/"+m.ID, "", before, out); err != nil {
				return err
			}
		}
		if ch.Settings != nil {
			next := *ch.Settings
			if err := writeSettings(ctx, tx, next, rev); err != nil {
				return err
			}
			next.Revision = rev
			if err := recordAudit(ctx, tx, "global_settings", "", cur.Settings, next); err != nil {
				return err
			}
		}
		for _, p := range ch.Prompts {
			var before *domain.GlobalPrompt
			for _, x := range cur.Prompts {
				if x.PromptType == p.PromptType {
					before = &x
				}
			}
			old := ""
			if before != nil {
				old = before.Text
			}
			out, err := writeGlobalPrompt(ctx, tx, p, old, rev)
			if err != nil {
				return err
			}
			if err := recordAudit(ctx, tx, "global_prompts/"+p.PromptType, "", before, out); err != nil {
				return err
			}
		}
		return announce(ctx, tx, Change{Revision: rev, Kind: ChangeGlobal, Key: "-"})
	})
}
