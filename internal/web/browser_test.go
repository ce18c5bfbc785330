package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// One headless Chromium for the package; each browser test has its own
// tab (its own sessionStorage, its own server, so its own origin).
var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel func()
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if browser.cancel != nil {
		browser.cancel()
	}
	os.Exit(code)
}

func chromiumPath() string {
	if p := os.Getenv("AICONFIG_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

func startBrowser() {
	path := chromiumPath()
	if _, err := os.Stat(path); err != nil {
		browser.err = err
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	browser.ctx, browser.cancel = bctx, func() { cancelBrowser(); cancelAlloc() }
	browser.err = chromedp.Do(bctx) // starts it, with no deadline
}

// needBrowser starts Chromium once, or fails the test without it (skips
// it with AICONFIG_SKIP_BROWSER=1). Browser tests call it first, before
// they start a server.
func needBrowser(t *testing.T) {
	t.Helper()
	if os.Getenv("AICONFIG_SKIP_BROWSER") == "1" {
		t.Skip("AICONFIG_SKIP_BROWSER=1: browser tests skipped")
	}
	browser.once.Do(startBrowser)
	if browser.err != nil {
		t.Fatalf("browser tests need Chromium at %s (set AICONFIG_CHROMIUM to another path, or AICONFIG_SKIP_BROWSER=1 to skip them): %v",
			chromiumPath(), browser.err)
	}
}

// page is a browser tab driving the console. Its methods fail the test.
type page struct {
	t    *testing.T
	ctx  context.Context
	base string

	mu       sync.Mutex
	problems []string // exceptions, console errors, CSP violations
}

// openPage gives the test a tab on base. Browser tests fail without
// Chromium, unless AICONFIG_SKIP_BROWSER=1 says to skip them.
func openPage(t *testing.T, base string) *page {
	t.Helper()
	return openPageFor(t, base, 2*time.Minute)
}

// openPageFor is openPage with a deadline for everything the tab does
// (the accessibility sweeps visit many pages).
func openPageFor(t *testing.T, base string, limit time.Duration) *page {
	t.Helper()
	needBrowser(t)
	tab, cancelTab := chromedp.NewContext(browser.ctx)
	t.Cleanup(cancelTab)
	p := &page{t: t, base: base}
	if err := chromedp.Listen(tab, p.record); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(tab, limit)
	t.Cleanup(cancel)
	p.ctx = ctx
	t.Cleanup(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if len(p.problems) > 0 {
			t.Errorf("the page reported problems:\n%s", strings.Join(p.problems, "\n"))
		}
	})
	return p
}

// record keeps what the page complained about. Failed requests (a 401 on
// sign-in with a wrong token, a 400 for bad input) are expected: the
// console shows them; anything else (a script error, a CSP violation) is
// a failure.
func (p *page) record(ev any) {
	var problem string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		problem = fmt.Sprintf("exception: %s %s at %s:%d", d.Text, describe(d.Exception), d.URL, d.LineNumber)
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				args = append(args, describe(a))
			}
			problem = "console." + string(ev.Type) + ": " + strings.Join(args, " ")
		}
	case *log.EventEntryAdded:
		if e := ev.Entry; e.Level == log.EntryLevelError && e.Source != log.EntrySourceNetwork {
			problem = fmt.Sprintf("%s: %s (%s)", e.Source, e.Text, e.URL)
		}
	}
	if problem != "" {
		p.mu.Lock()
		p.problems = append(p.problems, problem)
		p.mu.Unlock()
	}
}

func describe(o *runtime.RemoteObject) string {
	if o == nil {
		return ""
	}
	if o.Description != "" {
		return o.Description
	}
	return string(o.Value)
}

func (p *page) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		p.t.Fatalf("browser: %v", err)
	}
}

func css(s string) chromedp.CSS { return chromedp.CSS(s) }

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// eval runs a JavaScript expression and returns its value as T.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript condition, failing the test after 15 s.
func (p *page) waitFor(what, cond string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond)); err != nil {
		text := p.bodyText()
		if len(text) > 1500 {
			text = text[:1500] + "…"
		}
		p.t.Fatalf("waiting for %s: %v\npage text:\n%s", what, err, text)
	}
}

func (p *page) bodyText() string {
	v, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	return v
}

// ready waits until the console has rendered the current page, and no
// part of it is busy (a form's call, a list redrawn after a change).
func (p *page) ready() {
	p.t.Helper()
	p.waitFor("the page to render", `document.querySelector('main h1') !== null && `+
		`!document.querySelector('main[aria-busy], main [aria-busy]') && !document.querySelector('.loading')`)
}

