package client

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
)

// Issue 21 defect 8: a worker that reads once right after New, then loses
// the server, is answered from memory (SPEC 14), not UNAVAILABLE.
func TestReadAtStartServedThroughOutage(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c, err := New(s.addr, WithToken(s.service), WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if got := temperature(t, c, "acme"); got != 0.7 { // at once: no wait for the feed
		t.Fatalf("acme temperature = %v", got)
	}
	if st := c.Stats(); st.Entries != 1 {
		t.Fatalf("the answer read at start was not kept: %+v", st)
	}
	s.stop()
	waitFor(t, "the client to see the feed down", func() bool { return !c.Stats().InStep })
	if got := temperature(t, c, "acme"); got != 0.7 {
		t.Fatalf("acme during the outage = %v", got)
	}
	if c.Stats().StaleServed == 0 {
		t.Error("no stale answer counted")
	}
}

// Exactness at start: an answer read right after New is dropped by a
// later write like any other; and one read while the feed could not start
// is not kept, so a write made before the feed starts (which the feed,
// starting from then, never announces) is not hidden by it.
func TestReadAtStartStaysExact(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c, err := New(s.addr, WithToken(s.service), WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if got := temperature(t, c, "acme"); got != 0.7 {
		t.Fatalf("acme temperature = %v", got)
	}
	rev := setTemperature(t, s.env, s.admin, "acme", 0.3)
	waitFor(t, "the write to reach the client", func() bool { return c.Stats().Revision >= rev })
	if got := temperature(t, c, "acme"); got != 0.3 {
		t.Fatalf("acme after a write = %v, want 0.3", got)
	}

	// A feed slow to start: its stream opens 2 s late.
	var late atomic.Bool
	slow := grpc.WithChainStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string,
		streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		if method == pb.ChangeService_WatchChanges_FullMethodName && !late.Swap(true) {
			time.Sleep(2 * time.Second)
		}
		return streamer(ctx, desc, cc, method, opts...)
	})
	c2, err := New(s.addr, WithToken(s.service), WithInsecure(), WithDialOptions(slow))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c2.Close() })
	if got := temperature(t, c2, "beta"); got != 0.7 {
		t.Fatalf("beta temperature = %v", got)
	}
	setTemperature(t, s.env, s.admin, "beta", 0.4) // before the feed starts
	waitFor(t, "the slow feed to be in step", func() bool { return c2.Stats().InStep })
	if got := temperature(t, c2, "beta"); got != 0.4 {
		t.Fatalf("beta after a write made before the feed started = %v, want 0.4", got)
	}
}

// Issue 21 defect 9: a client left on TLS (the default) against a
// plaintext server fails at once with a configuration error saying what
// to do, which is not UNAVAILABLE (so nothing retries it forever).
func TestTLSClientAgainstPlaintextServer(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c, err := New(s.addr, WithToken(s.service), WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	start := time.Now()
	_, err = c.ModelConfig(context.Background(), "acme", "generate_content")
	var e *Error
	if !errors.Is(err, ErrServerPlaintext) || !errors.As(err, &e) || e.Code != codes.FailedPrecondition ||
		!strings.Contains(e.Message, "WithInsecure()") {
		t.Fatalf("read: %v, want ErrServerPlaintext (FAILED_PRECONDITION naming WithInsecure)", err)
	}
	if unavailable(err) {
		t.Fatal("the error is retryable")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the read took %v: retried a configuration error", d)
	}
	// A write through a stub on Conn, too.
	_, err = pb.NewAccountServiceClient(c.Conn()).UpsertAccount(context.Background(),
		&pb.UpsertAccountRequest{Account: &pb.Account{Id: "gamma", Name: "Gamma", Plan: pb.Plan_PLAN_STARTER}})
	if !errors.Is(ErrorFrom(err), ErrServerPlaintext) {
		t.Fatalf("write: %v, want ErrServerPlaintext", err)
	}
}
