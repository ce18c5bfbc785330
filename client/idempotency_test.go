package client

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// cutProxy forwards TCP connections to the server and can swallow what
// the server sends back, then cut: the write reaches the server and
// commits, its answer never reaches the client.
type cutProxy struct {
	lis    net.Listener
	target string
	mute   atomic.Bool // server-to-client bytes are dropped

	mu    sync.Mutex
	conns []net.Conn
}

func newCutProxy(t testing.TB, target string) *cutProxy {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{lis: lis, target: target}
	t.Cleanup(func() { _ = lis.Close(); p.cut() })
	go func() {
		for {
			in, err := lis.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				_ = in.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, in, out)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(out, in); _ = out.Close() }()
			go func() {
				buf := make([]byte, 32<<10)
				for {
					n, err := out.Read(buf)
					if n > 0 && !p.mute.Load() {
						if _, werr := in.Write(buf[:n]); werr != nil {
							break
						}
					}
					if err != nil {
						break
					}
				}
				_ = in.Close()
			}()
		}
	}()
	return p
}

func (p *cutProxy) addr() string { return p.lis.Addr().String() }

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

// writesOf counts what the database holds of the writes to a resource:
// audit rows, change rows, and idempotency keys.
func writesOf(t *testing.T, dbURL, resource string) (audits, changes, keys int) {
	t.Helper()
	ctx := context.Background()
	db, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	if err := db.QueryRow(ctx, `SELECT (SELECT count(*) FROM audit_events WHERE resource = $1),
		(SELECT count(*) FROM changes WHERE resource = $1), (SELECT count(*) FROM idempotency_keys)`, resource).
		Scan(&audits, &changes, &keys); err != nil {
		t.Fatal(err)
	}
	return audits, changes, keys
}

// createLosingAnswer creates an author profile through a proxy that lets
// the request through, waits until the server has committed it, then cuts
// the connection before the answer reaches the caller. It returns what
// the call finally answered and the profile as the server holds it.
func createLosingAnswer(t *testing.T, s *server, p *cutProxy, create func(context.Context, *pb.CreateAuthorProfileRequest) (*pb.AuthorProfile, error),
	id string) (*pb.AuthorProfile, error, *pb.AuthorProfile) { //nolint:staticcheck // ST1008: the call's (answer, error) pair, then what the server holds
	t.Helper()
	type result struct {
		p   *pb.AuthorProfile
		err error
	}
	done := make(chan result, 1)
	p.mute.Store(true)
	go func() {
		got, err := create(context.Background(), &pb.CreateAuthorProfileRequest{AccountId: "acme",
			AuthorProfile: &pb.AuthorProfile{Id: id, Name: "Plain speaker", Language: "en", Tone: "plain"}})
		done <- result{got, err}
	}()
	// The write committed (the server answers it directly), and its answer
	// is in the swallowed bytes.
	var stored *pb.AuthorProfile
	waitFor(t, "the create to commit", func() bool {
		var err error
		stored, err = s.env.Profiles.GetAuthorProfile(testsrv.Ctx(s.admin), &pb.GetAuthorProfileRequest{AccountId: "acme", Id: id})
		return err == nil
	})
	p.mute.Store(false)
	p.cut()
	select {
	case r := <-done:
		return r.p, r.err, stored
	case <-time.After(20 * time.Second):
		t.Fatal("the create never returned")
	}
	return nil, nil, nil
}

