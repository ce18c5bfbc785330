package store

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Tracing makes a span for each query run inside a traced call, as a
// child of the call's span; tp nil leaves the pool untraced (no cost).
func Tracing(tp trace.TracerProvider) Option {
	return func(c *pgxpool.Config) {
		if tp != nil {
			c.ConnConfig.Tracer = queryTracer{tp.Tracer("github.com/igny8/aiconfig/internal/store")}
		}
	}
}

// queryTracer is pgx's hook. A query without a span in its context (the
// change feed's poll, health checks) makes none: each would be a new
// trace every second, on every replica.
type queryTracer struct{ tracer trace.Tracer }

type querySpanKey struct{}

func (q queryTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	op, _, _ := strings.Cut(strings.TrimSpace(data.SQL), " ")
	op = strings.ToUpper(op)
	// The statement is parameterized: its text holds no value, so no
	// secret; the arguments are not recorded.
	ctx, span := q.tracer.Start(ctx, op, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("db.system.name", "postgresql"),
		attribute.String("db.operation.name", op),
		attribute.String("db.query.text", data.SQL)))
	return context.WithValue(ctx, querySpanKey{}, span)
}

func (queryTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	span, ok := ctx.Value(querySpanKey{}).(trace.Span)
	if !ok {
		return
	}
	if data.Err != nil && !errors.Is(data.Err, pgx.ErrNoRows) {
		span.SetStatus(codes.Error, "query failed")
		// The error's text, as mapErr's, never carries values; keep the
		// SQLSTATE only, like the errors callers see.
		span.SetAttributes(attribute.String("error.type", errorType(data.Err)))
	}
	span.End()
}

func errorType(err error) string {
	var pgErr interface{ SQLState() string }
	if errors.As(err, &pgErr) {
		return pgErr.SQLState()
	}
	return "_OTHER" // the semantic conventions' name for an unclassified error
}
