package app_test

import (
	"net"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/igny8/aiconfig/internal/app"
	"github.com/igny8/aiconfig/internal/pgtest"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// goAway speaks raw HTTP/2 to addr: the preface and settings, then pings
// (how many), and returns the GOAWAY the server sends within wait.
func goAway(t *testing.T, addr string, pings int, wait time.Duration) *http2.GoAwayFrame {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(wait))
	if _, err := conn.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(conn, conn)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	for i := range pings {
		if err := fr.WritePing(false, [8]byte{byte(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("no GOAWAY within %s: %v", wait, err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = fr.WriteSettingsAck()
			}
		case *http2.GoAwayFrame:
			return f
		}
	}
}

// TestProductionKeepalive: the server a replica serves with (built by
// app.New, as `serve` builds it) enforces the keepalive policy: a client
// pinging far more often than every 10 s is sent away with
// ENHANCE_YOUR_CALM "too_many_pings", while the connection-age setting is
// in effect too (they used to be set twice, and the later option won
// whole).
func TestProductionKeepalive(t *testing.T) {
	if d := app.Defaults().Transport.MaxConnectionAge; d != 30*time.Minute {
		t.Fatalf("default MaxConnectionAge = %s", d)
	}
	env := testsrv.StartWith(t, pgtest.NewDatabase(t), nil, nil)
	f := goAway(t, env.App.Addr.String(), 5, 5*time.Second)
	if f.ErrCode != http2.ErrCodeEnhanceYourCalm || string(f.DebugData()) != "too_many_pings" {
		t.Fatalf("pinging every millisecond: GOAWAY %v %q, want ENHANCE_YOUR_CALM too_many_pings", f.ErrCode, f.DebugData())
	}

	aged := testsrv.StartWith(t, pgtest.NewDatabase(t), nil, func(c *app.Config) { c.Transport.MaxConnectionAge = 300 * time.Millisecond })
	start := time.Now()
	f = goAway(t, aged.App.Addr.String(), 0, 5*time.Second)
	if f.ErrCode != http2.ErrCodeNo || time.Since(start) > 3*time.Second {
		t.Fatalf("connection age: GOAWAY %v after %s, want NO_ERROR after about 300ms", f.ErrCode, time.Since(start))
	}
	// The same server still enforces the ping policy.
	if f := goAway(t, aged.App.Addr.String(), 5, 5*time.Second); f.ErrCode != http2.ErrCodeEnhanceYourCalm {
		t.Fatalf("with a connection age set, pinging every millisecond: GOAWAY %v, want ENHANCE_YOUR_CALM", f.ErrCode)
	}
}
