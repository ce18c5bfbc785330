// Package audit carries the call in progress through a context: who is
// calling (the authenticated principal), which RPC, under which request
// id. The access layer reads the caller from it, the store writes the
// audit row of a change in the change's own transaction from it, and the
// call log names the caller from it. It is the one value a call adds to
// its context.
package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync"
	"sync/atomic"

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
	mu        sync.Mutex
	call      Call
	principal *domain.Principal // the authenticated caller, shared: not to be modified
}

type callKey struct{}

// WithCall stores the call in a context. An empty RequestID is made when
// something first needs one (an audit row, a log line, an answer header):
// most reads never do.
func WithCall(ctx context.Context, c Call) context.Context {
	h := &holder{call: c}
	if c.Actor != (domain.Principal{}) {
		h.principal = &c.Actor
	}
	return context.WithValue(ctx, callKey{}, h)
}

func holderOf(ctx context.Context) *holder {
	h, _ := ctx.Value(callKey{}).(*holder)
	return h
}

// From returns the call, with its request id; without one the actor is
// "system" (a code path outside any RPC or command, which should not write).
func From(ctx context.Context) Call {
	h := holderOf(ctx)
	if h == nil {
		return Call{Actor: domain.Principal{Name: "system"}, RPC: "unknown"}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.call.RequestID == "" {
		h.call.RequestID = NewRequestID()
	}
	return h.call
}

// RequestID is the call's request id if it has one yet ("" otherwise).
func RequestID(ctx context.Context) string {
	h := holderOf(ctx)
	if h == nil {
		return ""
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.call.RequestID
}

// SetActor records the caller of the context's call; p is shared, not
// copied (the hot path avoids an allocation): do not modify it afterwards.
func SetActor(ctx context.Context, p *domain.Principal) {
	if h := holderOf(ctx); h != nil {
		h.mu.Lock()
		h.call.Actor, h.principal = *p, p
		h.mu.Unlock()
	}
}

// WithActor is ctx with p as its call's caller, starting a call record
// if ctx has none (an in-process caller).
func WithActor(ctx context.Context, p *domain.Principal) context.Context {
	if holderOf(ctx) == nil {
		ctx = context.WithValue(ctx, callKey{}, &holder{})
	}
	SetActor(ctx, p)
	return ctx
}

// Actor returns the authenticated caller, if any.
func Actor(ctx context.Context) (*domain.Principal, bool) {
	h := holderOf(ctx)
	if h == nil {
		return nil, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.principal, h.principal != nil
}

// Generated ids are a random per-process prefix and a counter: unique
// across replicas and restarts in practice, and cheap.
var (
	idPrefix = func() string {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b) + "-"
	}()
	idCounter atomic.Uint64
)

// NewRequestID makes a request id.
func NewRequestID() string { return idPrefix + strconv.FormatUint(idCounter.Add(1), 36) }
