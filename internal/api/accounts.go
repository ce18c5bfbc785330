package api

import (
	"context"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/store"
	"github.com/igny8/aiconfig/internal/validate"
)

// AccountServer implements aiconfig.v1.AccountService.
type AccountServer struct {
	pb.UnimplementedAccountServiceServer
	Store *store.Store
}

// UpsertAccount creates an account or replaces its name and plan.
func (s *AccountServer) UpsertAccount(ctx context.Context, req *pb.UpsertAccountRequest) (*pb.Account, error) {
	in := req.GetAccount()
	a := domain.Account{ID: in.GetId(), Name: in.GetName(), Plan: domain.Plan(in.GetPlan())}
	if err := validate.ValidateAccount(a); err != nil {
		return nil, err
	}
	saved, err := s.Store.UpsertAccount(ctx, a, req.ExpectedRevision)
	if err != nil {
		return nil, err
	}
	return accountToPB(saved), nil
}

// GetAccount returns one account.
func (s *AccountServer) GetAccount(ctx context.Context, req *pb.GetAccountRequest) (*pb.Account, error) {
	if err := validate.CheckAccountID("id", req.GetId()); err != nil {
		return nil, err
	}
	a, err := s.Store.GetAccount(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return accountToPB(a), nil
}

// ListAccounts pages through accounts in id order.
func (s *AccountServer) ListAccounts(ctx context.Context, req *pb.ListAccountsRequest) (*pb.ListAccountsResponse, error) {
	p, err := newPage(req.GetPageSize(), req.GetPageToken(), "ListAccounts")
	if err != nil {
		return nil, err
	}
	list, err := s.Store.ListAccounts(ctx, p.after, p.limit+1)
	if err != nil {
		return nil, err
	}
	list, next := pageOf(p, list, func(a domain.Account) string { return a.ID })
	out := &pb.ListAccountsResponse{NextPageToken: next}
	for _, a := range list {
		out.Accounts = append(out.Accounts, accountToPB(a))
	}
	return out, nil
}

// DeleteAccount removes an account with its overrides and tokens.
func (s *AccountServer) DeleteAccount(ctx context.Context, req *pb.DeleteAccountRequest) (*pb.DeleteAccountResponse, error) {
	if err := validate.CheckAccountID("id", req.GetId()); err != nil {
		return nil, err
	}
	if err := s.Store.DeleteAccount(ctx, req.GetId(), req.ExpectedRevision); err != nil {
		return nil, err
	}
	return &pb.DeleteAccountResponse{}, nil
}
