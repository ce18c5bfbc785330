package testsrv

import (
	"io"
	"net"
	neturl "net/url"
	"sync"
	"testing"
)

// Proxy forwards TCP connections to PostgreSQL on loopback and can refuse
// new ones: a network fault between one replica and its database, which
// leaves the database (and other replicas) alone.
type Proxy struct {
	lis    net.Listener
	target string
	mu     sync.Mutex
	refuse bool
}

// NewProxy forwards to the host:port of databaseURL; URL gives the URL to
// hand a replica instead.
func NewProxy(t testing.TB, databaseURL string) *Proxy {
	t.Helper()
	u, err := neturl.Parse(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{lis: lis, target: u.Host}
	t.Cleanup(func() { _ = lis.Close() })
	go p.serve()
	return p
}

// URL is databaseURL pointed at the proxy.
func (p *Proxy) URL(databaseURL string) string {
	u, _ := neturl.Parse(databaseURL)
	u.Host = p.lis.Addr().String()
	return u.String()
}

// Refuse makes new connections fail (closed at once) while on is true;
// connections already open keep working.
func (p *Proxy) Refuse(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse = on
}

func (p *Proxy) serve() {
	for {
		c, err := p.lis.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refuse := p.refuse
		p.mu.Unlock()
		if refuse {
			_ = c.Close()
			continue
		}
		go func() {
			defer c.Close()
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				return
			}
			defer up.Close()
			done := make(chan struct{}, 2)
			go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
			go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
			<-done
		}()
	}
}
