package api

import (
	"context"
	"strconv"
	"time"

	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/store"
)

// AuditServer implements aiconfig.v1.AuditService.
type AuditServer struct {
	pb.UnimplementedAuditServiceServer
	Store *store.Store
}

func jsonStruct(b []byte) *structpb.Struct {
	if len(b) == 0 {
		return nil
	}
	s := &structpb.Struct{}
	if err := s.UnmarshalJSON(b); err != nil {
		return nil
	}
	return s
}

// ListAuditEvents pages through the audit log, newest first.
func (s *AuditServer) ListAuditEvents(ctx context.Context, req *pb.ListAuditEventsRequest) (*pb.ListAuditEventsResponse, error) {
	f := store.AuditFilter{AccountID: req.GetAccountId(), Resource: req.GetResource(), ActorName: req.GetActorName()}
	if req.StartTime != nil {
		f.Start = req.GetStartTime().AsTime()
	}
	if req.EndTime != nil {
		f.End = req.GetEndTime().AsTime()
	}
	if !f.Start.IsZero() && !f.End.IsZero() && !f.End.After(f.Start) {
		return nil, domain.InvalidField("end_time", "must be after start_time")
	}
	p, err := newPage(req.GetPageSize(), req.GetPageToken(), "ListAuditEvents", f.AccountID, f.Resource, f.ActorName,
		f.Start.Format(time.RFC3339Nano), f.End.Format(time.RFC3339Nano))
	if err != nil {
		return nil, err
	}
	before, err := p.beforeID()
	if err != nil {
		return nil, err
	}
	list, err := s.Store.ListAuditEvents(ctx, f, before, p.limit+1)
	if err != nil {
		return nil, err
	}
	list, next := pageOf(p, list, func(e domain.AuditEvent) string { return strconv.FormatInt(e.ID, 10) })
	out := &pb.ListAuditEventsResponse{NextPageToken: next}
	for _, e := range list {
		out.Events = append(out.Events, &pb.AuditEvent{
			Id: e.ID, CreateTime: timestamppb.New(e.CreatedAt), ActorTokenId: e.ActorTokenID, ActorName: e.ActorName,
			ActorRole: pb.Role(e.ActorRole), Rpc: e.RPC, Resource: e.Resource, AccountId: e.AccountID, Outcome: e.Outcome,
			Reason: e.Reason, Before: jsonStruct(e.Before), After: jsonStruct(e.After), RequestId: e.RequestID,
			Peer: e.Peer, Count: int32(e.Count),
		})
	}
	return out, nil
}
