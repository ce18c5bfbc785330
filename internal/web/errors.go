package web

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"

	"github.com/igny8/aiconfig/internal/server"
)

// A Connect error body is {"code", "message", "details": [{"type",
// "value": base64 protobuf, "debug"}]}. The server's ErrorInfo and
// BadRequest details are there, but only as protobuf (vanguard's "debug"
// copy is best effort and documented as not for programs). So every JSON
// error body also gets the details' contents as plain JSON fields, the
// stable contract for JSON callers and the console:
//
//	{"code": "invalid_argument", "message": "...", "details": [...],
//	 "reason": "VALIDATION_FAILED", "domain": "aiconfig", "metadata": {...},
//	 "fieldViolations": [{"field": "override.temperature", "description": "..."}]}
//
// Connect clients ignore the added fields. Only error responses are
// touched (buffered: they are small); successful answers stream through.
// gRPC and gRPC-Web carry errors in trailers, for their own clients.

// ErrorBody is the JSON error body of a Connect call as this service sends it.
type ErrorBody struct {
	Code            string            `json:"code"`
	Message         string            `json:"message,omitempty"`
	Details         []json.RawMessage `json:"details,omitempty"`
	Reason          string            `json:"reason,omitempty"`
	Domain          string            `json:"domain,omitempty"`
	Metadata        map[string]string `json:"metadata,omitempty"`
	FieldViolations []FieldViolation  `json:"fieldViolations,omitempty"`
}

// FieldViolation is one bad field of a request.
type FieldViolation struct {
	Field       string `json:"field"`
	Description string `json:"description"`
}

// An error the transcoder sends for a call the server never saw (a body
// that is not the request's JSON, too large a message) has no request id:
// it is logged here, as the door logs its own refusals.
func readableErrors(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ew := &errorWriter{ResponseWriter: w, unary: connectUnary(r)}
		next.ServeHTTP(ew, r)
		code := ew.finish()
		if w.Header().Get(server.RequestIDHeader) != "" {
			return // the server saw the call, and logged it
		}
		if code != "" {
			logRefusal(log, r, ew.status, code, ew.message)
		} else if s := w.Header().Get("Grpc-Status"); s != "" && s != "0" {
			// gRPC-Web refused before any handler (e.g. a message over the
			// gRPC server's limit): a trailers-only answer.
			logRefusal(log, r, http.StatusOK, "grpc-status "+s, w.Header().Get("Grpc-Message"))
		}
	})
}

// connectUnary: a Connect unary call, whose error body is always JSON.
func connectUnary(r *http.Request) bool {
	if !rpcPath.MatchString(r.URL.Path) {
		return false // the console's files
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return r.Method == http.MethodGet || mt == "application/json" || mt == "application/proto"
}

// errorWriter holds back a JSON body sent with an error status.
type errorWriter struct {
	http.ResponseWriter
	unary   bool
	status  int
	held    *bytes.Buffer // non-nil while holding an error body
	message string        // the error's, once finished
}

func (w *errorWriter) WriteHeader(code int) {
	if w.held == nil && code >= 400 && w.unary {
		// A Connect unary error body is JSON, whatever the server leg set
		// (vanguard can leave application/grpc+proto on a refused body).
		w.Header().Set("Content-Type", "application/json")
	}
	if w.held == nil && code >= 400 && strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		w.status, w.held = code, &bytes.Buffer{}
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *errorWriter) Write(p []byte) (int, error) {
	if w.held != nil {
		return w.held.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// Flush passes through, except while an error body is held back.
func (w *errorWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok && w.held == nil {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w *errorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// finish sends the held error body, enriched, and returns its code and
// keeps its message ("" when no error body was held).
func (w *errorWriter) finish() (code string) {
	if w.held == nil {
		return ""
	}
	body, e := enrichError(w.held.Bytes())
	if w.unary {
		w.Header().Set("Content-Type", "application/json") // again: the server leg may have set its own since
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.ResponseWriter.WriteHeader(w.status)
	_, _ = w.ResponseWriter.Write(body)
	w.message = e.Message
	if e.Code == "" {
		return "unknown"
	}
	return e.Code
}

// enrichError adds the ErrorInfo and BadRequest contents to a Connect
// error body; anything it cannot read is passed on as it was.
func enrichError(b []byte) ([]byte, ErrorBody) {
	var e ErrorBody
	if err := json.Unmarshal(b, &e); err != nil || e.Code == "" {
		return b, e
	}
	for _, raw := range e.Details {
		var d struct {
			Type  string `json:"type"`
			Value string `json:"value"`
		}
		if json.Unmarshal(raw, &d) != nil {
			continue
		}
		// Connect sends unpadded base64; accept padded too.
		v, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(d.Value, "="))
		if err != nil {
			continue
		}
		switch d.Type {
		case "google.rpc.ErrorInfo":
			var info errdetails.ErrorInfo
			if proto.Unmarshal(v, &info) == nil {
				e.Reason, e.Domain, e.Metadata = info.GetReason(), info.GetDomain(), info.GetMetadata()
			}
		case "google.rpc.BadRequest":
			var br errdetails.BadRequest
			if proto.Unmarshal(v, &br) == nil {
				for _, fv := range br.GetFieldViolations() {
					e.FieldViolations = append(e.FieldViolations, FieldViolation{Field: fv.GetField(), Description: fv.GetDescription()})
				}
			}
		}
	}
	out, err := json.Marshal(e)
	if err != nil {
		return b, e
	}
	return out, e
}
