package domain

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

// Merge takes a validation error's violations even when it is wrapped
// (the unchecked assertion it replaced would have panicked), and keeps any
// other error as a violation of the field rather than dropping it.
func TestCollectorMerge(t *testing.T) {
	var c Collector
	c.Merge("a", nil)
	c.Merge("id", fmt.Errorf("checking: %w", InvalidField("id", "must be a slug")))
	c.Merge("other", errors.New("boom"))
	want := []Violation{{"id", "must be a slug"}, {"other", "boom"}}
	if !slices.Equal(c.Violations, want) {
		t.Fatalf("violations %v, want %v", c.Violations, want)
	}
}
