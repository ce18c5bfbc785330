package server

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"google.golang.org/grpc/status"

	"github.com/igny8/aiconfig/internal/domain"
)

// TestErrorDetailsAreDeterministic: the same error is the same bytes on
// the wire, its ErrorInfo metadata (a map) included, as answers are.
func TestErrorDetailsAreDeterministic(t *testing.T) {
	de := &domain.Error{Code: domain.CodePermissionDenied, Reason: domain.ReasonPlanLimitReached, Message: "limit",
		Metadata:   map[string]string{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6"},
		Violations: []domain.Violation{{Field: "x", Description: "bad"}}}
	var first [][]byte
	for i := range 50 {
		st := status.Convert(toStatus(context.Background(), slog.Default(), "/m", de)).Proto()
		if len(st.Details) != 2 {
			t.Fatalf("details: %v", st.Details)
		}
		if i == 0 {
			first = [][]byte{st.Details[0].Value, st.Details[1].Value}
			continue
		}
		for j, d := range st.Details {
			if !bytes.Equal(d.Value, first[j]) {
				t.Fatalf("call %d encoded detail %d differently", i, j)
			}
		}
	}
}
