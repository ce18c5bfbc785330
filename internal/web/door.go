package web

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/igny8/aiconfig/internal/access"
)

// The door checks what the transcoder would otherwise take on trust, for
// every request whose path names an RPC, before anything is decoded or
// authenticated:
//
//   - an unknown RPC is 404, a wrong HTTP method 405, a content type that
//     is no RPC protocol 415 — each as a Connect JSON error;
//   - a Connect unary body (application/json or application/proto, the
//     form curl and the console use) is read here, at most the message
//     limit, and inflated here when gzip-compressed, at most the message
//     limit too: a 200 KB gzip of 200 MB is refused after 4 MiB of
//     output, never held whole (vanguard would inflate it all, then
//     check). Too large is RESOURCE_EXHAUSTED, as connect-go answers a
//     message over its ReadMaxBytes; a body that is not gzip is
//     INVALID_ARGUMENT;
//   - an empty JSON body is the empty message, as an empty protobuf body
//     already is: `curl -X POST` of an RPC without parameters works, and
//     an unauthenticated one still gets UNAUTHENTICATED;
//
// and logs each refusal (never the body). Streaming protocols (Connect
// streaming, gRPC-Web, gRPC) compress message by message: their
// decompressor is bounded the same way (limitedGzip), in the transcoder.
//
// Request compression is kept rather than refused: the Connect protocol
// and its clients offer it, and a bound on the output removes the bomb.

// door is the checks above in front of next (the transcoder).
type door struct {
	next    http.Handler
	methods map[string]protoreflect.MethodDescriptor // "/pkg.Service/Method"
	limit   int64
	log     *slog.Logger
}

// rpcPath is the shape of an RPC's path: /package.Service/Method.
var rpcPath = regexp.MustCompile(`^/[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+/[A-Za-z_][A-Za-z0-9_]*$`)

// acceptPost lists the content types of the RPC protocols served.
const acceptPost = "application/json, application/proto, application/connect+json, application/connect+proto, " +
	"application/grpc-web+proto, application/grpc"

func newDoor(g *grpc.Server, limit int64, log *slog.Logger, next http.Handler) (*door, error) {
	d := &door{next: next, methods: map[string]protoreflect.MethodDescriptor{}, limit: limit, log: log}
	for svc, info := range g.GetServiceInfo() {
		desc, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
		if err != nil {
			return nil, fmt.Errorf("web: service %s: %w", svc, err)
		}
		sd, ok := desc.(protoreflect.ServiceDescriptor)
		if !ok {
			return nil, fmt.Errorf("web: %s is not a service", svc)
		}
		for _, mi := range info.Methods {
			md := sd.Methods().ByName(protoreflect.Name(mi.Name))
			if md == nil {
				return nil, fmt.Errorf("web: %s has no method %s", svc, mi.Name)
			}
			d.methods["/"+svc+"/"+mi.Name] = md
		}
	}
	return d, nil
}

func (d *door) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !rpcPath.MatchString(r.URL.Path) {
		d.next.ServeHTTP(w, r) // the console's files
		return
	}
	md, ok := d.methods[r.URL.Path]
	if !ok {
		d.refuse(w, r, http.StatusNotFound, connect.CodeUnimplemented,
			"there is no RPC "+r.URL.Path+" (docs/api.md lists them)")
		return
	}
	if r.Method == http.MethodGet && noSideEffects(md) && r.URL.Query().Has("encoding") {
		// A Connect GET; its message is in the URL (bounded by the header
		// limit). Without connect=v1 or this header vanguard would take it
		// for REST.
		r.Header.Set("Connect-Protocol-Version", "1")
		d.next.ServeHTTP(w, r)
		return
	}
	if r.Method != http.MethodPost {
		allow := http.MethodPost
		if noSideEffects(md) {
			allow = "GET, POST" // GET as the Connect protocol writes it: ?encoding=json&message=...
		}
		w.Header().Set("Allow", allow)
		d.refuse(w, r, http.StatusMethodNotAllowed, connect.CodeInvalidArgument, "an RPC is called with POST")
		return
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case err == nil && (mt == "application/json" || mt == "application/proto"):
		d.unary(w, r, mt, md)
	case err == nil && (mt == "application/connect+json" || mt == "application/connect+proto" ||
		strings.HasPrefix(mt, "application/grpc")):
		d.next.ServeHTTP(w, r)
	default:
		w.Header().Set("Accept-Post", acceptPost)
		d.refuse(w, r, http.StatusUnsupportedMediaType, connect.CodeInvalidArgument,
			"the content type must be application/json or application/proto (Connect), or another RPC protocol's: "+acceptPost)
	}
}

