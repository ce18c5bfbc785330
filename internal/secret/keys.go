package secret

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Source says where a replica's keys come from: the environment, or files
// a running replica re-reads when they change, so keys can be rotated
// without a restart (docs/operations.md, Secrets).
type Source struct {
	Active       string   // AICONFIG_SECRET_KEY
	ActiveFile   string   // AICONFIG_SECRET_KEY_FILE
	Previous     []string // AICONFIG_PREVIOUS_SECRET_KEYS, comma-separated
	PreviousFile string   // AICONFIG_PREVIOUS_SECRET_KEYS_FILE: keys separated by commas or lines
}

// SourceFromEnv reads the source from the environment.
func SourceFromEnv() Source {
	return Source{Active: os.Getenv("AICONFIG_SECRET_KEY"), ActiveFile: os.Getenv("AICONFIG_SECRET_KEY_FILE"),
		Previous: splitKeys(os.Getenv("AICONFIG_PREVIOUS_SECRET_KEYS")), PreviousFile: os.Getenv("AICONFIG_PREVIOUS_SECRET_KEYS_FILE")}
}

func splitKeys(s string) []string {
	var out []string
	for _, k := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		if strings.TrimSpace(k) != "" {
			out = append(out, strings.TrimSpace(k))
		}
	}
	return out
}

// Load reads the keyring; nil, nil when no key is configured.
func (s Source) Load() (*Keyring, error) {
	active, previous := s.Active, s.Previous
	if active == "" && s.ActiveFile != "" {
		b, err := os.ReadFile(s.ActiveFile)
		if err != nil {
			return nil, fmt.Errorf("AICONFIG_SECRET_KEY_FILE: %w", err)
		}
		active = string(b)
	}
	if s.PreviousFile != "" {
		b, err := os.ReadFile(s.PreviousFile)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("AICONFIG_PREVIOUS_SECRET_KEYS_FILE: %w", err)
		}
		previous = append(previous, splitKeys(string(b))...)
	}
	if strings.TrimSpace(active) == "" {
		return nil, nil
	}
	return NewKeyring(active, previous...)
}

// stamp changes when a key file changes.
func (s Source) stamp() string {
	var b strings.Builder
	for _, f := range []string{s.ActiveFile, s.PreviousFile} {
		if st, err := os.Stat(f); f != "" && err == nil {
			fmt.Fprintf(&b, "%s|%d|%d;", f, st.Size(), st.ModTime().UnixNano())
		}
	}
	return b.String()
}

// Keys is a serving replica's keyring, reloaded from its Source when the
// key files change (Watch) and, meeting a value sealed under a key it
// lacks, once before failing: a rotation never fails a call on a replica
// whose files already hold the new key.
type Keys struct {
	src     Source
	ring    atomic.Pointer[Keyring]
	mu      sync.Mutex
	stamp   string
	lastTry time.Time
	// OnReload hears that the keyring changed (a replica reports its key ids).
	OnReload func()
}

// NewKeys loads src.
func NewKeys(src Source) (*Keys, error) {
	ring, err := src.Load()
	if err != nil {
		return nil, err
	}
	k := &Keys{src: src, stamp: src.stamp()}
	k.ring.Store(ring)
	return k, nil
}

// Static is a keyring that never reloads (tests, one-shot commands).
func Static(ring *Keyring) *Keys {
	k := &Keys{}
	k.ring.Store(ring)
	return k
}

// Current is the keyring now (nil when no key is configured).
func (k *Keys) Current() *Keyring {
	if k == nil {
		return nil
	}
	return k.ring.Load()
}

// IDs lists the key ids the replica holds, the active one first.
func (k *Keys) IDs() []string { return k.Current().IDs() }

// Seal seals under the active key.
func (k *Keys) Seal(plaintext, aad string) (string, error) { return k.Current().Seal(plaintext, aad) }

// Open opens a sealed value, reloading the keys once (at most every
// second) if it names a key this replica lacks.
func (k *Keys) Open(sealed, aad string) (string, error) {
	plain, err := k.Current().Open(sealed, aad)
	if (errors.Is(err, ErrUnknownKey) || errors.Is(err, ErrNoKey)) && k.reload(true) {
		return k.Current().Open(sealed, aad)
	}
	return plain, err
}

// reload re-reads the source (if its files changed, or always when
// forced, at most once a second) and reports whether the keyring changed.
func (k *Keys) reload(force bool) bool {
	if k == nil || k.src.ActiveFile == "" && k.src.PreviousFile == "" {
		return false // from the environment only: nothing can change
	}
	k.mu.Lock()
	stamp := k.src.stamp()
	if (!force && stamp == k.stamp) || (force && time.Since(k.lastTry) < time.Second) {
		k.mu.Unlock()
		return false
	}
	k.lastTry, k.stamp = time.Now(), stamp
	ring, err := k.src.Load()
	if err != nil || ring == nil { // a file caught half-written: keep what works
		k.mu.Unlock()
		return false
	}
	old := k.ring.Swap(ring)
	k.mu.Unlock()
	changed := strings.Join(old.IDs(), ",") != strings.Join(ring.IDs(), ",")
	if changed && k.OnReload != nil {
		k.OnReload()
	}
	return changed
}

// Watch re-reads the key files every interval until ctx ends.
func (k *Keys) Watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			k.reload(false)
		}
	}
}
