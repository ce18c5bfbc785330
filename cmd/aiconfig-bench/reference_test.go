package main

import (
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
)

// TestParseRequest: the reference server's hand parsing reads both hot-path
// requests as proto encodes them, skips fields it does not know, and
// refuses bytes that are not a message.
func TestParseRequest(t *testing.T) {
	model, _ := proto.Marshal(&pb.GetModelConfigRequest{AccountId: "acct-7", Function: "generate_ideas"})
	prompt, _ := proto.Marshal(&pb.GetEffectivePromptRequest{AccountId: "acct-9", PromptType: "clustering"})
	extra := protowire.AppendVarint(protowire.AppendTag(append([]byte(nil), model...), 9, protowire.VarintType), 42)
	for _, c := range []struct {
		name    string
		b       []byte
		id, key string
	}{{"GetModelConfigRequest", model, "acct-7", "generate_ideas"}, {"GetEffectivePromptRequest", prompt, "acct-9", "clustering"},
		{"an unknown field", extra, "acct-7", "generate_ideas"}} {
		id, key, ok := parseRequest(c.b)
		if !ok || string(id) != c.id || string(key) != c.key {
			t.Errorf("%s: %q, %q, %v; want %q, %q", c.name, id, key, ok, c.id, c.key)
		}
	}
	if _, _, ok := parseRequest(model[:len(model)-3]); ok {
		t.Error("a cut request parsed")
	}
}

// TestReferenceOptions: the fair reference takes aiconfigd's server
// options (which include its stream workers); the other none.
func TestReferenceOptions(t *testing.T) {
	fair, err := referenceOptions(false)
	if err != nil || len(fair) == 0 {
		t.Errorf("aiconfigd's options: %d, %v", len(fair), err)
	}
	if none, _ := referenceOptions(true); len(none) != 0 {
		t.Errorf("grpc-go's defaults: %d options", len(none))
	}
}
