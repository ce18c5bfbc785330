// Package cache keeps the hot path (GetModelConfig, GetEffectivePrompt and
// token checks) in memory: the global layer whole; accounts within a byte
// budget, those that store nothing of their own as a few numbers each
// (plain.go), the others in an LRU; tokens in an LRU. PostgreSQL stays
// the truth: every write is a row of the change feed, which each replica
// follows in order (store.Follower, woken by NOTIFY), and a write's own
// replica hears it at once too; a stale entry is reloaded on its next use.
// When the database cannot be reached, a stale entry is served rather than
// failing the read; a token whose revocation may be pending is not.
package cache

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/store"
)

// Loader reads the truth; *store.Store is one.
type Loader interface {
	LoadGlobalLayer(ctx context.Context) (store.GlobalLayer, error)
	LoadAccountData(ctx context.Context, accountID string) (store.AccountData, error)
	LoadAccountAndLayer(ctx context.Context, accountID string, items bool) (store.AccountData, store.GlobalLayer, error)
	Authenticate(ctx context.Context, secretHash []byte) (domain.Principal, bool, error)
}

// Global is the global layer prepared for resolution.
type Global struct {
	Settings domain.GlobalSettings
	Catalog  domain.Catalog
	// Items are the global items of every kind; ItemList has them per
	// kind, in id order.
	Items    map[domain.ItemKey]domain.GlobalItem
	ItemList map[domain.ItemKind][]domain.GlobalItem
	// Revision is the newest revision in the layer.
	Revision int64

	// keys holds API keys opened for SERVICE callers, per integration, for
	// the life of this layer version (a key change loads a new layer).
	keys sync.Map
	// shared holds answers that depend only on this layer and a small key
	// (bounded by the caller, e.g. prompt type × plan).
	sharedMu sync.RWMutex
	shared   map[SharedKey][]byte
}

// SharedKey names an answer shared by many accounts (a struct, so that a
// lookup builds no string).
type SharedKey struct {
	Kind, Name string
	Plan       domain.Plan
}

// Shared returns the bytes kept under key for this layer version,
// computing them on first use. compute must depend only on the layer and
// the key, and keys must come from a small, bounded set.
func (g *Global) Shared(key SharedKey, compute func() ([]byte, error)) ([]byte, error) {
	g.sharedMu.RLock()
	b, ok := g.shared[key]
	g.sharedMu.RUnlock()
	if ok {
		return b, nil
	}
	b, err := compute()
	if err != nil {
		return nil, err
	}
	g.sharedMu.Lock()
	defer g.sharedMu.Unlock()
	if g.shared == nil {
		g.shared = map[SharedKey][]byte{}
	}
	g.shared[key] = b
	return b, nil
}

// APIKey opens a sealed key once per layer version; open does the work.
func (g *Global) APIKey(i domain.Integration, sealed string, open func(sealed string) (string, error)) (string, error) {
	if k, ok := g.keys.Load(i); ok {
		return k.(string), nil //nolint:forcetypeassert // keys holds only strings
	}
	k, err := open(sealed)
	if err != nil {
		return "", err
	}
	g.keys.Store(i, k)
	return k, nil
}

func newGlobal(l store.GlobalLayer) *Global {
	g := &Global{Settings: l.Settings, Catalog: domain.NewCatalog(l.Models),
		Items: map[domain.ItemKey]domain.GlobalItem{}, ItemList: map[domain.ItemKind][]domain.GlobalItem{}}
	g.Revision = max(l.Settings.Revision, g.Catalog.Revision())
	for _, it := range l.Items { // in kind and id order
		g.Items[domain.ItemKey{Kind: it.Kind, ID: it.ID}] = it
		g.ItemList[it.Kind] = append(g.ItemList[it.Kind], it)
		g.Revision = max(g.Revision, it.Revision)
	}
	for _, pl := range l.PlanLimits {
		g.Revision = max(g.Revision, pl.Revision)
	}
	return g
}

