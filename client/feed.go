package client

import (
	"context"
	"math/rand/v2"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
)

// follow keeps one WatchChanges stream open until ctx ends: it applies
// each change to the cache, resumes from the last revision applied after
// a disconnect (retrying with jittered backoff), and starts over when the
// server no longer keeps the changes it would resume from.
func (c *Client) follow(ctx context.Context) {
	wait := retryWait{base: 100 * time.Millisecond, max: 5 * time.Second}
	lost := false // logged that the feed is down (once per outage)
	for {
		err := c.watch(ctx)
		c.cache.firstStepDone() // the first attempt ended: loads wait no more
		wasInStep := c.cache.leave()
		if ctx.Err() != nil {
			return
		}
		e, ok := ErrorFrom(err).(*Error)
		if !ok { // watch ended without an error: treat it as any other end
			e = &Error{Code: codes.Unknown, Message: "the change feed ended"}
		}
		if e.Code == codes.OutOfRange && e.Reason == ReasonRevisionCompacted {
			oldest, perr := strconv.ParseInt(e.Metadata["oldest_revision"], 10, 64)
			if perr == nil {
				c.log.Warn("aiconfig client: the change feed no longer holds the changes after the last one applied; dropping the cache and starting over",
					"revision", c.cache.position(), "oldest_revision", oldest)
				c.cache.restart(oldest)
				continue
			}
		}
		if wasInStep {
			wait.reset()
		}
		if !lost || wasInStep {
			lost = true
			c.log.Warn("aiconfig client: change feed lost; serving cached answers for up to max_stale while it reconnects",
				"code", e.Code.String(), "reason", e.Reason, "error", e.Message, "max_stale", c.opts.maxStale.String())
		}
		delay := wait.next()
		if e.Code == codes.PermissionDenied || e.Code == codes.Unauthenticated {
			delay = max(delay, time.Minute) // a token that may not watch: reads are not cached
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// watch runs one stream from the cache's position until it fails.
func (c *Client) watch(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	from := c.cache.position()
	if from == 0 {
		from = -1 // nothing applied yet, so nothing to replay: from now
	}
	stream, err := c.changes.WatchChanges(ctx, &pb.WatchChangesRequest{FromRevision: from})
	if err != nil {
		return err
	}
	for {
		ch, err := stream.Recv()
		if err != nil {
			return err
		}
		if c.cache.apply(ch) {
			c.log.Info("aiconfig client: change feed in step", "revision", ch.GetRevision())
		}
	}
}

// retryWait grows exponentially with jitter (each delay is between half and
// all of the current step), so clients that lost the same server do not
// all come back at once.
type retryWait struct{ base, max, cur time.Duration }

func (b *retryWait) next() time.Duration {
	b.cur = min(max(2*b.cur, b.base), b.max)
	return b.cur/2 + rand.N(b.cur/2+1)
}

func (b *retryWait) reset() { b.cur = 0 }
