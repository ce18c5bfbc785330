package access

import (
	"context"
	"errors"
	"strings"
	"testing"

	"google.golang.org/grpc/metadata"

	"github.com/igny8/aiconfig/internal/domain"
)

type noTokens struct{ Store }

func (noTokens) Authenticate(context.Context, [32]byte) (*domain.Principal, bool, error) {
	return nil, false, nil
}

func (noTokens) Cached([32]byte) (*domain.Principal, bool) { return nil, false }

// TestAuthenticateSaysWhatWasExpected: a token sent without "Bearer " is
// told what the header must look like, and the value is not echoed.
func TestAuthenticateSaysWhatWasExpected(t *testing.T) {
	g, err := NewGuard(noTokens{}, DefaultLimits(), NewDeniedLog(nil))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		header, reason, mention string
	}{
		{"", domain.ReasonTokenMissing, "missing bearer token"},
		{"aic_secretvalue", domain.ReasonTokenMissing, "write the word Bearer and a space before the token"},
		{"Token aic_secretvalue", domain.ReasonTokenMissing, "write the word Bearer and a space before the token"},
		{"Bearer aic_secretvalue", domain.ReasonTokenInvalid, "unknown or revoked"},
		{"Bearer aic_" + strings.Repeat("x", 43), domain.ReasonTokenInvalid, "unknown or revoked"},
	}
	for _, c := range cases {
		ctx := context.Background()
		if c.header != "" {
			ctx = metadata.NewIncomingContext(ctx, metadata.Pairs("authorization", c.header))
		}
		_, err := g.Authenticate(ctx)
		var de *domain.Error
		if !errors.As(err, &de) || de.Reason != c.reason || !strings.Contains(de.Message, c.mention) || strings.Contains(de.Message, "secretvalue") {
			t.Errorf("authorization %q: %v; want %s saying %q", c.header, err, c.reason, c.mention)
		}
	}
}

// TestDefaultLimits: SPEC §16's defaults, 20 unauthenticated calls a
// second per peer with a burst of 40, and 50 writes a second per token.
func TestDefaultLimits(t *testing.T) {
	l := DefaultLimits()
	if l.Unauthenticated != 20 || l.UnauthenticatedBurst != 40 || l.Writes != 50 {
		t.Fatalf("default limits %+v", l)
	}
}
