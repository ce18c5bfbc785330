package web_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/testsrv"
	"github.com/igny8/aiconfig/internal/web"
)

// keyedPost is a Connect unary JSON call with an Idempotency-Key header.
func keyedPost(t *testing.T, base, method, token, key, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/aiconfig.v1."+method, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header["Idempotency-Key"] = []string{key} // as sent, even when not a valid header value
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, b
}

// SPEC 17 over HTTP: the Idempotency-Key header reaches the server as the
// gRPC metadata, through the transcoder, on a real listener.
func TestIdempotencyKeyOverHTTP(t *testing.T) {
	t.Parallel()
	env := testsrv.Start(t)
	h, err := web.NewHandler(env.Server.GRPC, web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := web.Serve(lis, h, nil, nil)
	t.Cleanup(func() { _ = s.Close() })
	base := "http://" + s.Addr().String()
	admin := env.Token(t, domain.RoleAdmin, "")

	body := `{"account": {"id": "acme", "name": "Acme", "plan": "PLAN_STARTER"}}`
	code, first := keyedPost(t, base, "AccountService/UpsertAccount", admin, "http-key-1", body)
	if code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", code, first)
	}
	var a1, a2 pb.Account
	if err := protojson.Unmarshal(first, &a1); err != nil {
		t.Fatal(err)
	}
	code, again := keyedPost(t, base, "AccountService/UpsertAccount", admin, "http-key-1", body)
	if err := protojson.Unmarshal(again, &a2); code != http.StatusOK || err != nil || a2.GetRevision() != a1.GetRevision() {
		t.Fatalf("the retry: HTTP %d %s (first at revision %d)", code, again, a1.GetRevision())
	}
	if head, _ := env.Store.Head(t.Context()); head != a1.GetRevision() {
		t.Fatalf("the retry wrote: head %d, first write %d", head, a1.GetRevision())
	}

	code, reused := keyedPost(t, base, "AccountService/UpsertAccount", admin, "http-key-1",
		`{"account": {"id": "acme", "name": "Acme Renamed", "plan": "PLAN_STARTER"}}`)
	var e web.ErrorBody
	if err := json.Unmarshal(reused, &e); err != nil || code != http.StatusBadRequest ||
		e.Code != "failed_precondition" || e.Reason != domain.ReasonIdempotencyKeyReused {
		t.Fatalf("same key, other request: HTTP %d %s", code, reused)
	}

	code, bad := keyedPost(t, base, "AccountService/UpsertAccount", admin, "naïve-key", body)
	e = web.ErrorBody{}
	if err := json.Unmarshal(bad, &e); err != nil || code != http.StatusBadRequest || e.Code != "invalid_argument" || !strings.Contains(e.Message, "idempotency-key") ||
		strings.Contains(string(bad), "naïve") {
		t.Fatalf("a non-ASCII key: HTTP %d %s", code, bad)
	}
}
