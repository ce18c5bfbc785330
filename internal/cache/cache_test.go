package cache

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/store"
)

// fakeLoader serves account data whose revision is a counter that writers
// bump; loads are slow enough to overlap invalidations. An account stores
// an override (so the cache keeps it in its LRU, not among the plain
// ones) when its id starts with "custom", or, with toggle, at odd
// revisions: each write then moves it from one kind to the other.
type fakeLoader struct {
	toggle bool
	rev    atomic.Int64
	loads  atomic.Int64
	down   atomic.Bool
	// written holds an account's revision once a writer wrote it (id →
	// int64); until then an account reads as of rev.
	written sync.Map
	commit  sync.Mutex
}

// write commits a write to account id and returns its revision; commits
// are serialized, so revisions are in commit order (as the store's are).
func (f *fakeLoader) write(id string) int64 {
	f.commit.Lock()
	defer f.commit.Unlock()
	rev := f.rev.Add(1)
	f.written.Store(id, rev)
	return rev
}

func (f *fakeLoader) LoadGlobalLayer(context.Context) (store.GlobalLayer, error) {
	if f.down.Load() {
		return store.GlobalLayer{}, domain.Unavailable()
	}
	return store.GlobalLayer{Settings: domain.GlobalSettings{Revision: f.rev.Load()}}, nil
}

func (f *fakeLoader) LoadAccountData(_ context.Context, id string) (store.AccountData, error) {
	f.loads.Add(1)
	if f.down.Load() {
		return store.AccountData{}, domain.Unavailable()
	}
	rev := f.rev.Load()
	if w, ok := f.written.Load(id); ok {
		rev = w.(int64)
	}
	time.Sleep(50 * time.Microsecond)
	d := store.AccountData{Account: domain.Account{ID: id, Name: "n-" + id, Plan: domain.PlanStarter, ConfigRevision: rev}}
	if strings.HasPrefix(id, "custom") || f.toggle && rev%2 == 1 {
		d.Overrides = map[domain.Integration]*domain.Override{domain.OpenAI: {AccountID: id, Integration: domain.OpenAI}}
	}
	return d, nil
}

func (f *fakeLoader) LoadAccountAndLayer(ctx context.Context, id string, _ bool) (store.AccountData, store.GlobalLayer, error) {
	d, err := f.LoadAccountData(ctx, id)
	if err != nil {
		return d, store.GlobalLayer{}, err
	}
	l, err := f.LoadGlobalLayer(ctx)
	return d, l, err
}

func (f *fakeLoader) Authenticate(context.Context, []byte) (domain.Principal, bool, error) {
	if f.down.Load() {
		return domain.Principal{}, false, domain.Unavailable()
	}
	return domain.Principal{Name: "p"}, true, nil
}

// inStep is a cache whose change feed is followed up to date.
func inStep(c *Cache) *Cache {
	c.SetInStep(true)
	return c
}

