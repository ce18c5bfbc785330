package api

import (
	"context"
	"strconv"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/access"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/store"
)

// TokenServer implements aiconfig.v1.TokenService.
type TokenServer struct {
	pb.UnimplementedTokenServiceServer
	Store *store.Store
}

// CreateToken issues a token and returns its secret, once.
func (s *TokenServer) CreateToken(ctx context.Context, req *pb.CreateTokenRequest) (*pb.CreateTokenResponse, error) {
	t, secret, err := access.IssueToken(ctx, s.Store, req.GetName(), domain.Role(req.GetRole()), req.GetAccountId())
	if err != nil {
		return nil, err
	}
	return &pb.CreateTokenResponse{Token: tokenToPB(t), Secret: secret}, nil
}

// ListTokens lists tokens without secrets.
func (s *TokenServer) ListTokens(ctx context.Context, req *pb.ListTokensRequest) (*pb.ListTokensResponse, error) {
	p, err := newPage(req.GetPageSize(), req.GetPageToken(), "ListTokens", strconv.FormatBool(req.GetIncludeRevoked()))
	if err != nil {
		return nil, err
	}
	list, err := s.Store.ListTokens(ctx, p.after, p.limit+1, req.GetIncludeRevoked())
	if err != nil {
		return nil, err
	}
	list, next := pageOf(p, list, func(t domain.Token) string { return t.ID })
	out := &pb.ListTokensResponse{NextPageToken: next}
	for _, t := range list {
		out.Tokens = append(out.Tokens, tokenToPB(t))
	}
	return out, nil
}

// RevokeToken revokes a token; it fails at once on its next use.
func (s *TokenServer) RevokeToken(ctx context.Context, req *pb.RevokeTokenRequest) (*pb.Token, error) {
	if req.GetId() == "" {
		return nil, domain.InvalidField("id", "is required")
	}
	t, err := s.Store.RevokeToken(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return tokenToPB(t), nil
}

// WhoAmI describes the calling token. An ACCOUNT token also gets its
// account's name and plan (read now, so a plan changed since the token
// was issued shows).
func (s *TokenServer) WhoAmI(ctx context.Context, _ *pb.WhoAmIRequest) (*pb.WhoAmIResponse, error) {
	p, ok := access.PrincipalFrom(ctx)
	if !ok {
		return nil, &domain.Error{Code: domain.CodeUnauthenticated, Reason: domain.ReasonTokenMissing, Message: "no caller: WhoAmI needs a bearer token"}
	}
	out := &pb.WhoAmIResponse{Role: pb.Role(p.Role), TokenName: p.Name, TokenId: p.TokenID}
	if p.Role == domain.RoleAccount {
		a, err := s.Store.GetAccount(ctx, p.AccountID)
		if err != nil {
			return nil, err
		}
		out.AccountId, out.AccountName, out.Plan = a.ID, a.Name, pb.Plan(a.Plan)
	}
	return out, nil
}
