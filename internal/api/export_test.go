package api

import (
	"context"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
)

// ModelConfigAnswer exposes the hot path's bytes to the package's external
// tests and benchmarks.
func ModelConfigAnswer(s *ConfigServer, ctx context.Context, req *pb.GetModelConfigRequest) ([]byte, error) {
	return s.modelConfigAnswer(ctx, req)
}

// HasItemAPI reports whether a kind of item is declared to the API.
func HasItemAPI(k domain.ItemKind) bool { return itemAPIs[k] != nil }
