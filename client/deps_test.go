package client

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// The published client must not depend on the server's internals, so a
// server-side refactor cannot break it (issue 22): besides the standard
// library it may use only the generated API, the shared template
// package, grpc, protobuf and the golang.org/x modules grpc brings.
func TestClientDependsOnNoServerInternals(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		var stderr string
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list -deps: %v\n%s", err, stderr)
	}
	allowed := []string{
		"github.com/igny8/aiconfig/client",
		"github.com/igny8/aiconfig/gen/",
		"github.com/igny8/aiconfig/render",
		"google.golang.org/grpc",
		"google.golang.org/protobuf",
		"google.golang.org/genproto/googleapis/rpc",
		"golang.org/x/",
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps found only %v: did its output change?", deps)
	}
	for _, p := range deps {
		if strings.HasPrefix(p, "github.com/igny8/aiconfig/internal/") {
			t.Errorf("the client imports the server's internal package %s", p)
			continue
		}
		ok := false
		for _, a := range allowed {
			if p == a || strings.HasPrefix(p, a) && (strings.HasSuffix(a, "/") || strings.HasPrefix(p, a+"/")) {
				ok = true
				break
			}
		}
		if !ok {
			t.Errorf("the client depends on %s, outside the generated API, grpc, protobuf and golang.org/x", p)
		}
	}
}