// Options configure a cache.
type Options struct {
	// Disabled makes every read go to the database (same code path), for
	// comparison and debugging.
	Disabled bool
	// MaxBytes bounds the memory the cached accounts take (estimated per
	// account); see trim for which go. Default 512 MiB.
	MaxBytes int64
	// MaxAccounts also bounds their number (0: only by MaxBytes).
	MaxAccounts int
	// MaxTokens bounds the token LRU; default 10000.
	MaxTokens int
	// LoadTimeout bounds one database load; default 5s.
	LoadTimeout time.Duration
}

type globalEntry struct {
	g     *Global
	stale atomic.Bool
}

// Account is one account's data as loaded, less its name (no answer needs
// it, and a million names are a million objects to keep). It is immutable
// once returned; a change loads a new one (and so starts with an empty
// memo).
type Account struct {
	store.AccountData
	// overridden has bit i set when Overrides holds integration i: the hot
	// path asks on every call, and a map lookup there is a cache miss.
	overridden uint32
	// memos are made on first use: most accounts (no override, no item of
	// their own) get answers shared per plan and never need any.
	memos atomic.Pointer[memos]
}

// memos are an account's own answers, memoized.
type memos struct {
	slot [MemoSlots]atomic.Pointer[memoEntry]
	// items holds memoized answers by item (domain.ItemKey → *memoEntry),
	// for answers that are few per account but not numbered: its stored
	// items.
	items sync.Map
}

func (a *Account) memo() *memos {
	if m := a.memos.Load(); m != nil {
		return m
	}
	a.memos.CompareAndSwap(nil, &memos{})
	return a.memos.Load()
}

func (a *Account) init(d store.AccountData) {
	a.AccountData = d
	a.Account.Name = ""
	for i := range d.Overrides {
		if i >= 0 && i < 32 {
			a.overridden |= 1 << i
		}
	}
}

// HasOverride reports whether the account stores an override for i.
func (a *Account) HasOverride(i domain.Integration) bool {
	if i < 0 || i >= 32 {
		_, ok := a.Overrides[i]
		return ok
	}
	return a.overridden&(1<<i) != 0
}

// MemoSlots is how many memoized answers an account can hold.
const MemoSlots = 8

type memoEntry struct {
	g *Global
	b []byte
}

// newMemoEntry keeps b right after the entry, in one allocation, when it
// is small (most answers are 100-130 bytes): a hit then reads one object
// instead of two, and with many accounts each is a cache miss. Entry and
// buffer fill Go's 160-byte size class.
func newMemoEntry(g *Global, b []byte) *memoEntry {
	if len(b) > memoInline {
		return &memoEntry{g: g, b: b}
	}
	m := &struct {
		memoEntry
		buf [memoInline]byte
	}{memoEntry: memoEntry{g: g}}
	m.b = m.buf[:copy(m.buf[:], b):len(b)]
	return &m.memoEntry
}

const memoInline = 128

// Memo returns the bytes kept in slot for this account data and global
// layer g, computing and keeping them on first use or after g changed.
// The GC scans only an entry's two leading pointers, never its bytes.
// compute must depend only on the account data, g and the slot.
func (a *Account) Memo(slot int, g *Global, compute func() ([]byte, error)) ([]byte, error) {
	m := a.memo()
	if e := m.slot[slot].Load(); e != nil && e.g == g {
		return e.b, nil
	}
	return remember(g, compute, m.slot[slot].Store)
}

// MemoItem is Memo keyed by an item the account stores (a bounded set).
func (a *Account) MemoItem(key domain.ItemKey, g *Global, compute func() ([]byte, error)) ([]byte, error) {
	m := a.memo()
	if v, ok := m.items.Load(key); ok {
		if e, ok := v.(*memoEntry); ok && e.g == g {
			return e.b, nil
		}
	}
	return remember(g, compute, func(e *memoEntry) { m.items.Store(key, e) })
}

