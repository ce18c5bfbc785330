package web_test

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Accessibility checks of the console in a real browser: axe-core's WCAG
// 2.1 A/AA rules, which must find no serious or critical violation, and a
// walk through the page with the Tab key, where every control must show a
// focus ring of at least 3:1 against what surrounds it (WCAG 1.4.11).

// axeVersion is the vendored axe-core (testdata/axe-core/README.md).
const axeVersion = "4.14.1"

var axeSource struct {
	once sync.Once
	js   string
	err  error
}

func axeScript(t *testing.T) string {
	t.Helper()
	axeSource.once.Do(func() {
		b, err := os.ReadFile("testdata/axe-core/axe.min.js")
		axeSource.js, axeSource.err = string(b), err
	})
	if axeSource.err != nil {
		t.Fatalf("axe-core: %v", axeSource.err)
	}
	if !strings.Contains(axeSource.js[:200], "axe v"+axeVersion) {
		t.Fatalf("testdata/axe-core/axe.min.js is not axe-core %s", axeVersion)
	}
	return axeSource.js
}

// axeViolation is one rule axe found broken, with the elements it names.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// axe runs axe-core on the page as it is now and fails the test on any
// serious or critical violation. The script goes in through the DevTools
// protocol (Runtime.evaluate), which the page's Content-Security-Policy
// does not govern: the console itself stays as strict as it ships.
func (p *page) axe(state string) {
	p.t.Helper()
	for _, v := range p.axeViolations() {
		var nodes []string
		for i, n := range v.Nodes {
			if i == 5 {
				nodes = append(nodes, fmt.Sprintf("… and %d more", len(v.Nodes)-5))
				break
			}
			nodes = append(nodes, fmt.Sprintf("  %v: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " ")))
		}
		p.t.Errorf("axe-core, %s: %s violation %s (%s)\n%s", state, v.Impact, v.ID, v.Help, strings.Join(nodes, "\n"))
	}
}

// axeViolations runs axe-core and returns its serious and critical
// violations.
func (p *page) axeViolations() []axeViolation {
	p.t.Helper()
	if !eval[bool](p, `typeof window.axe === 'object'`) {
		if _, err := chromedp.Run(p.ctx, chromedp.Evaluate[chromedp.Void](axeScript(p.t))); err != nil {
			p.t.Fatalf("injecting axe-core: %v", err)
		}
	}
	if v := eval[string](p, `axe.version`); v != axeVersion {
		p.t.Fatalf("axe-core %s in the page, want %s", v, axeVersion)
	}
	// WCAG 2.0 and 2.1, A and AA, and the rule the outside audit also ran
	// (label-content-name-mismatch, WCAG 2.5.3, still "experimental" in
	// axe and so off unless asked for).
	found, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]axeViolation](`axe.run(document, {
			runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
			rules: { 'label-content-name-mismatch': { enabled: true } },
			resultTypes: ['violations'],
		}).then((r) => r.violations)`, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("axe-core: %v", err)
	}
	var out []axeViolation
	for _, v := range found {
		if v.Impact == "serious" || v.Impact == "critical" {
			out = append(out, v)
		}
	}
	return out
}

// focusStep describes the element the Tab key reached.
type focusStep struct {
	Done    bool    `json:"done"`
	Element string  `json:"element"`
	Style   string  `json:"style"`
	Width   float64 `json:"width"`
	Ratio   float64 `json:"ratio"`
	Against string  `json:"against"`
}

