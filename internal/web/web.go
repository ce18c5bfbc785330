// Package web is the service's HTTP door: every RPC as HTTP/JSON (the
// Connect protocol) and gRPC-Web, transcoded by connectrpc.com/vanguard
// into calls on the one *grpc.Server — so they pass through the same
// interceptors (authentication, access rules, audit, metrics, logs) as
// gRPC calls — and the console, static files embedded in the binary,
// served at /. Every response carries the security headers.
package web

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"

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
	// 0 means 4 MiB. It bounds a request body both as sent and, when
	// compressed, inflated.
	MaxMessageBytes uint32
	// Log gets a line for each request the door refuses before the
	// server sees it (the server logs its own calls); nil: none.
	Log *slog.Logger
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
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
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
		// Message by message (streams, gRPC-Web, Connect GET); the door
		// inflates Connect unary bodies itself, within the same limit.
		vanguard.WithCompression(vanguard.CompressionGzip,
			func() connect.Compressor { return gzip.NewWriter(io.Discard) }, newLimitedGzip(int64(limit))),
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
	d, err := newDoor(g, int64(limit), log, readableErrors(rpc, log))
	if err != nil {
		return nil, err
	}
	return secure(d), nil
}

// requestJSON is vanguard's JSON codec, except that a request body it
// cannot read (bad JSON, a wrong type, an unknown field) is the caller's
// mistake, INVALID_ARGUMENT (HTTP 400), not the UNKNOWN (HTTP 500)
// vanguard reports; and its message never repeats a value of the body
// (protojson's does: `"apiKey":sk-XYZ` unquoted would come back as
// "invalid value sk-XYZ", an API key in an error and a log). It names the
// position, and the field where protojson says which. Responses are only
// marshalled by it: the server answers in protobuf.
type requestJSON struct{ *vanguard.JSONCodec }

func (c requestJSON) Unmarshal(b []byte, m proto.Message) error {
	if err := c.JSONCodec.Unmarshal(b, m); err != nil {
		return connect.NewError(connect.CodeInvalidArgument,
			fmt.Errorf("the body is not a JSON %s: %s", m.ProtoReflect().Descriptor().FullName(), decodeProblem(err)))
	}
	return nil
}

var (
	jsonPosition   = regexp.MustCompile(`\(line (\d+):(\d+)\)`)
	jsonKeyProblem = regexp.MustCompile(`(unknown|duplicate) field "([A-Za-z_][A-Za-z0-9_]{0,63})"`)
	jsonBadValue   = regexp.MustCompile(`invalid value for \w+ field ([A-Za-z_][A-Za-z0-9_]{0,63})\b`)
)

// decodeProblem says what is wrong with a body protojson refused, from
// its error, keeping only what is not the caller's data: the position,
// and a field's name (a key the message declares, or an unknown key of
// at most 64 identifier characters). The rest of protojson's text (a
// token, a value) is dropped.
func decodeProblem(err error) string {
	text := err.Error()
	what := "it is not valid JSON, or a value has the wrong type or form (values are not repeated in errors)"
	if m := jsonKeyProblem.FindStringSubmatch(text); m != nil {
		what = m[1] + " field " + strconv.Quote(m[2])
	} else if m := jsonBadValue.FindStringSubmatch(text); m != nil {
		what = "field " + m[1] + " has a value of the wrong type or form (values are not repeated in errors)"
	}
	if m := jsonPosition.FindStringSubmatch(text); m != nil {
		what += " at line " + m[1] + ", column " + m[2]
	}
	return what
}