// remember computes an answer for g and keeps it (a memo miss).
func remember(g *Global, compute func() ([]byte, error), keep func(*memoEntry)) ([]byte, error) {
	b, err := compute()
	if err != nil {
		return nil, err
	}
	keep(newMemoEntry(g, b))
	return b, nil
}

// accountEntry holds the account by value: a hit follows one pointer
// fewer (each is a likely cache miss with many accounts; make bench).
type accountEntry struct {
	epoch    uint64
	size     int64 // estimated, for MaxBytes
	stale    atomic.Bool
	promoted atomic.Int64 // unix nanos of the last move to the LRU front
	d        Account
}

// size estimates the memory an account's entry takes: the entry, its LRU
// node and map slot, its strings, and per override and item what they
// hold (the memos of an account with either, as they grow).
func (a *Account) size() int64 {
	n := 360 + len(a.Account.ID) + 64*len(a.Account.ItemDefaults) + 180*len(a.Overrides)
	for _, it := range a.Items {
		n += 200 + textSize(reflect.ValueOf(it.Content)) + textSize(reflect.ValueOf(it.Default))
	}
	if len(a.Overrides)+len(a.Items) > 0 {
		n += 1024
	}
	return int64(n)
}

// textSize adds up the strings a value holds.
func textSize(v reflect.Value) int {
	switch v.Kind() {
	case reflect.String:
		return v.Len()
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return 0
		}
		return textSize(v.Elem())
	case reflect.Slice:
		n := 24 * v.Len()
		for i := range v.Len() {
			n += textSize(v.Index(i))
		}
		return n
	case reflect.Struct:
		n := 0
		for i := range v.NumField() {
			n += textSize(v.Field(i))
		}
		return n
	}
	return 0
}

// promoteEvery bounds how often a hit takes the LRU's write lock to mark
// an entry recent: hits read under the shared lock (Peek), and recency is
// kept to within this interval, which is all eviction needs.
const promoteEvery = int64(time.Second)

// getAccount is an LRU hit without the exclusive lock on every call.
func (c *Cache) getAccount(id string) (*accountEntry, bool) {
	e, ok := c.accounts.Peek(id)
	if ok {
		if now := time.Now().UnixNano(); now-e.promoted.Load() > promoteEvery {
			e.promoted.Store(now)
			c.accounts.Get(id)
		}
	}
	return e, ok
}

type tokenEntry struct {
	p     domain.Principal
	epoch uint64 // must match tokenEpoch: a token change may be a revocation
}

// Stats are counters for metrics.
type Stats struct {
	Hits, Misses, StaleServed, Invalidations, ListenerResets atomic.Uint64
	// TokenLoads counts token lookups that went to the database.
	TokenLoads atomic.Uint64
}

// Cache is safe for concurrent use.
type Cache struct {
	load Loader
	opts Options

	global   atomic.Pointer[globalEntry]
	accounts *lru.Cache[string, *accountEntry]
	tokens   *lru.Cache[[32]byte, *tokenEntry]
	// unknown remembers hashes of unknown tokens for a second, so the same
	// forged or revoked token presented again and again is one query.
	unknown unknownTokens

	// inval moves on every invalidation; a load that overlapped one is
	// returned to its caller but not cached, so an old read cannot be
	// stored after the change that outdated it.
	inval atomic.Uint64
	// globalInval moves only on changes to the global layer (and listener
	// loss): account writes do not keep the global layer from being cached.
	globalInval atomic.Uint64
	acctEpoch   atomic.Uint64 // every account entry is stale when it moves
	tokenEpoch  atomic.Uint64
	// inStep is true while the change feed is followed up to date; what is
	// loaded otherwise is kept only as a fallback, never as fresh.
	inStep atomic.Bool

	plain   plainAccounts
	bytes   atomic.Int64 // estimated size of the cached accounts, both kinds
	keeping sync.Mutex   // held by keep: every change to bytes is made under it
	flight  singleflight.Group
	hub     hub
	Stats   Stats
}

