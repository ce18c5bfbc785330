package api

import (
	"context"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/validate"
)

// contentStrategies declares the content strategy kind to the API.
var contentStrategies = newItemCodec(domain.ItemContentStrategy,
	// content → message (bookkeeping fields are set by the mechanism)
	func(c domain.Content) *pb.ContentStrategy {
		s := c.(domain.ContentStrategy) //nolint:forcetypeassert // the content-strategy codec only ever sees its own kind's content
		return &pb.ContentStrategy{Name: s.Name, Description: s.Description, Objective: s.Objective, Audience: s.Audience,
			ArticleTypes: s.ArticleTypes, WordCountMin: s.WordCountMin, WordCountMax: s.WordCountMax,
			KeywordGuidelines: s.KeywordGuidelines, StructureGuidelines: s.StructureGuidelines}
	},
	// message → content
	func(m *pb.ContentStrategy) domain.Content {
		return domain.ContentStrategy{Name: m.GetName(), Description: m.GetDescription(), Objective: m.GetObjective(), Audience: m.GetAudience(),
			ArticleTypes: m.GetArticleTypes(), WordCountMin: m.GetWordCountMin(), WordCountMax: m.GetWordCountMax(),
			KeywordGuidelines: m.GetKeywordGuidelines(), StructureGuidelines: m.GetStructureGuidelines()}
	},
	// validation
	func(c *domain.Collector, prefix string, content domain.Content) {
		validate.ContentStrategy(c, prefix, content.(domain.ContentStrategy)) //nolint:forcetypeassert // the content-strategy codec only ever sees its own kind's content
	},
)

// ContentStrategyServer implements aiconfig.v1.ContentStrategyService.
type ContentStrategyServer struct {
	pb.UnimplementedContentStrategyServiceServer
	items *itemService[*pb.ContentStrategy]
}

func (s *ContentStrategyServer) ListContentStrategies(ctx context.Context, req *pb.ListContentStrategiesRequest) (*pb.ListContentStrategiesResponse, error) {
	l, err := s.items.list(ctx, req.GetAccountId())
	if err != nil {
		return nil, err
	}
	return &pb.ListContentStrategiesResponse{ContentStrategies: l.usable, SuppressedContentStrategies: l.suppressed, DefaultId: l.defaultID}, nil
}

// GetContentStrategy is for in-process callers; gRPC callers get getAnswer's bytes (wire.go).
func (s *ContentStrategyServer) GetContentStrategy(ctx context.Context, req *pb.GetContentStrategyRequest) (*pb.ContentStrategy, error) {
	b, err := s.items.getAnswer(ctx, req.GetAccountId(), req.GetId())
	return decoded(&pb.ContentStrategy{}, b, err)
}

func (s *ContentStrategyServer) CreateContentStrategy(ctx context.Context, req *pb.CreateContentStrategyRequest) (*pb.ContentStrategy, error) {
	return s.items.create(ctx, req.GetAccountId(), req.GetContentStrategy())
}

func (s *ContentStrategyServer) UpdateContentStrategy(ctx context.Context, req *pb.UpdateContentStrategyRequest) (*pb.ContentStrategy, error) {
	return s.items.update(ctx, req.GetAccountId(), req.GetContentStrategy(), req.GetUpdateMask(), req.ExpectedRevision)
}

func (s *ContentStrategyServer) DeleteContentStrategy(ctx context.Context, req *pb.DeleteContentStrategyRequest) (*pb.DeleteContentStrategyResponse, error) {
	return &pb.DeleteContentStrategyResponse{}, s.items.delete(ctx, req.GetAccountId(), req.GetId(), req.ExpectedRevision)
}

func (s *ContentStrategyServer) ResetContentStrategy(ctx context.Context, req *pb.ResetContentStrategyRequest) (*pb.ContentStrategy, error) {
	return s.items.reset(ctx, req.GetAccountId(), req.GetId(), req.ExpectedRevision)
}

func (s *ContentStrategyServer) ListGlobalContentStrategies(ctx context.Context, _ *pb.ListGlobalContentStrategiesRequest) (*pb.ListGlobalContentStrategiesResponse, error) {
	list, err := s.items.listGlobal(ctx)
	return &pb.ListGlobalContentStrategiesResponse{ContentStrategies: list}, err
}

func (s *ContentStrategyServer) UpsertGlobalContentStrategy(ctx context.Context, req *pb.UpsertGlobalContentStrategyRequest) (*pb.ContentStrategy, error) {
	return s.items.upsertGlobal(ctx, req.GetContentStrategy(), req.ExpectedRevision)
}
