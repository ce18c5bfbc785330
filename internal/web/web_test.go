package web_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"io"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/net/html"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/server"
	"github.com/igny8/aiconfig/internal/testsrv"
	"github.com/igny8/aiconfig/internal/web"
)

// startHTTP serves the HTTP door over the test server's own *grpc.Server
// (the production interceptor chain) on a real loopback listener.
func startHTTP(t *testing.T) (*testsrv.Env, string) {
	t.Helper()
	env := testsrv.Start(t)
	// The door's refusals go to the server's log, as in production.
	h, err := web.NewHandler(env.Server.GRPC, web.Options{Log: slog.New(slog.NewJSONHandler(env.Logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := web.Serve(lis, h, nil, nil)
	t.Cleanup(func() { _ = s.Close() }) // before the gRPC server stops (cleanups run last-in first-out)
	return env, "http://" + s.Addr().String()
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

// post makes a Connect unary call with a JSON body.
func post(t *testing.T, base, method, token, body string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/aiconfig.v1."+method, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{res.StatusCode, res.Header, b}
}

// ok decodes a successful answer into m.
func (r reply) ok(t *testing.T, m proto.Message) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("HTTP %d: %s", r.status, r.body)
	}
	if err := protojson.Unmarshal(r.body, m); err != nil {
		t.Fatalf("answer %s: %v", r.body, err)
	}
}

// failure decodes an error body, checking its HTTP status, code and reason.
func (r reply) failure(t *testing.T, status int, code, reason string) web.ErrorBody {
	t.Helper()
	var e web.ErrorBody
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("HTTP %d, body %s: %v", r.status, r.body, err)
	}
	if r.status != status || e.Code != code || e.Reason != reason || e.Domain != "aiconfig" {
		t.Fatalf("got HTTP %d %s %s (domain %q), want HTTP %d %s %s: %s", r.status, e.Code, e.Reason, e.Domain, status, code, reason, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type %q", ct)
	}
	return e
}

func TestJSONReadAndWrite(t *testing.T) {
	t.Parallel()
	env, base := startHTTP(t)
	admin := env.Token(t, domain.RoleAdmin, "")
	worker := env.Token(t, domain.RoleService, "")

	// Writes over JSON: an account, a platform key, an override.
	var acct pb.Account
	post(t, base, "AccountService/UpsertAccount", admin,
		`{"account": {"id": "acme", "name": "Acme Inc", "plan": "PLAN_STARTER"}}`).ok(t, &acct)
	if acct.GetId() != "acme" || acct.GetPlan() != pb.Plan_PLAN_STARTER || acct.GetRevision() == 0 {
		t.Fatalf("UpsertAccount answered %v", &acct)
	}
	env.Account(t, "plain", domain.PlanGrowth)
	var gs pb.GlobalSettings
	post(t, base, "ConfigService/UpdateGlobalSettings", admin,
		`{"settings": {"openai": {"apiKey": "sk-json-0123456789abcdef"}}, "updateMask": "openai.apiKey"}`).ok(t, &gs)
	if !gs.GetOpenai().GetApiKeySet() || gs.GetOpenai().GetApiKeyHint() != "…cdef" || gs.GetOpenai().GetApiKey() != "" {
		t.Fatalf("UpdateGlobalSettings answered %v", &gs)
	}
	write := post(t, base, "ConfigService/UpsertIntegrationOverride", admin,
		`{"override": {"account_id": "acme", "integration": "INTEGRATION_OPENAI", "model": "gpt-4.1", "temperature": 0.4}}`)
	var ov pb.IntegrationOverride
	write.ok(t, &ov)
	if ov.GetModel() != "gpt-4.1" || ov.GetTemperature() != 0.4 {
		t.Fatalf("UpsertIntegrationOverride answered %v", &ov)
	}

	// The read: every field of GetModelConfig is in the JSON, for each of
	// the hot path's answers (the account's own, one shared per plan, and
	// one with a SERVICE caller's key appended).
	var mc map[string]any
	r := post(t, base, "ConfigService/GetModelConfig", admin, `{"accountId": "acme", "function": "generate_content"}`)
	if err := json.Unmarshal(r.body, &mc); err != nil || r.status != 200 {
		t.Fatalf("HTTP %d %s", r.status, r.body)
	}
	for k, want := range map[string]any{"function": "generate_content", "integration": "INTEGRATION_OPENAI", "model": "gpt-4.1",
		"temperature": 0.4, "plan": "PLAN_STARTER", "apiKeySet": true, "apiKey": "", "overridesSuppressed": false} {
		if mc[k] != want {
			t.Errorf("GetModelConfig JSON %s = %v, want %v (%s)", k, mc[k], want, r.body)
		}
	}
	if rev, _ := mc["revision"].(string); rev == "" || rev == "0" {
		t.Errorf("GetModelConfig JSON revision = %v (%s)", mc["revision"], r.body)
	}
	if _, ok := mc["maxTokens"]; !ok {
		t.Errorf("GetModelConfig JSON lacks maxTokens: %s", r.body)
	}
	sources, _ := mc["sources"].(map[string]any)
	if sources["model"] != "SOURCE_ACCOUNT" || sources["temperature"] != "SOURCE_ACCOUNT" || sources["max_tokens"] != "SOURCE_GLOBAL" {
		t.Errorf("GetModelConfig JSON sources = %v", sources)
	}
	for _, c := range []struct{ token, account, function string }{
		{admin, "acme", "generate_content"},
		{admin, "plain", "generate_content"},
		{admin, "plain", "generate_images"},
		{worker, "acme", "generate_content"},
		{worker, "plain", "auto_cluster"},
	} {
		var overHTTP pb.ModelConfig
		post(t, base, "ConfigService/GetModelConfig", c.token, `{"accountId": "`+c.account+`", "function": "`+c.function+`"}`).ok(t, &overHTTP)
		overGRPC, err := env.Config.GetModelConfig(testsrv.Ctx(c.token), &pb.GetModelConfigRequest{AccountId: c.account, Function: c.function})
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(overGRPC, &overHTTP) {
			t.Errorf("%s %s: JSON and gRPC answers differ:\n gRPC %v\n JSON %v", c.account, c.function, overGRPC, &overHTTP)
		}
		if overHTTP.GetRevision() == 0 || overHTTP.GetModel() == "" || len(overHTTP.GetSources()) == 0 {
			t.Errorf("%s %s: JSON answer lacks fields: %v", c.account, c.function, &overHTTP)
		}
	}
	// The key itself only for SERVICE callers, over JSON as over gRPC.
	var withKey pb.ModelConfig
	post(t, base, "ConfigService/GetModelConfig", worker, `{"accountId": "acme", "function": "generate_content"}`).ok(t, &withKey)
	if withKey.GetApiKey() != "sk-json-0123456789abcdef" {
		t.Errorf("SERVICE caller got api_key %q", withKey.GetApiKey())
	}

	// GetEffectivePrompt, the other pre-encoded answer: shared and own.
	post(t, base, "PromptService/CustomizePrompt", admin,
		`{"accountId": "acme", "promptType": "clustering", "text": "Group by intent: {{keywords}}"}`).ok(t, &pb.AccountPrompt{})
	for _, account := range []string{"acme", "plain"} {
		var overHTTP pb.EffectivePrompt
		post(t, base, "PromptService/GetEffectivePrompt", admin, `{"accountId": "`+account+`", "promptType": "clustering"}`).ok(t, &overHTTP)
		overGRPC, err := env.Prompts.GetEffectivePrompt(testsrv.Ctx(admin), &pb.GetEffectivePromptRequest{AccountId: account, PromptType: "clustering"})
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(overGRPC, &overHTTP) {
			t.Errorf("%s: JSON and gRPC prompts differ:\n gRPC %v\n JSON %v", account, overGRPC, &overHTTP)
		}
		if overHTTP.GetText() == "" || overHTTP.GetGlobalRevision() == 0 {
			t.Errorf("%s: JSON prompt lacks fields: %v", account, &overHTTP)
		}
	}

	// The write is audited like a gRPC one: its RPC, the actor, and the
	// request id the HTTP answer carried.
	reqID := write.header.Get("X-Request-Id")
	if reqID == "" {
		t.Fatalf("no x-request-id header on the HTTP answer: %v", write.header)
	}
	var events pb.ListAuditEventsResponse
	post(t, base, "AuditService/ListAuditEvents", admin, `{"resource": "accounts/acme/"}`).ok(t, &events)
	var found *pb.AuditEvent
	for _, e := range events.GetEvents() {
		if e.GetRpc() == "/aiconfig.v1.ConfigService/UpsertIntegrationOverride" {
			found = e
		}
	}
	if found == nil {
		t.Fatalf("no audit row for the JSON write in %v", events.GetEvents())
	}
	if found.GetRequestId() != reqID || found.GetActorName() != "test-admin" || found.GetOutcome() != "ok" ||
		found.GetAfter().GetFields()["params"].GetStructValue().GetFields()["model"].GetStringValue() != "gpt-4.1" {
		t.Errorf("audit row %v; want request id %s, actor test-admin, after.model gpt-4.1", found, reqID)
	}
	// Over gRPC the same row is there.
	viaGRPC, err := env.Audit.ListAuditEvents(testsrv.Ctx(admin), &pb.ListAuditEventsRequest{Resource: "accounts/acme/"})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(viaGRPC, &events) {
		t.Errorf("ListAuditEvents differs over gRPC and JSON")
	}

	// Counted and logged like gRPC calls, and the secrets are in neither.
	rec := httptest.NewRecorder()
	env.Metrics.Handler(false).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !regexp.MustCompile(`grpc_server_handled_total\{grpc_code="OK",grpc_method="UpsertIntegrationOverride",grpc_service="aiconfig.v1.ConfigService",grpc_type="unary"\} 1`).MatchString(rec.Body.String()) {
		t.Errorf("metrics do not count the JSON write")
	}
	logs := env.Logs.String()
	if !strings.Contains(logs, `"request_id":"`+reqID+`"`) || !strings.Contains(logs, `"grpc.method":"UpsertIntegrationOverride"`) {
		t.Errorf("no log line for the JSON write (request id %s)", reqID)
	}
	for _, secret := range []string{admin, worker, "sk-json-0123456789abcdef"} {
		if strings.Contains(logs, secret) {
			t.Errorf("a secret is in the server log")
		}
	}
}

func TestJSONAuthFailures(t *testing.T) {
	t.Parallel()
	env, base := startHTTP(t)
	env.Account(t, "acme", domain.PlanStarter)
	env.Account(t, "freebie", domain.PlanFree)
	admin := env.Token(t, domain.RoleAdmin, "")
	acme := env.Token(t, domain.RoleAccount, "acme")
	free := env.Token(t, domain.RoleAccount, "freebie")
	read := `{"accountId": "acme", "function": "generate_content"}`

	post(t, base, "ConfigService/GetModelConfig", "", read).failure(t, 401, "unauthenticated", "TOKEN_MISSING")
	post(t, base, "ConfigService/GetModelConfig", "aic_not-a-real-token", read).failure(t, 401, "unauthenticated", "TOKEN_INVALID")
	post(t, base, "ConfigService/GetModelConfig", env.RevokedToken(t), read).failure(t, 401, "unauthenticated", "TOKEN_INVALID")
	e := post(t, base, "ConfigService/GetGlobalSettings", acme, `{}`).failure(t, 403, "permission_denied", "ROLE_NOT_ALLOWED")
	if e.Metadata["role"] != "ROLE_ACCOUNT" {
		t.Errorf("metadata %v", e.Metadata)
	}
	post(t, base, "ConfigService/GetModelConfig", free, read).failure(t, 403, "permission_denied", "ACCOUNT_SCOPE")
	e = post(t, base, "ConfigService/UpsertIntegrationOverride", free,
		`{"override": {"integration": "INTEGRATION_OPENAI", "model": "gpt-4o"}}`).failure(t, 403, "permission_denied", "PLAN_UPGRADE_REQUIRED")
	if e.Metadata["current_plan"] != "PLAN_FREE" || e.Metadata["required_plan"] != "PLAN_STARTER" {
		t.Errorf("metadata %v", e.Metadata)
	}
	// An ACCOUNT token's own account, with the id left empty.
	var own pb.ModelConfig
	post(t, base, "ConfigService/GetModelConfig", acme, `{"function": "generate_content"}`).ok(t, &own)
	if own.GetPlan() != pb.Plan_PLAN_STARTER {
		t.Errorf("own config %v", &own)
	}
	// The denied write is audited, as over gRPC.
	events, err := env.Audit.ListAuditEvents(testsrv.Ctx(admin), &pb.ListAuditEventsRequest{AccountId: "freebie"})
	if err != nil {
		t.Fatal(err)
	}
	if len(events.GetEvents()) == 0 {
		t.Fatal("no audit rows for freebie")
	}
	if e := events.GetEvents()[0]; e.GetOutcome() != "denied" || e.GetReason() != "PLAN_UPGRADE_REQUIRED" ||
		e.GetRpc() != "/aiconfig.v1.ConfigService/UpsertIntegrationOverride" || e.GetActorName() != "test-account" {
		t.Errorf("newest audit row %v, want the denied write", e)
	}
}

func TestJSONValidationError(t *testing.T) {
	t.Parallel()
	env, base := startHTTP(t)
	env.Account(t, "acme", domain.PlanGrowth)
	admin := env.Token(t, domain.RoleAdmin, "")

	r := post(t, base, "ConfigService/UpsertIntegrationOverride", admin,
		`{"override": {"accountId": "acme", "integration": "INTEGRATION_OPENAI", "model": "gpt-4o-mini", "temperature": 7, "maxTokens": 0}}`)
	e := r.failure(t, 400, "invalid_argument", "VALIDATION_FAILED")
	fields := map[string]string{}
	for _, v := range e.FieldViolations {
		fields[v.Field] = v.Description
	}
	if !strings.Contains(fields["override.temperature"], "outside") || fields["override.max_tokens"] == "" {
		t.Errorf("field violations %v (%s)", e.FieldViolations, r.body)
	}
	if !strings.Contains(e.Message, "override.temperature") {
		t.Errorf("message %q does not name the field", e.Message)
	}
	// Connect clients still find the details they decode themselves.
	var raw struct {
		Details []struct{ Type, Value string } `json:"details"`
	}
	if err := json.Unmarshal(r.body, &raw); err != nil || len(raw.Details) != 2 ||
		raw.Details[0].Type != "google.rpc.ErrorInfo" || raw.Details[1].Type != "google.rpc.BadRequest" || raw.Details[0].Value == "" {
		t.Errorf("details %+v (%s)", raw.Details, r.body)
	}

	e = post(t, base, "ConfigService/GetModelConfig", admin, `{"accountId": "acme", "function": "write_poems"}`).
		failure(t, 400, "invalid_argument", "UNKNOWN_FUNCTION")
	if len(e.FieldViolations) != 1 || e.FieldViolations[0].Field != "function" {
		t.Errorf("violations %v", e.FieldViolations)
	}
	post(t, base, "ConfigService/GetModelConfig", admin, `{"accountId": "nobody", "function": "auto_cluster"}`).
		failure(t, 404, "not_found", "ACCOUNT_NOT_FOUND")

	// A body that is not JSON of the request is refused before the
	// server: a wrong type, or a misspelled field (which would otherwise
	// make a write that changes nothing).
	for body, names := range map[string]string{
		`{"accountId": 5`: "accountId",
		`{"override": {"accountId": "acme", "integration": "INTEGRATION_OPENAI", "temperture": 0.2}}`: "temperture",
	} {
		r = post(t, base, "ConfigService/UpsertIntegrationOverride", admin, body)
		if r.status != 400 || !bytes.Contains(r.body, []byte(`"code":"invalid_argument"`)) || !bytes.Contains(r.body, []byte(names)) {
			t.Errorf("%s: HTTP %d %s", body, r.status, r.body)
		}
	}
	if _, err := env.Config.GetIntegrationOverride(testsrv.Ctx(admin), &pb.GetIntegrationOverrideRequest{AccountId: "acme", Integration: pb.Integration_INTEGRATION_OPENAI}); err == nil {
		t.Error("a refused body made an override")
	}
}

// A gRPC-Web call (as browsers' gRPC clients make it) reaches the same server.
func TestGRPCWeb(t *testing.T) {
	t.Parallel()
	env, base := startHTTP(t)
	env.Account(t, "acme", domain.PlanScale)
	admin := env.Token(t, domain.RoleAdmin, "")
	msg, err := proto.Marshal(&pb.GetModelConfigRequest{AccountId: "acme", Function: "generate_images"})
	if err != nil {
		t.Fatal(err)
	}
	frame := append([]byte{0, 0, 0, 0, 0}, msg...)
	binary.BigEndian.PutUint32(frame[1:5], uint32(len(msg)))
	req, _ := http.NewRequest(http.MethodPost, base+"/aiconfig.v1.ConfigService/GetModelConfig", bytes.NewReader(frame))
	req.Header.Set("Content-Type", "application/grpc-web+proto")
	req.Header.Set("Authorization", "Bearer "+admin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || len(body) < 5 || body[0] != 0 {
		t.Fatalf("HTTP %d %q", res.StatusCode, body)
	}
	n := binary.BigEndian.Uint32(body[1:5])
	var mc pb.ModelConfig
	if err := proto.Unmarshal(body[5:5+n], &mc); err != nil {
		t.Fatal(err)
	}
	want, err := env.Config.GetModelConfig(testsrv.Ctx(admin), &pb.GetModelConfigRequest{AccountId: "acme", Function: "generate_images"})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(want, &mc) {
		t.Errorf("gRPC-Web answer %v, want %v", &mc, want)
	}
	trailer := strings.ToLower(string(body[5+n:]))
	if !strings.Contains(trailer, "grpc-status: 0") {
		t.Errorf("trailer frame %q", trailer)
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	env, base := startHTTP(t)
	admin := env.Token(t, domain.RoleAdmin, "")
	check := func(what string, res *http.Response) {
		t.Helper()
		want := map[string]string{
			"Content-Security-Policy": web.ContentSecurityPolicy,
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "no-referrer",
		}
		for k, v := range want {
			if got := res.Header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", what, k, got, v)
			}
		}
	}
	get := func(path string, hdr ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	for _, c := range []struct{ path, ct string }{
		{"/", "text/html; charset=utf-8"},
		{"/app.css", "text/css; charset=utf-8"},
		{"/js/main.js", "text/javascript; charset=utf-8"},
		{"/favicon.svg", "image/svg+xml"},
	} {
		res := get(c.path)
		check(c.path, res)
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != c.ct || res.Header.Get("ETag") == "" {
			t.Errorf("%s: HTTP %d, Content-Type %q, ETag %q", c.path, res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("ETag"))
		}
		if again := get(c.path, "If-None-Match", res.Header.Get("ETag")); again.StatusCode != http.StatusNotModified {
			t.Errorf("%s: revalidation answered HTTP %d", c.path, again.StatusCode)
		}
	}
	missing := get("/nothing-here.js")
	check("404", missing)
	if missing.StatusCode != 404 {
		t.Errorf("missing file: HTTP %d", missing.StatusCode)
	}
	for _, token := range []string{admin, ""} {
		r := post(t, base, "ConfigService/GetGlobalSettings", token, `{}`)
		check("RPC", &http.Response{Header: r.header})
		if r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("RPC answer Cache-Control %q", r.header.Get("Cache-Control"))
		}
	}
	if !strings.Contains(web.ContentSecurityPolicy, "frame-ancestors 'none'") || strings.Contains(web.ContentSecurityPolicy, "unsafe") {
		t.Errorf("CSP %q", web.ContentSecurityPolicy)
	}
}

func TestCheckAddr(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		addr          string
		tls, insecure bool
		ok            bool
	}{
		{"127.0.0.1:8080", false, false, true},
		{"127.0.0.5:8080", false, false, true},
		{"[::1]:8080", false, false, true},
		{"localhost:8080", false, false, true},
		{"0.0.0.0:8080", false, false, false},
		{":8080", false, false, false},
		{"10.1.2.3:8080", false, false, false},
		{"console.example.com:443", false, false, false},
		{"0.0.0.0:8080", true, false, true},
		{"0.0.0.0:8080", false, true, true},
		{"8080", false, true, false},
	} {
		err := web.CheckAddr(c.addr, c.tls, c.insecure)
		if (err == nil) != c.ok {
			t.Errorf("CheckAddr(%q, tls=%t, insecure=%t) = %v", c.addr, c.tls, c.insecure, err)
		}
		if err != nil && !strings.Contains(err.Error(), "AICONFIG_HTTP_LISTEN") {
			t.Errorf("error %q does not name the setting", err)
		}
	}
}

func TestStartDisabledAndRefused(t *testing.T) {
	t.Parallel()
	s, err := web.Start(nil, web.Config{})
	if s != nil || err != nil {
		t.Fatalf("empty address: %v, %v", s, err)
	}
	// A nil server's methods do nothing, so callers need no branch.
	if s.Addr() != nil || s.Shutdown(context.Background()) != nil || s.Close() != nil {
		t.Error("nil server methods")
	}
	if _, err := web.Start(nil, web.Config{Addr: "0.0.0.0:0"}); err == nil || !strings.Contains(err.Error(), "AICONFIG_HTTP_INSECURE") {
		t.Errorf("plaintext on every interface: %v", err)
	}
}

// The console needs no inline script or style: the CSP would block them.
// The served HTML has scripts only by src, no <style>, no style= and no
// on...= handler; the modules build the page without innerHTML and
// without touching inline styles.
func TestConsoleHasNoInlineScriptOrStyle(t *testing.T) {
	t.Parallel()
	_, base := startHTTP(t)
	res, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	served, _ := io.ReadAll(res.Body)
	checkHTML(t, "GET /", served)
	err = fs.WalkDir(web.Console(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(web.Console(), path)
		if err != nil {
			return err
		}
		switch {
		case strings.HasSuffix(path, ".html"):
			checkHTML(t, path, b)
		case strings.HasSuffix(path, ".js"):
			b = regexp.MustCompile(`(?m)^\s*//.*$`).ReplaceAll(b, nil) // comments may name what the code avoids
			for _, bad := range []string{"innerHTML", "outerHTML =", "insertAdjacentHTML", "document.write", "eval(", "new Function",
				".style.", "'style'", "cssText", "setTimeout('", "javascript:"} {
				if bytes.Contains(b, []byte(bad)) {
					t.Errorf("%s uses %s", path, bad)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func checkHTML(t *testing.T, name string, b []byte) {
	t.Helper()
	z := html.NewTokenizer(bytes.NewReader(b))
	inScript := false
	scripts := 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if scripts == 0 && strings.HasSuffix(name, "/") {
				t.Errorf("%s: no script at all", name)
			}
			return
		case html.TextToken:
			if text := strings.TrimSpace(string(z.Text())); inScript && text != "" {
				t.Errorf("%s: inline script %q", name, text)
			}
		case html.EndTagToken:
			inScript = false
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			switch tok.Data {
			case "style":
				t.Errorf("%s: a <style> element", name)
			case "script":
				scripts++
				inScript = tt == html.StartTagToken
				src := ""
				for _, a := range tok.Attr {
					if a.Key == "src" {
						src = a.Val
					}
				}
				if src == "" || strings.Contains(src, ":") {
					t.Errorf("%s: a script not loaded from this origin by src: %s", name, tok)
				}
			}
			for _, a := range tok.Attr {
				if a.Key == "style" || strings.HasPrefix(a.Key, "on") {
					t.Errorf("%s: inline %s= on <%s>", name, a.Key, tok.Data)
				}
			}
		}
	}
}

// Shutdown lets a call in flight through the HTTP door finish (serve runs
// it before the gRPC server's GracefulStop, which would cut it off).
func TestShutdownLetsCallsFinish(t *testing.T) {
	t.Parallel()
	env := testsrv.Start(t)
	env.Account(t, "acct", domain.PlanFree)
	admin := env.Token(t, domain.RoleAdmin, "")
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

	// Hold the account's row so the next write waits.
	ctx := context.Background()
	db, err := pgx.Connect(ctx, env.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SELECT 1 FROM accounts WHERE id = 'acct' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	status := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, base+"/aiconfig.v1.AccountService/UpsertAccount",
			strings.NewReader(`{"account": {"id": "acct", "plan": "PLAN_GROWTH"}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+admin)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			status <- -1
			return
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		status <- res.StatusCode
	}()
	time.Sleep(300 * time.Millisecond) // the call is waiting on the row
	stopped := make(chan error, 1)
	go func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		stopped <- s.Shutdown(sctx)
	}()
	select {
	case err := <-stopped:
		t.Fatalf("Shutdown returned with a call in flight: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := http.Get(base + "/"); err == nil {
		t.Error("a new connection was accepted during shutdown")
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if code := <-status; code != http.StatusOK {
		t.Fatalf("the call in flight ended with %d", code)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	a, err := env.Accounts.GetAccount(testsrv.Ctx(admin), &pb.GetAccountRequest{Id: "acct"})
	if err != nil || a.GetPlan() != pb.Plan_PLAN_GROWTH {
		t.Fatalf("account %v (%v)", a, err)
	}
}

// Start serves TLS with the gRPC listener's reloading configuration,
// offering HTTP/2, and then adds Strict-Transport-Security.
func TestStartTLS(t *testing.T) {
	t.Parallel()
	env := testsrv.Start(t)
	admin := env.Token(t, domain.RoleAdmin, "")
	certFile, keyFile, pool := selfSigned(t)
	conf, err := server.TLSConfig(certFile, keyFile, "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := web.Start(env.Server.GRPC, web.Config{Addr: "127.0.0.1:0", TLS: conf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	base := "https://" + s.Addr().String()

	res, err := client.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Proto != "HTTP/2.0" || res.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("GET / over TLS: %d %s, HSTS %q", res.StatusCode, res.Proto, res.Header.Get("Strict-Transport-Security"))
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/aiconfig.v1.ConfigService/GetGlobalSettings", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+admin)
	res, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var gs pb.GlobalSettings
	reply{res.StatusCode, res.Header, must(io.ReadAll(res.Body))}.ok(t, &gs)
	if gs.GetRevision() == 0 {
		t.Errorf("global settings over TLS: %v", &gs)
	}
	// Plain HTTP to the TLS port gets nothing useful.
	if res, err := http.Get("http://" + s.Addr().String() + "/"); err == nil {
		res.Body.Close()
		if res.StatusCode == 200 {
			t.Error("plain HTTP served on the TLS listener")
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their files and a pool that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "aiconfig test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// A watch is a server stream over HTTP too (Connect streaming, JSON): the
// first answer at once, the next after a change, each flushed as it comes.
func TestConnectServerStream(t *testing.T) {
	t.Parallel()
	env, base := startHTTP(t)
	env.Account(t, "acme", domain.PlanGrowth)
	admin := env.Token(t, domain.RoleAdmin, "")
	body := []byte(`{"accountId": "acme", "function": "generate_content"}`)
	frame := append([]byte{0, 0, 0, 0, 0}, body...)
	binary.BigEndian.PutUint32(frame[1:5], uint32(len(body)))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/aiconfig.v1.ConfigService/WatchModelConfig", bytes.NewReader(frame))
	req.Header.Set("Content-Type", "application/connect+json")
	req.Header.Set("Authorization", "Bearer "+admin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("HTTP %d", res.StatusCode)
	}
	next := func() *pb.ModelConfig {
		t.Helper()
		head := make([]byte, 5)
		if _, err := io.ReadFull(res.Body, head); err != nil {
			t.Fatal(err)
		}
		msg := make([]byte, binary.BigEndian.Uint32(head[1:]))
		if _, err := io.ReadFull(res.Body, msg); err != nil {
			t.Fatal(err)
		}
		if head[0]&2 != 0 {
			t.Fatalf("the stream ended: %s", msg)
		}
		var mc pb.ModelConfig
		if err := protojson.Unmarshal(msg, &mc); err != nil {
			t.Fatalf("%s: %v", msg, err)
		}
		return &mc
	}
	if first := next(); first.GetModel() != "gpt-4o-mini" || first.GetRevision() == 0 {
		t.Fatalf("first answer %v", first)
	}
	model := "gpt-4.1"
	if _, err := env.Config.UpsertIntegrationOverride(testsrv.Ctx(admin), &pb.UpsertIntegrationOverrideRequest{
		Override: &pb.IntegrationOverride{AccountId: "acme", Integration: pb.Integration_INTEGRATION_OPENAI, Model: &model}}); err != nil {
		t.Fatal(err)
	}
	if second := next(); second.GetModel() != "gpt-4.1" || second.GetSources()["model"] != pb.Source_SOURCE_ACCOUNT {
		t.Fatalf("after the change %v", second)
	}
}
