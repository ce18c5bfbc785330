package cache

import (
	"hash/maphash"
	"math/rand/v2"
	"sync"

	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/store"
)

// plainAccounts holds the accounts that store nothing of their own (no
// override, item or item default): most of them, and their answers are
// shared per plan. Each is a slot of a few numbers under a 127-bit hash of
// its id, with no object of its own and no pointer: with a million
// accounts the collector has next to nothing to mark here. Two of n ids
// share a key with a chance of about n²/2¹²⁸ (3·10⁻²⁷ for a million).
//
// The slots are one open-addressed table (linear probing) rather than a
// Go map: a lookup of a random account among a million then usually
// costs one cache miss, where the map's directory and table cost more
// (make bench -accounts 1000000: this lookup took 7.5% of a cached call's
// CPU with a map). It grows by doubling, all at once under the lock (at a
// million accounts a few tens of milliseconds, mostly during the
// preload), and never shrinks. Over budget, the account in the first
// used slot from a random one goes.
type plainAccounts struct {
	mu    sync.RWMutex
	slots []plainSlot // a power of two in length, at most 3/4 full
	n     int
	bytes int64 // estimated, under mu
}

type plainSlot struct {
	key plainKey // zero: empty
	a   plainAccount
}

type plainKey [2]uint64

var plainSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

// keyOf is never zero (the empty slot's key).
func keyOf(id string) plainKey {
	return plainKey{maphash.String(plainSeeds[0], id), maphash.String(plainSeeds[1], id) | 1}
}

type plainAccount struct {
	revision, configRevision int64
	epoch                    uint32 // must match acctEpoch (its low bits) to be fresh
	plan                     uint8
	stale                    bool
}

// isPlain reports whether d can be kept as a plain account.
func isPlain(d store.AccountData) bool {
	return len(d.Overrides) == 0 && len(d.Items) == 0 && len(d.Account.ItemDefaults) == 0 &&
		d.Account.Plan >= 0 && d.Account.Plan <= 255
}

// plainSize estimates a plain account's memory: its 40-byte slot at the
// table's load, between 3/8 and 3/4 (53 to 107 bytes), 72 on average.
const plainSize = 72

// find returns where k is, or the empty slot where it would go (none in
// an empty table).
func (p *plainAccounts) find(k plainKey) (i uint64, found bool) {
	if len(p.slots) == 0 {
		return 0, false
	}
	mask := uint64(len(p.slots) - 1)
	for i = k[0] & mask; ; i = (i + 1) & mask {
		switch p.slots[i].key {
		case k:
			return i, true
		case plainKey{}:
			return i, false
		}
	}
}

func (p *plainAccounts) get(id string) (plainAccount, bool) {
	k := keyOf(id)
	p.mu.RLock()
	defer p.mu.RUnlock()
	if i, ok := p.find(k); ok {
		return p.slots[i].a, true
	}
	return plainAccount{}, false
}

// account rebuilds the account as the store read it (names are not kept,
// see Account).
func (a plainAccount) account(id string) *Account {
	return &Account{AccountData: store.AccountData{Account: domain.Account{ID: id,
		Plan: domain.Plan(a.plan), Revision: a.revision, ConfigRevision: a.configRevision}}}
}

// put keeps d (plain) and returns the change in estimated bytes.
func (p *plainAccounts) put(d store.AccountData, epoch uint64) int64 {
	a, k := d.Account, keyOf(d.Account.ID)
	p.mu.Lock()
	defer p.mu.Unlock()
	if 4*(p.n+1) > 3*len(p.slots) {
		p.grow()
	}
	i, had := p.find(k)
	p.slots[i] = plainSlot{key: k, a: plainAccount{revision: a.Revision, configRevision: a.ConfigRevision,
		epoch: uint32(epoch), plan: uint8(a.Plan)}}
	if had {
		return 0
	}
	p.n++
	p.bytes += plainSize
	return plainSize
}

// grow doubles the table (under mu).
func (p *plainAccounts) grow() {
	old := p.slots
	p.slots = make([]plainSlot, max(1024, 2*len(old)))
	for _, s := range old {
		if s.key != (plainKey{}) {
			i, _ := p.find(s.key)
			p.slots[i] = s
		}
	}
}

// remove drops id and returns the change in estimated bytes.
func (p *plainAccounts) remove(id string) int64 {
	k := keyOf(id)
	p.mu.Lock()
	defer p.mu.Unlock()
	if i, ok := p.find(k); ok {
		return p.removeAt(i)
	}
	return 0
}

// removeAt empties slot i, moving back the slots after it that probed
// past it, so that every key stays reachable from its home slot.
func (p *plainAccounts) removeAt(i uint64) int64 {
	mask := uint64(len(p.slots) - 1)
	for j := (i + 1) & mask; p.slots[j].key != (plainKey{}); j = (j + 1) & mask {
		home := p.slots[j].key[0] & mask
		if (j-home)&mask >= (j-i)&mask { // i lies between home and j
			p.slots[i] = p.slots[j]
			i = j
		}
	}
	p.slots[i] = plainSlot{}
	p.n--
	p.bytes -= plainSize
	return -plainSize
}

// evictOne drops a random account other than keep (the one just read)
// and returns the change in bytes.
func (p *plainAccounts) evictOne(keep string) int64 {
	kk := keyOf(keep)
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.find(kk); p.n == 0 || ok && p.n == 1 {
		return 0
	}
	mask := uint64(len(p.slots) - 1)
	for i := rand.Uint64() & mask; ; i = (i + 1) & mask {
		if k := p.slots[i].key; k != (plainKey{}) && k != kk {
			return p.removeAt(i)
		}
	}
}

func (p *plainAccounts) markStale(id string) {
	k := keyOf(id)
	p.mu.Lock()
	defer p.mu.Unlock()
	if i, ok := p.find(k); ok {
		p.slots[i].a.stale = true
	}
}

func (p *plainAccounts) size() (n int, bytes int64) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.n, p.bytes
}
