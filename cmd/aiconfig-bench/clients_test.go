package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestRoundDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{61: "61ns", 1234: "1.23µs", 477770: "478µs", 4561234: "4.56ms", 12345678: "12.3ms", 2 * time.Second: "2s"} {
		if got := roundDuration(d); got != want {
			t.Errorf("roundDuration(%d) = %s, want %s", d, got, want)
		}
	}
}

// Without a usable Python the row is skipped, saying why; the table and
// the JSON show that, and the measured rows with their verdicts.
func TestClientRows(t *testing.T) {
	saved := *python
	defer func() { *python = saved }()
	*python = "/nonexistent/python3"
	row := measurePython(&server{addr: "127.0.0.1:1"}, "aic_not-a-token")
	if !strings.Contains(row.skipped, "skipped: no /nonexistent/python3") {
		t.Errorf("skipped = %q", row.skipped)
	}
	rep := &report{accounts: 10, clients: []clientRow{
		{name: goClientName, p50: 61 * time.Nanosecond, p99: 300 * time.Nanosecond, count: 1000, target: "p50 ≤ 1µs, ≤ 1 alloc", met: true},
		row,
		{name: stalenessName, p50: 2 * time.Millisecond, p99: 12 * time.Millisecond, allocs: -1, count: 200, target: "p99 ≤ 10ms",
			feedP50: time.Millisecond, feedP99: 3 * time.Millisecond},
	}}
	var out bytes.Buffer
	rep.print(&out)
	for _, want := range []string{"| " + goClientName, "61ns", "0.00", "| met", row.skipped, "12ms", "NOT met", "p50 1ms, p99 3ms"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, out.String())
		}
	}
	b, err := json.Marshal(rep.jsonRows())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"p50_us":0.061`, `"allocs_per_call":0,`, `"met":false`, `"skipped":"skipped: no /nonexistent/python3`, `"feed_p99_us":3000`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the JSON lacks %s: %s", want, b)
		}
	}
}
