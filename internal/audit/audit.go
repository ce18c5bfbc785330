// Package audit carries who is calling which RPC through a context, so the
// store can write the audit row of a change in the change's own
// transaction, and the call log can name the caller.
package audit

import (
	"context"
	"sync"

	"github.com/igny8/aiconfig/internal/domain"
)

// Call describes the call in progress.
type Call struct {
	Actor     domain.Principal
	RPC       string // full method, or "cli:<command>"
	RequestID string
}

// holder is the per-call record in the context: created once when the
// call starts, and told the actor once the token is checked, so that
// outer layers (the call log) see what inner ones learned.
type holder struct {
	mu   sync.Mutex
	call Call
}

type callKey struct{}

// WithCall stores the call in a context.
func WithCall(ctx context.Context, c Call) context.Context {
	return context.WithValue(ctx, callKey{}, &holder{call: c})
}

// From returns the call; without one the actor is "system" (a code path
// outside any RPC or command, which should not write).
func From(ctx context.Context) Call {
	if h, ok := ctx.Value(callKey{}).(*holder); ok {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.call
	}
	return Call{Actor: domain.Principal{Name: "system"}, RPC: "unknown"}
}

// SetActor records the authenticated caller of the context's call.
func SetActor(ctx context.Context, p domain.Principal) {
	if h, ok := ctx.Value(callKey{}).(*holder); ok {
		h.mu.Lock()
		h.call.Actor = p
		h.mu.Unlock()
	}
}
