package api

import (
	"context"
	"slices"
	"strings"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/resolve"
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
	if err := validate.Account(a); err != nil {
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

// SetAccountDefaults names the account's default items (AIP-134 mask);
// each one set must be usable by the account now.
func (s *AccountServer) SetAccountDefaults(ctx context.Context, req *pb.SetAccountDefaultsRequest) (*pb.Account, error) {
	if err := validate.CheckAccountID("account_id", req.GetAccountId()); err != nil {
		return nil, err
	}
	paths := maskPaths(req.GetUpdateMask())
	var c domain.Collector
	var valid []string
	for _, fd := range setDefaultsFields {
		valid = append(valid, string(fd.Name()))
	}
	slices.Sort(valid)
	for _, p := range paths {
		if !slices.Contains(valid, p) {
			c.Add("update_mask", "unknown path %q; allowed paths: %s", p, strings.Join(valid, ", "))
		}
	}
	defaults := itemIDs(req, setDefaultsFields, paths)
	for k, id := range defaults {
		if id != "" {
			if err := validate.CheckSlug(string(setDefaultsFields[k].Name()), id); err != nil {
				c.Merge(string(setDefaultsFields[k].Name()), err)
			}
		}
	}
	if err := c.Err(domain.ReasonValidationFailed); err != nil {
		return nil, err
	}
	a, err := s.Store.SetAccountDefaults(ctx, req.GetAccountId(), defaults, req.ExpectedRevision,
		func(g *domain.GlobalItem, stored *domain.AccountItem, a domain.Account) bool {
			return resolve.Item(g, a, stored).Usable
		})
	if err != nil {
		return nil, err
	}
	return accountToPB(a), nil
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
