package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"google.golang.org/grpc"
)

// Config is where and how the HTTP door listens.
type Config struct {
	// Addr is host:port; empty disables the HTTP door.
	Addr string
	// TLS serves HTTPS (nil: plaintext): the gRPC listener's settings,
	// certificates reloaded as they change (server.TLSConfig).
	TLS *tls.Config
	// Insecure allows plaintext on an address other than loopback, e.g.
	// behind a proxy that terminates TLS.
	Insecure bool
	Options  // Options.Log also gets the listener's lines
}

// CheckAddr refuses plaintext on an address other than loopback unless
// insecure says so: bearer tokens and API keys cross this door.
func CheckAddr(addr string, withTLS, insecure bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("AICONFIG_HTTP_LISTEN (--http-listen): %q is not host:port: %w", addr, err)
	}
	if withTLS || insecure || isLoopback(host) {
		return nil
	}
	return fmt.Errorf("AICONFIG_HTTP_LISTEN (--http-listen): %s is not a loopback address and TLS is off; "+
		"tokens and API keys would cross the network in clear: set AICONFIG_TLS_CERT and AICONFIG_TLS_KEY, "+
		"or AICONFIG_HTTP_INSECURE=true (--http-insecure) when a proxy in front terminates TLS", addr)
}

// isLoopback: "localhost" or a loopback IP. An empty host (":8080")
// means every interface; other names are not trusted to stay loopback.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Server is a running HTTP door.
type Server struct {
	http *http.Server
	addr net.Addr
	done chan struct{}
}

// Start checks the address rule, builds the handler over g and serves it
// in the background. With c.Addr empty it returns nil, nil: every method
// of a nil *Server is a no-op, so callers need no branch.
func Start(g *grpc.Server, c Config) (*Server, error) {
	if c.Addr == "" {
		return nil, nil
	}
	if err := CheckAddr(c.Addr, c.TLS != nil, c.Insecure); err != nil {
		return nil, err
	}
	h, err := NewHandler(g, c.Options)
	if err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return nil, fmt.Errorf("AICONFIG_HTTP_LISTEN: %w", err)
	}
	return Serve(lis, h, c.TLS, c.Log), nil
}

// Serve serves h on lis in the background (TLS when tlsConf is set).
func Serve(lis net.Listener, h http.Handler, tlsConf *tls.Config, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// No write timeout: watch streams are long-lived.
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if tlsConf != nil {
		lis = tls.NewListener(lis, withALPN(tlsConf))
	}
	s := &Server{http: hs, addr: lis.Addr(), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		if err := hs.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("HTTP listener stopped", "error", err.Error())
		}
	}()
	log.Info("serving HTTP", "listen", s.addr.String(), "tls", tlsConf != nil)
	return s
}

// withALPN offers HTTP/2 and HTTP/1.1 on top of a configuration that may
// pick its certificates per connection (server.TLSConfig reloads them).
func withALPN(base *tls.Config) *tls.Config {
	c := base.Clone()
	c.NextProtos = []string{"h2", "http/1.1"}
	if get := base.GetConfigForClient; get != nil {
		c.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			inner, err := get(hello)
			if err != nil || inner == nil {
				return inner, err
			}
			inner = inner.Clone()
			inner.NextProtos = c.NextProtos
			return inner, nil
		}
	}
	return c
}

// Addr is the address it listens on (nil when disabled).
func (s *Server) Addr() net.Addr {
	if s == nil {
		return nil
	}
	return s.addr
}

// Shutdown stops accepting and waits for calls in flight until ctx ends,
// then closes what is left. Call it before the gRPC server's
// GracefulStop: that closes HTTP calls still running inside it.
func (s *Server) Shutdown(ctx context.Context) error {
	if s == nil {
		return nil
	}
	err := s.http.Shutdown(ctx)
	if err != nil {
		_ = s.http.Close()
	}
	<-s.done
	return err
}

// Close stops at once.
func (s *Server) Close() error {
	if s == nil {
		return nil
	}
	err := s.http.Close()
	<-s.done
	return err
}
