package store

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/igny8/aiconfig/internal/domain"
)

// Follower reads the change feed in revision order on a connection of its
// own and hands every change to Apply, exactly once and in order. LISTEN
// wakes it at once; it also reads every Interval, so a notification that
// never arrives (a dropped connection, a pooler that does not forward them)
// delays a change but never loses it. After a reconnect it resumes from the
// last change it applied.
//
// It also keeps the newest changes in memory for WatchChanges streams
// (Since, Wait), and deletes changes older than Retention.
type Follower struct {
	Store *Store
	Log   *slog.Logger
	// Apply hears each change, in order, but for those this process
	// committed and already told Store.OnChange about. It must not block.
	Apply func(Change)
	// InStep hears true once the follower is connected and has applied
	// everything up to the head, false when it loses its connection: caches
	// must not take what they load meanwhile as fresh.
	InStep func(bool)
	// Lost hears that changes after the follower's position were compacted
	// away before it read them: anything cached may be stale.
	Lost func()
	// Lag, when set, hears how long each change took from its commit to
	// being applied here (metrics).
	Lag func(time.Duration)
	// Interval between reads when no notification comes; default 1s.
	Interval time.Duration
	// Retention: changes older than this are deleted (checked hourly); 0 keeps all.
	Retention time.Duration
	// KeyRetention: idempotency keys older than this are deleted (checked
	// hourly, with the changes); 0 keeps all.
	KeyRetention time.Duration

	// Connected is true while the follower is connected and in step.
	Connected  atomic.Bool
	backendPID atomic.Uint32
	inStepAt   atomic.Int64 // unix nanos of the last read that found it up to date

	mu      sync.Mutex
	started bool
	pos     int64    // last applied revision
	recent  []Change // the newest applied changes, oldest first
	wake    chan struct{}
}

// recentChanges bounds the in-memory tail that streams are served from.
const recentChanges = 1024

// feedPage bounds one read of the feed.
const feedPage = 1000

// BackendPID is the server process id of the follower's connection (tests
// terminate it).
func (f *Follower) BackendPID() uint32 { return f.backendPID.Load() }

// InStepWithin reports whether the follower was up to date with the
// feed less than d ago.
func (f *Follower) InStepWithin(d time.Duration) bool {
	at := f.inStepAt.Load()
	return at != 0 && time.Since(time.Unix(0, at)) < d
}

// Position is the last revision applied.
func (f *Follower) Position() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pos
}

// Wait returns a channel closed when the follower next applies changes.
func (f *Follower) Wait() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.wake == nil {
		f.wake = make(chan struct{})
	}
	return f.wake
}

// Since returns the applied changes above after from memory, and the
// follower's position. ok is false when memory does not reach back to
// after: read the database (Store.ChangesAfter, which also knows what was
// compacted) instead.
func (f *Follower) Since(after int64) (out []Change, pos int64, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if after >= f.pos {
		return nil, f.pos, true
	}
	if len(f.recent) == 0 || f.recent[0].Revision > after+1 {
		return nil, f.pos, false
	}
	i := 0
	for i < len(f.recent) && f.recent[i].Revision <= after {
		i++
	}
	return append([]Change(nil), f.recent[i:]...), f.pos, true
}

// StartAt makes the follower start after revision rev (where a preload's
// snapshot stood) instead of at the head. Call it before Run.
func (f *Follower) StartAt(rev int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pos, f.started = rev, true
}

// Run follows the feed until ctx ends, reconnecting with a short backoff.
func (f *Follower) Run(ctx context.Context) {
	if f.Interval <= 0 {
		f.Interval = time.Second
	}
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		began := time.Now()
		err := f.session(ctx)
		if f.Connected.Swap(false) && f.InStep != nil {
			f.InStep(false)
		}
		if ctx.Err() != nil {
			return
		}
		if time.Since(began) > 10*time.Second {
			backoff = 50 * time.Millisecond
		}
		f.Log.Warn("change feed: connection lost; resuming from the last applied change", "error", errText(err),
			"revision", f.Position(), "retry_in", backoff.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		// Short, so a replica is back in step soon after the database is.
		backoff = min(backoff*2, 500*time.Millisecond)
	}
}

