package api

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/store"
)

// ChangeServer implements aiconfig.v1.ChangeService.
type ChangeServer struct {
	pb.UnimplementedChangeServiceServer
	Store *store.Store
	// Feed is this replica's follower of the change feed: live changes are
	// served from its memory.
	Feed *store.Follower
	// Draining closes when the server starts a graceful stop: streams end.
	Draining <-chan struct{}
	// Progress is how often an idle stream says it is up to date; default 10s.
	Progress time.Duration
}

var changeKinds = map[store.ChangeKind]pb.ChangeKind{
	store.ChangeGlobal: pb.ChangeKind_CHANGE_KIND_GLOBAL, store.ChangeCatalog: pb.ChangeKind_CHANGE_KIND_CATALOG,
	store.ChangeAccount: pb.ChangeKind_CHANGE_KIND_ACCOUNT, store.ChangeToken: pb.ChangeKind_CHANGE_KIND_TOKEN,
}

// changePage bounds one read of the history.
const changePage = 500

// WatchChanges replays the history after from_revision from the database
// (which knows what retention deleted), then follows this replica's feed.
//
//nolint:gocognit // the stream's one loop (catch up, follow, heartbeat, end) with its cases in one select; issue 22 item 3 tracks splitting it
func (s *ChangeServer) WatchChanges(req *pb.WatchChangesRequest, stream pb.ChangeService_WatchChangesServer) error {
	ctx := stream.Context()
	pos := req.GetFromRevision()
	switch {
	case pos == -1: // from now: a client with nothing cached needs no history
		head, err := s.Store.Head(ctx)
		if err != nil {
			return err
		}
		pos = head
	case pos < 0:
		return domain.InvalidField("from_revision", "must be -1 (from now), 0 (the whole retained history) or the last revision applied")
	}
	send := func(batch []store.Change) error {
		for _, c := range batch {
			if err := stream.Send(&pb.Change{Revision: c.Revision, Kind: changeKinds[c.Kind], AccountId: c.AccountID,
				Resource: c.Resource, Time: timestamppb.New(c.Time)}); err != nil {
				return err
			}
			pos = c.Revision
		}
		return nil
	}
	progress := func() error { return stream.Send(&pb.Change{Revision: pos, Progress: true}) }
	var head int64
	for {
		batch, h, err := s.Store.ChangesAfter(ctx, pos, changePage)
		if err != nil {
			return err
		}
		if err := send(batch); err != nil {
			return err
		}
		if head = h; len(batch) < changePage {
			break
		}
	}
	// The replay read the database, which may be ahead of this replica's
	// follower, and so of its cache: say "up to date" only once the
	// replica's own answers include every change the client has applied,
	// or a client that just dropped an answer would load it again, older.
	if err := s.awaitFollower(ctx, pos); err != nil {
		return err
	}
	pos = max(pos, head) // nothing lies between: caught up
	if err := progress(); err != nil {
		return err
	}
	every := s.Progress
	if every <= 0 {
		every = 10 * time.Second
	}
	idle := time.NewTimer(every)
	defer idle.Stop()
	for {
		wake := s.Feed.Wait() // taken before reading: no change slips between
		batch, _, ok := s.Feed.Since(pos)
		if !ok { // fell behind what the replica keeps in memory
			var err error
			if batch, _, err = s.Store.ChangesAfter(ctx, pos, changePage); err != nil {
				return err
			}
		}
		if len(batch) > 0 {
			if err := send(batch); err != nil {
				return err
			}
			idle.Reset(every)
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.Draining:
			return status.Error(codes.Unavailable, "the server is shutting down; reconnect to watch from another replica")
		case <-wake:
		case <-idle.C:
			// Progress means this replica is following the feed: when it is
			// not, end the stream so clients stop taking their caches as
			// fresh (and reconnect, here or elsewhere).
			if !s.Feed.Connected.Load() {
				return status.Error(codes.Unavailable, "this replica is not following the change feed; reconnect")
			}
			if err := progress(); err != nil {
				return err
			}
			idle.Reset(every)
		}
	}
}

// awaitFollower waits until this replica's follower is connected and has
// applied every change up to rev.
func (s *ChangeServer) awaitFollower(ctx context.Context, rev int64) error {
	for {
		wake := s.Feed.Wait()
		if s.Feed.Connected.Load() && s.Feed.Position() >= rev {
			return nil
		}
		t := time.NewTimer(50 * time.Millisecond) // Connected changes without a wake
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-s.Draining:
			t.Stop()
			return status.Error(codes.Unavailable, "the server is shutting down; reconnect to watch from another replica")
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}
