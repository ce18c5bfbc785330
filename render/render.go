// Package render is the prompt template language, {{name}} placeholders,
// in one place: the server (internal/validate, internal/resolve) and the
// public Go client (client.RenderPrompt) both use it, so the two cannot
// drift. It depends on the standard library only, as the client must not
// import the server's internal packages. clients/python/aiconfig/render.py
// is the Python copy; internal/resolve/testdata/render.json holds the two
// equal.
package render

import (
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// ReasonValidationFailed is the reason of every Render error: the
// server's VALIDATION_FAILED (internal/domain).
const ReasonValidationFailed = "VALIDATION_FAILED"

// Violation is one bad field of a Render call.
type Violation struct {
	Field       string
	Description string
}

// Error is what Render returns for variables that do not fit the prompt:
// the server answers it as INVALID_ARGUMENT with these violations.
type Error struct {
	Reason     string
	Violations []Violation
}

func (e *Error) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.Field + ": " + v.Description
	}
	return "invalid request: " + strings.Join(parts, "; ")
}

// placeholderRE finds every {{...}} (no braces inside); whether its content
// is a declared variable is decided afterwards, so a typo such as
// {{ keyword }} is reported rather than silently left in the text.
var placeholderRE = regexp.MustCompile(`\{\{([^{}]*)\}\}`)

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

// Substitute replaces every {{name}} in text with value(name), in one
// pass: what value returns is never read again as a template.
func Substitute(text string, value func(name string) string) string {
	return placeholderRE.ReplaceAllStringFunc(text, func(m string) string { return value(m[2 : len(m)-2]) })
}

// PlaceholderList writes names as "{{a}}, {{b}}", or "none", for messages.
func PlaceholderList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	out := make([]string, len(names))
	for i, v := range names {
		out[i] = "{{" + v + "}}"
	}
	return strings.Join(out, ", ")
}

// Render replaces each {{name}} in text with vars[name], in one pass, so
// values are inserted literally and never expanded again; nothing is
// escaped. Every placeholder needs a value (strict); a supplied variable
// must be one the prompt declares (declared), which catches typos. A
// failure is an *Error naming every bad variable.
func Render(text string, declared []string, vars map[string]string) (string, error) {
	var vs []Violation
	var missing []string
	used := Placeholders(text)
	for _, name := range used {
		if _, ok := vars[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		vs = append(vs, Violation{"variables", "missing values for " + PlaceholderList(missing)})
	}
	var extra []string
	for name := range vars {
		if !slices.Contains(declared, name) && !slices.Contains(used, name) {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	for _, name := range extra {
		vs = append(vs, Violation{"variables[" + name + "]", "this prompt has no variable " + strconv.Quote(name) + "; its variables: " + PlaceholderList(declared)})
	}
	if len(vs) > 0 {
		return "", &Error{Reason: ReasonValidationFailed, Violations: vs}
	}
	return Substitute(text, func(name string) string { return vars[name] }), nil
}
