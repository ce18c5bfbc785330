package main

import (
	"io"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// TestDocumentedDefaults: the default the configuration table of
// docs/operations.md gives each serve setting is the one
// the command line applies (its ${...} filled from app.Defaults). A flag
// without a default is documented as `false` (a bool), `0` (a number),
// empty, or "(required)" when serve cannot do without it. That every
// setting has a row is docs/docs_test.go's check.
func TestDocumentedDefaults(t *testing.T) {
	parser := newParser(&cli{}, &env{os.Stdin, io.Discard, io.Discard})
	var serve *kong.Node
	for _, c := range parser.Model.Children {
		if c.Name == "serve" {
			serve = c
		}
	}
	if serve == nil {
		t.Fatal("no serve command")
	}
	for _, page := range []string{"../../docs/operations.md"} {
		documented := documentedDefaults(t, page)
		for _, f := range serve.Flags {
			if len(f.Envs) == 0 {
				continue
			}
			doc, ok := documented[f.Envs[0]]
			if !ok {
				continue
			}
			want := f.Default
			if !f.HasDefault {
				switch f.Target.Kind() {
				case reflect.Bool:
					want = "false"
				case reflect.Int, reflect.Int32, reflect.Int64, reflect.Float64:
					want = "0"
				}
			}
			if doc != want && !(doc == "(required)" && !f.HasDefault) {
				t.Errorf("%s: %s defaults to %q, the table says %q", strings.TrimPrefix(page, "../../"), f.Envs[0], want, doc)
			}
		}
	}
}

// documentedDefaults maps each variable of a page's configuration table
// to its default cell, backticks removed.
func documentedDefaults(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	start := strings.Index(page, "\n## Configuration\n")
	if start < 0 {
		t.Fatalf("%s has no Configuration section", path)
	}
	page = page[start+1:]
	if end := strings.Index(page[1:], "\n## "); end >= 0 {
		page = page[:end+1]
	}
	out := map[string]string{}
	variable := regexp.MustCompile("`(AICONFIG_[A-Z_]+)`")
	for _, line := range strings.Split(page, "\n") {
		cells := strings.Split(line, "|")
		if !strings.HasPrefix(line, "| `") || len(cells) < 4 {
			continue
		}
		for _, m := range variable.FindAllStringSubmatch(cells[1], -1) {
			out[m[1]] = strings.Trim(strings.TrimSpace(cells[2]), "`")
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no configuration table", path)
	}
	return out
}
