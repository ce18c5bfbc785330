package access

import (
	"context"
	"net"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"google.golang.org/grpc/peer"

	"github.com/igny8/aiconfig/internal/audit"
	"github.com/igny8/aiconfig/internal/domain"
)

// Limits are the flood defences of SPEC 16, per second with a burst.
type Limits struct {
	// Unauthenticated bounds, per peer address, calls without a valid token
	// and lookups of tokens not known in memory.
	Unauthenticated      float64
	UnauthenticatedBurst int
	// Writes bounds write calls per token.
	Writes      float64
	WritesBurst int
}

// DefaultLimits are the production limits.
func DefaultLimits() Limits {
	return Limits{Unauthenticated: 20, UnauthenticatedBurst: 40, Writes: 50, WritesBurst: 100}
}

// bucket is a token bucket. (Hand-written rather than x/time/rate: a
// token lookup is let through while the bucket has a token, and charged
// only after it fails, possibly below zero.)
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
	// slots bound the token lookups in flight from one address to a burst.
	slots chan struct{}
}

func (b *bucket) refill(now time.Time) {
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
}

// take spends one token if there is one.
func (b *bucket) take() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(time.Now())
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// has reports whether there is a token, spending none.
func (b *bucket) has() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(time.Now())
	return b.tokens >= 1
}

// enter waits for a lookup slot (or the caller's deadline) and returns
// its release.
func (b *bucket) enter(ctx context.Context) (func(), error) {
	select {
	case b.slots <- struct{}{}:
		return func() { <-b.slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// charge spends a token after the fact: lookups in flight together (at
// most a burst, see enter) may take the bucket below zero, and the peer
// then waits the longer.
func (b *bucket) charge() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(time.Now())
	b.tokens = max(b.tokens-1, -b.burst)
}

// limiters is a bucket per key (a peer, a token), for the keys seen most
// recently: bounded, so a flood of keys cannot grow memory.
type limiters struct {
	rate  float64
	burst int
	lru   *lru.Cache[string, *bucket]
}

func newLimiters(rate float64, burst int) *limiters {
	c, _ := lru.New[string, *bucket](10000)
	return &limiters{rate: rate, burst: burst, lru: c}
}

func (l *limiters) get(key string) *bucket {
	if b, ok := l.lru.Get(key); ok {
		return b
	}
	b := &bucket{rate: l.rate, burst: float64(l.burst), tokens: float64(l.burst), last: time.Now(), slots: make(chan struct{}, l.burst)}
	l.lru.Add(key, b)
	return b
}

func rateLimited(what string) *domain.Error {
	return &domain.Error{Code: domain.CodeResourceExhausted, Reason: domain.ReasonRateLimited,
		Message: what + "; slow down and retry in a second", Metadata: map[string]string{"retry_after": "1s"}}
}

// Peer is the caller's address without its port (for HTTP/JSON calls, the
// HTTP client's).
func Peer(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(p.Addr.String())
	if err != nil {
		return p.Addr.String()
	}
	return host
}

// DeniedLog audits refused write attempts in aggregate: the first attempt
// of a (caller, RPC, reason) in a minute is recorded at once, the rest of
// that minute as one row with their count when the minute ends, so a flood
// adds at most two rows a minute per caller instead of one per attempt.
type DeniedLog struct {
	store  DeniedRecorder
	mu     sync.Mutex
	window map[deniedKey]*deniedWindow
	now    func() time.Time
}

type deniedKey struct {
	caller, rpc, reason string // caller: the token id, or the peer address
}

type deniedWindow struct {
	start   time.Time
	more    int        // attempts after the first
	call    audit.Call // the last of them, for the summary row
	peer    string
	account string
}

// DeniedRecorder writes the audit row of count refused attempts.
type DeniedRecorder interface {
	RecordDenied(ctx context.Context, reason, accountID, peer string, count int) error
}

// NewDeniedLog records into store.
func NewDeniedLog(store DeniedRecorder) *DeniedLog {
	return &DeniedLog{store: store, window: map[deniedKey]*deniedWindow{}, now: time.Now}
}

// note records one refused attempt.
func (d *DeniedLog) note(ctx context.Context, reason, account string) {
	call, p := audit.From(ctx), Peer(ctx)
	caller := call.Actor.TokenID
	if caller == "" {
		caller = "peer:" + p
	}
	key := deniedKey{caller, call.RPC, reason}
	d.mu.Lock()
	w, seen := d.window[key]
	if seen && d.now().Sub(w.start) < time.Minute {
		w.more++
		w.call, w.account = call, account
		d.mu.Unlock()
		return
	}
	d.window[key] = &deniedWindow{start: d.now(), call: call, peer: p, account: account}
	d.mu.Unlock()
	if seen && w.more > 0 {
		d.write(ctx, w, reason)
	}
	// Best effort: the refusal stands even if the database cannot record it.
	_ = d.store.RecordDenied(ctx, reason, account, p, 1)
}

func (d *DeniedLog) write(ctx context.Context, w *deniedWindow, reason string) {
	_ = d.store.RecordDenied(audit.WithCall(context.WithoutCancel(ctx), w.call), reason, w.account, w.peer, w.more)
}

// Flush writes the summaries of the minutes that have ended (all of them
// when final).
func (d *DeniedLog) Flush(ctx context.Context, final bool) {
	d.mu.Lock()
	var done []*deniedWindow
	var reasons []string
	for k, w := range d.window {
		if final || d.now().Sub(w.start) >= time.Minute {
			delete(d.window, k)
			if w.more > 0 {
				done, reasons = append(done, w), append(reasons, k.reason)
			}
		}
	}
	d.mu.Unlock()
	for i, w := range done {
		d.write(ctx, w, reasons[i])
	}
}

// Run flushes every few seconds until ctx ends, then flushes all.
func (d *DeniedLog) Run(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			d.Flush(context.Background(), true)
			return
		case <-t.C:
			d.Flush(ctx, false)
		}
	}
}
