package server

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
)

func TestCodecSendsEncodedAnswersAsTheyAre(t *testing.T) {
	c := newCodec()
	full := &pb.ModelConfig{Function: "generate_content", Model: "gpt-4.1", MaxTokens: proto.Int32(8000),
		Sources: map[string]pb.Source{"model": pb.Source_SOURCE_ACCOUNT}}
	want, err := proto.MarshalOptions{Deterministic: true}.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}

	// Only unknown fields: the very bytes, not a copy.
	only := &pb.ModelConfig{}
	only.ProtoReflect().SetUnknown(want)
	got, err := c.Marshal(only)
	if err != nil {
		t.Fatal(err)
	}
	if b := got.Materialize(); !bytes.Equal(b, want) || len(got) != 1 || &got[0].ReadOnlyData()[0] != &want[0] {
		t.Fatalf("pre-encoded message: got %x (%d buffers), want the same %x", b, len(got), want)
	}
	var back pb.ModelConfig
	if err := c.Unmarshal(got, &back); err != nil || !proto.Equal(&back, full) {
		t.Fatalf("decoded %v (%v), want %v", &back, err, full)
	}

	// Known fields set too: encoded as usual, unknown fields after them.
	mixed := &pb.ModelConfig{Function: "auto_cluster"}
	mixed.ProtoReflect().SetUnknown(want)
	got, err = c.Marshal(mixed)
	if err != nil {
		t.Fatal(err)
	}
	if plain, _ := proto.Marshal(mixed); !bytes.Equal(got.Materialize(), plain) {
		t.Fatalf("mixed message: got %x, want %x", got.Materialize(), plain)
	}

	// No unknown fields: the default codec.
	got, err = c.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	var again pb.ModelConfig
	if err := proto.Unmarshal(got.Materialize(), &again); err != nil || !proto.Equal(&again, full) {
		t.Fatalf("plain message round trip: %v (%v)", &again, err)
	}
	if _, err := c.Marshal("not a message"); err == nil {
		t.Fatal("a non-proto value was marshaled")
	}
}
