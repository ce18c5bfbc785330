package client

import (
	"container/list"
	"context"
	"sync"
	"time"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
)

// kind is what a cached answer answers. With the account and a name (the
// function, the prompt type, ...) it is the answer's key; a new cached
// read is one more kind and one more call to load (see client.go).
type kind uint8

const (
	kindModelConfig kind = iota + 1
	kindEffectivePrompt
	kindGenerationContext
)

// key is small on purpose: every cached read hashes it (two more string
// fields cost a ModelConfig read a quarter of its time), so a generation
// context's profile and strategy ids go into its name (contextName).
type key struct {
	account string
	kind    kind
	name    string
}

type entry struct {
	key key
	val any
}

// cache holds answers, at most max of them (the least recently used go
// first), and the position of the change feed that keeps them exact.
//
// Exactness rests on three rules, all under mu:
//   - an answer is served as fresh only while the feed is in step: the
//     current stream has replayed what was missed and said so (its first
//     progress event);
//   - a change drops the entries it may affect (an account's, or all);
//   - a load stores its answer only if the feed was in step when it began
//     and still is, without a break between, and no change affecting its
//     account was applied meanwhile (its ticket). An answer that may
//     predate a change applied while it was in flight is returned to its
//     caller but not kept; one that predates a change applied after it is
//     stored is dropped by that change.
type cache struct {
	mu      sync.Mutex
	max     int
	entries map[key]*list.Element // values are *entry
	lru     list.List             // most recently used first
	byAcct  map[string][]*list.Element
	loads   map[string]*loads // loads in flight, per account
	epoch   uint64            // moves when everything is dropped

	pos      int64     // the last revision applied
	inStep   bool      // the current stream has caught up
	session  uint64    // moves whenever the feed leaves step
	leftStep time.Time // when it last did

	hits, misses, staleServed, invalidations, restarts uint64

	// firstStep is closed when the feed first comes in step, or its first
	// attempt fails: until then a load waits for it (briefly), so that
	// the answers a worker reads at start are kept (see awaitFirstStep).
	firstStep     chan struct{}
	firstStepOnce sync.Once
}

// firstStepDone ends the wait for the feed's first step.
func (c *cache) firstStepDone() { c.firstStepOnce.Do(func() { close(c.firstStep) }) }

// firstStepWait bounds how long a load waits for a starting feed.
const firstStepWait = time.Second

// awaitFirstStep waits, at most firstStepWait and within ctx, for a
// starting feed to come in step, and reports whether it is. An answer
// loaded before would not be kept (the feed, started later, might never
// announce a write made in between), so a worker that reads once at
// start, then loses the server, would have nothing to fall back on.
func (c *cache) awaitFirstStep(ctx context.Context) bool {
	select {
	case <-c.firstStep:
		return false
	default:
	}
	t := time.NewTimer(firstStepWait)
	defer t.Stop()
	select {
	case <-c.firstStep:
	case <-t.C:
	case <-ctx.Done():
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inStep
}

// loads counts an account's loads in flight, and how often its entries
// were dropped while some were.
type loads struct {
	n   int
	gen uint64
}

// ticket is a load's claim to store its answer when it returns.
type ticket struct {
	l                   *loads
	gen, epoch, session uint64
}

func newCache(max int) *cache {
	c := &cache{max: max, entries: map[key]*list.Element{}, byAcct: map[string][]*list.Element{}, loads: map[string]*loads{},
		firstStep: make(chan struct{})}
	if max <= 0 { // no feed to wait for
		c.firstStepDone()
	}
	return c
}

// get returns a fresh answer: one held while the feed is in step.
func (c *cache) get(k key) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[k]
	if !ok || !c.inStep {
		c.misses++
		return nil, false
	}
	c.hits++
	c.lru.MoveToFront(el)
	return el.Value.(*entry).val, true //nolint:forcetypeassert // the LRU list holds only *entry
}

// fallback returns what is held for k, fresh or not, if the feed left step
// less than maxStale ago: the answer to serve when the server cannot.
func (c *cache) fallback(k key, maxStale time.Duration) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[k]
	if !ok || (!c.inStep && time.Since(c.leftStep) >= maxStale) {
		return nil, false
	}
	return el.Value.(*entry).val, true //nolint:forcetypeassert // the LRU list holds only *entry
}

// served counts a fallback answer that was served.
func (c *cache) served() {
	c.mu.Lock()
	c.staleServed++
	c.mu.Unlock()
}

