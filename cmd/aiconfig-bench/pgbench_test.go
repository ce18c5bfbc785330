package main

import (
	"strings"
	"testing"
)

// TestPgbenchScript: the script replays every statement of an uncached
// call with its parameter filled in, the snapshot as one pipeline.
func TestPgbenchScript(t *testing.T) {
	s := pgbenchScript("aic_secret", 1000)
	for _, want := range []string{`\set n random(1, 1000)`, "FROM tokens", `\startpipeline`, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;",
		"FROM accounts WHERE id = ('acct-' || (:n)::text)", "FROM integration_overrides", "FROM models", "COMMIT;", `\endpipeline`} {
		if !strings.Contains(s, want) {
			t.Errorf("the script lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "$") {
		t.Errorf("a parameter is left in the script:\n%s", s)
	}
}
