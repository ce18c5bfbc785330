package api

import (
	"context"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/validate"
)

// authorProfiles declares the author profile kind to the API.
var authorProfiles = newItemCodec(domain.ItemAuthorProfile,
	// content → message (bookkeeping fields are set by the mechanism)
	func(c domain.Content) *pb.AuthorProfile {
		p := c.(domain.AuthorProfile) //nolint:forcetypeassert // the author-profile codec only ever sees its own kind's content
		return &pb.AuthorProfile{Name: p.Name, Description: p.Description, Tone: p.Tone, Language: p.Language,
			Audience: p.Audience, StyleGuide: p.StyleGuide}
	},
	// message → content
	func(m *pb.AuthorProfile) domain.Content {
		return domain.AuthorProfile{Name: m.GetName(), Description: m.GetDescription(), Tone: m.GetTone(), Language: m.GetLanguage(),
			Audience: m.GetAudience(), StyleGuide: m.GetStyleGuide()}
	},
	// validation
	func(c *domain.Collector, prefix string, content domain.Content) {
		validate.AuthorProfile(c, prefix, content.(domain.AuthorProfile)) //nolint:forcetypeassert // the author-profile codec only ever sees its own kind's content
	},
)

// AuthorProfileServer implements aiconfig.v1.AuthorProfileService.
type AuthorProfileServer struct {
	pb.UnimplementedAuthorProfileServiceServer
	items *itemService[*pb.AuthorProfile]
}

func (s *AuthorProfileServer) ListAuthorProfiles(ctx context.Context, req *pb.ListAuthorProfilesRequest) (*pb.ListAuthorProfilesResponse, error) {
	l, err := s.items.list(ctx, req.GetAccountId())
	if err != nil {
		return nil, err
	}
	return &pb.ListAuthorProfilesResponse{AuthorProfiles: l.usable, SuppressedAuthorProfiles: l.suppressed, DefaultId: l.defaultID}, nil
}

// GetAuthorProfile is for in-process callers; gRPC callers get getAnswer's bytes (wire.go).
func (s *AuthorProfileServer) GetAuthorProfile(ctx context.Context, req *pb.GetAuthorProfileRequest) (*pb.AuthorProfile, error) {
	b, err := s.items.getAnswer(ctx, req.GetAccountId(), req.GetId())
	return decoded(&pb.AuthorProfile{}, b, err)
}

func (s *AuthorProfileServer) CreateAuthorProfile(ctx context.Context, req *pb.CreateAuthorProfileRequest) (*pb.AuthorProfile, error) {
	return s.items.create(ctx, req.GetAccountId(), req.GetAuthorProfile())
}

func (s *AuthorProfileServer) UpdateAuthorProfile(ctx context.Context, req *pb.UpdateAuthorProfileRequest) (*pb.AuthorProfile, error) {
	return s.items.update(ctx, req.GetAccountId(), req.GetAuthorProfile(), req.GetUpdateMask(), req.ExpectedRevision)
}

func (s *AuthorProfileServer) DeleteAuthorProfile(ctx context.Context, req *pb.DeleteAuthorProfileRequest) (*pb.DeleteAuthorProfileResponse, error) {
	return &pb.DeleteAuthorProfileResponse{}, s.items.delete(ctx, req.GetAccountId(), req.GetId(), req.ExpectedRevision)
}

func (s *AuthorProfileServer) ResetAuthorProfile(ctx context.Context, req *pb.ResetAuthorProfileRequest) (*pb.AuthorProfile, error) {
	return s.items.reset(ctx, req.GetAccountId(), req.GetId(), req.ExpectedRevision)
}

func (s *AuthorProfileServer) ListGlobalAuthorProfiles(ctx context.Context, _ *pb.ListGlobalAuthorProfilesRequest) (*pb.ListGlobalAuthorProfilesResponse, error) {
	list, err := s.items.listGlobal(ctx)
	return &pb.ListGlobalAuthorProfilesResponse{AuthorProfiles: list}, err
}

func (s *AuthorProfileServer) UpsertGlobalAuthorProfile(ctx context.Context, req *pb.UpsertGlobalAuthorProfileRequest) (*pb.AuthorProfile, error) {
	return s.items.upsertGlobal(ctx, req.GetAuthorProfile(), req.ExpectedRevision)
}