// New builds a cache over loader.
func New(loader Loader, opts Options) *Cache {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 512 << 20
	}
	if opts.MaxAccounts <= 0 {
		opts.MaxAccounts = math.MaxInt32
	}
	if opts.MaxTokens <= 0 {
		opts.MaxTokens = 10000
	}
	if opts.LoadTimeout <= 0 {
		opts.LoadTimeout = 5 * time.Second
	}
	c := &Cache{load: loader, opts: opts, hub: hub{accounts: map[string]chan struct{}{}}, unknown: unknownTokens{max: opts.MaxTokens}}
	c.accounts, _ = lru.NewWithEvict(opts.MaxAccounts, func(_ string, e *accountEntry) { c.bytes.Add(-e.size) })
	c.tokens, _ = lru.New[[32]byte, *tokenEntry](opts.MaxTokens)
	return c
}

// keep caches an account's data, loaded at epoch, and returns it: a plain
// account among the plain ones, any other in the LRU, never in both. With
// counter non-nil, it is marked stale at once if counter moved from seen
// (see outdated). Then trim.
func (c *Cache) keep(d store.AccountData, epoch uint64, counter *atomic.Uint64, seen uint64) *Account {
	// One keep at a time (loads only): its steps and trim's evictions
	// would otherwise interleave with another's and miscount the bytes.
	c.keeping.Lock()
	defer c.keeping.Unlock()
	id := d.Account.ID
	if isPlain(d) {
		c.bytes.Add(c.plain.put(d, epoch))
		c.accounts.Remove(id) // its eviction callback counts the bytes
		if counter != nil && c.outdated(counter, seen) {
			c.plain.markStale(id)
		}
		c.trim(id)
		a := &Account{}
		a.init(d)
		return a
	}
	e := &accountEntry{epoch: epoch}
	e.d.init(d)
	e.size = e.d.size()
	if old, ok := c.accounts.Peek(id); ok {
		c.bytes.Add(-old.size) // replaced: no eviction callback
	}
	c.bytes.Add(e.size)
	c.accounts.Add(id, e)
	c.bytes.Add(c.plain.remove(id))
	if counter != nil && c.outdated(counter, seen) {
		e.stale.Store(true)
	}
	c.trim(id)
	return &e.d
}

// trim evicts while the accounts take more than MaxBytes or are more than
// MaxAccounts. The one to go is drawn in proportion to the bytes each kind
// holds: a random plain account other than keep (the one just kept), or
// the least recently used other one.
func (c *Cache) trim(keep string) {
	for {
		plain, plainBytes := c.plain.size()
		others, total := c.accounts.Len(), c.bytes.Load()
		if total <= c.opts.MaxBytes && plain+others <= c.opts.MaxAccounts || plain+others <= 1 {
			return
		}
		_, keptOther := c.accounts.Peek(keep)
		lastOther := others == 1 && keptOther // the LRU's oldest is the one just kept
		if plain > 0 && (others == 0 || lastOther || rand.Int64N(max(total, 1)) < plainBytes) {
			if freed := c.plain.evictOne(keep); freed != 0 {
				c.bytes.Add(freed)
				continue
			} // else the one plain account is the one just kept
		}
		if others == 0 || lastOther {
			return // only the one just kept is left
		}
		c.accounts.RemoveOldest()
	}
}

// Preloaded caches an account read by a preload (store.Preload) unless
// one is cached already (a read loaded it meanwhile); it reports false once
// the cache is full, to stop the preload. The preload's changes come
// through the feed, which then starts where its snapshot stood.
func (c *Cache) Preloaded(d store.AccountData) bool {
	size := int64(plainSize)
	if !isPlain(d) {
		var a Account
		a.init(d)
		size = a.size()
	}
	if c.opts.Disabled || c.bytes.Load()+size > c.opts.MaxBytes || c.Len() >= c.opts.MaxAccounts {
		return false
	}
	if a, _ := c.cached(d.Account.ID); a == nil {
		c.keep(d, c.acctEpoch.Load(), nil, 0)
	}
	return true
}

