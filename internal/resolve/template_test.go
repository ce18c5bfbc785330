package resolve

import (
	"regexp"
	"strings"
	"testing"

	"github.com/igny8/aiconfig/internal/domain"
	. "github.com/igny8/aiconfig/internal/domain/domaintest"
	"github.com/igny8/aiconfig/render"
)

func TestRender(t *testing.T) {
	text := "Cluster these: {{keywords}}. Tone: {{tone}}. Again: {{keywords}}"
	declared := []string{"keywords", "tone"}
	got, err := Render(text, declared, map[string]string{"keywords": "{{tone}} <b>&amp;</b> $1 \\n", "tone": "{{keywords}}"})
	if err != nil {
		t.Fatal(err)
	}
	want := "Cluster these: {{tone}} <b>&amp;</b> $1 \\n. Tone: {{keywords}}. Again: {{tone}} <b>&amp;</b> $1 \\n"
	if got != want {
		t.Fatalf("render:\n got %q\nwant %q", got, want)
	}
	_, err = Render(text, declared, map[string]string{"keywords": "x"})
	WantViolation(t, err, domain.ReasonValidationFailed, "variables")
	if !strings.Contains(err.Error(), "{{tone}}") {
		t.Errorf("missing-variable error %q should name {{tone}}", err)
	}
	_, err = Render(text, declared, map[string]string{"keywords": "x", "tone": "y", "keyword": "z"})
	WantViolation(t, err, domain.ReasonValidationFailed, "variables[keyword]")
	// Empty values are values.
	if got, err := Render("a{{x}}b", []string{"x"}, map[string]string{"x": ""}); err != nil || got != "ab" {
		t.Fatalf("empty value: %q, %v", got, err)
	}
}

// placeholderPattern is the template syntax, restated for an independent check.
var placeholderPattern = regexp.MustCompile(`\{\{([^{}]*)\}\}`)

// FuzzRender: rendering never expands a value again, and the result is
// exactly the text with each placeholder replaced by its value.
func FuzzRender(f *testing.F) {
	f.Add("Hello {{name}}, see {{name}} and {{other}}", "{{other}}", "<b>&</b>")
	f.Add("{{a}}{{b}}", "{{b}}", "{{a}}")
	f.Add("no placeholders", "x", "y")
	f.Add("{{ name }} {{name}}{{", "}}", "{{")
	f.Fuzz(func(t *testing.T, text, v1, v2 string) {
		declared := render.Placeholders(text)
		vars := map[string]string{}
		for i, name := range declared {
			vars[name] = []string{v1, v2}[i%2]
		}
		got, err := Render(text, declared, vars)
		if err != nil {
			t.Fatalf("all variables supplied, still %v", err)
		}
		// Rebuild independently: split on the placeholders found in text.
		var want strings.Builder
		rest := text
		for {
			loc := placeholderPattern.FindStringSubmatchIndex(rest)
			if loc == nil {
				want.WriteString(rest)
				break
			}
			want.WriteString(rest[:loc[0]])
			want.WriteString(vars[rest[loc[2]:loc[3]]])
			rest = rest[loc[1]:]
		}
		if got != want.String() {
			t.Fatalf("Render(%q) = %q, want %q", text, got, want.String())
		}
		if len(declared) > 0 {
			delete(vars, declared[0])
			if _, err := Render(text, declared, vars); err == nil {
				t.Fatalf("missing %q accepted", declared[0])
			}
		}
	})
}
