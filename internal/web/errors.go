package web

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"
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

func readableErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ew := &errorWriter{ResponseWriter: w}
		next.ServeHTTP(ew, r)
		ew.finish()
	})
}

// errorWriter holds back a JSON body sent with an error status.
type errorWriter struct {
	http.ResponseWriter
	status int
	held   *bytes.Buffer // non-nil while holding an error body
}

func (w *errorWriter) WriteHeader(code int) {
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

func (w *errorWriter) finish() {
	if w.held == nil {
		return
	}
	body := enrichError(w.held.Bytes())
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.ResponseWriter.WriteHeader(w.status)
	_, _ = w.ResponseWriter.Write(body)
}

// enrichError adds the ErrorInfo and BadRequest contents to a Connect
// error body; anything it cannot read is passed on as it was.
func enrichError(b []byte) []byte {
	var e ErrorBody
	if err := json.Unmarshal(b, &e); err != nil || e.Code == "" {
		return b
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
		return b
	}
	return out
}