// Bytes is the estimated memory the cached accounts take.
func (c *Cache) Bytes() int64 { return c.bytes.Load() }

// Enabled reports whether reads are served from memory.
func (c *Cache) Enabled() bool { return !c.opts.Disabled }

func unavailable(err error) bool {
	var de *domain.Error
	return errors.As(err, &de) && de.Code == domain.CodeUnavailable
}

// loadCtx detaches a shared load from the first caller's cancellation:
// other callers wait on the same load.
func (c *Cache) loadCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), c.opts.LoadTimeout)
}

// Global returns the global layer.
func (c *Cache) Global(ctx context.Context) (*Global, error) {
	if c.opts.Disabled {
		l, err := c.load.LoadGlobalLayer(ctx)
		if err != nil {
			return nil, err
		}
		return newGlobal(l), nil
	}
	e := c.global.Load()
	if e != nil && !e.stale.Load() {
		c.Stats.Hits.Add(1)
		return e.g, nil
	}
	c.Stats.Misses.Add(1)
	// The flight key carries the invalidation count: a reader arriving
	// after a change must not join a load that started before it.
	seen := c.globalInval.Load()
	v, err, _ := c.flight.Do("g/"+strconv.FormatUint(seen, 10), func() (any, error) {
		lctx, cancel := c.loadCtx(ctx)
		defer cancel()
		l, err := c.load.LoadGlobalLayer(lctx)
		if err != nil {
			return nil, err
		}
		g := newGlobal(l)
		if old := c.global.Load(); old != nil && old.g.Revision > g.Revision {
			g = old.g // never step back (a stale read racing a newer one)
		}
		if c.globalInval.Load() == seen {
			ge := &globalEntry{g: g}
			c.global.Store(ge)
			if c.outdated(&c.globalInval, seen) {
				ge.stale.Store(true)
			}
		}
		return g, nil
	})
	if err != nil {
		if e != nil && unavailable(err) {
			c.Stats.StaleServed.Add(1)
			return e.g, nil
		}
		return nil, err
	}
	return v.(*Global), nil //nolint:forcetypeassert // singleflight returns what the load returned, a *Global
}

// Account returns an account's data.
func (c *Cache) Account(ctx context.Context, id string) (*Account, error) {
	if c.opts.Disabled {
		d, err := c.load.LoadAccountData(ctx, id)
		if err != nil {
			return nil, err
		}
		a := &Account{}
		a.init(d)
		return a, nil
	}
	cached, fresh := c.cached(id)
	if fresh {
		c.Stats.Hits.Add(1)
		return cached, nil
	}
	c.Stats.Misses.Add(1)
	seen, epoch := c.inval.Load(), c.acctEpoch.Load()
	v, err, _ := c.flight.Do("a/"+strconv.FormatUint(seen, 10)+"/"+id, func() (any, error) {
		lctx, cancel := c.loadCtx(ctx)
		defer cancel()
		d, err := c.load.LoadAccountData(lctx, id)
		if err != nil {
			return nil, err
		}
		if cached != nil && cached.Account.ConfigRevision > d.Account.ConfigRevision {
			return cached, nil // never step back (a stale read racing a newer one)
		}
		if c.inval.Load() != seen {
			a := &Account{} // returned, not kept: a change came meanwhile
			a.init(d)
			return a, nil
		}
		return c.keep(d, epoch, &c.inval, seen), nil
	})
	if err != nil {
		if cached != nil && unavailable(err) {
			c.Stats.StaleServed.Add(1)
			return cached, nil
		}
		return nil, err
	}
	return v.(*Account), nil //nolint:forcetypeassert // singleflight returns what the load returned, an *Account
}

// cached finds an account in memory; fresh says it may be served without
// a load.
func (c *Cache) cached(id string) (a *Account, fresh bool) {
	epoch := c.acctEpoch.Load()
	if p, ok := c.plain.get(id); ok {
		return p.account(id), !p.stale && p.epoch == uint32(epoch)
	}
	if e, ok := c.getAccount(id); ok {
		return &e.d, !e.stale.Load() && e.epoch == epoch
	}
	return nil, false
}

