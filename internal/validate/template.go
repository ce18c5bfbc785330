package validate

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/render"
)

// MaxPromptBytes is the largest prompt text accepted (64 KiB).
const MaxPromptBytes = 64 << 10

var (
	variableNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	promptTypeRE   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
)

// CheckTemplate validates prompt text against its declared variables:
// valid UTF-8 without NUL bytes, non-empty after trimming, at most 64 KiB,
// every declared variable used, no undeclared {{...}}. Violations are
// named field.
func CheckTemplate(c *domain.Collector, field, text string, variables []string) {
	switch {
	case !utf8.ValidString(text):
		c.Add(field, "must be valid UTF-8")
		return
	case strings.IndexByte(text, 0) >= 0:
		c.Add(field, "must not contain NUL bytes")
		return
	case strings.TrimSpace(text) == "":
		c.Add(field, "must not be empty or only whitespace")
		return
	case len(text) > MaxPromptBytes:
		c.Add(field, "is %d bytes; the limit is %d (64 KiB)", len(text), MaxPromptBytes)
		return
	}
	used := render.Placeholders(text)
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
		c.Add(field, "uses undeclared %s; declared variables: %s", strings.Join(unknown, ", "), render.PlaceholderList(variables))
	}
}

// GlobalPrompt checks a global prompt before it is stored.
func GlobalPrompt(p domain.GlobalPrompt) error {
	var c domain.Collector
	if !promptTypeRE.MatchString(p.PromptType) {
		c.Add("prompt.prompt_type", "must be 1-64 characters of lower-case letters, digits and '_', starting with a letter")
	}
	if len(p.Description) > 1024 {
		c.Add("prompt.description", "must be at most 1024 bytes")
	} else {
		checkText(&c, "prompt.description", p.Description, kibibytes(1), false)
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
