// Package audit carries who is calling which RPC through a context, so the
// store can write the audit row of a change in the change's own
// transaction.
package audit

import (
	"context"

	"github.com/igny8/aiconfig/internal/domain"
)

// Call describes the write in progress.
type Call struct {
	Actor     domain.Principal
	RPC       string // full method, or "cli:<command>"
	RequestID string
}

type callKey struct{}

// WithCall stores the call in a context.
func WithCall(ctx context.Context, c Call) context.Context {
	return context.WithValue(ctx, callKey{}, c)
}

// From returns the call; without one the actor is "system" (a code path
// outside any RPC or command, which should not write).
func From(ctx context.Context) Call {
	if c, ok := ctx.Value(callKey{}).(Call); ok {
		return c
	}
	return Call{Actor: domain.Principal{Name: "system"}, RPC: "unknown"}
}

// WithActor sets or replaces the actor of the context's call.
func WithActor(ctx context.Context, p domain.Principal) context.Context {
	c := From(ctx)
	c.Actor = p
	return WithCall(ctx, c)
}
