package client

import (
	"errors"
	"maps"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
)

// ErrorDomain is the google.rpc.ErrorInfo domain of the server's errors.
const ErrorDomain = "aiconfig"

// Error is every failure the client returns: the gRPC code, the stable
// reason (one of the Reason constants; empty when the failure did not come
// from the service, e.g. a connection refused), its metadata and, for
// INVALID_ARGUMENT, the bad fields. Messages come from the server, which
// never puts a key or token in them.
type Error struct {
	Code            codes.Code
	Reason          string
	Message         string
	Metadata        map[string]string
	FieldViolations []FieldViolation
}

// FieldViolation names one bad field of a request.
type FieldViolation struct {
	Field       string
	Description string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("aiconfig: ")
	b.WriteString(e.Code.String())
	if e.Reason != "" {
		b.WriteString(" " + e.Reason)
	}
	b.WriteString(": " + e.Message)
	return b.String()
}

// GRPCStatus lets status.Code and status.FromError see the code and details.
func (e *Error) GRPCStatus() *status.Status {
	st := status.New(e.Code, e.Message)
	var details []protoadapt.MessageV1
	if e.Reason != "" {
		details = append(details, &errdetails.ErrorInfo{Reason: e.Reason, Domain: ErrorDomain, Metadata: e.Metadata})
	}
	if len(e.FieldViolations) > 0 {
		br := &errdetails.BadRequest{}
		for _, v := range e.FieldViolations {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description})
		}
		details = append(details, br)
	}
	if d, err := st.WithDetails(details...); err == nil {
		return d
	}
	return st
}

// Reason returns the reason of err if it is (or wraps) an *Error, else "".
func Reason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// ErrorFrom turns any error of a gRPC call (from this client, or from a
// stub on Conn) into an *Error, decoding the ErrorInfo and BadRequest the
// server attaches (grpc-status-details-bin). nil stays nil.
func ErrorFrom(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	st, ok := status.FromError(err)
	if !ok {
		st = status.FromContextError(err) // Unknown unless err is a context error
	}
	e = &Error{Code: st.Code(), Message: st.Message()}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			if d.GetDomain() == ErrorDomain {
				e.Reason, e.Metadata = d.GetReason(), maps.Clone(d.GetMetadata())
			}
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				e.FieldViolations = append(e.FieldViolations, FieldViolation{Field: v.GetField(), Description: v.GetDescription()})
			}
		}
	}
	return e
}

// ErrClosed is returned by calls on a closed Client.
var ErrClosed = &Error{Code: codes.Canceled, Message: "the client is closed"}

// unavailable reports whether err means the server could not answer in
// time (down, unreachable, hung, or without its database): the cases where
// a cached answer may stand in.
func unavailable(err error) bool {
	c := status.Code(err)
	return c == codes.Unavailable || c == codes.DeadlineExceeded
}
