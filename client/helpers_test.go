package client

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/app"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/pgtest"
	"github.com/igny8/aiconfig/internal/secret"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// testAPIKey is the platform's OpenAI key in these tests: SERVICE callers
// receive it, and nothing may print it.
const testAPIKey = "sk-test-0123456789abcdefSECRET"

// server is a real replica at a fixed address, which a test can stop and
// start again (a restart, as a deploy or a crash would do).
type server struct {
	t    testing.TB
	url  string
	keys *secret.Keyring
	addr string
	env  *testsrv.Env
	// admin carries an admin token, service a service token.
	admin, service string
}

// startServer serves a fresh database with an OpenAI key set and accounts
// acme and beta on Starter.
func startServer(t testing.TB) *server {
	t.Helper()
	keys, err := secret.NewKeyring(secret.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, url: pgtest.NewDatabase(t), keys: keys, addr: "127.0.0.1:0"}
	s.start()
	s.addr = s.env.App.Addr.String()
	s.admin = s.env.Token(t, domain.RoleAdmin, "")
	s.service = s.env.Token(t, domain.RoleService, "")
	_, err = s.env.Config.UpdateGlobalSettings(testsrv.Ctx(s.admin), &pb.UpdateGlobalSettingsRequest{
		Settings:   &pb.GlobalSettings{Openai: &pb.IntegrationDefaults{ApiKey: testAPIKey}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"openai.api_key"}}})
	if err != nil {
		t.Fatal(err)
	}
	s.env.Account(t, "acme", domain.PlanStarter)
	s.env.Account(t, "beta", domain.PlanStarter)
	return s
}

func (s *server) start() {
	s.t.Helper()
	s.env = testsrv.StartWith(s.t, s.url, s.keys, func(c *app.Config) { c.Listen = s.addr })
}

// stop ends the replica at once: connections drop, the address refuses.
func (s *server) stop() { s.env.Server.GRPC.Stop() }

// replica starts a second replica on the same database.
func (s *server) replica() *testsrv.Env { return testsrv.StartOn(s.t, s.url, s.keys) }

// client is a client of s with a service token, in step with the feed.
func (s *server) client(opts ...Option) *Client {
	s.t.Helper()
	c, err := New(s.addr, append([]Option{WithToken(s.service), WithInsecure()}, opts...)...)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { _ = c.Close() })
	waitFor(s.t, "the client's feed to be in step", func() bool { return c.Stats().InStep })
	return c
}

// handled counts the calls of a method the server finished (its
// grpc_server_handled_total, every code).
func handled(t testing.TB, env *testsrv.Env, method string) int {
	t.Helper()
	mfs, err := env.Metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "grpc_server_handled_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "grpc_method" && l.GetValue() == method {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return int(n)
}

// setTemperature writes acme's (or another account's) OpenAI temperature
// through replica env and returns the write's revision.
func setTemperature(t *testing.T, env *testsrv.Env, admin, account string, temp float64) int64 {
	t.Helper()
	o, err := env.Config.UpsertIntegrationOverride(testsrv.Ctx(admin), &pb.UpsertIntegrationOverrideRequest{
		Override: &pb.IntegrationOverride{AccountId: account, Integration: pb.Integration_INTEGRATION_OPENAI, Temperature: proto.Float64(temp)}})
	if err != nil {
		t.Fatal(err)
	}
	return o.GetRevision()
}

// waitFor polls cond for up to 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// temperature reads acme's (or another account's) generate_content
// temperature through c.
func temperature(t *testing.T, c *Client, account string) float64 {
	t.Helper()
	m, err := c.ModelConfig(context.Background(), account, "generate_content")
	if err != nil {
		t.Fatal(err)
	}
	return m.GetTemperature()
}
