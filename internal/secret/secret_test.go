package secret

import (
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	old, active := NewKey(), NewKey()
	kOld, err := NewKeyring(old)
	if err != nil {
		t.Fatal(err)
	}
	sealedOld, err := kOld.Seal("sk-old-secret-value", "global_integration_defaults/openai")
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewKeyring(active, old)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := k.Seal("sk-live-secret-value", "global_integration_defaults/openai")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "sk-live") || !strings.HasPrefix(sealed, "aicenc:v1:"+k.ActiveID()+":") {
		t.Fatalf("sealed form %q", sealed)
	}
	if again, _ := k.Seal("sk-live-secret-value", "global_integration_defaults/openai"); again == sealed {
		t.Fatal("two seals of one value are identical: the nonce is not random")
	}
	for _, tc := range []struct{ sealed, want string }{{sealed, "sk-live-secret-value"}, {sealedOld, "sk-old-secret-value"}} {
		got, err := k.Open(tc.sealed, "global_integration_defaults/openai")
		if err != nil || got != tc.want {
			t.Fatalf("Open = %q, %v; want %q", got, err, tc.want)
		}
	}
	// Moved to another row: refused.
	if _, err := k.Open(sealed, "global_integration_defaults/anthropic"); err == nil {
		t.Fatal("ciphertext opened under another row's identity")
	}
	// Tampered: refused.
	tampered := sealed[:len(sealed)-2] + "AA"
	if _, err := k.Open(tampered, "global_integration_defaults/openai"); err == nil {
		t.Fatal("tampered ciphertext opened")
	}
	// Only the new key configured: the old value names a missing key.
	kNew, _ := NewKeyring(active)
	_, err = kNew.Open(sealedOld, "global_integration_defaults/openai")
	if err == nil || !strings.Contains(err.Error(), "not configured") || strings.Contains(err.Error(), "sk-old") {
		t.Fatalf("missing key error = %v", err)
	}
	var none *Keyring
	if _, err := none.Open(sealed, "x"); err == nil {
		t.Fatal("nil keyring opened a value")
	}
	if _, err := none.Seal("x", "y"); err != ErrNoKey {
		t.Fatalf("nil keyring Seal = %v", err)
	}
	if _, err := NewKeyring("too-short"); err == nil {
		t.Fatal("short key accepted")
	}
}