func (p *page) waitVisible(sel string) {
	p.t.Helper()
	p.waitFor(sel, fmt.Sprintf(`(() => { const e = document.querySelector(%s); return !!e && e.checkVisibility(); })()`, js(sel)))
}

// waitUsable waits until the element is visible and a person could use
// it: not inside a part of the page being redrawn (inert).
func (p *page) waitUsable(sel string) {
	p.t.Helper()
	p.waitFor(sel+" to be usable", fmt.Sprintf(`(() => { const e = document.querySelector(%s);
		return !!e && e.checkVisibility() && !e.closest('[inert]'); })()`, js(sel)))
}

// waitText waits until the element's text contains want.
func (p *page) waitText(sel, want string) {
	p.t.Helper()
	p.waitFor(fmt.Sprintf("%s to show %q", sel, want),
		fmt.Sprintf(`(() => { const e = document.querySelector(%s); return !!e && e.textContent.includes(%s); })()`, js(sel), js(want)))
}

func (p *page) text(sel string) string {
	p.t.Helper()
	return eval[string](p, fmt.Sprintf(`(() => { const e = document.querySelector(%s); return e ? e.textContent : '<no ' + %s + '>'; })()`, js(sel), js(sel)))
}

// click clicks the element once it is usable. A list the page redraws
// just then (a history section loading again) may replace the element
// between finding it and clicking it: then it is found again.
func (p *page) click(sel string) {
	p.t.Helper()
	for attempt := 1; ; attempt++ {
		p.waitUsable(sel)
		err := chromedp.Do(p.ctx, chromedp.Click(css(sel)))
		if err == nil {
			return
		}
		if attempt == 3 || !strings.Contains(err.Error(), "Could not find node with given id") {
			p.t.Fatalf("browser: clicking %s: %v", sel, err)
		}
	}
}

// typeInto focuses a field and types, as a person does.
func (p *page) typeInto(sel, text string) {
	p.t.Helper()
	p.waitUsable(sel)
	p.do(chromedp.SendKeys(css(sel), text))
}

// setValue replaces a field's value and fires the events a person's edit
// fires (a select's change updates the fields that depend on it).
func (p *page) setValue(sel, value string) {
	p.t.Helper()
	p.waitUsable(sel)
	got := eval[string](p, fmt.Sprintf(`(() => { const e = document.querySelector(%s); e.focus(); e.value = %s;
		e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true})); return e.value; })()`,
		js(sel), js(value)))
	if got != value {
		p.t.Fatalf("%s: value %q, want %q (no such option?)", sel, got, value)
	}
}

// open loads the console at #path.
func (p *page) open(path string) {
	p.t.Helper()
	p.do(chromedp.Navigate(p.base + "/#" + path))
	p.waitVisible(`input[name=token]`)
}

// signIn opens #path, signs in with the keyboard (token, then Enter) and
// waits for the page.
func (p *page) signIn(token, path string) {
	p.t.Helper()
	p.open(path)
	p.typeInto(`input[name=token]`, token+"\n")
	p.waitVisible(`#sidebar a[aria-current=page]`)
	p.ready()
}

// everything is all the page holds: markup, visible text, field values
// and storage.
func (p *page) everything() string {
	p.t.Helper()
	return eval[string](p, `document.documentElement.outerHTML + '\n' + document.body.innerText + '\n' +
		[...document.querySelectorAll('input, textarea, select')].map((e) => e.value).join('\n') + '\n' +
		JSON.stringify(sessionStorage) + JSON.stringify(localStorage) + document.cookie`)
}

// checkLabels fails if a form control on the page has no accessible name,
// or points aria-describedby at an element that does not exist.
func (p *page) checkLabels() {
	p.t.Helper()
	bad := eval[[]string](p, `[...document.querySelectorAll('input, select, textarea')]
		.filter((e) => e.type !== 'hidden')
		.filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') ||
			(e.getAttribute('aria-describedby') || '').split(' ').filter(Boolean).some((id) => !document.getElementById(id)))
		.map((e) => e.outerHTML)`)
	if len(bad) > 0 {
		p.t.Errorf("form controls without a label, or with a dangling aria-describedby:\n%s", strings.Join(bad, "\n"))
	}
}

func reload() chromedp.Action[chromedp.Void] { return chromedp.Reload() }

func clickSubmit() chromedp.Action[chromedp.Void] {
	return chromedp.Click(css(`form.signin button[type=submit]`))
}
