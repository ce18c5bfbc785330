// Package secret seals API keys with AES-256-GCM before they reach the
// database. A sealed value reads "aicenc:v1:<key id>:<base64 nonce‖ciphertext>";
// the key id names which configured key sealed it, so rotation can keep
// old keys for reading while new writes use the active one. The caller
// passes the row's identity as associated data, so a ciphertext copied to
// another row fails to open.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

const prefix = "aicenc:v1:"

// ErrNoKey means no secret key is configured.
var ErrNoKey = errors.New("no secret key is configured (set AICONFIG_SECRET_KEY or AICONFIG_SECRET_KEY_FILE)")

// ErrUnknownKey means a value was sealed under a key the keyring lacks.
var ErrUnknownKey = errors.New("sealed under a key that is not configured")

// Keyring holds the active key and older keys that may still open values.
type Keyring struct {
	active string // key id
	aeads  map[string]cipher.AEAD
}

// KeyID is the public identifier of a key: the first 8 hex digits of its
// SHA-256, so it names the key without revealing it.
func KeyID(key []byte) string {
	h := sha256.Sum256(key)
	return hex.EncodeToString(h[:4])
}

// NewKeyring builds a keyring from base64 keys; the first is active.
func NewKeyring(active string, previous ...string) (*Keyring, error) {
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	for i, enc := range append([]string{active}, previous...) {
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
		if err != nil || len(raw) != 32 {
			which := "AICONFIG_SECRET_KEY"
			if i > 0 {
				which = fmt.Sprintf("previous key #%d", i)
			}
			return nil, fmt.Errorf("%s must be 32 random bytes in standard base64 (e.g. `openssl rand -base64 32`)", which)
		}
		block, _ := aes.NewCipher(raw)
		aead, _ := cipher.NewGCM(block)
		id := KeyID(raw)
		if i == 0 {
			k.active = id
		}
		k.aeads[id] = aead
	}
	return k, nil
}

// FromEnv loads the keyring SourceFromEnv describes; nil, nil when no key
// is configured.
func FromEnv() (*Keyring, error) { return SourceFromEnv().Load() }

// IDs lists the ids of every key the keyring holds, the active one first.
func (k *Keyring) IDs() []string {
	if k == nil {
		return nil
	}
	ids := []string{k.active}
	for id := range k.aeads {
		if id != k.active {
			ids = append(ids, id)
		}
	}
	return ids
}

// ActiveID is the id of the key new values are sealed with.
func (k *Keyring) ActiveID() string { return k.active }

// Seal encrypts plaintext under the active key, bound to aad.
func (k *Keyring) Seal(plaintext, aad string) (string, error) {
	if k == nil {
		return "", ErrNoKey
	}
	aead := k.aeads[k.active]
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	sealed := aead.Seal(nonce, nonce, []byte(plaintext), []byte(aad))
	return prefix + k.active + ":" + base64.RawStdEncoding.EncodeToString(sealed), nil
}

// KeyIDOf returns the key id a sealed value names.
func KeyIDOf(sealed string) (string, error) {
	rest, ok := strings.CutPrefix(sealed, prefix)
	id, _, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 {
		return "", errors.New("not a sealed value (expected aicenc:v1:...)")
	}
	return id, nil
}

// Open decrypts a sealed value bound to aad. Errors never include the
// value or the key.
func (k *Keyring) Open(sealed, aad string) (string, error) {
	id, err := KeyIDOf(sealed)
	if err != nil {
		return "", err
	}
	if k == nil {
		return "", fmt.Errorf("value sealed under key %s, but %w", id, ErrNoKey)
	}
	aead, ok := k.aeads[id]
	if !ok {
		return "", fmt.Errorf("value %w %s (active key is %s); add it to AICONFIG_PREVIOUS_SECRET_KEYS(_FILE)", ErrUnknownKey, id, k.active)
	}
	raw, err := base64.RawStdEncoding.DecodeString(sealed[len(prefix)+len(id)+1:])
	if err != nil || len(raw) < aead.NonceSize() {
		return "", errors.New("sealed value is corrupt")
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(aad))
	if err != nil {
		return "", fmt.Errorf("value sealed under key %s does not open for %s: wrong key, or copied from another row", id, aad)
	}
	return string(plain), nil
}

// Hint is what reads show of a key: its last four characters, and only
// when the key is long enough that they reveal nothing useful.
func Hint(key string) string {
	if len(key) < 12 {
		return ""
	}
	return "…" + key[len(key)-4:]
}

// NewKey returns a fresh random key in base64, for `make run` and tests.
func NewKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
