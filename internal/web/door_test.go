package web_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/web"
)

// send makes one HTTP request to the door and reads the whole answer.
func send(t *testing.T, method, url string, header map[string]string, body io.Reader) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
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

// connectError checks a Connect JSON error: its HTTP status and code.
func (r reply) connectError(t *testing.T, what string, status int, code string) web.ErrorBody {
	t.Helper()
	var e web.ErrorBody
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("%s: HTTP %d, body %q is not a JSON error: %v", what, r.status, r.body, err)
	}
	if r.status != status || e.Code != code || e.Message == "" {
		t.Fatalf("%s: got HTTP %d %q (%s), want HTTP %d %s", what, r.status, e.Code, r.body, status, code)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: error Content-Type %q", what, ct)
	}
	return e
}

// inflatedSize reads a gzip through.
func inflatedSize(t *testing.T, gz []byte) int64 {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, zr)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// rssBytes is this process's resident set (the server runs in it).
func rssBytes(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	m := regexp.MustCompile(`(?m)^VmRSS:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no VmRSS in /proc/self/status")
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10
}

// gzipOf compresses b as one gzip member.
func gzipOf(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// bomb is a gzip of head, then about size bytes of "a", then tail: gzip
// members one after another (a gzip reader reads them as one stream), so
// the 1 MiB of "a" in the middle is compressed once, not 200 times.
func bomb(head []byte, size int, tail []byte) []byte {
	mib := bytes.Repeat([]byte("a"), 1<<20)
	out := gzipOf(append(head, mib...))
	middle := gzipOf(mib)
	for n := 2 << 20; n < size; n += 1 << 20 {
		out = append(out, middle...)
	}
	return append(out, gzipOf(append(mib, tail...))...)
}

// Defect 1: a 200 KB gzip of 200 MB, unauthenticated, is refused before
// authentication, inflating no more than the message limit, and logged.
// Not parallel: the resident set is measured around it.
func TestGzipBombRefused(t *testing.T) {
	env, base := startHTTP(t)
	admin := env.Token(t, domain.RoleAdmin, "")
	const size = 200 << 20
	gz := bomb([]byte(`{"accountId":"`), size, []byte(`"}`))
	if len(gz) > 400<<10 {
		t.Fatalf("the bomb is %d bytes, not about 200 KB", len(gz))
	}
	if n := inflatedSize(t, gz); n < size {
		t.Fatalf("the bomb inflates to %d bytes", n)
	}
	// Its protobuf form (GetModelConfigRequest.account_id of 200 MB), and
	// that in one compressed gRPC-Web frame.
	head := binary.AppendUvarint([]byte{0x0a}, size)
	pgz := bomb(head, size, nil)
	if n := inflatedSize(t, pgz); n != int64(len(head)+size) {
		t.Fatalf("the protobuf bomb inflates to %d bytes", n)
	}
	getBomb := bomb([]byte(`{"x":"`), 40<<20, []byte(`"}`))
	pframe := binary.BigEndian.AppendUint32([]byte{1}, uint32(len(pgz)))
	pframe = append(pframe, pgz...)

	runtime.GC()
	debug.FreeOSMemory()
	before := rssBytes(t)
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	for _, ct := range []string{"application/json", "application/proto"} {
		r := send(t, http.MethodPost, base+"/aiconfig.v1.ConfigService/GetModelConfig",
			map[string]string{"Content-Type": ct, "Content-Encoding": "gzip"}, bytes.NewReader(gz))
		e := r.connectError(t, "gzip bomb as "+ct, http.StatusTooManyRequests, "resource_exhausted")
		if !strings.Contains(e.Message, "inflated") {
			t.Errorf("message %q does not say why", e.Message)
		}
	}
	runtime.ReadMemStats(&ms1)
	t.Logf("resident set grew by %.1f MB after the Connect bombs; %.1f MB allocated", float64(rssBytes(t)-before)/(1<<20), float64(ms1.TotalAlloc-ms0.TotalAlloc)/(1<<20))
	// gRPC-Web compresses message by message; the frame reaches the gRPC
	// server compressed, and it stops inflating at its own limit.
	r := send(t, http.MethodPost, base+"/aiconfig.v1.ConfigService/GetModelConfig",
		map[string]string{"Content-Type": "application/grpc-web+proto", "Grpc-Encoding": "gzip"}, bytes.NewReader(pframe))
	if r.header.Get("Grpc-Status") != "8" {
		t.Errorf("gRPC-Web bomb: HTTP %d %v %q, want grpc-status 8 (RESOURCE_EXHAUSTED)", r.status, r.header, r.body)
	}
	// Connect streaming (JSON) is inflated by the transcoder when the
	// stream reads its request, after authentication (so with a token);
	// its decompressor stops at the limit.
	jframe := binary.BigEndian.AppendUint32([]byte{1}, uint32(len(gz)))
	jframe = append(jframe, gz...)
	r = send(t, http.MethodPost, base+"/aiconfig.v1.ConfigService/WatchModelConfig",
		map[string]string{"Content-Type": "application/connect+json", "Connect-Content-Encoding": "gzip",
			"Authorization": "Bearer " + admin}, bytes.NewReader(jframe))
	if !bytes.Contains(r.body, []byte(`"resource_exhausted"`)) {
		t.Errorf("Connect streaming bomb: HTTP %d %v %q, want resource_exhausted", r.status, r.header, r.body)
	}
	// A Connect GET carries its message in the URL (at most 64 KB of
	// headers: a 40 MB bomb), inflated by the same bounded decompressor.
	r = send(t, http.MethodGet, base+"/aiconfig.v1.ConfigService/GetGlobalSettings?encoding=json&compression=gzip&base64=1&message="+
		base64.RawURLEncoding.EncodeToString(getBomb), nil, nil)
	r.connectError(t, "Connect GET bomb", http.StatusTooManyRequests, "resource_exhausted")
	grown := rssBytes(t) - before
	t.Logf("resident set grew by %.1f MB for five bombs of %d KB (200 MB inflated; the GET one 40 MB)", float64(grown)/(1<<20), len(gz)>>10)
	if grown > 50<<20 {
		t.Errorf("the server grew by %d MB for a gzip bomb; want < 50 MB", grown>>20)
	}
	logs := env.Logs.String()
	if !strings.Contains(logs, `"msg":"HTTP request refused"`) || !strings.Contains(logs, `"content_encoding":"gzip"`) ||
		!strings.Contains(logs, `"code":"resource_exhausted"`) {
		t.Errorf("the refused bomb is not logged:\n%s", logs)
	}
	if strings.Contains(logs, `"grpc.method":"GetModelConfig"`) {
		t.Errorf("a unary bomb reached the server:\n%s", logs)
	}
}

// Defect 2: an empty JSON body is the empty message, as {} is and as an
// empty protobuf body is; never INTERNAL, and without a token still
// UNAUTHENTICATED.
func TestEmptyBodyIsTheEmptyMessage(t *testing.T) {
	t.Parallel()
	env, base := startHTTP(t)
	admin := env.Token(t, domain.RoleAdmin, "")
	env.Account(t, "acme", domain.PlanGrowth)
	acme := env.Token(t, domain.RoleAccount, "acme")

	for _, method := range []string{"ConfigService/GetModelConfig", "ConfigService/GetGlobalSettings", "AccountService/UpsertAccount"} {
		post(t, base, method, "", "").failure(t, 401, "unauthenticated", "TOKEN_MISSING")
		for _, token := range []string{admin, acme} {
			empty, braces := post(t, base, method, token, ""), post(t, base, method, token, "{}")
			if empty.status >= 500 || empty.status != braces.status {
				t.Errorf("%s: an empty body answers HTTP %d %s; {} answers HTTP %d %s", method, empty.status, empty.body, braces.status, braces.body)
			}
			var a, b map[string]any
			_ = json.Unmarshal(empty.body, &a)
			_ = json.Unmarshal(braces.body, &b)
			if a["code"] != b["code"] || a["reason"] != b["reason"] || (empty.status == 200 && a["revision"] != b["revision"]) {
				t.Errorf("%s: an empty body answers %s, {} answers %s", method, empty.body, braces.body)
			}
		}
	}
	// GetGlobalSettings has no parameters: `curl -X POST` works.
	var gs pb.GlobalSettings
	post(t, base, "ConfigService/GetGlobalSettings", admin, "").ok(t, &gs)
	if gs.GetRevision() == 0 {
		t.Errorf("GetGlobalSettings answered %v", &gs)
	}
	// The same for protobuf.
	r := send(t, http.MethodPost, base+"/aiconfig.v1.ConfigService/GetGlobalSettings",
		map[string]string{"Content-Type": "application/proto", "Authorization": "Bearer " + admin}, nil)
	if err := proto.Unmarshal(r.body, &gs); r.status != 200 || err != nil || gs.GetRevision() == 0 {
		t.Errorf("empty protobuf body: HTTP %d %q", r.status, r.body)
	}
}

// Defect 3: each bad request gets a code that says what is wrong and is
// not retried, as a Connect JSON error, and is logged.
func TestBadRequestsGetClearCodes(t *testing.T) {
	t.Parallel()
	env, base := startHTTP(t)
	admin := env.Token(t, domain.RoleAdmin, "")
	rpc := base + "/aiconfig.v1.ConfigService/GetModelConfig"
	big := append([]byte{0x0a, 0x80, 0x80, 0x80, 0x03}, bytes.Repeat([]byte("a"), 6<<20)...) // account_id of 6 MiB
	for _, c := range []struct {
		what, method, url string
		header            map[string]string
		body              io.Reader
		status            int
		code              string
	}{
		{"invalid gzip", "POST", rpc, map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"},
			strings.NewReader(`{"accountId": "acme"}`), 400, "invalid_argument"},
		{"truncated gzip", "POST", rpc, map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"},
			bytes.NewReader(gzipOf([]byte(`{"accountId": "acme"}`))[:20]), 400, "invalid_argument"},
		{"oversized protobuf", "POST", rpc, map[string]string{"Content-Type": "application/proto", "Authorization": "Bearer " + admin},
			bytes.NewReader(big), 429, "resource_exhausted"},
		{"oversized protobuf, no length", "POST", rpc, map[string]string{"Content-Type": "application/proto"},
			io.MultiReader(bytes.NewReader(big)), 429, "resource_exhausted"},
		{"oversized JSON", "POST", rpc, map[string]string{"Content-Type": "application/json"},
			strings.NewReader(`{"accountId": "` + strings.Repeat("a", 5<<20) + `"}`), 429, "resource_exhausted"},
		{"wrong content type", "POST", rpc, map[string]string{"Content-Type": "text/plain"}, strings.NewReader("{}"), 415, "invalid_argument"},
		{"no content type", "POST", rpc, nil, strings.NewReader("{}"), 415, "invalid_argument"},
		{"form", "POST", rpc, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, strings.NewReader("a=b"), 415, "invalid_argument"},
		{"unknown RPC", "POST", base + "/aiconfig.v1.ConfigService/GetModelConfigs", map[string]string{"Content-Type": "application/json"},
			strings.NewReader("{}"), 404, "unimplemented"},
		{"unknown service", "POST", base + "/aiconfig.v2.ConfigService/GetModelConfig", map[string]string{"Content-Type": "application/json"},
			strings.NewReader("{}"), 404, "unimplemented"},
		{"GET of a write", "GET", base + "/aiconfig.v1.AccountService/UpsertAccount", nil, nil, 405, "invalid_argument"},
		{"unknown compression", "POST", rpc, map[string]string{"Content-Type": "application/json", "Content-Encoding": "br"},
			strings.NewReader("{}"), 501, "unimplemented"},
		{"a stream as unary", "POST", base + "/aiconfig.v1.ConfigService/WatchModelConfig", map[string]string{"Content-Type": "application/json"},
			strings.NewReader("{}"), 415, "invalid_argument"},
	} {
		r := send(t, c.method, c.url, c.header, c.body)
		r.connectError(t, c.what, c.status, c.code)
	}
	// A read also answers the Connect GET form, with its errors as JSON.
	get := base + "/aiconfig.v1.ConfigService/GetGlobalSettings?encoding=json&message="
	var gs pb.GlobalSettings
	send(t, "GET", get+url.QueryEscape("{}"), map[string]string{"Authorization": "Bearer " + admin}, nil).ok(t, &gs)
	send(t, "GET", get+url.QueryEscape("{bad"), map[string]string{"Authorization": "Bearer " + admin}, nil).
		connectError(t, "Connect GET of bad JSON", 400, "invalid_argument")
	if r := send(t, "GET", base+"/aiconfig.v1.ConfigService/GetGlobalSettings", nil, nil); r.status != 405 || r.header.Get("Allow") != "GET, POST" {
		t.Errorf("a plain GET of a read: HTTP %d, Allow %q", r.status, r.header.Get("Allow"))
	}
	if r := send(t, "GET", base+"/aiconfig.v1.AccountService/UpsertAccount", nil, nil); r.header.Get("Allow") != "POST" {
		t.Errorf("405 without Allow: POST: %v", r.header)
	}
	if r := send(t, "POST", rpc, map[string]string{"Content-Type": "text/plain"}, nil); !strings.Contains(r.header.Get("Accept-Post"), "application/json") {
		t.Errorf("415 without Accept-Post: %v", r.header)
	}
	// The console is still served, and its own 404 is plain.
	if r := send(t, "GET", base+"/", nil, nil); r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Errorf("console: HTTP %d %s", r.status, r.header.Get("Content-Type"))
	}
	if r := send(t, "GET", base+"/nope.js", nil, nil); r.status != 404 {
		t.Errorf("a missing file: HTTP %d", r.status)
	}
	logs := env.Logs.String()
	for _, want := range []string{`"http.status":415`, `"http.status":404`, `"http.status":405`, `"http.status":429`, `"http.status":400`} {
		if !strings.Contains(logs, want) {
			t.Errorf("no log line with %s", want)
		}
	}
}

// Defect 5: a body protojson refuses comes back as INVALID_ARGUMENT
// naming the position (and the field, where known) but never a value:
// not in the answer, not in the log.
func TestMalformedJSONNeverEchoesValues(t *testing.T) {
	t.Parallel()
	env, base := startHTTP(t)
	admin := env.Token(t, domain.RoleAdmin, "")
	const key = "sk-LEAKED0123456789abcdef"
	for _, c := range []struct{ method, body, names string }{
		{"ConfigService/UpdateGlobalSettings", `{"settings": {"openai": {"apiKey":` + key + `}}}`, "line 1"},
		{"ConfigService/UpdateGlobalSettings", `{"settings": {"openai": {"apiKey": "x" ` + key + `}}}`, "line 1"},
		{"ConfigService/UpdateGlobalSettings", `{"settings": {"openai": {"apiKey": 12` + key + `}}}`, "line 1"},
		{"ConfigService/UpdateGlobalSettings", `{"settings": {"openai": {"apiKey": ["` + key + `"]}}}`, "apiKey"},
		{"ConfigService/UpdateGlobalSettings", `{"settings": {"openai": {"temperature": "` + key + `"}}}`, "temperature"},
		{"ConfigService/UpdateGlobalSettings", `{"settings": {"textIntegration": "` + key + `"}}`, "textIntegration"},
		{"ConfigService/UpdateGlobalSettings", `{"settings": {}, "updateMask": "` + key + `"}`, "line 1"},
		{"ConfigService/UpdateGlobalSettings", `{"settings": {"openai": {"apiKey": "` + key + `", "apiKey": "` + key + `"}}}`, `duplicate field \"apiKey\"`},
		{"ConfigService/UpdateGlobalSettings", `{"` + key + `": 1}`, "line 1"},
		{"ConfigService/UpsertIntegrationOverride", "{\"override\": {\"apiKey\": \"" + key + "\n\"}}", "line"},
		{"ConfigService/UpsertIntegrationOverride", `{"override": {"maxTokens": ` + key + `}}`, "line 1"},
	} {
		for _, token := range []string{admin, ""} {
			r := post(t, base, c.method, token, c.body)
			e := r.connectError(t, c.body, 400, "invalid_argument")
			if bytes.Contains(r.body, []byte("LEAKED")) {
				t.Errorf("%s: the answer repeats the value: %s", c.body, r.body)
			}
			if !strings.Contains(string(r.body), c.names) {
				t.Errorf("%s: the answer %s does not name %s", c.body, r.body, c.names)
			}
			if !strings.Contains(e.Message, "JSON") {
				t.Errorf("%s: message %q", c.body, e.Message)
			}
		}
	}
	logs := env.Logs.String()
	if strings.Contains(logs, "LEAKED") {
		t.Errorf("the log repeats a value of a refused body")
	}
	if !strings.Contains(logs, `"code":"invalid_argument"`) {
		t.Errorf("the refused bodies are not logged")
	}
}
