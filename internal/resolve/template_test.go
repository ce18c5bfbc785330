package resolve

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/igny8/aiconfig/internal/domain"
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
		{"invalid UTF-8", "{{keywords}} {{tone}} \xff", []string{"UTF-8"}},
		{"64 KiB + 1 byte", "{{keywords}}{{tone}}" + strings.Repeat("a", MaxPromptBytes+1-len("{{keywords}}{{tone}}")), []string{"65537", "64 KiB"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := checkErr(tc.text, vars)
			violation(t, err, domain.ReasonValidationFailed, "text")
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
	violation(t, err, domain.ReasonValidationFailed, "variables")
	if !strings.Contains(err.Error(), "{{tone}}") {
		t.Errorf("missing-variable error %q should name {{tone}}", err)
	}
	_, err = Render(text, declared, map[string]string{"keywords": "x", "tone": "y", "keyword": "z"})
	violation(t, err, domain.ReasonValidationFailed, "variables[keyword]")
	// Empty values are values.
	if got, err := Render("a{{x}}b", []string{"x"}, map[string]string{"x": ""}); err != nil || got != "ab" {
		t.Fatalf("empty value: %q, %v", got, err)
	}
}

func TestValidateGlobalPrompt(t *testing.T) {
	ok := domain.GlobalPrompt{PromptType: "clustering", Text: "Group {{keywords}}", Variables: []string{"keywords"}}
	if err := ValidateGlobalPrompt(ok); err != nil {
		t.Fatal(err)
	}
	bad := ok
	bad.PromptType = "Clustering!"
	violation(t, ValidateGlobalPrompt(bad), domain.ReasonValidationFailed, "prompt.prompt_type")
	bad = ok
	bad.Variables = []string{"keywords", "keywords"}
	violation(t, ValidateGlobalPrompt(bad), domain.ReasonValidationFailed, "prompt.variables[1]")
	bad = ok
	bad.Variables = []string{"Key Words"}
	violation(t, ValidateGlobalPrompt(bad), domain.ReasonValidationFailed, "prompt.variables[0]")
	bad = ok
	bad.Text = "Group {{keyword}}"
	violation(t, ValidateGlobalPrompt(bad), domain.ReasonValidationFailed, "prompt.text")
}

func TestResolveAndCustomizePrompt(t *testing.T) {
	g := domain.GlobalPrompt{PromptType: "ideas", Text: "Ideas for {{clusters}}", Variables: []string{"clusters"}, Revision: 7}
	starter := domain.Account{ID: "a", Plan: domain.PlanStarter}
	free := domain.Account{ID: "a", Plan: domain.PlanFree}

	e := ResolvePrompt(g, starter, nil)
	if e.Text != g.Text || e.Source != SourceGlobal || e.IsCustomized || e.GlobalRevision != 7 {
		t.Fatalf("no stored prompt: %+v", e)
	}
	custom, err := CustomizePrompt(g, nil, "My ideas for {{clusters}}")
	if err != nil || !custom.IsCustomized || custom.DefaultPrompt != g.Text {
		t.Fatalf("customize: %+v, %v", custom, err)
	}
	if e := ResolvePrompt(g, starter, &custom); e.Text != custom.PromptValue || e.Source != SourceAccount || e.DefaultChanged {
		t.Fatalf("customized: %+v", e)
	}
	if e := ResolvePrompt(g, free, &custom); e.Text != g.Text || e.Source != SourceGlobal || !e.OverridesSuppressed || !e.IsCustomized {
		t.Fatalf("customized but free: %+v", e)
	}
	g2 := g
	g2.Text = "Better ideas for {{clusters}}"
	if e := ResolvePrompt(g2, starter, &custom); !e.DefaultChanged {
		t.Fatalf("global changed: %+v", e)
	}
	// Editing a customization keeps the base it started from.
	again, _ := CustomizePrompt(g2, &custom, "Edited {{clusters}}")
	if again.DefaultPrompt != g.Text {
		t.Errorf("re-customize moved default_prompt to %q", again.DefaultPrompt)
	}
	// Customizing to the exact global text is not a customization.
	same, err := CustomizePrompt(g2, &custom, g2.Text)
	if err != nil || same.IsCustomized || same.PromptValue != g2.Text || same.DefaultPrompt != g2.Text {
		t.Fatalf("customize to global text: %+v, %v", same, err)
	}
	_, err = CustomizePrompt(g, nil, "No variables at all")
	var de *domain.Error
	if !errors.As(err, &de) || de.Violations[0].Field != "text" {
		t.Fatalf("customize without variables: %v", err)
	}
	if r := ResetPrompt(g2); r.IsCustomized || r.PromptValue != g2.Text || r.DefaultPrompt != g2.Text {
		t.Fatalf("reset: %+v", r)
	}
}

// FuzzRender: rendering never expands a value again, and the result is
// exactly the text with each placeholder replaced by its value.
func FuzzRender(f *testing.F) {
	f.Add("Hello {{name}}, see {{name}} and {{other}}", "{{other}}", "<b>&</b>")
	f.Add("{{a}}{{b}}", "{{b}}", "{{a}}")
	f.Add("no placeholders", "x", "y")
	f.Add("{{ name }} {{name}}{{", "}}", "{{")
	f.Fuzz(func(t *testing.T, text, v1, v2 string) {
		declared := Placeholders(text)
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
			loc := placeholderRE.FindStringSubmatchIndex(rest)
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
		used := Placeholders(text)
		valid := utf8.ValidString(text) && strings.TrimSpace(text) != "" && len(text) <= MaxPromptBytes &&
			len(used) == 1 && used[0] == variable
		if valid != (err == nil) {
			t.Fatalf("CheckTemplate(%q, %q) = %v, want valid=%t", text, variable, err, valid)
		}
	})
}
