package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/app"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/pgtest"
	"github.com/igny8/aiconfig/internal/server"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// handled reads grpc_server_handled_total for one method and code (0
// before the code was first seen: its series starts then).
func handled(t *testing.T, env *testsrv.Env, method, code string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	env.Metrics.Handler(false).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	re := regexp.MustCompile(`grpc_server_handled_total\{[^}]*grpc_code="` + code + `"[^}]*grpc_method="` + method + `"[^}]*\} (\S+)`)
	m := re.FindStringSubmatch(rec.Body.String())
	if m == nil {
		if code == "OK" {
			t.Fatalf("no grpc_server_handled_total for %s/%s in:\n%.2000s", method, code, rec.Body.String())
		}
		return 0
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

func TestMetricsMove(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	if _, err := env.Accounts.UpsertAccount(admin, &pb.UpsertAccountRequest{Account: &pb.Account{Id: "acct", Plan: pb.Plan_PLAN_STARTER}}); err != nil {
		t.Fatal(err)
	}
	before := handled(t, env, "GetModelConfig", "OK")
	beforeNF := handled(t, env, "GetModelConfig", "NotFound")
	for range 3 {
		if _, err := env.Config.GetModelConfig(admin, &pb.GetModelConfigRequest{AccountId: "acct", Function: "generate_content"}); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = env.Config.GetModelConfig(admin, &pb.GetModelConfigRequest{AccountId: "ghost", Function: "generate_content"})
	if got := handled(t, env, "GetModelConfig", "OK") - before; got != 3 {
		t.Errorf("OK counter moved by %v, want 3", got)
	}
	if got := handled(t, env, "GetModelConfig", "NotFound") - beforeNF; got != 1 {
		t.Errorf("NotFound counter moved by %v, want 1", got)
	}
	rec := httptest.NewRecorder()
	env.Metrics.Handler(false).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, name := range []string{"grpc_server_handling_seconds_bucket", "aiconfig_db_pool_total_conns", "aiconfig_cache_hits_total",
		"aiconfig_cache_listener_connected 1", "aiconfig_build_info", "aiconfig_cache_invalidation_lag_seconds_count"} {
		if !regexp.MustCompile(regexp.QuoteMeta(name)).MatchString(rec.Body.String()) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}

// TestHealthFollowsTheDatabase: through a database outage a warm replica
// keeps reporting reads SERVING (it answers from memory) until the change
// feed has been out of step for AICONFIG_MAX_STALE, while aiconfig.writes
// reports NOT_SERVING at once; all are SERVING again when it returns.
// TestMetricSeriesAtStart: a replica starts with two gRPC series per
// method (calls started, OK answers), not one per method and code and
// latency bucket; the rest appear when first seen.
func TestMetricSeriesAtStart(t *testing.T) {
	env := testsrv.Start(t)
	methods := 0
	for _, info := range env.Server.GRPC.GetServiceInfo() {
		methods += len(info.Methods)
	}
	rec := httptest.NewRecorder()
	env.Metrics.Handler(false).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	grpcSeries, all := 0, 0
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			all++
			if strings.HasPrefix(line, "grpc_server_") {
				grpcSeries++
			}
		}
	}
	if grpcSeries != 2*methods {
		t.Errorf("%d gRPC series at start for %d methods, want %d", grpcSeries, methods, 2*methods)
	}
	t.Logf("series at start: %d in all, %d of them gRPC (%d methods)", all, grpcSeries, methods)
}

func TestHealthFollowsTheDatabase(t *testing.T) {
	env := testsrv.StartWith(t, pgtest.NewDatabase(t), nil, func(c *app.Config) { c.MaxStale = time.Second })
	health := healthpb.NewHealthClient(env.Conn)
	status := func(svc string) healthpb.HealthCheckResponse_ServingStatus {
		r, err := health.Check(context.Background(), &healthpb.HealthCheckRequest{Service: svc})
		if err != nil {
			return healthpb.HealthCheckResponse_UNKNOWN
		}
		return r.GetStatus()
	}
	const up, down = healthpb.HealthCheckResponse_SERVING, healthpb.HealthCheckResponse_NOT_SERVING
	wait := func(reads, writes healthpb.HealthCheckResponse_ServingStatus, within time.Duration) time.Duration {
		t.Helper()
		start := time.Now()
		for deadline := start.Add(within); ; time.Sleep(20 * time.Millisecond) {
			ok := status("") == reads && status(server.WritesService) == writes
			for svc := range env.Server.GRPC.GetServiceInfo() {
				if strings.HasPrefix(svc, "aiconfig.v1.") { // every read service, PromptService included
					ok = ok && status(svc) == reads
				}
			}
			if ok {
				return time.Since(start)
			}
			if time.Now().After(deadline) {
				t.Fatalf("health: reads %s, writes %s; want %s, %s", status(""), status(server.WritesService), reads, writes)
			}
		}
	}
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	env.Account(t, "acct", domain.PlanStarter)
	if _, err := env.Config.GetModelConfig(admin, &pb.GetModelConfigRequest{AccountId: "acct", Function: "generate_content"}); err != nil {
		t.Fatal(err) // warms the cache
	}
	wait(up, up, 5*time.Second)

	restore := env.Outage(t)
	wait(up, down, 5*time.Second)
	if _, err := env.Config.GetModelConfig(admin, &pb.GetModelConfigRequest{AccountId: "acct", Function: "generate_content"}); err != nil {
		t.Fatalf("a cached read during the outage: %v", err)
	}
	// Out of step for longer than MaxStale: reads are no longer vouched for.
	wait(down, down, 5*time.Second)
	restore()
	wait(up, up, 5*time.Second)
}

// certs writes a CA, a server certificate for 127.0.0.1 and a client
// certificate into dir.
func certs(t *testing.T, dir string) (caPEM []byte, client tls.Certificate) {
	return certsWithSerial(t, dir, 2)
}

// certsWithSerial is certs with a chosen server certificate serial.
func certsWithSerial(t *testing.T, dir string, serverSerial int64) (caPEM []byte, client tls.Certificate) {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey := newKey()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, usage x509.ExtKeyUsage, ip bool) ([]byte, []byte) {
		k := newKey()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "leaf"}, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			KeyUsage: x509.KeyUsageDigitalSignature, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
		if ip {
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kb, _ := x509.MarshalECPrivateKey(k)
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
	}
	caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	srvCert, srvKey := issue(serverSerial, x509.ExtKeyUsageServerAuth, true)
	cliCert, cliKey := issue(3, x509.ExtKeyUsageClientAuth, false)
	for name, b := range map[string][]byte{"ca.pem": caPEM, "server.pem": srvCert, "server.key": srvKey} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	client, err = tls.X509KeyPair(cliCert, cliKey)
	if err != nil {
		t.Fatal(err)
	}
	return caPEM, client
}

func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	caPEM, clientCert := certs(t, dir)
	env := testsrv.StartWith(t, pgtest.NewDatabase(t), nil, func(c *app.Config) {
		c.Transport.TLSCert, c.Transport.TLSKey, c.Transport.TLSClientCA = filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key"), filepath.Join(dir, "ca.pem")
	})
	addr := env.App.Addr.String()

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	check := func(certs []tls.Certificate) error {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: roots, Certificates: certs})))
		if err != nil {
			return err
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		return err
	}
	if err := check(nil); err == nil {
		t.Fatal("a client without a certificate was served")
	}
	if err := check([]tls.Certificate{clientCert}); err != nil {
		t.Fatalf("a client with a certificate was refused: %v", err)
	}

	// Rotation: new files (a new CA, server and client certificate) are
	// picked up by the next handshake, without a restart.
	time.Sleep(20 * time.Millisecond) // a distinct modification time
	caPEM2, clientCert2 := certsWithSerial(t, dir, 77)
	roots = x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM2)
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{clientCert2}, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatalf("handshake after rotation: %v", err)
	}
	defer conn.Close()
	if serial := conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64(); serial != 77 {
		t.Fatalf("server presents serial %d after rotation, want 77", serial)
	}
	if err := check([]tls.Certificate{clientCert}); err == nil {
		t.Fatal("a client certificate from the retired CA still works")
	}
}
