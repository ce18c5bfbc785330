package client

import (
	"os"
	"regexp"
	"slices"
	"testing"
)

// Reasons this list carries before the server sends them (other issues
// add them: plan limits, rate limits). They are fine either way.
var aheadOfServer = []string{}

// The reason constants are listed once per language; this holds the Go
// list, the Python list and the server's (internal/domain) equal.
func TestReasonListsMatchTheServer(t *testing.T) {
	server := reasonConsts(t, "../internal/domain/errors.go")
	goList := reasonConsts(t, "reasons.go")
	if len(server) < 20 {
		t.Fatalf("found only %d reasons in internal/domain/errors.go: did its shape change?", len(server))
	}
	for r, name := range server {
		if _, ok := goList[r]; !ok {
			t.Errorf("the server has reason %s (domain.%s): add it to client/reasons.go and clients/python/aiconfig/reasons.py", r, name)
		}
	}
	for r := range goList {
		if _, ok := server[r]; !ok && !slices.Contains(aheadOfServer, r) {
			t.Errorf("client/reasons.go has %s, which the server does not", r)
		}
	}

	src, err := os.ReadFile("../clients/python/aiconfig/reasons.py")
	if err != nil {
		t.Fatal(err)
	}
	py := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+([A-Z_]+) = "([A-Z_]+)"`).FindAllStringSubmatch(string(src), -1) {
		if m[1] != m[2] {
			t.Errorf("reasons.py: %s = %q: the name must be the reason", m[1], m[2])
		}
		py[m[2]] = true
	}
	for r := range goList {
		if !py[r] {
			t.Errorf("clients/python/aiconfig/reasons.py lacks %s", r)
		}
	}
	for r := range py {
		if _, ok := goList[r]; !ok {
			t.Errorf("clients/python/aiconfig/reasons.py has %s, which client/reasons.go does not", r)
		}
	}
}
