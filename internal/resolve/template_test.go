package resolve

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/igny8/aiconfig/internal/domain"
	. "github.com/igny8/aiconfig/internal/domain/domaintest"
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
		declared := domain.Placeholders(text)
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
