package cache

import (
	"hash/maphash"
	"sync"

	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/store"
)

// plainAccounts holds the accounts that store nothing of their own (no
// override, item or item default): most of them, and their answers are
// shared per plan. Each is a map slot of a few numbers under a 128-bit
// hash of its id, with no object of its own and no pointer: with a million
// accounts the collector has next to nothing to mark here (make bench
// -accounts 1000000). Two ids share a key with a chance of 2⁻¹²⁸, as two
// tokens share a SHA-256. Over budget, a random one goes (Go's map
// iteration starts at a random slot).
type plainAccounts struct {
	mu    sync.RWMutex
	m     map[plainKey]plainAccount
	bytes int64 // estimated, under mu
}

type plainKey [2]uint64

var plainSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

func keyOf(id string) plainKey {
	return plainKey{maphash.String(plainSeeds[0], id), maphash.String(plainSeeds[1], id)}
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

// plainSize estimates a plain account's memory: its map slot with the
// map's spare room (measured: 71 bytes each for a million).
const plainSize = 72

func (p *plainAccounts) get(id string) (plainAccount, bool) {
	k := keyOf(id)
	p.mu.RLock()
	a, ok := p.m[k]
	p.mu.RUnlock()
	return a, ok
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
	if p.m == nil {
		p.m = map[plainKey]plainAccount{}
	}
	_, had := p.m[k]
	p.m[k] = plainAccount{revision: a.Revision, configRevision: a.ConfigRevision, epoch: uint32(epoch), plan: uint8(a.Plan)}
	if had {
		return 0
	}
	p.bytes += plainSize
	return plainSize
}

// remove drops id and returns the change in estimated bytes.
func (p *plainAccounts) remove(id string) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.removeLocked(keyOf(id))
}

func (p *plainAccounts) removeLocked(k plainKey) int64 {
	if _, ok := p.m[k]; !ok {
		return 0
	}
	delete(p.m, k)
	p.bytes -= plainSize
	return -plainSize
}

// evictOne drops a random account other than keep (the one just read)
// and returns the change in bytes.
func (p *plainAccounts) evictOne(keep string) int64 {
	kk := keyOf(keep)
	p.mu.Lock()
	defer p.mu.Unlock()
	for k := range p.m {
		if k != kk {
			return p.removeLocked(k)
		}
	}
	return 0
}

func (p *plainAccounts) markStale(id string) {
	k := keyOf(id)
	p.mu.Lock()
	defer p.mu.Unlock()
	if a, ok := p.m[k]; ok {
		a.stale = true
		p.m[k] = a
	}
}

func (p *plainAccounts) size() (n int, bytes int64) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.m), p.bytes
}