// focusProbe measures the focused element's ring: its outline, and the
// contrast of the outline's colour with the colour just outside it on
// each side (what is actually painted there, found with
// elementsFromPoint; the worst side counts).
const focusProbe = `(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return { done: true };
  const rgb = (c) => {
    const m = /rgba?\(([^)]+)\)/.exec(c || '');
    if (!m) return null;
    const v = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return { r: v[0], g: v[1], b: v[2], a: v.length > 3 ? v[3] : 1 };
  };
  const lum = (c) => {
    const f = (x) => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const backdrop = (start) => {
    for (let n = start; n; n = n.parentElement) {
      const c = rgb(getComputedStyle(n).backgroundColor);
      if (c && c.a > 0.5) return { c, name: n.tagName.toLowerCase() + (n.className ? '.' + String(n.className).split(' ').join('.') : '') };
    }
    return { c: { r: 255, g: 255, b: 255, a: 1 }, name: 'canvas' };
  };
  const cs = getComputedStyle(el);
  const ring = rgb(cs.outlineColor);
  const width = parseFloat(cs.outlineWidth) || 0;
  const gap = (parseFloat(cs.outlineOffset) || 0) + width + 2;
  const r = el.getBoundingClientRect();
  const points = [[r.left - gap, r.top + r.height / 2], [r.right + gap, r.top + r.height / 2],
    [r.left + r.width / 2, r.top - gap], [r.left + r.width / 2, r.bottom + gap]]
    .filter(([x, y]) => x >= 0 && y >= 0 && x < innerWidth && y < innerHeight);
  let worst = null;
  for (const [x, y] of points) {
    const under = document.elementsFromPoint(x, y).find((n) => n !== el && !el.contains(n));
    const bg = backdrop(under || el.parentElement);
    const q = ring ? ratio(ring, bg.c) : 0;
    if (!worst || q < worst.q) worst = { q, name: bg.name };
  }
  if (!worst) { const bg = backdrop(el.parentElement); worst = { q: ring ? ratio(ring, bg.c) : 0, name: bg.name }; }
  const label = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    ' "' + (el.getAttribute('aria-label') || el.textContent || el.value || '').trim().slice(0, 40) + '"';
  return { done: false, element: label, style: cs.outlineStyle, width, ratio: Math.round(worst.q * 100) / 100, against: worst.name };
})()`

// checkFocus walks the page with the Tab key, as a keyboard user does,
// from the top, and fails for a control whose focus ring is missing,
// thinner than 2px or under 3:1 against its surroundings.
func (p *page) checkFocus(state string) {
	p.t.Helper()
	problems, reached := p.focusProblems()
	for _, pr := range problems {
		p.t.Errorf("focus ring, %s: %s", state, pr)
	}
	if reached == 0 {
		p.t.Errorf("focus ring, %s: the Tab key reached nothing", state)
	}
}

// focusProblems is checkFocus's walk: what is wrong, and how many
// controls the Tab key reached.
func (p *page) focusProblems() (problems []string, reached int) {
	p.t.Helper()
	// Start from the top of the document: focus a mark placed first in
	// it (gone again after the walk), as if the page had just loaded.
	eval[bool](p, `(() => { const s = document.createElement('span'); s.id = 'focus-walk-start'; s.tabIndex = -1;
		document.body.prepend(s); s.focus(); return true; })()`)
	defer eval[bool](p, `(document.getElementById('focus-walk-start')?.remove(), true)`)
	first := ""
	seen := map[string]bool{}
	for i := 0; i < 300; i++ {
		p.do(chromedp.KeyEvent(kb.Tab))
		s := eval[focusStep](p, focusProbe)
		if s.Done || s.Element == first {
			break // past the last control, or round again
		}
		if first == "" {
			first = s.Element
		}
		if seen[s.Element] {
			continue
		}
		seen[s.Element] = true
		if s.Style == "none" || s.Width < 2 || s.Ratio < 3 {
			problems = append(problems, fmt.Sprintf("%s has outline %s %.1fpx at %.2f:1 against %s (want 2px or more at 3:1)",
				s.Element, s.Style, s.Width, s.Ratio, s.Against))
		}
	}
	return problems, len(seen)
}

// audit checks the page as it is now: labels, axe-core, and the focus
// ring of every control the Tab key reaches.
func (p *page) audit(state string) {
	p.t.Helper()
	p.checkLabels()
	p.axe(state)
	p.checkFocus(state)
}
