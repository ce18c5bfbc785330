// Package docs holds the documentation pages; this test keeps their links
// honest.
package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestLinksStayInTheRepository: every relative link in the README and in
// docs/ names a file that exists in the repository (readers of a clone
// have nothing else), and the README's session needs nothing beyond
// grpcurl and the built binary (no jq).
func TestLinksStayInTheRepository(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	pages, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	pages = append(pages, filepath.Join(root, "README.md"))
	link := regexp.MustCompile(`\]\(([^)#\s]+)(#[^)]*)?\)`)
	for _, page := range pages {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") {
				continue
			}
			abs := filepath.Join(filepath.Dir(page), target)
			if rel, err := filepath.Rel(root, abs); err != nil || strings.HasPrefix(rel, "..") {
				t.Errorf("%s links outside the repository: %s", filepath.Base(page), target)
			} else if _, err := os.Stat(abs); err != nil {
				t.Errorf("%s links to a missing file: %s", filepath.Base(page), target)
			}
		}
		if strings.Contains(string(b), "shared/SPEC.md") {
			t.Errorf("%s points to the SPEC outside the repository; link docs/ instead", filepath.Base(page))
		}
	}
	readme, _ := os.ReadFile(filepath.Join(root, "README.md"))
	for _, block := range regexp.MustCompile("(?s)<!-- e2e:start -->(.*?)<!-- e2e:end -->").FindAllStringSubmatch(string(readme), -1) {
		if regexp.MustCompile(`\|\s*jq\b`).MatchString(block[1]) {
			t.Error("the README session pipes into jq, which a fresh machine may not have")
		}
	}
}
