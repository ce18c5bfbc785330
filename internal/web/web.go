// Package web is the service's HTTP door: every RPC as HTTP/JSON (the
// Connect protocol) and gRPC-Web, transcoded by connectrpc.com/vanguard
// into calls on the one *grpc.Server — so they pass through the same
// interceptors (authentication, access rules, audit, metrics, logs) as
// gRPC calls — and the console, static files embedded in the binary,
// served at /. Every response carries the security headers.
package web

import (
	"errors"
	"fmt"
	"mime"
	"net/http"

	"connectrpc.com/connect"
	"connectrpc.com/vanguard"
	"connectrpc.com/vanguard/vanguardgrpc"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// Options tune the handler; the zero value is the production setting.
type Options struct {
	// MaxMessageBytes bounds a request or response message the transcoder
	// buffers (JSON is larger than protobuf, so allow more than the gRPC
	// server's own receive limit, which still applies after transcoding).
	// 0 means 4 MiB.
	MaxMessageBytes uint32
}

// NewHandler serves the RPCs of every service registered on g (register
// them all first: the set is read once, here) and the console. g must be
// the production server, so HTTP calls are checked, audited, counted and
// logged exactly as gRPC calls are.
func NewHandler(g *grpc.Server, opts Options) (http.Handler, error) {
	if g == nil {
		return nil, errors.New("web: no gRPC server")
	}
	limit := opts.MaxMessageBytes
	if limit == 0 {
		limit = 4 << 20
	}
	console, err := newConsole()
	if err != nil {
		return nil, err
	}
	rpc, err := vanguardgrpc.NewTranscoder(g,
		vanguard.WithDefaultServiceOptions(
			// The server forces its own protobuf codec whatever the
			// content subtype: always hand it protobuf, even if a "json"
			// gRPC codec gets registered somewhere in the process.
			vanguard.WithTargetCodecs(vanguard.CodecProto),
			vanguard.WithMaxMessageBufferBytes(limit),
		),
		vanguard.WithUnknownHandler(console),
		vanguard.WithCodec(func(res vanguard.TypeResolver) vanguard.Codec {
			c := vanguard.NewJSONCodec(res)
			// A misspelled field ("temperture") is an error, not a write
			// that silently changes nothing.
			c.UnmarshalOptions.DiscardUnknown = false
			return requestJSON{c}
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	return secure(connectByDefault(readableErrors(rpc))), nil
}

// requestJSON is vanguard's JSON codec, except that a request body it
// cannot read (bad JSON, a wrong type, an unknown field) is the caller's
// mistake, INVALID_ARGUMENT (HTTP 400), not the UNKNOWN (HTTP 500)
// vanguard reports. Responses are only marshalled by it: the server
// answers in protobuf.
type requestJSON struct{ *vanguard.JSONCodec }

func (c requestJSON) Unmarshal(b []byte, m proto.Message) error {
	if err := c.JSONCodec.Unmarshal(b, m); err != nil {
		return connect.NewError(connect.CodeInvalidArgument,
			fmt.Errorf("the body is not a JSON %s: %w", m.ProtoReflect().Descriptor().FullName(), err))
	}
	return nil
}

// connectByDefault marks a POST of JSON or protobuf as a Connect call when
// the client left out Connect-Protocol-Version (curl, a plain HTTP client):
// vanguard would otherwise take it for REST, which nothing here maps, and
// answer 404.
func connectByDefault(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.Header.Get("Connect-Protocol-Version") == "" {
			if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil &&
				(mt == "application/json" || mt == "application/proto") {
				r.Header.Set("Connect-Protocol-Version", "1")
			}
		}
		next.ServeHTTP(w, r)
	})
}
