package resolve

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/igny8/aiconfig/internal/domain"
)

// renderCase is one case of testdata/render.json, the table the Python
// client's tests run too (clients/python/tests/test_render.py).
type renderCase struct {
	Name     string            `json:"name"`
	Text     string            `json:"text"`
	Declared []string          `json:"declared"`
	Vars     map[string]string `json:"vars"`
	Want     *string           `json:"want"`
	Error    *struct {
		Reason     string             `json:"reason"`
		Violations []domain.Violation `json:"violations"`
	} `json:"error"`
}

func TestRenderTable(t *testing.T) {
	raw, err := os.ReadFile("testdata/render.json")
	if err != nil {
		t.Fatal(err)
	}
	var table struct{ Cases []renderCase }
	if err := json.Unmarshal(raw, &table); err != nil {
		t.Fatal(err)
	}
	if len(table.Cases) < 10 {
		t.Fatalf("only %d cases", len(table.Cases))
	}
	for _, tc := range table.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			if (tc.Want == nil) == (tc.Error == nil) {
				t.Fatal("a case has either want or error")
			}
			got, err := Render(tc.Text, tc.Declared, tc.Vars)
			if tc.Want != nil {
				if err != nil || got != *tc.Want {
					t.Fatalf("got %q, %v; want %q", got, err, *tc.Want)
				}
				return
			}
			var de *domain.Error
			if !errors.As(err, &de) {
				t.Fatalf("got %q, %v; want %s", got, err, tc.Error.Reason)
			}
			if de.Code != domain.CodeInvalid || de.Reason != tc.Error.Reason || !slices.Equal(de.Violations, tc.Error.Violations) {
				t.Errorf("got %s %q\nwant %s %q", de.Reason, de.Violations, tc.Error.Reason, tc.Error.Violations)
			}
		})
	}
}
