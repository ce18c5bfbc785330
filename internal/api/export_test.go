package api

import (
	"context"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
)

// ModelConfigAnswer exposes the hot path's bytes to the package's external
// tests and benchmarks.
func ModelConfigAnswer(s *ConfigServer, ctx context.Context, req *pb.GetModelConfigRequest) ([]byte, error) {
	return s.modelConfigAnswer(ctx, req)
}
