package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// healthCmd is a grpc.health.v1 check for images without a shell or a
// probe binary (the container image is FROM scratch): compose
// healthchecks and exec probes run `aiconfigd health`. The address comes
// from AICONFIG_LISTEN, so inside the server's own container it needs no
// flag.
type healthCmd struct {
	Address       string        `name:"address" env:"AICONFIG_LISTEN" default:"${listen}" help:"The server's gRPC address (serve's --listen); an unspecified host (0.0.0.0, ::, none) means this machine."`
	Service       string        `name:"service" default:"" help:"Service to check: \"\" (reads: what readiness wants), aiconfig.v1.ConfigService, or aiconfig.writes (writes can succeed)."`
	Timeout       time.Duration `name:"timeout" default:"5s" help:"Give up after this long."`
	TLS           bool          `name:"tls" help:"Connect with TLS (implied by the other --tls flags)."`
	TLSCA         string        `name:"tls-ca" placeholder:"FILE" help:"CA bundle (PEM) that signed the server's certificate; default: the system's."`
	TLSServerName string        `name:"tls-server-name" placeholder:"NAME" help:"Name the server's certificate must carry; default: the address's host."`
	TLSCert       string        `name:"tls-cert" placeholder:"FILE" help:"Client certificate (PEM), for a server that requires mutual TLS."`
	TLSKey        string        `name:"tls-key" placeholder:"FILE" help:"The client certificate's private key (PEM)."`
}

func (healthCmd) Help() string {
	return "Exits 0 when the service is SERVING, 1 otherwise (NOT_SERVING, unknown service, unreachable or timed out), printing the status."
}

func (c *healthCmd) Run(e *env) error {
	addr, err := dialAddress(c.Address)
	if err != nil {
		return err
	}
	creds, err := c.credentials()
	if err != nil {
		return err
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return fmt.Errorf("health %s: %w", addr, err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: c.Service})
	if err != nil {
		return fmt.Errorf("health %s service %q: %w", addr, c.Service, err)
	}
	if s := resp.GetStatus(); s != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("health %s service %q: %s", addr, c.Service, s)
	}
	fmt.Fprintln(e.stdout, resp.GetStatus())
	return nil
}

// dialAddress turns a listen address into one to dial: a server listening
// on every interface is reached on loopback.
func dialAddress(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("--address (AICONFIG_LISTEN) %q: %w", listen, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	return net.JoinHostPort(host, port), nil
}

func (c *healthCmd) credentials() (credentials.TransportCredentials, error) {
	if !c.TLS && c.TLSCA == "" && c.TLSServerName == "" && c.TLSCert == "" && c.TLSKey == "" {
		return insecure.NewCredentials(), nil
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.TLSServerName}
	if c.TLSCA != "" {
		pem, err := os.ReadFile(c.TLSCA)
		if err != nil {
			return nil, fmt.Errorf("--tls-ca: %w", err)
		}
		conf.RootCAs = x509.NewCertPool()
		if !conf.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-ca: no PEM certificate in %s", c.TLSCA)
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	if c.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	return credentials.NewTLS(conf), nil
}
