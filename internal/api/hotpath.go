package api

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/igny8/aiconfig/internal/access"
	"github.com/igny8/aiconfig/internal/cache"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/validate"
)

// loadAccount is the hot path's read: the account's data and the global
// layer, from the cache (or the database when it is disabled, with items
// only if the answer needs them).
func loadAccount(ctx context.Context, c *cache.Cache, accountID string, items bool) (*cache.Account, *cache.Global, error) {
	if err := validate.CheckAccountID("account_id", accountID); err != nil {
		return nil, nil, err
	}
	return c.AccountAndGlobal(ctx, accountID, items)
}

// callerRole is the authenticated caller's role (RoleUnknown if none).
func callerRole(ctx context.Context) domain.Role {
	p, _ := access.PrincipalFrom(ctx)
	return p.Role
}

// watchPoll is how often a watch re-reads when the cache (and so change
// notification) is disabled.
const watchPoll = time.Second

// watch streams read's answer now and again after every change that may
// affect the account, sending only what newer accepts over the last one
// sent. It ends when the client goes, the server drains (UNAVAILABLE, so
// clients reconnect elsewhere), or read fails for a reason other than a
// passing database outage.
func watch[M proto.Message](ctx context.Context, c *cache.Cache, draining <-chan struct{}, accountID string,
	read func() (M, error), newer func(last, cur M) bool, send func(M) error) error {
	var last M
	sent := false
	for {
		changed := c.Changed(accountID) // taken before reading: no change slips between
		cur, err := read()
		var de *domain.Error
		switch {
		case err == nil && (!sent || newer(last, cur)):
			if err := send(cur); err != nil {
				return err
			}
			last, sent = cur, true
		case err != nil && (!sent || !errors.As(err, &de) || de.Code != domain.CodeUnavailable):
			return err // bad request, or the account is gone
		}
		var poll <-chan time.Time
		if !c.Enabled() {
			poll = time.After(watchPoll)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-draining:
			return status.Error(codes.Unavailable, "the server is shutting down; reconnect to watch from another replica")
		case <-changed:
		case <-poll:
		}
	}
}
