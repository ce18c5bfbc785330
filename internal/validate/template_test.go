package validate

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/igny8/aiconfig/internal/domain"
	. "github.com/igny8/aiconfig/internal/domain/domaintest"
	"github.com/igny8/aiconfig/render"
)

func checkErr(text string, vars []string) error {
	var c domain.Collector
	CheckTemplate(&c, "text", text, vars)
	return c.Err(domain.ReasonValidationFailed)
}

func TestCheckTemplate(t *testing.T) {
	vars := []string{"keywords", "tone"}
	if err := checkErr("Cluster {{keywords}} in a {{tone}} voice; {{keywords}} again.", vars); err != nil {
		t.Fatalf("valid template: %v", err)
	}
	if err := checkErr("no variables, {single} braces and }} stray ones {{", nil); err != nil {
		t.Fatalf("text without placeholders: %v", err)
	}
	cases := []struct {
		name, text string
		mentions   []string
	}{
		{"missing variable", "Cluster {{keywords}}.", []string{"missing", "{{tone}}"}},
		{"unknown variable (typo)", "Cluster {{keyword}} in a {{tone}} voice {{keywords}}.", []string{"undeclared", "{{keyword}}"}},
		{"spaced placeholder is not the variable", "Cluster {{ keywords }} {{keywords}} {{tone}}.", []string{"{{ keywords }}"}},
		{"empty", "", []string{"empty"}},
		{"whitespace only", " \n\t ", []string{"empty"}},
		{"NUL byte", "{{keywords}} {{tone}} \x00", []string{"NUL"}},
		{"invalid UTF-8", "{{keywords}} {{tone}} \xff", []string{"UTF-8"}},
		{"64 KiB + 1 byte", "{{keywords}}{{tone}}" + strings.Repeat("a", MaxPromptBytes+1-len("{{keywords}}{{tone}}")), []string{"65537", "64 KiB"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := checkErr(tc.text, vars)
			WantViolation(t, err, domain.ReasonValidationFailed, "text")
			for _, m := range tc.mentions {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("message %q does not mention %q", err, m)
				}
			}
		})
	}
	exact := "{{keywords}}{{tone}}" + strings.Repeat("a", MaxPromptBytes-len("{{keywords}}{{tone}}"))
	if err := checkErr(exact, vars); err != nil {
		t.Errorf("exactly 64 KiB: %v", err)
	}
}

func TestValidateGlobalPrompt(t *testing.T) {
	ok := domain.GlobalPrompt{PromptType: "clustering", Text: "Group {{keywords}}", Variables: []string{"keywords"}}
	if err := GlobalPrompt(ok); err != nil {
		t.Fatal(err)
	}
	bad := ok
	bad.PromptType = "Clustering!"
	WantViolation(t, GlobalPrompt(bad), domain.ReasonValidationFailed, "prompt.prompt_type")
	bad = ok
	bad.Variables = []string{"keywords", "keywords"}
	WantViolation(t, GlobalPrompt(bad), domain.ReasonValidationFailed, "prompt.variables[1]")
	bad = ok
	bad.Variables = []string{"Key Words"}
	WantViolation(t, GlobalPrompt(bad), domain.ReasonValidationFailed, "prompt.variables[0]")
	bad = ok
	bad.Text = "Group {{keyword}}"
	WantViolation(t, GlobalPrompt(bad), domain.ReasonValidationFailed, "prompt.text")
}

// FuzzCheckTemplate: the check never panics, and accepts a text exactly
// when it is valid UTF-8, non-blank, within 64 KiB and its placeholders
// are the declared variables.
func FuzzCheckTemplate(f *testing.F) {
	f.Add("Cluster {{keywords}}", "keywords")
	f.Add("", "x")
	f.Add("{{keyword}}", "keywords")
	f.Add("\xff{{a}}", "a")
	f.Fuzz(func(t *testing.T, text, variable string) {
		vars := []string{variable}
		err := checkErr(text, vars)
		used := render.Placeholders(text)
		valid := utf8.ValidString(text) && !strings.Contains(text, "\x00") && strings.TrimSpace(text) != "" && len(text) <= MaxPromptBytes &&
			len(used) == 1 && used[0] == variable
		if valid != (err == nil) {
			t.Fatalf("CheckTemplate(%q, %q) = %v, want valid=%t", text, variable, err, valid)
		}
	})
}
