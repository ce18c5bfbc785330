package server

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/igny8/aiconfig/internal/api"
	"github.com/igny8/aiconfig/internal/validate"
)

// Every request's strings are checked once, here, before any handler: text
// PostgreSQL cannot store (NUL, or invalid UTF-8, which the codec turns into
// NUL) is INVALID_ARGUMENT naming the field, wherever it is, rather than a
// database error surfacing as INTERNAL from whichever handler met it first.

func unaryText() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := checkRequest(info.FullMethod, req); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

func streamText() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, textStream{ss, info.FullMethod})
	}
}

type textStream struct {
	grpc.ServerStream
	method string
}

func (s textStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return checkRequest(s.method, m)
}

// checkRequest refuses a request the codec could not decode, then one
// whose text cannot be stored.
func checkRequest(method string, req any) error {
	if err := api.MalformedRequest(method, req); err != nil {
		return err
	}
	if m, ok := req.(proto.Message); ok {
		return validate.Text(m)
	}
	return nil
}
