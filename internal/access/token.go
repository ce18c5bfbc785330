// Package access authenticates callers and enforces the access rule each
// RPC declares in the proto (aiconfig.v1.access): role, account scope and
// the plan gate. Handlers never re-check any of it.
package access

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// TokenPrefix marks aiconfig secrets so secret scanners can find a leaked one.
const TokenPrefix = "aic_"

// NewSecret returns a fresh bearer secret (32 random bytes) and the hash
// that is stored in its place.
func NewSecret() (secret string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	secret = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	h := HashSecret(secret)
	return secret, h[:]
}

// HashSecret is the stored form of a secret. Secrets carry 256 random
// bits, so a plain SHA-256 cannot be brute-forced and needs no salt.
func HashSecret(secret string) [32]byte {
	var buf [64]byte // secrets are 47 bytes: hashed from the stack, no allocation per call
	return sha256.Sum256(append(buf[:0], secret...))
}

// NewTokenID returns a public, non-secret token id.
func NewTokenID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return "tok_" + hex.EncodeToString(b)
}

// WellFormed reports whether secret has the shape of a token this service
// issues, so a malformed one is refused without a database query.
func WellFormed(secret string) bool {
	if len(secret) != len(TokenPrefix)+43 || secret[:len(TokenPrefix)] != TokenPrefix {
		return false
	}
	for i := len(TokenPrefix); i < len(secret); i++ {
		if c := secret[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