// SPEC 17, issue 21 defect 4: a write whose answer is lost between COMMIT
// and the reply is retried by the client with its idempotency key, and the
// retry returns the original answer; the database shows one write.
func TestWriteRetriedAfterLostAnswerWritesOnce(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	p := newCutProxy(t, s.addr)
	c, err := New(p.addr(), WithToken(s.admin), WithInsecure(), WithTimeout(15*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	waitFor(t, "the client's feed to be in step", func() bool { return c.Stats().InStep }) // connected
	profiles := pb.NewAuthorProfileServiceClient(c.Conn())
	create := func(ctx context.Context, req *pb.CreateAuthorProfileRequest) (*pb.AuthorProfile, error) {
		return profiles.CreateAuthorProfile(ctx, req)
	}
	got, err, stored := createLosingAnswer(t, s, p, create, "plain-speaker")
	if err != nil {
		t.Fatalf("the retried create failed: %v", err)
	}
	if !proto.Equal(got, stored) {
		t.Fatalf("the retry answered\n%v\nthe server holds\n%v", got, stored)
	}
	audits, changes, keys := writesOf(t, s.url, "accounts/acme/author_profiles/plain-speaker")
	if audits != 1 || changes != 1 || keys != 1 {
		t.Fatalf("audit rows %d, change rows %d, idempotency keys %d; want one write", audits, changes, keys)
	}
	if n := handled(t, s.env, "CreateAuthorProfile"); n < 2 {
		t.Fatalf("the server handled %d creates: the answer was not lost, or the client did not retry", n)
	}
}

// The same cut without an idempotency key (a bare connection, retried by
// hand) shows what the key prevents: the retried create fails.
func TestWriteRetriedWithoutKeyFails(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	p := newCutProxy(t, s.addr)
	conn, err := grpc.NewClient(p.addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	profiles := pb.NewAuthorProfileServiceClient(conn)
	// Connected before the proxy mutes the server.
	if _, err := pb.NewAccountServiceClient(conn).GetAccount(testsrv.Ctx(s.admin), &pb.GetAccountRequest{Id: "acme"}); err != nil {
		t.Fatal(err)
	}
	create := func(ctx context.Context, req *pb.CreateAuthorProfileRequest) (*pb.AuthorProfile, error) {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+s.admin)
		for {
			got, err := profiles.CreateAuthorProfile(ctx, req)
			if status.Code(err) != codes.Unavailable {
				return got, err
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	_, err, _ = createLosingAnswer(t, s, p, create, "plain-speaker")
	if err == nil {
		t.Fatal("a create retried without a key succeeded twice")
	}
}

// The key travels on every write the client's connection sends, and a
// caller's own key is kept; reads carry none.
func TestClientKeysWritesOnly(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	var seen sync.Map // method → key
	record := grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		md, _ := metadata.FromOutgoingContext(ctx)
		seen.Store(method, strings.Join(md.Get(IdempotencyKeyHeader), ","))
		return invoker(ctx, method, req, reply, cc, opts...)
	})
	c, err := New(s.addr, WithToken(s.admin), WithInsecure(), WithDialOptions(record))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	accounts := pb.NewAccountServiceClient(c.Conn())
	if _, err := accounts.UpsertAccount(context.Background(), &pb.UpsertAccountRequest{Account: &pb.Account{Id: "gamma", Name: "Gamma", Plan: pb.Plan_PLAN_STARTER}}); err != nil {
		t.Fatal(err)
	}
	if _, err := accounts.GetAccount(context.Background(), &pb.GetAccountRequest{Id: "gamma"}); err != nil {
		t.Fatal(err)
	}
	ctx := metadata.AppendToOutgoingContext(context.Background(), IdempotencyKeyHeader, "callers-own-key")
	if _, err := accounts.UpsertAccount(ctx, &pb.UpsertAccountRequest{Account: &pb.Account{Id: "delta", Name: "Delta", Plan: pb.Plan_PLAN_STARTER}}); err != nil {
		t.Fatal(err)
	}
	up, _ := seen.Load(pb.AccountService_UpsertAccount_FullMethodName)
	get, _ := seen.Load(pb.AccountService_GetAccount_FullMethodName)
	if up != "callers-own-key" {
		t.Errorf("UpsertAccount carried key %q, want the caller's own", up)
	}
	if get != "" {
		t.Errorf("GetAccount carried an idempotency key %q", get)
	}
	// The first upsert's key was the client's: one per write, and the
	// server recorded it.
	_, _, keys := writesOf(t, s.url, "")
	if keys != 2 {
		t.Errorf("%d idempotency keys recorded, want 2 (one per write)", keys)
	}
	w := writeMethods()
	if !w[pb.AccountService_UpsertAccount_FullMethodName] || w[pb.AccountService_GetAccount_FullMethodName] ||
		w[pb.ConfigService_GetModelConfig_FullMethodName] || !w[pb.TokenService_CreateToken_FullMethodName] {
		t.Errorf("write methods derived from the descriptors are wrong: %v", w)
	}
}
