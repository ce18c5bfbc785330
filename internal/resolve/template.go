package resolve

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/igny8/aiconfig/internal/domain"
)

// MaxPromptBytes is the largest prompt text accepted (64 KiB).
const MaxPromptBytes = 64 << 10

var (
	// placeholderRE finds every {{...}} (no braces inside); whether its
	// content is a declared variable is decided afterwards, so a typo such
	// as {{ keyword }} is reported rather than silently left in the text.
	placeholderRE  = regexp.MustCompile(`\{\{([^{}]*)\}\}`)
	variableNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	promptTypeRE   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
)

// Placeholders lists the distinct names written {{name}} in text, in order
// of first use.
func Placeholders(text string) []string {
	var names []string
	for _, m := range placeholderRE.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		}
	}
	return names
}

// CheckTemplate validates prompt text against its declared variables:
// valid UTF-8, non-empty after trimming, at most 64 KiB, every declared
// variable used, no undeclared {{...}}. Violations are named field.
func CheckTemplate(c *domain.Collector, field, text string, variables []string) {
	switch {
	case !utf8.ValidString(text):
		c.Add(field, "must be valid UTF-8")
		return
	case strings.TrimSpace(text) == "":
		c.Add(field, "must not be empty or only whitespace")
		return
	case len(text) > MaxPromptBytes:
		c.Add(field, "is %d bytes; the limit is %d (64 KiB)", len(text), MaxPromptBytes)
		return
	}
	used := Placeholders(text)
	var unknown, missing []string
	for _, u := range used {
		if !slices.Contains(variables, u) {
			unknown = append(unknown, "{{"+u+"}}")
		}
	}
	for _, v := range variables {
		if !slices.Contains(used, v) {
			missing = append(missing, "{{"+v+"}}")
		}
	}
	if len(missing) > 0 {
		c.Add(field, "must use every declared variable; missing %s", strings.Join(missing, ", "))
	}
	if len(unknown) > 0 {
		c.Add(field, "uses undeclared %s; declared variables: %s", strings.Join(unknown, ", "), listOrNone(variables))
	}
}

func listOrNone(vs []string) string {
	if len(vs) == 0 {
		return "none"
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = "{{" + v + "}}"
	}
	return strings.Join(out, ", ")
}

// ValidateGlobalPrompt checks a global prompt before it is stored.
func ValidateGlobalPrompt(p domain.GlobalPrompt) error {
	var c domain.Collector
	if !promptTypeRE.MatchString(p.PromptType) {
		c.Add("prompt.prompt_type", "must be 1-64 characters of lower-case letters, digits and '_', starting with a letter")
	}
	if len(p.Description) > 1024 {
		c.Add("prompt.description", "must be at most 1024 bytes")
	}
	for i, v := range p.Variables {
		if !variableNameRE.MatchString(v) {
			c.Add(fmt.Sprintf("prompt.variables[%d]", i), "%q is not a variable name (lower-case letters, digits and '_', starting with a letter)", v)
		} else if slices.Index(p.Variables, v) != i {
			c.Add(fmt.Sprintf("prompt.variables[%d]", i), "%q is declared twice", v)
		}
	}
	CheckTemplate(&c, "prompt.text", p.Text, p.Variables)
	return c.Err(domain.ReasonValidationFailed)
}

// CheckPromptType validates a prompt type named in a request. It runs on
// every hot-path call, so it checks bytes instead of running promptTypeRE
// (the same rule; a fuzz test holds them equal).
func CheckPromptType(field, promptType string) error {
	if !validPromptType(promptType) {
		return domain.InvalidField(field, "must be a prompt type such as clustering or content_generation")
	}
	return nil
}

func validPromptType(s string) bool {
	if len(s) == 0 || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Render replaces each {{name}} in text with vars[name], in one pass, so
// values are inserted literally and never expanded again; nothing is
// escaped. Every placeholder needs a value (strict); a supplied variable
// must be one the prompt declares (declared), which catches typos.
func Render(text string, declared []string, vars map[string]string) (string, error) {
	var c domain.Collector
	var missing []string
	used := Placeholders(text)
	for _, name := range used {
		if _, ok := vars[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		c.Add("variables", "missing values for %s", listOrNone(missing))
	}
	var extra []string
	for name := range vars {
		if !slices.Contains(declared, name) && !slices.Contains(used, name) {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	for _, name := range extra {
		c.Add("variables["+name+"]", "this prompt has no variable %q; its variables: %s", name, listOrNone(declared))
	}
	if err := c.Err(domain.ReasonValidationFailed); err != nil {
		return "", err
	}
	return placeholderRE.ReplaceAllStringFunc(text, func(m string) string {
		return vars[m[2:len(m)-2]]
	}), nil
}