func errText(err error) string {
	if err == nil {
		return "closed"
	}
	return err.Error()
}

func (f *Follower) session(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, f.Store.ConnConfig())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+ChangeChannel); err != nil {
		return err
	}
	f.backendPID.Store(conn.PgConn().PID())
	f.mu.Lock()
	if !f.started {
		// A fresh follower starts at the head: what it would apply before
		// is already in anything loaded from now on.
		if err := conn.QueryRow(ctx, `SELECT revision FROM revisions WHERE id = 1`).Scan(&f.pos); err != nil {
			f.mu.Unlock()
			return err
		}
		f.started = true
	}
	f.mu.Unlock()
	if err := f.catchUp(ctx, conn); err != nil {
		return err
	}
	f.Connected.Store(true)
	if f.InStep != nil {
		f.InStep(true)
	}
	f.Log.Info("change feed: following", "revision", f.Position())
	lastCompaction := time.Time{}
	for {
		if time.Since(lastCompaction) > time.Hour {
			lastCompaction = time.Now()
			f.compact(ctx)
		}
		wctx, cancel := context.WithTimeout(ctx, f.Interval)
		_, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && wctx.Err() == nil:
			return err // the connection failed
		}
		if err := f.catchUp(ctx, conn); err != nil {
			return err
		}
	}
}

// compact deletes the changes and idempotency keys past their retention.
func (f *Follower) compact(ctx context.Context) {
	if f.Retention > 0 {
		if n, err := f.Store.CompactChanges(ctx, time.Now().Add(-f.Retention)); err != nil {
			f.Log.Warn("change feed: compaction failed", "error", err.Error())
		} else if n > 0 {
			f.Log.Info("change feed: compacted", "deleted", n)
		}
	}
	if f.KeyRetention > 0 {
		if n, err := f.Store.PruneKeys(ctx, time.Now().Add(-f.KeyRetention)); err != nil {
			f.Log.Warn("idempotency keys: pruning failed", "error", err.Error())
		} else if n > 0 {
			f.Log.Info("idempotency keys: pruned", "deleted", n)
		}
	}
}

// catchUp applies every change above the position, page by page.
func (f *Follower) catchUp(ctx context.Context, conn *pgx.Conn) error {
	for {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		pos := f.Position()
		batch, _, err := changesAfter(rctx, conn, pos, feedPage)
		cancel()
		var de *domain.Error
		if errors.As(err, &de) && de.Reason == domain.ReasonRevisionCompacted {
			// Away longer than the retention (or the database was
			// restored): what was missed is gone.
			through, _ := strconv.ParseInt(de.Metadata["oldest_revision"], 10, 64)
			f.Log.Warn("change feed: changes since the last applied one are gone; revalidating everything", "revision", pos,
				"resume_at", through, "why", de.Message)
			if f.Lost != nil {
				f.Lost()
			}
			f.mu.Lock()
			f.pos, f.recent = through, nil
			f.mu.Unlock()
			continue
		}
		if err != nil {
			return err
		}
		f.apply(batch)
		if len(batch) < feedPage {
			f.inStepAt.Store(time.Now().UnixNano())
			return nil
		}
	}
}

// apply hands a batch to Apply and makes it visible to streams.
func (f *Follower) apply(batch []Change) {
	if len(batch) == 0 {
		return
	}
	for _, c := range batch {
		if f.Apply != nil && !f.Store.takeLocal(c.Revision) {
			f.Apply(c)
		}
		if f.Lag != nil {
			f.Lag(time.Since(c.Time))
		}
	}
	f.Store.pruneLocal(batch[len(batch)-1].Revision)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pos = batch[len(batch)-1].Revision
	f.recent = append(f.recent, batch...)
	if n := len(f.recent) - recentChanges; n > 0 {
		f.recent = append([]Change(nil), f.recent[n:]...)
	}
	if f.wake != nil {
		close(f.wake)
		f.wake = nil
	}
}
