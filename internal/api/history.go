package api

import (
	"context"
	"strconv"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/store"
	"github.com/igny8/aiconfig/internal/validate"
)

// HistoryServer implements aiconfig.v1.HistoryService.
type HistoryServer struct {
	pb.UnimplementedHistoryServiceServer
	Store *store.Store
}

func historyToPB(e domain.HistoryEntry) *pb.HistoryEntry {
	api := itemAPIs[e.Kind]
	out := &pb.HistoryEntry{Id: e.ID, Kind: pb.ItemKind(e.Kind), AccountId: e.AccountID, ItemId: e.ItemID, Action: e.Action,
		ActorName: e.ActorName, ActorRole: pb.Role(e.ActorRole), Revision: e.Revision, CreateTime: timestamppb.New(e.CreatedAt)}
	if e.Old != nil {
		out.Before = api.version(e.ItemID, e.Old, false)
	}
	if e.New != nil {
		out.After = api.version(e.ItemID, e.New, e.Archived)
	}
	return out
}

// historyPage reads one page of history (AIP-158), newest first.
func historyPage(ctx context.Context, st *store.Store, accountID string, k domain.ItemKind, itemID string, size int32, token string) ([]domain.HistoryEntry, string, error) {
	if accountID != "" {
		if err := validate.CheckAccountID("account_id", accountID); err != nil {
			return nil, "", err
		}
	}
	p, err := newPage(size, token, "ListHistory", accountID, strconv.Itoa(int(k)), itemID)
	if err != nil {
		return nil, "", err
	}
	before, err := p.beforeID()
	if err != nil {
		return nil, "", err
	}
	list, err := st.ListHistory(ctx, accountID, k, itemID, before, p.limit+1)
	if err != nil {
		return nil, "", err
	}
	list, next := pageOf(p, list, func(e domain.HistoryEntry) string { return strconv.FormatInt(e.ID, 10) })
	return list, next, nil
}

// ListHistory pages through item changes, newest first.
func (s *HistoryServer) ListHistory(ctx context.Context, req *pb.ListHistoryRequest) (*pb.ListHistoryResponse, error) {
	k := domain.ItemKind(req.GetKind())
	if k != domain.ItemKindUnknown && !k.Valid() {
		return nil, domain.InvalidField("kind", "unknown item kind %d", req.GetKind())
	}
	if len(req.GetItemId()) > 64 {
		return nil, domain.InvalidField("item_id", "is not an item id (at most 64 characters)")
	}
	list, next, err := historyPage(ctx, s.Store, req.GetAccountId(), k, req.GetItemId(), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &pb.ListHistoryResponse{NextPageToken: next}
	for _, e := range list {
		out.Entries = append(out.Entries, historyToPB(e))
	}
	return out, nil
}

// RestoreVersion sets an item back to the version a history entry
// recorded, as a new change. The access rule gates it: an account's item
// needs plan >= Starter, a global item (no account) ROLE_ADMIN.
func (s *HistoryServer) RestoreVersion(ctx context.Context, req *pb.RestoreVersionRequest) (*pb.RestoreVersionResponse, error) {
	if id := req.GetAccountId(); id != "" {
		if err := validate.CheckAccountID("account_id", id); err != nil {
			return nil, err
		}
	}
	if req.GetEntryId() <= 0 {
		return nil, domain.InvalidField("entry_id", "is required: the id of a history entry (ListHistory shows them)")
	}
	e, rev, err := s.Store.RestoreVersion(ctx, req.GetAccountId(), req.GetEntryId(), req.ExpectedRevision,
		store.Restore{Global: restoreGlobal, Account: restoreItem})
	if err != nil {
		return nil, err
	}
	return &pb.RestoreVersionResponse{Entry: historyToPB(e), Revision: rev}, nil
}
