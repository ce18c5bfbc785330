package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/igny8/aiconfig/internal/store"
)

// Source is what the listener needs from the store.
type Source interface {
	ConnConfig() *pgx.ConnConfig
	SendPing(ctx context.Context, nonce string) error
	GlobalRevision(ctx context.Context) (int64, error)
}

// Listener keeps a cache in step with writes made by other replicas.
type Listener struct {
	Cache    *Cache
	Source   Source
	Log      *slog.Logger
	Interval time.Duration // periodic check; default 3s
	// Lag, when set, hears how long each change took from its writer's
	// announcement to this listener (metrics).
	Lag func(time.Duration)
	// Connected is true while LISTEN is established.
	Connected atomic.Bool
	// backendPID of the listening connection (tests terminate it).
	backendPID atomic.Uint32
}

// BackendPID is the server process id of the listening connection.
func (l *Listener) BackendPID() uint32 { return l.backendPID.Load() }

// Run listens until ctx ends, reconnecting with backoff. After every
// (re)connect the cache revalidates everything: notifications sent while
// the listener was away are lost, so they are treated as hints only.
func (l *Listener) Run(ctx context.Context) {
	if l.Interval <= 0 {
		l.Interval = 3 * time.Second
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := l.session(ctx)
		l.Connected.Store(false)
		l.Cache.lost()
		if ctx.Err() != nil {
			return
		}
		l.Log.Warn("change listener lost; cache revalidates on next use", "error", err.Error(), "retry_in", backoff.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
		if err == nil {
			backoff = 100 * time.Millisecond
		}
	}
}

func (l *Listener) session(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, l.Source.ConnConfig())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+store.ChangeChannel); err != nil {
		return err
	}
	l.backendPID.Store(conn.PgConn().PID())
	// Anything cached before LISTEN took effect may have missed a change.
	l.Cache.lost()
	l.Connected.Store(true)
	l.Log.Info("change listener connected")

	var pending string // nonce of a ping not heard back yet
	var pendingSince time.Time
	for {
		wctx, cancel := context.WithTimeout(ctx, l.Interval)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			ch, perr := store.ParseChange(n.Payload)
			if perr != nil {
				l.Log.Warn("ignoring malformed change", "payload", n.Payload)
				continue
			}
			if ch.Kind == store.ChangePing && ch.Key == pending {
				pending = ""
			}
			if l.Lag != nil && !ch.At.IsZero() {
				l.Lag(time.Since(ch.At))
			}
			l.Cache.Invalidate(ch)
			continue
		case ctx.Err() != nil:
			return nil
		case wctx.Err() == nil:
			return err // the connection failed
		}
		// Quiet for an interval: check the listening connection is alive
		// (a terminated backend is not always reported to a waiting read),
		// that it still hears our own NOTIFY, and that the global layer did
		// not move without us.
		if err := conn.Ping(ctx); err != nil {
			return err
		}
		if pending != "" && time.Since(pendingSince) > 2*l.Interval {
			return errSilent
		}
		if pending == "" {
			pending, pendingSince = nonce(), time.Now()
			if err := l.Source.SendPing(ctx, pending); err != nil {
				return err
			}
		}
		if rev, err := l.Source.GlobalRevision(ctx); err == nil {
			if e := l.Cache.global.Load(); e != nil && rev > e.g.Revision {
				l.Cache.Invalidate(store.Change{Revision: rev, Kind: store.ChangeGlobal, Key: "-"})
			}
		}
	}
}

type silentErr struct{}

func (silentErr) Error() string { return "listener heard nothing back from its own ping" }

var errSilent = silentErr{}

func nonce() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