// unary reads a Connect unary call's body, within the limit, inflates it,
// and hands the transcoder the plain message.
func (d *door) unary(w http.ResponseWriter, r *http.Request, mt string, md protoreflect.MethodDescriptor) {
	if md.IsStreamingClient() || md.IsStreamingServer() {
		w.Header().Set("Accept-Post", "application/connect+json, application/connect+proto")
		d.refuse(w, r, http.StatusUnsupportedMediaType, connect.CodeInvalidArgument,
			"a stream is called with application/connect+json or application/connect+proto (enveloped messages)")
		return
	}
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	if enc != "" && enc != "identity" && enc != "gzip" {
		d.refuse(w, r, http.StatusNotImplemented, connect.CodeUnimplemented,
			"the request body's Content-Encoding must be gzip or identity")
		return
	}
	if r.ContentLength > d.limit {
		d.refuse(w, r, http.StatusTooManyRequests, connect.CodeResourceExhausted, d.tooLarge("the request body"))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, d.limit+1))
	if err != nil {
		d.refuse(w, r, http.StatusBadRequest, connect.CodeInvalidArgument, "the request body could not be read")
		return
	}
	if int64(len(body)) > d.limit {
		d.refuse(w, r, http.StatusTooManyRequests, connect.CodeResourceExhausted, d.tooLarge("the request body"))
		return
	}
	if enc == "gzip" {
		var tooLarge bool
		if body, tooLarge, err = gunzip(body, d.limit); tooLarge {
			d.refuse(w, r, http.StatusTooManyRequests, connect.CodeResourceExhausted, d.tooLarge("the request body, inflated,"))
			return
		} else if err != nil {
			d.refuse(w, r, http.StatusBadRequest, connect.CodeInvalidArgument, "the request body is not valid gzip (Content-Encoding: gzip)")
			return
		}
		r.Header.Del("Content-Encoding")
	}
	if mt == "application/json" && len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}") // proto3 JSON's empty message, as an empty protobuf body is
	}
	if r.Header.Get("Connect-Protocol-Version") == "" {
		// curl and plain HTTP clients leave it out; vanguard would take the
		// call for REST, which nothing here maps.
		r.Header.Set("Connect-Protocol-Version", "1")
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	d.next.ServeHTTP(w, r)
}

func (d *door) tooLarge(what string) string {
	return fmt.Sprintf("%s is larger than the limit of %d bytes", what, d.limit)
}

// gunzip inflates b, refusing more than limit bytes of output. It
// inflates twice: first only counting, so a bomb is refused without
// holding any of its output; then into a buffer of the size counted.
func gunzip(b []byte, limit int64) (out []byte, tooLarge bool, err error) {
	n, err := inflatedSize(bytes.NewReader(b), limit)
	if err != nil || n > limit {
		return nil, n > limit, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, false, err
	}
	out = make([]byte, n)
	if _, err := io.ReadFull(zr, out); err != nil {
		return nil, false, err
	}
	return out, false, nil
}

// inflatedSize counts what gzip data r inflates to, up to limit+1.
func inflatedSize(r io.Reader, limit int64) (int64, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(io.Discard, io.LimitReader(zr, limit+1))
	if err != nil || n > limit {
		return n, err
	}
	return n, zr.Close()
}

func noSideEffects(md protoreflect.MethodDescriptor) bool { return !access.IsWrite(md) }

// refuse answers a Connect JSON error and logs it.
func (d *door) refuse(w http.ResponseWriter, r *http.Request, status int, code connect.Code, msg string) {
	logRefusal(d.log, r, status, code.String(), msg)
	b, _ := json.Marshal(ErrorBody{Code: code.String(), Message: msg})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// logRefusal logs a request the HTTP door refused before the server saw
// it (the server logs its own calls): what was asked, and why. Never the
// body, nor a header's value but its size and encoding.
func logRefusal(log *slog.Logger, r *http.Request, status int, code, msg string) {
	log.WarnContext(r.Context(), "HTTP request refused", "http.method", r.Method, "http.path", r.URL.Path,
		"http.status", status, "code", code, "error", msg, "peer.address", r.RemoteAddr,
		"content_type", r.Header.Get("Content-Type"), "content_encoding", r.Header.Get("Content-Encoding"),
		"content_length", r.ContentLength)
}

// limitedGzip is gzip for the transcoder's message-by-message
// decompression (streams, gRPC-Web, Connect GET): it refuses more output
// than the message limit, so a bomb costs at most that.
type limitedGzip struct {
	zr    gzip.Reader
	limit int64
	left  int64
}

func newLimitedGzip(limit int64) func() connect.Decompressor {
	return func() connect.Decompressor { return &limitedGzip{limit: limit} }
}

func (z *limitedGzip) Reset(r io.Reader) error {
	z.left = z.limit
	if b, ok := r.(*bytes.Buffer); ok {
		// The transcoder hands over the whole compressed message: count
		// first, so a bomb is refused before any of its output is kept.
		n, err := inflatedSize(bytes.NewReader(b.Bytes()), z.limit)
		if n > z.limit {
			return errInflatedTooLarge(z.limit)
		}
		if err != nil {
			return connect.NewError(connect.CodeInvalidArgument, errors.New("a message is not valid gzip"))
		}
	}
	if err := z.zr.Reset(r); err != nil {
		return connect.NewError(connect.CodeInvalidArgument, errors.New("a message is not valid gzip"))
	}
	return nil
}

func (z *limitedGzip) Read(p []byte) (int, error) {
	if z.left < 0 {
		return 0, errInflatedTooLarge(z.limit)
	}
	if int64(len(p)) > z.left+1 {
		p = p[:z.left+1]
	}
	n, err := z.zr.Read(p)
	z.left -= int64(n)
	if z.left < 0 {
		return n, errInflatedTooLarge(z.limit)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return n, connect.NewError(connect.CodeInvalidArgument, errors.New("a message is not valid gzip"))
	}
	return n, err
}

func (z *limitedGzip) Close() error { return z.zr.Close() }

func errInflatedTooLarge(limit int64) error {
	return connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("a message, inflated, is larger than the limit of %d bytes", limit))
}
