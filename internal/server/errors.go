package server

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/igny8/aiconfig/internal/audit"
	"github.com/igny8/aiconfig/internal/domain"
)

// ErrorDomain is the ErrorInfo domain of every error this service returns.
const ErrorDomain = "aiconfig"

var grpcCodes = map[domain.Code]codes.Code{
	domain.CodeInvalid:            codes.InvalidArgument,
	domain.CodeNotFound:           codes.NotFound,
	domain.CodeAborted:            codes.Aborted,
	domain.CodeFailedPrecondition: codes.FailedPrecondition,
	domain.CodePermissionDenied:   codes.PermissionDenied,
	domain.CodeUnauthenticated:    codes.Unauthenticated,
	domain.CodeUnavailable:        codes.Unavailable,
	domain.CodeOutOfRange:         codes.OutOfRange,
	domain.CodeResourceExhausted:  codes.ResourceExhausted,
	domain.CodeAlreadyExists:      codes.AlreadyExists,
}

// toStatus maps any handler error to a gRPC status, once, for every RPC:
// domain errors keep their code, reason and field violations; anything
// else is logged and becomes a bare INTERNAL so no SQL or detail leaks.
func toStatus(ctx context.Context, log *slog.Logger, method string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	var de *domain.Error
	if !errors.As(err, &de) {
		switch {
		case errors.Is(err, context.Canceled):
			return status.Error(codes.Canceled, "the call was canceled")
		case errors.Is(err, context.DeadlineExceeded):
			return status.Error(codes.DeadlineExceeded, "the deadline passed before the call finished")
		}
		log.ErrorContext(ctx, "internal error", "grpc.method", method, "request_id", audit.From(ctx).RequestID, "error", err.Error())
		return status.Error(codes.Internal, "internal error; the server log has the details")
	}
	code, ok := grpcCodes[de.Code]
	if !ok {
		code = codes.Internal
	}
	msg := de.Message
	if len(de.Violations) > 0 {
		msg = de.Error()
	}
	details := []proto.Message{&errdetails.ErrorInfo{Reason: de.Reason, Domain: ErrorDomain, Metadata: de.Metadata}}
	if len(de.Violations) > 0 {
		br := &errdetails.BadRequest{}
		for _, v := range de.Violations {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description})
		}
		details = append(details, br)
	}
	// Encoded deterministically (metadata is a map), as answers are: the
	// same error is the same bytes.
	st := &spb.Status{Code: int32(code), Message: msg}
	for _, d := range details {
		a := &anypb.Any{}
		if err := anypb.MarshalFrom(a, d, proto.MarshalOptions{Deterministic: true}); err != nil {
			return status.Error(code, msg)
		}
		st.Details = append(st.Details, a)
	}
	return status.FromProto(st).Err()
}
