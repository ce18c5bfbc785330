package gitops

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/igny8/aiconfig/internal/domain"
)

// settingsDiff lists each setting that differs, named as in the API
// (GlobalSettings.openai.temperature, an update_mask path).
func settingsDiff(cur, next domain.GlobalSettings) []string {
	var out []string
	if cur.TextIntegration != next.TextIntegration {
		out = append(out, fmt.Sprintf("~ settings.text_integration: %s → %s", cur.TextIntegration, next.TextIntegration))
	}
	if cur.ImageIntegration != next.ImageIntegration {
		out = append(out, fmt.Sprintf("~ settings.image_integration: %s → %s", cur.ImageIntegration, next.ImageIntegration))
	}
	for _, i := range domain.Integrations {
		out = append(out, fieldDiff("~ settings."+i.String()+".", defaultsOf(cur.Defaults[i].Params), defaultsOf(next.Defaults[i].Params))...)
	}
	if len(out) == 0 { // a difference the file cannot show
		out = append(out, "~ settings")
	}
	return out
}

// changed is the field diff of an entry the plan replaces, or its name
// alone when no field the file shows differs.
func changed(entry string, old, new any) []string {
	if lines := fieldDiff(entry+" ", old, new); len(lines) > 0 {
		return lines
	}
	return []string{entry}
}

// fieldDiff compares two values of one struct type field by field and
// returns one line per field that differs: prefix, the field's YAML key,
// then "old → new". A multi-line text becomes a line diff below its key.
func fieldDiff(prefix string, old, new any) []string {
	var out []string
	ov, nv := reflect.ValueOf(old), reflect.ValueOf(new)
	for i := range ov.NumField() {
		a, b := ov.Field(i).Interface(), nv.Field(i).Interface()
		if reflect.DeepEqual(a, b) || (isEmptyList(a) && isEmptyList(b)) {
			continue
		}
		key, _, _ := strings.Cut(ov.Type().Field(i).Tag.Get("yaml"), ",")
		as, aok := a.(string)
		bs, bok := b.(string)
		if aok && bok && (strings.Contains(as, "\n") || strings.Contains(bs, "\n")) {
			out = append(out, prefix+key+":\n"+lineDiff(as, bs, "    "))
			continue
		}
		out = append(out, prefix+key+": "+show(a)+" → "+show(b))
	}
	return out
}

func isEmptyList(v any) bool {
	s, ok := v.([]string)
	return ok && len(s) == 0
}

// show writes a value as a person would type it in the file.
func show(v any) string {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return "(unset)"
		}
		rv = rv.Elem()
	}
	switch rv.Kind() {
	case reflect.String:
		s := rv.String()
		if s == "" || strings.ContainsAny(s, " \t:#\"'") {
			return strconv.Quote(s)
		}
		return s
	case reflect.Float64:
		return strconv.FormatFloat(rv.Float(), 'g', -1, 64)
	case reflect.Slice:
		parts := make([]string, rv.Len())
		for i := range parts {
			parts[i] = show(rv.Index(i).Interface())
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(rv.Interface())
}

// lineDiff lists the lines removed ("- ") and added ("+ ") from a to b,
// in order, from their longest common subsequence; unchanged lines are
// left out. Prompt texts are at most 64 KiB, so the quadratic table is
// small.
func lineDiff(a, b, indent string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			i, j = i+1, j+1
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			out = append(out, indent+"- "+x[i])
			i++
		default:
			out = append(out, indent+"+ "+y[j])
			j++
		}
	}
	return strings.Join(out, "\n")
}

// unknownKeys walks a YAML node beside the Go type it decodes into and
// names every mapping key the type does not have, by its path in the file
// (settings.defaults.openai.temprature, models[3].enabld), with the line
// and the key it most likely meant.
func unknownKeys(n *yaml.Node, t reflect.Type, path string) []string {
	for n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	join := func(key string) string {
		if path == "" {
			return key
		}
		return path + "." + key
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := map[string]reflect.Type{}
		var names []string
		var add func(t reflect.Type)
		add = func(t reflect.Type) {
			for i := range t.NumField() {
				name, opts, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
				if opts == "inline" { // its fields are the struct's own
					add(t.Field(i).Type)
					continue
				}
				fields[name] = t.Field(i).Type
				names = append(names, name)
			}
		}
		add(t)
		for k := 0; k+1 < len(n.Content); k += 2 {
			key, val := n.Content[k], n.Content[k+1]
			ft, ok := fields[key.Value]
			if !ok {
				out = append(out, fmt.Sprintf("line %d: %s: unknown key (%s)", key.Line, join(key.Value), suggest(key.Value, names)))
				continue
			}
			out = append(out, unknownKeys(val, ft, join(key.Value))...)
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for k := 0; k+1 < len(n.Content); k += 2 {
			out = append(out, unknownKeys(n.Content[k+1], t.Elem(), join(n.Content[k].Value))...)
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			out = append(out, unknownKeys(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	// Anything else is a scalar, or a shape the decoder reports itself.
	return out
}

// suggest names the valid key closest to a misspelt one, or lists them all.
func suggest(key string, valid []string) string {
	best, dist := "", len(key)/3+1 // a few typos at most
	for _, v := range valid {
		if d := editDistance(key, v); d <= dist {
			best, dist = v, d
		}
	}
	if best != "" {
		return "did you mean " + best + "?"
	}
	return "valid keys: " + strings.Join(valid, ", ")
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// SettingsDiff lists each global setting that differs between cur and
// next, one line each (`~ settings.openai.temperature: 0.7 → 0.5`), as
// import shows them; API keys are not compared (callers say whether a key
// changed, never what it is).
func SettingsDiff(cur, next domain.GlobalSettings) []string { return settingsDiff(cur, next) }

// PromptDiff lists what differs between two global prompts (cur nil: a
// new one), in import's format: a line diff for the text.
func PromptDiff(cur *domain.GlobalPrompt, next domain.GlobalPrompt) []string {
	entry := "prompt " + next.PromptType
	if cur == nil {
		return []string{"+ " + entry}
	}
	return changed("~ "+entry, promptOf(*cur), promptOf(next))
}
