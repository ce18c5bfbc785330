package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/igny8/aiconfig/internal/domain"
)

// LayerChanges is what an import writes to the global layer.
type LayerChanges struct {
	Settings   *domain.GlobalSettings // nil: unchanged
	Models     []domain.Model
	Items      []domain.GlobalItem // global items to create or replace, of any kind
	PlanLimits []domain.PlanLimit
}

// ApplyLayer plans against the global layer as it is and writes the plan
// as one write, every change audited: all of it or none of it.
//
//nolint:gocognit // one transaction applying a layer's rows in order; issue 22 item 3 tracks splitting it
func (s *Store) ApplyLayer(ctx context.Context, plan func(cur GlobalLayer) (LayerChanges, error)) error {
	return s.write(ctx, func(w *Write) error {
		var cur GlobalLayer
		b := &pgx.Batch{}
		queueLayer(b, &cur)
		if err := w.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		ch, err := plan(cur)
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
			if _, err := writeModel(ctx, w, m, before); err != nil {
				return err
			}
		}
		// Items before settings: the settings may name a new item as default.
		for _, it := range ch.Items {
			var before *domain.GlobalItem
			for _, x := range cur.Items {
				if x.Kind == it.Kind && x.ID == it.ID {
					before = &x
				}
			}
			if _, _, err := writeGlobalItem(ctx, w, it, before, domain.ActionUpsertGlobal); err != nil {
				return err
			}
		}
		if ch.Settings != nil {
			next := *ch.Settings
			if err := writeSettings(ctx, w, &next); err != nil {
				return err
			}
			w.Record(ChangeGlobal, "", "global_settings", cur.Settings, next)
		}
		for _, l := range ch.PlanLimits {
			if _, err := writePlanLimit(ctx, w, l, nil); err != nil {
				return err
			}
		}
		return nil
	})
}
