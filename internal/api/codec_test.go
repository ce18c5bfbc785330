package api

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
)

func TestCodecSendsAnswersAsTheyAre(t *testing.T) {
	c := Codec()
	full := &pb.ModelConfig{Function: "generate_content", Model: "gpt-4.1", MaxTokens: proto.Int32(8000),
		Sources: map[string]pb.Source{"model": pb.Source_SOURCE_ACCOUNT}}
	want, err := proto.MarshalOptions{Deterministic: true}.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	// An answer: the very bytes, not a copy.
	got, err := c.Marshal(answer(want))
	if err != nil {
		t.Fatal(err)
	}
	if b := got.Materialize(); !bytes.Equal(b, want) || len(got) != 1 || &got[0].ReadOnlyData()[0] != &want[0] {
		t.Fatalf("answer: got %x (%d buffers), want the same %x", b, len(got), want)
	}
	var back pb.ModelConfig
	if err := c.Unmarshal(got, &back); err != nil || !proto.Equal(&back, full) {
		t.Fatalf("decoded %v (%v), want %v", &back, err, full)
	}
	// A message: the default codec.
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
