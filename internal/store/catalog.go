package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/igny8/aiconfig/internal/domain"
)

const modelCols = `integration, model, display_name, enabled, max_output_tokens, min_temperature, max_temperature,
	image_sizes, image_qualities, image_styles, revision`

func scanModel(row pgx.Row) (domain.Model, error) {
	var m domain.Model
	var integ string
	err := row.Scan(&integ, &m.ID, &m.DisplayName, &m.Enabled, &m.MaxOutputTokens, &m.MinTemperature, &m.MaxTemperature,
		&m.ImageSizes, &m.ImageQualities, &m.ImageStyles, &m.Revision)
	if err != nil {
		return m, err
	}
	m.Integration, err = domain.ParseIntegration(integ)
	return m, err
}

func listModels(ctx context.Context, q pgx.Tx) ([]domain.Model, error) {
	var out []domain.Model
	b := &pgx.Batch{}
	queueModels(b, &out)
	return out, q.SendBatch(ctx, b).Close()
}

// queueModels queues the read of the whole catalog into out.
func queueModels(b *pgx.Batch, out *[]domain.Model) {
	b.Queue(`SELECT ` + modelCols + ` FROM models ORDER BY integration, model`).Query(func(rows pgx.Rows) error {
		var err error
		*out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.Model, error) { return scanModel(r) })
		return err
	})
}

// ListModels returns the whole catalog.
func (s *Store) ListModels(ctx context.Context) ([]domain.Model, error) {
	var out []domain.Model
	err := s.readBatch(ctx, func(b *pgx.Batch) { queueModels(b, &out) })
	return out, err
}

// CatalogCheck decides whether a catalog change may be stored, given the
// global settings and the whole catalog as it would be.
type CatalogCheck func(g domain.GlobalSettings, after []domain.Model) error

// UpsertModel creates or replaces a catalog entry, if check accepts the
// catalog it would make with the global settings as they are.
func (s *Store) UpsertModel(ctx context.Context, m domain.Model, expected *int64, check CatalogCheck) (domain.Model, error) {
	var out domain.Model
	err := s.write(ctx, func(w *Write) error {
		g, err := loadGlobal(ctx, w)
		if err != nil {
			return err
		}
		models, err := listModels(ctx, w)
		if err != nil {
			return err
		}
		var before *domain.Model
		after := make([]domain.Model, 0, len(models)+1)
		for _, x := range models {
			if x.Integration == m.Integration && x.ID == m.ID {
				before = &x
				continue
			}
			after = append(after, x)
		}
		var cur int64
		if before != nil {
			cur = before.Revision
		}
		if err := checkExpected(fmt.Sprintf("model %s/%s", m.Integration, m.ID), expected, cur); err != nil {
			return err
		}
		if err := check(g, append(after, m)); err != nil {
			return err
		}
		out, err = writeModel(ctx, w, m, before)
		return err
	})
	return out, err
}

// writeModel creates or replaces a catalog row (before is the row it
// replaces, or nil) and records it.
func writeModel(ctx context.Context, w *Write, m domain.Model, before *domain.Model) (domain.Model, error) {
	out, err := scanModel(w.QueryRow(ctx, `
		INSERT INTO models (`+modelCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (integration, model) DO UPDATE SET display_name = EXCLUDED.display_name, enabled = EXCLUDED.enabled,
			max_output_tokens = EXCLUDED.max_output_tokens, min_temperature = EXCLUDED.min_temperature,
			max_temperature = EXCLUDED.max_temperature, image_sizes = EXCLUDED.image_sizes,
			image_qualities = EXCLUDED.image_qualities, image_styles = EXCLUDED.image_styles, revision = EXCLUDED.revision
		RETURNING `+modelCols,
		m.Integration.String(), m.ID, m.DisplayName, m.Enabled, m.MaxOutputTokens, m.MinTemperature, m.MaxTemperature,
		nonNil(m.ImageSizes), nonNil(m.ImageQualities), nonNil(m.ImageStyles), w.Rev))
	if err != nil {
		return out, err
	}
	w.Record(ChangeCatalog, "", "models/"+m.Integration.String()+"/"+m.ID, before, out)
	return out, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

var errNoGlobal = errors.New("global settings row is missing: the schema was not migrated")