// begin registers a load for account; nil when its answer cannot be kept
// (the feed is not in step, the cache is off, or no account is named).
func (c *cache) begin(account string) *ticket {
	c.mu.Lock()
	defer c.mu.Unlock()
	// With no account named (an ACCOUNT token's own) no change event
	// would name the entry: it could not be kept exact.
	if !c.inStep || c.max <= 0 || account == "" {
		return nil
	}
	l := c.loads[account]
	if l == nil {
		l = &loads{}
		c.loads[account] = l
	}
	l.n++
	return &ticket{l: l, gen: l.gen, epoch: c.epoch, session: c.session}
}

// finish ends the load of t and stores val under k if nothing that may
// have changed it happened since begin (ok false: the load failed).
func (c *cache) finish(t *ticket, k key, val any, ok bool) {
	if t == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.l.n--; t.l.n == 0 {
		delete(c.loads, k.account)
	}
	if !ok || !c.inStep || t.gen != t.l.gen || t.epoch != c.epoch || t.session != c.session {
		return
	}
	if el, found := c.entries[k]; found {
		el.Value.(*entry).val = val //nolint:forcetypeassert // the LRU list holds only *entry
		c.lru.MoveToFront(el)
		return
	}
	el := c.lru.PushFront(&entry{key: k, val: val})
	c.entries[k] = el
	c.byAcct[k.account] = append(c.byAcct[k.account], el)
	for len(c.entries) > c.max {
		c.evict(c.lru.Back())
	}
}

func (c *cache) evict(el *list.Element) {
	k := el.Value.(*entry).key //nolint:forcetypeassert // the LRU list holds only *entry
	c.lru.Remove(el)
	delete(c.entries, k)
	els := c.byAcct[k.account]
	for i := range els {
		if els[i] == el {
			els[i] = els[len(els)-1]
			els = els[:len(els)-1]
			break
		}
	}
	if len(els) == 0 {
		delete(c.byAcct, k.account)
	} else {
		c.byAcct[k.account] = els
	}
}

func (c *cache) dropAccount(account string) {
	for _, el := range c.byAcct[account] {
		c.lru.Remove(el)
		delete(c.entries, el.Value.(*entry).key) //nolint:forcetypeassert // the LRU list holds only *entry
	}
	delete(c.byAcct, account)
	if l := c.loads[account]; l != nil {
		l.gen++
	}
}

func (c *cache) dropAll() {
	clear(c.entries)
	clear(c.byAcct)
	c.lru.Init()
	c.epoch++
}

// apply applies one event of the change feed; it reports whether the
// event brought the feed in step.
func (c *cache) apply(ch *pb.Change) (caughtUp bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case ch.GetProgress():
		caughtUp = !c.inStep
		c.inStep = true // everything up to the revision is applied
		c.firstStepDone()
	case ch.GetKind() == pb.ChangeKind_CHANGE_KIND_TOKEN:
		// Tokens are checked by the server on every call.
	case ch.GetKind() == pb.ChangeKind_CHANGE_KIND_ACCOUNT && ch.GetAccountId() != "":
		c.invalidations++
		c.dropAccount(ch.GetAccountId())
	default:
		// Global settings or prompts, the catalog, a write over several
		// accounts, or a kind newer than this client: anything may have
		// changed.
		c.invalidations++
		c.dropAll()
	}
	c.pos = max(c.pos, ch.GetRevision())
	return caughtUp
}

// leave records that the stream ended; it reports whether it was in step.
func (c *cache) leave() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	was := c.inStep
	if was {
		c.inStep, c.leftStep = false, time.Now()
	}
	c.session++
	return was
}

// restart drops everything: the changes after the feed's position are no
// longer kept, so the feed resumes from the oldest one that is.
func (c *cache) restart(oldest int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.restarts++
	c.dropAll()
	c.pos = oldest
}

func (c *cache) position() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pos
}

// Stats are the client's counters, for metrics and tests.
type Stats struct {
	// Hits are reads answered from memory as fresh; Misses, reads that
	// called the server; StaleServed, answers served from memory because
	// the server could not answer.
	Hits, Misses, StaleServed uint64
	// Invalidations are changes that dropped entries; Restarts, times the
	// cache was dropped because the feed's history was compacted past it.
	Invalidations, Restarts uint64
	Entries                 int
	// InStep is true while the change feed is followed up to date;
	// Revision is the last revision it applied.
	InStep   bool
	Revision int64
}

func (c *cache) stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Hits: c.hits, Misses: c.misses, StaleServed: c.staleServed, Invalidations: c.invalidations,
		Restarts: c.restarts, Entries: len(c.entries), InStep: c.inStep, Revision: c.pos}
}
