package resolve

import (
	"slices"
	"sort"

	"github.com/igny8/aiconfig/internal/domain"
)

// Render replaces each {{name}} in text with vars[name], in one pass, so
// values are inserted literally and never expanded again; nothing is
// escaped. Every placeholder needs a value (strict); a supplied variable
// must be one the prompt declares (declared), which catches typos.
func Render(text string, declared []string, vars map[string]string) (string, error) {
	var c domain.Collector
	var missing []string
	used := domain.Placeholders(text)
	for _, name := range used {
		if _, ok := vars[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		c.Add("variables", "missing values for %s", domain.PlaceholderList(missing))
	}
	var extra []string
	for name := range vars {
		if !slices.Contains(declared, name) && !slices.Contains(used, name) {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	for _, name := range extra {
		c.Add("variables["+name+"]", "this prompt has no variable %q; its variables: %s", name, domain.PlaceholderList(declared))
	}
	if err := c.Err(domain.ReasonValidationFailed); err != nil {
		return "", err
	}
	return domain.Substitute(text, func(name string) string { return vars[name] }), nil
}