// TestNotFreshOutOfStep: while the feed is not followed up to date, what a
// read loads is not kept as fresh (the next read loads again), but it is
// kept as a fallback for an outage; back in step, loads are kept.
func TestNotFreshOutOfStep(t *testing.T) {
	f := &fakeLoader{}
	c := New(f, Options{})
	ctx := context.Background()
	for range 3 {
		if _, err := c.Account(ctx, "a"); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.loads.Load(); n != 3 {
		t.Fatalf("out of step: 3 reads loaded %d times, want 3", n)
	}
	f.down.Store(true)
	if _, err := c.Account(ctx, "a"); err != nil {
		t.Fatalf("out of step and down: the last load is not served: %v", err)
	}
	f.down.Store(false)
	c.SetInStep(true)
	for range 3 {
		if _, err := c.Account(ctx, "a"); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.loads.Load(); n != 5 {
		t.Fatalf("in step: 3 reads loaded %d times, want 1 (5 in all)", n-3)
	}
}

// TestConcurrentReadsAndInvalidations (run with -race): readers never see
// a revision go backwards, and once writes stop, every reader sees the
// last write.
func TestConcurrentReadsAndInvalidations(t *testing.T) {
	f := &fakeLoader{toggle: true}
	c := inStep(New(f, Options{MaxAccounts: 8}))
	ctx := context.Background()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("a%d", (i+w)%4)
				rev := f.write(id) // the "commit"
				c.Invalidate(store.Change{Revision: rev, Kind: store.ChangeAccount, AccountID: id})
				if i%50 == 0 {
					c.Invalidate(store.Change{Revision: rev, Kind: store.ChangeAccount}) // several accounts
				}
			}
		})
	}
	errs := make(chan error, 8)
	for r := range 8 {
		wg.Go(func() {
			last := map[string]int64{}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("a%d", (i+r)%4)
				d, err := c.Account(ctx, id)
				if err != nil {
					errs <- err
					return
				}
				if d.Account.ConfigRevision < last[id] {
					errs <- fmt.Errorf("%s went back from %d to %d", id, last[id], d.Account.ConfigRevision)
					return
				}
				if err := sameAsLoaded(f, d); err != nil {
					errs <- err
					return
				}
				last[id] = d.Account.ConfigRevision
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range 4 {
		id := fmt.Sprintf("a%d", i)
		w, _ := f.written.Load(id)
		d, err := c.Account(ctx, id)
		if err != nil || d.Account.ConfigRevision != w.(int64) {
			t.Fatalf("%s after writes stopped: rev %d, want its last write's %d (%v)", id, d.Account.ConfigRevision, w, err)
		}
	}
	if c.Len() != 4 {
		t.Fatalf("%d accounts cached, want the 4 read (each kept once, plain or not)", c.Len())
	}
	checkBytes(t, c)
}

// sameAsLoaded checks that d is what fakeLoader loads at d's revision
// (less the name, which the cache does not keep).
func sameAsLoaded(f *fakeLoader, d *Account) error {
	a := d.Account
	override := strings.HasPrefix(a.ID, "custom") || f.toggle && a.ConfigRevision%2 == 1
	if a.Name != "" || a.Plan != domain.PlanStarter || override != d.HasOverride(domain.OpenAI) ||
		override != (len(d.Overrides) == 1) {
		return fmt.Errorf("%s at revision %d read as %+v, overrides %v", a.ID, a.ConfigRevision, a, d.Overrides)
	}
	return nil
}

// checkBytes checks the cache's byte count against what it holds.
func checkBytes(t *testing.T, c *Cache) {
	t.Helper()
	c.plain.mu.RLock()
	n := 0
	for _, s := range c.plain.slots {
		if s.key != (plainKey{}) {
			n++
		}
	}
	if n != c.plain.n {
		t.Errorf("%d plain accounts in the table, %d counted", n, c.plain.n)
	}
	want := int64(n) * plainSize
	c.plain.mu.RUnlock()
	for _, id := range c.accounts.Keys() {
		if _, ok := c.plain.get(id); ok {
			t.Errorf("%s is cached twice, plain and not", id)
		}
	}
	for _, e := range c.accounts.Values() {
		want += e.size
	}
	if got := c.Bytes(); got != want {
		t.Fatalf("the cache counts %d bytes, its entries add up to %d", got, want)
	}
}

// TestBoundedByBytes: plain accounts and the others share MaxBytes, both
// kinds stay (eviction draws from each by its bytes), the account just
// read is never the one evicted, and the byte count stays exact through
// evictions and accounts changing kind.
func TestBoundedByBytes(t *testing.T) {
	f := &fakeLoader{toggle: true}
	max := int64(200 * plainSize)
	c := inStep(New(f, Options{MaxBytes: max}))
	ctx := context.Background()
	both := 0
	for i := range 2000 {
		id := fmt.Sprintf("acct-%03d", i%1000)
		if i%10 == 0 {
			id = fmt.Sprintf("custom-%03d", i%1000)
		}
		if i%7 == 0 {
			rev := f.write(id) // may move it to the other kind (toggle: by its revision)
			c.Invalidate(store.Change{Revision: rev, Kind: store.ChangeAccount, AccountID: id})
		}
		d, err := c.Account(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := sameAsLoaded(f, d); err != nil {
			t.Fatal(err)
		}
		_, plain := c.plain.get(id)
		if _, other := c.accounts.Peek(id); !plain && !other {
			t.Fatalf("read %d: %s was evicted as it was kept", i, id)
		}
		if c.Bytes() > max {
			t.Fatalf("read %d: the accounts take %d bytes, bound is %d", i, c.Bytes(), max)
		}
		if n, _ := c.plain.size(); n > 0 && c.accounts.Len() > 0 {
			both++
		}
	}
	if both < 1800 {
		t.Fatalf("both kinds cached after only %d of 2000 reads", both)
	}
	checkBytes(t, c)
}

// TestPreloadStopsWhenFull: the preload stops at the first account that
// does not fit, rather than evicting others to keep reading.
func TestPreloadStopsWhenFull(t *testing.T) {
	max := int64(100*plainSize + plainSize/2) // room for 100 and a half
	c := New(&fakeLoader{}, Options{MaxBytes: max})
	kept := 0
	for i := range 1000 {
		if !c.Preloaded(store.AccountData{Account: domain.Account{ID: fmt.Sprintf("acct-%d", i)}}) {
			break
		}
		kept++
	}
	if kept != 100 || c.Len() != 100 || c.Bytes() != 100*plainSize {
		t.Fatalf("preload went on for %d accounts, holds %d in %d bytes; want it to stop at 100", kept, c.Len(), c.Bytes())
	}
	for i := range 100 {
		if _, ok := c.plain.get(fmt.Sprintf("acct-%d", i)); !ok {
			t.Fatalf("acct-%d was preloaded, then evicted", i)
		}
	}
}

func TestBoundedAndServesStaleWhenDown(t *testing.T) {
	f := &fakeLoader{}
	c := inStep(New(f, Options{MaxAccounts: 100}))
	ctx := context.Background()
	for i := range 1000 {
		if _, err := c.Account(ctx, fmt.Sprintf("acct-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if c.Len() > 100 {
		t.Fatalf("%d accounts cached, bound is 100", c.Len())
	}
	// Hits do not load.
	before := f.loads.Load()
	for range 10 {
		if _, err := c.Account(ctx, "acct-999"); err != nil {
			t.Fatal(err)
		}
	}
	if f.loads.Load() != before {
		t.Fatalf("cache hits loaded %d times", f.loads.Load()-before)
	}
	// Database down: a stale entry is served, an unknown one fails.
	c.Invalidate(store.Change{Kind: store.ChangeAccount, AccountID: "acct-999"})
	f.down.Store(true)
	if d, err := c.Account(ctx, "acct-999"); err != nil || d.Account.ID != "acct-999" {
		t.Fatalf("stale entry while down: %v, %v", d, err)
	}
	if _, err := c.Account(ctx, "never-seen"); err == nil {
		t.Fatal("an uncached account was served while the database is down")
	}
	// Tokens: after a token change, a cached token is not trusted while down.
	if _, ok, err := c.Authenticate(ctx, [32]byte{1}); ok || err == nil {
		t.Fatalf("first lookup while down should fail: ok=%t err=%v", ok, err)
	}
}

func TestTokenRevocationNotServedStale(t *testing.T) {
	f := &fakeLoader{}
	c := inStep(New(f, Options{}))
	ctx := context.Background()
	if _, ok, _ := c.Authenticate(ctx, [32]byte{1}); !ok {
		t.Fatal("token not found")
	}
	f.down.Store(true)
	c.SetInStep(false) // feed connection lost: a cached token is still accepted while down
	if _, ok, err := c.Authenticate(ctx, [32]byte{1}); !ok || err != nil {
		t.Fatalf("after feed loss: ok=%t err=%v", ok, err)
	}
	c.Invalidate(store.Change{Kind: store.ChangeToken, Resource: "tokens/tok"}) // maybe a revocation
	if _, ok, _ := c.Authenticate(ctx, [32]byte{1}); ok {
		t.Fatal("a token with a pending change was accepted while the database is down")
	}
}

// accountWriteDuringGlobalLoad is a loader whose global-layer load
// overlaps an account write, as on a replica taking steady writes.
type accountWriteDuringGlobalLoad struct {
	fakeLoader
	c           *Cache
	globalLoads atomic.Int64
}

func (l *accountWriteDuringGlobalLoad) LoadGlobalLayer(ctx context.Context) (store.GlobalLayer, error) {
	l.globalLoads.Add(1)
	l.c.Invalidate(store.Change{Kind: store.ChangeAccount, AccountID: "someone-else"})
	return l.fakeLoader.LoadGlobalLayer(ctx)
}

// TestGlobalLayerCachedDespiteAccountWrites: account changes during a
// global-layer load do not keep the layer out of the cache, while a global
// change during the load does (and the next read loads again).
func TestGlobalLayerCachedDespiteAccountWrites(t *testing.T) {
	l := &accountWriteDuringGlobalLoad{}
	l.c = inStep(New(l, Options{}))
	ctx := context.Background()
	for range 3 {
		if _, err := l.c.Global(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := l.globalLoads.Load(); n != 1 {
		t.Fatalf("global layer loaded %d times for 3 reads, want 1", n)
	}
	l.c.Invalidate(store.Change{Kind: store.ChangeGlobal})
	for range 2 {
		if _, err := l.c.Global(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := l.globalLoads.Load(); n != 2 {
		t.Fatalf("global layer loaded %d times after a global change, want 2", n)
	}
}
