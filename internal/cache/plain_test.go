package cache

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/store"
)

// TestPlainTable checks the open-addressed table against a Go map through
// random puts, removals and evictions, across its growth: every key kept
// is found with its value, none removed is, and the count and bytes agree.
func TestPlainTable(t *testing.T) {
	var p plainAccounts
	model := map[string]int64{}
	r := rand.New(rand.NewPCG(1, 2))
	for op := range 200000 {
		id := fmt.Sprintf("acct-%d", r.IntN(5000))
		switch x := r.IntN(100); {
		case x < 60:
			rev := int64(op)
			p.put(store.AccountData{Account: domain.Account{ID: id, ConfigRevision: rev}}, 0)
			model[id] = rev
		case x < 95:
			p.remove(id)
			delete(model, id)
		default:
			before := p.n
			p.evictOne(id)
			if _, kept := p.get(id); kept != hasKey(model, id) {
				t.Fatalf("op %d: evictOne evicted the account it must keep", op)
			}
			if before > 1 || before == 1 && !hasKey(model, id) {
				gone := 0
				for m := range model {
					if _, ok := p.get(m); !ok {
						delete(model, m)
						gone++
					}
				}
				if gone != 1 {
					t.Fatalf("op %d: evictOne removed %d accounts, want 1", op, gone)
				}
			}
		}
		if p.n != len(model) || p.bytes != int64(len(model))*plainSize {
			t.Fatalf("op %d: table counts %d accounts and %d bytes, holds %d", op, p.n, p.bytes, len(model))
		}
	}
	for i := range 5000 {
		id := fmt.Sprintf("acct-%d", i)
		a, ok := p.get(id)
		want, kept := model[id]
		if ok != kept || ok && a.configRevision != want {
			t.Fatalf("%s: found %t at %d, want %t at %d", id, ok, a.configRevision, kept, want)
		}
	}
	if len(p.slots) < 4096 {
		t.Fatalf("the table never grew past %d slots", len(p.slots))
	}
}

func hasKey(m map[string]int64, k string) bool {
	_, ok := m[k]
	return ok
}

// TestMemoSlotsHoldEveryFunction: each function's answer has its memo slot
// (domain.FunctionIndex); a function added past MemoSlots would panic on
// its first cached read.
func TestMemoSlotsHoldEveryFunction(t *testing.T) {
	if n := len(domain.Functions); n > MemoSlots {
		t.Fatalf("%d functions, %d memo slots", n, MemoSlots)
	}
}

// TestTrimPassesOverTheAccountJustKept: when the plain account drawn for
// eviction is the only one, the one just kept, an older account of the
// other kind goes instead and the bound holds. (The draw is random, by
// bytes: 200 rounds make missing the case about 1 in 10,000.)
func TestTrimPassesOverTheAccountJustKept(t *testing.T) {
	ctx := context.Background()
	for round := range 200 {
		f := &fakeLoader{}
		probe := inStep(New(f, Options{}))
		d, err := probe.Account(ctx, "custom-0")
		if err != nil {
			t.Fatal(err)
		}
		max := 3 * d.size() // room for three customized accounts
		c := inStep(New(f, Options{MaxBytes: max}))
		for _, id := range []string{"custom-0", "custom-1", "custom-2", "plain"} {
			if _, err := c.Account(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		if c.Bytes() > max {
			t.Fatalf("round %d: %d bytes kept, bound %d", round, c.Bytes(), max)
		}
		if _, ok := c.plain.get("plain"); !ok {
			t.Fatalf("round %d: the account just read was evicted", round)
		}
	}
}