// AccountAndGlobal returns an account's data and the global layer: what
// an answer for the account is resolved from. Disabled, it reads both in
// one round trip, leaving items out unless the answer needs them.
func (c *Cache) AccountAndGlobal(ctx context.Context, id string, items bool) (*Account, *Global, error) {
	if c.opts.Disabled {
		d, l, err := c.load.LoadAccountAndLayer(ctx, id, items)
		if err != nil {
			return nil, nil, err
		}
		a := &Account{}
		a.init(d)
		return a, newGlobal(l), nil
	}
	a, err := c.Account(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	g, err := c.Global(ctx)
	if err != nil {
		return nil, nil, err
	}
	return a, g, nil
}

// outdated reports whether a just-stored entry must be marked stale: its
// invalidation counter moved after the load began, or the feed is not
// followed up to date. Checking only before storing would leave a window:
// an invalidation between that check and the store marks the entry it
// finds (the old one) and the new entry, loaded before the change, would
// stay. Invalidate counts first and marks second, so one of the two sees
// the other.
func (c *Cache) outdated(counter *atomic.Uint64, seen uint64) bool {
	return counter.Load() != seen || !c.inStep.Load()
}

// GetAccount returns just the account (the access layer's plan gate).
func (c *Cache) GetAccount(ctx context.Context, id string) (domain.Account, error) {
	d, err := c.Account(ctx, id)
	if err != nil {
		return domain.Account{}, err
	}
	return d.Account, nil
}

// Authenticate finds the principal of a token's SHA-256. Unknown tokens
// are not cached, so a new token works at once. The principal returned is
// shared and must not be modified.
func (c *Cache) Authenticate(ctx context.Context, hash [32]byte) (*domain.Principal, bool, error) {
	if c.opts.Disabled {
		return c.loadToken(ctx, hash)
	}
	e, ok := c.tokens.Peek(hash) // tokens are few: insertion-order eviction is fine
	epoch := c.tokenEpoch.Load()
	if ok && e.epoch == epoch {
		c.Stats.Hits.Add(1)
		return &e.p, true, nil
	}
	if c.unknown.has(hash) {
		return nil, false, nil
	}
	c.Stats.Misses.Add(1)
	c.Stats.TokenLoads.Add(1)
	p, found, err := c.loadToken(ctx, hash)
	switch {
	case err != nil:
		if ok && e.epoch == epoch && unavailable(err) {
			c.Stats.StaleServed.Add(1)
			return &e.p, true, nil // no token change since: not a pending revocation
		}
		return nil, false, err
	case !found:
		c.tokens.Remove(hash)
		c.unknown.add(hash)
		return nil, false, nil
	}
	if c.tokenEpoch.Load() == epoch && c.inStep.Load() {
		c.tokens.Add(hash, &tokenEntry{p: *p, epoch: epoch})
	}
	return p, true, nil
}

// Cached is Authenticate without loading: the principal of a token known
// in memory and not outdated by a token change.
func (c *Cache) Cached(hash [32]byte) (*domain.Principal, bool) {
	if c.opts.Disabled {
		return nil, false
	}
	if e, ok := c.tokens.Peek(hash); ok && e.epoch == c.tokenEpoch.Load() {
		return &e.p, true
	}
	return nil, false
}

// unknownTokens remembers hashes of unknown tokens for a second, at most
// max of them (when full it starts over: it only has to blunt a flood).
type unknownTokens struct {
	mu    sync.Mutex
	until map[[32]byte]time.Time
	max   int
}

func (u *unknownTokens) has(h [32]byte) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	t, ok := u.until[h]
	return ok && time.Now().Before(t)
}

func (u *unknownTokens) add(h [32]byte) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.until == nil || len(u.until) >= u.max {
		u.until = map[[32]byte]time.Time{}
	}
	u.until[h] = time.Now().Add(time.Second)
}

