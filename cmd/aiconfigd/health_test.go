package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// healthServer serves grpc.health.v1 with reads SERVING and writes
// NOT_SERVING, on 0.0.0.0 (as a container's server listens), and returns
// its port.
func healthServer(t *testing.T, opts ...grpc.ServerOption) string {
	t.Helper()
	lis, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(opts...)
	h := health.NewServer()
	h.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	h.SetServingStatus("aiconfig.v1.ConfigService", healthpb.HealthCheckResponse_SERVING)
	h.SetServingStatus("aiconfig.writes", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(s, h)
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	_, port, _ := net.SplitHostPort(lis.Addr().String())
	return port
}

// TestHealthCommand: `aiconfigd health` exits 0 and prints SERVING only
// for a service that is SERVING; NOT_SERVING, an unknown service and an
// address nobody listens on exit 1 with the reason on stderr. The address
// comes from AICONFIG_LISTEN, an unspecified host meaning loopback, so a
// container's health check needs no flag.
func TestHealthCommand(t *testing.T) {
	port := healthServer(t)
	buildBinary(t) // before the clock starts
	for _, tc := range []struct {
		name     string
		env      []string
		args     []string
		code     int
		out, err string
	}{
		{"reads from AICONFIG_LISTEN", []string{"AICONFIG_LISTEN=0.0.0.0:" + port}, nil, 0, "SERVING", ""},
		{"flag wins", []string{"AICONFIG_LISTEN=127.0.0.1:1"}, []string{"--address", "[::]:" + port}, 0, "SERVING", ""},
		{"config service", nil, []string{"--address", ":" + port, "--service", "aiconfig.v1.ConfigService"}, 0, "SERVING", ""},
		{"writes down", nil, []string{"--address", "127.0.0.1:" + port, "--service", "aiconfig.writes"}, 1, "", "NOT_SERVING"},
		{"unknown service", nil, []string{"--address", "127.0.0.1:" + port, "--service", "nope"}, 1, "", "NotFound"},
		{"nobody listens", nil, []string{"--address", "127.0.0.1:" + closedPort(t), "--timeout", "2s"}, 1, "", "Unavailable"},
		{"bad address", nil, []string{"--address", "nowhere"}, 1, "", "AICONFIG_LISTEN"},
		{"TLS to a plaintext server", nil, []string{"--address", "127.0.0.1:" + port, "--tls", "--timeout", "2s"}, 1, "", "Unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			stdout, stderr, code := runBin(t, cleanEnv(tc.env...), "", append([]string{"health"}, tc.args...)...)
			if code != tc.code || strings.TrimSpace(stdout) != tc.out || !strings.Contains(stderr, tc.err) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr containing %q", code, stdout, stderr, tc.code, tc.out, tc.err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestHealthCommandTLS: against a TLS server the check verifies the
// server's certificate with --tls-ca, and presents a client certificate
// with --tls-cert/--tls-key when the server requires mutual TLS.
func TestHealthCommandTLS(t *testing.T) {
	dir := t.TempDir()
	ca, caKey, caFile := newCert(t, dir, "ca", nil, nil)
	srv, srvKey, _ := newCert(t, dir, "server", ca, caKey)
	_, _, clientFile := newCert(t, dir, "client", ca, caKey)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	conf := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{srv.Raw}, PrivateKey: srvKey}},
		ClientCAs:    pool, ClientAuth: tls.RequireAndVerifyClientCert,
	}
	port := healthServer(t, grpc.Creds(credentials.NewTLS(conf)))
	addr := []string{"health", "--address", "127.0.0.1:" + port, "--timeout", "3s"}
	client := []string{"--tls-cert", clientFile + ".crt", "--tls-key", clientFile + ".key"}
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"verified, client certificate", append([]string{"--tls-ca", caFile + ".crt", "--tls-server-name", "server"}, client...), 0},
		{"no client certificate", []string{"--tls-ca", caFile + ".crt", "--tls-server-name", "server"}, 1},
		{"wrong server name", append([]string{"--tls-ca", caFile + ".crt", "--tls-server-name", "other"}, client...), 1},
		{"untrusted server", append([]string{"--tls", "--tls-server-name", "server"}, client...), 1},
		{"plaintext", nil, 1},
		{"certificate without key", []string{"--tls-ca", caFile + ".crt", "--tls-cert", clientFile + ".crt"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runBin(t, cleanEnv(), "", append(addr, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stdout %q, stderr %q", code, tc.code, stdout, stderr)
			}
			if code == 0 && strings.TrimSpace(stdout) != "SERVING" {
				t.Errorf("stdout %q", stdout)
			}
		})
	}
}

func closedPort(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(lis.Addr().String())
	lis.Close()
	return port
}

// newCert makes a certificate for name signed by parent (self-signed, a CA,
// when parent is nil) and writes it and its key to dir/name.crt and .key.
func newCert(t *testing.T, dir, name string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{name},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(dir, name)
	if err := os.WriteFile(base+".crt", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(base+".key", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key, base
}
