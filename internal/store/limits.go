package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/igny8/aiconfig/internal/domain"
)

const planLimitCols = `plan, kind, max_items, revision`

func scanPlanLimit(row pgx.Row) (domain.PlanLimit, error) {
	var l domain.PlanLimit
	var plan, kind string
	if err := row.Scan(&plan, &kind, &l.MaxItems, &l.Revision); err != nil {
		return l, err
	}
	var err error
	if l.Plan, err = domain.ParsePlan(plan); err != nil {
		return l, err
	}
	l.Kind, err = domain.ParseItemKind(kind)
	return l, err
}

// queuePlanLimits queues the read of every plan limit into out.
func queuePlanLimits(b *pgx.Batch, out *[]domain.PlanLimit) {
	b.Queue(`SELECT ` + planLimitCols + ` FROM plan_limits
		ORDER BY kind, array_position(ARRAY['starter', 'growth', 'scale'], plan)`).Query(func(rows pgx.Rows) (err error) {
		*out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.PlanLimit, error) { return scanPlanLimit(r) })
		return err
	})
}

// ListPlanLimits returns every plan limit, by kind and plan.
func (s *Store) ListPlanLimits(ctx context.Context) ([]domain.PlanLimit, error) {
	var out []domain.PlanLimit
	err := s.readBatch(ctx, func(b *pgx.Batch) { queuePlanLimits(b, &out) })
	return out, err
}

// UpdatePlanLimit sets one plan limit (validated by the caller) as one write.
func (s *Store) UpdatePlanLimit(ctx context.Context, l domain.PlanLimit, expected *int64) (domain.PlanLimit, error) {
	var out domain.PlanLimit
	err := s.write(ctx, func(w *Write) (err error) {
		out, err = writePlanLimit(ctx, w, l, expected)
		return err
	})
	return out, err
}

// writePlanLimit creates or replaces one plan limit and records it.
func writePlanLimit(ctx context.Context, w *Write, l domain.PlanLimit, expected *int64) (domain.PlanLimit, error) {
	before, err := existing(scanPlanLimit(w.QueryRow(ctx, `SELECT `+planLimitCols+` FROM plan_limits WHERE plan = $1 AND kind = $2`,
		l.Plan.String(), l.Kind.String())))
	if err != nil {
		return l, err
	}
	resource := "plan_limits/" + l.Plan.String() + "/" + l.Kind.String()
	var rev int64
	if before != nil {
		rev = before.Revision
	}
	if err := checkExpected(resource, expected, rev); err != nil {
		return l, err
	}
	out, err := scanPlanLimit(w.QueryRow(ctx, `INSERT INTO plan_limits (`+planLimitCols+`) VALUES ($1, $2, $3, $4)
		ON CONFLICT (plan, kind) DO UPDATE SET max_items = EXCLUDED.max_items, revision = EXCLUDED.revision
		RETURNING `+planLimitCols, l.Plan.String(), l.Kind.String(), l.MaxItems, w.Rev))
	if err != nil {
		return out, err
	}
	w.Record(ChangeGlobal, "", resource, before, out)
	return out, nil
}
