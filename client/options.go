package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// Option configures a Client.
type Option func(*options)

type options struct {
	token     string
	insecure  bool
	caFile    string
	certFile  string
	keyFile   string
	tlsConfig *tls.Config
	timeout   time.Duration
	maxStale  time.Duration
	cacheSize int
	log       *slog.Logger
	dial      []grpc.DialOption
}

func defaults() options {
	return options{timeout: 2 * time.Second, maxStale: 10 * time.Minute, cacheSize: 10000}
}

// WithToken sends the bearer token on every call. Watching the change feed
// (and so caching) needs a SERVICE or ADMIN token; only SERVICE tokens
// receive API keys.
func WithToken(token string) Option { return func(o *options) { o.token = token } }

// WithInsecure talks plaintext HTTP/2 (development, or a sidecar on
// loopback). Without it the client uses TLS.
func WithInsecure() Option { return func(o *options) { o.insecure = true } }

// WithCAFile trusts the CA certificates in a PEM file instead of the
// system's roots.
func WithCAFile(path string) Option { return func(o *options) { o.caFile = path } }

// WithClientCertificate presents a client certificate (mutual TLS).
func WithClientCertificate(certFile, keyFile string) Option {
	return func(o *options) { o.certFile, o.keyFile = certFile, keyFile }
}

// WithTLSConfig uses cfg as the TLS configuration (it wins over WithCAFile
// and WithClientCertificate).
func WithTLSConfig(cfg *tls.Config) Option { return func(o *options) { o.tlsConfig = cfg } }

// WithTimeout bounds every call to the server, retries included (default
// 2s). A context with an earlier deadline wins.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithMaxStale is how long after the change feed was last in step cached
// answers are still served when the server cannot answer (default 10m).
func WithMaxStale(d time.Duration) Option { return func(o *options) { o.maxStale = d } }

// WithCacheSize bounds the answers kept in memory (default 10000); 0 keeps
// none and watches no change feed.
func WithCacheSize(n int) Option { return func(o *options) { o.cacheSize = n } }

// WithLogger receives the client's few log lines (the change feed lost and
// regained); default slog.Default(). Nothing secret is ever logged.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithDialOptions adds gRPC dial options (interceptors, a resolver, ...).
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dial = append(o.dial, opts...) }
}

// transport builds the transport credentials: TLS unless WithInsecure.
func (o *options) transport() (credentials.TransportCredentials, error) {
	if o.insecure {
		if o.tlsConfig != nil || o.caFile != "" || o.certFile != "" {
			return nil, errors.New("aiconfig client: WithInsecure cannot be combined with TLS options")
		}
		return insecure.NewCredentials(), nil
	}
	if o.tlsConfig != nil {
		return credentials.NewTLS(o.tlsConfig), nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.caFile != "" {
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return nil, fmt.Errorf("aiconfig client: CA file: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("aiconfig client: CA file %s holds no PEM certificate", o.caFile)
		}
	}
	if (o.certFile == "") != (o.keyFile == "") {
		return nil, errors.New("aiconfig client: WithClientCertificate needs both the certificate and the key file")
	}
	if o.certFile != "" {
		cert, err := tls.LoadX509KeyPair(o.certFile, o.keyFile)
		if err != nil {
			return nil, fmt.Errorf("aiconfig client: client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return credentials.NewTLS(cfg), nil
}