func (u *unknownTokens) forget() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.until = nil
}

// loadToken reads a token from the database. (A method, not a closure in
// Authenticate: the hash it hands on escapes, and only misses should pay
// for that.)
func (c *Cache) loadToken(ctx context.Context, hash [32]byte) (*domain.Principal, bool, error) {
	p, found, err := c.load.Authenticate(ctx, hash[:])
	return &p, found, err
}

// Invalidate applies a committed change (from the feed, or at once from
// this replica's own write; applying one twice is harmless).
func (c *Cache) Invalidate(ch store.Change) {
	c.Stats.Invalidations.Add(1)
	c.inval.Add(1)
	switch {
	case ch.Kind == store.ChangeToken:
		c.tokenEpoch.Add(1)
		c.unknown.forget() // a token created: unknown no more
	case ch.Kind == store.ChangeGlobal || ch.Kind == store.ChangeCatalog:
		c.globalInval.Add(1)
		if e := c.global.Load(); e != nil {
			e.stale.Store(true)
		}
		if ch.AccountRows() { // a bulk import rewrote accounts too
			c.acctEpoch.Add(1)
		}
		c.hub.all()
	case ch.Kind == store.ChangeAccount && ch.AccountID == "": // several accounts
		c.acctEpoch.Add(1)
		c.hub.all()
	case ch.Kind == store.ChangeAccount:
		if e, ok := c.accounts.Peek(ch.AccountID); ok {
			e.stale.Store(true)
		}
		c.plain.markStale(ch.AccountID)
		if ch.Resource == "accounts/"+ch.AccountID {
			c.forgetTokensOf(ch.AccountID) // the account itself: if deleted, its tokens went with it
		}
		c.hub.account(ch.AccountID)
	default:
		c.Lost() // a kind from a newer replica: be safe
	}
}

// forgetTokensOf drops the cached tokens bound to an account.
func (c *Cache) forgetTokensOf(accountID string) {
	for _, h := range c.tokens.Keys() {
		if e, ok := c.tokens.Peek(h); ok && e.p.AccountID == accountID {
			c.tokens.Remove(h)
		}
	}
}

// SetInStep says whether the change feed is followed up to date. While it
// is not, what is loaded is kept only as a fallback for an outage.
func (c *Cache) SetInStep(in bool) { c.inStep.Store(in) }

// Lost marks everything for revalidation: changes may have been missed (the
// feed was compacted past this replica's position). Entries are still
// served if the database cannot be reached.
func (c *Cache) Lost() {
	c.Stats.ListenerResets.Add(1)
	c.inval.Add(1)
	c.globalInval.Add(1)
	c.acctEpoch.Add(1)
	c.tokenEpoch.Add(1)
	if e := c.global.Load(); e != nil {
		e.stale.Store(true)
	}
	c.hub.all()
}

// Warm reports whether the global layer is in memory (so reads of cached
// accounts need no database).
func (c *Cache) Warm() bool { return c.Enabled() && c.global.Load() != nil }

// Len is the number of cached accounts.
func (c *Cache) Len() int {
	n, _ := c.plain.size()
	return n + c.accounts.Len()
}

// Changed returns a channel closed at the next change that may affect the
// account (its own data, or the global layer). Take it before reading, so
// no change between the read and the wait is missed.
func (c *Cache) Changed(accountID string) <-chan struct{} { return c.hub.wait(accountID) }

// hub wakes watchers.
type hub struct {
	mu       sync.Mutex
	accounts map[string]chan struct{}
}

func (h *hub) wait(id string) <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch, ok := h.accounts[id]
	if !ok {
		ch = make(chan struct{})
		h.accounts[id] = ch
	}
	return ch
}

func (h *hub) account(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ch, ok := h.accounts[id]; ok {
		close(ch)
		delete(h.accounts, id)
	}
}

func (h *hub) all() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, ch := range h.accounts {
		close(ch)
		delete(h.accounts, id)
	}
}
