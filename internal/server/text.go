package server

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/igny8/aiconfig/internal/validate"
)

// Every request's strings are checked once, here, before any handler: text
// PostgreSQL cannot store (NUL, or invalid UTF-8, which the codec turns into
// NUL) is INVALID_ARGUMENT naming the field, wherever it is, rather than a
// database error surfacing as INTERNAL from whichever handler met it first.

func unaryText() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if m, ok := req.(proto.Message); ok {
			if err := validate.Text(m); err != nil {
				return nil, err
			}
		}
		return handler(ctx, req)
	}
}

func streamText() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, textStream{ss})
	}
}

type textStream struct{ grpc.ServerStream }

func (s textStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if pm, ok := m.(proto.Message); ok {
		return validate.Text(pm)
	}
	return nil
}
