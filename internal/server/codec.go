package server

import (
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the default codec
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// codec is gRPC's proto codec, except that a message whose only content is
// its unknown fields is sent as those bytes, without a copy. The hot path
// returns answers encoded ahead of time that way (api.encoded); the
// default codec would size, allocate and copy them on every call.
type codec struct {
	encoding.CodecV2
}

func newCodec() codec { return codec{encoding.GetCodecV2("proto")} }

func (c codec) Marshal(v any) (mem.BufferSlice, error) {
	if m, ok := v.(proto.Message); ok {
		// Size counts known and unknown fields: equal means no known ones.
		if u := m.ProtoReflect().GetUnknown(); len(u) > 0 && proto.Size(m) == len(u) {
			return mem.BufferSlice{mem.SliceBuffer(u)}, nil
		}
	}
	return c.CodecV2.Marshal(v)
}
