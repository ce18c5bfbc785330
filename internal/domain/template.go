package domain

import (
	"regexp"
	"slices"
	"strings"
)

// The prompt template syntax: a placeholder is {{name}}.

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
