package app_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/app"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/pgtest"
	"github.com/igny8/aiconfig/internal/secret"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// TestKeyRotationWithoutAnOutage follows docs/operations.md's rotation of the
// secret key with two serving replicas under a load of SERVICE reads
// (which open the sealed API key): the new key is added to the replicas'
// key files, `secrets rotate` re-seals (refused, naming them, until every
// live replica holds the new key), the new key becomes active, the
// replicas are restarted one at a time, and the old key is dropped. Not
// one call fails, and every answer carries the right key.
func TestKeyRotationWithoutAnOutage(t *testing.T) {
	dir := t.TempDir()
	activeFile, previousFile := filepath.Join(dir, "active.key"), filepath.Join(dir, "previous.keys")
	write := func(file, content string) {
		t.Helper()
		// Write then rename, as a secret mount updates: never half a key.
		tmp := file + ".tmp"
		if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, file); err != nil {
			t.Fatal(err)
		}
	}
	oldKey, newKey := secret.NewKey(), secret.NewKey()
	write(activeFile, oldKey)
	write(previousFile, "")
	url := pgtest.NewDatabase(t)
	start := func() *testsrv.Env {
		return testsrv.StartWith(t, url, nil, func(c *app.Config) {
			keys, err := secret.NewKeys(secret.Source{ActiveFile: activeFile, PreviousFile: previousFile})
			if err != nil {
				t.Fatal(err)
			}
			c.Keys, c.ReportInterval = keys, 100*time.Millisecond
		})
	}
	a, b := start(), start()
	admin := testsrv.Ctx(a.Token(t, domain.RoleAdmin, ""))
	worker := testsrv.Ctx(a.Token(t, domain.RoleService, ""))
	a.Account(t, "acct", domain.PlanStarter)
	const apiKey = "sk-rotation-test-0123456789"
	if _, err := a.Config.UpdateGlobalSettings(admin, &pb.UpdateGlobalSettingsRequest{Settings: &pb.GlobalSettings{
		Openai: &pb.IntegrationDefaults{ApiKey: apiKey}}}); err != nil {
		t.Fatal(err)
	}

	// The load: SERVICE reads on whichever replicas are up, as a balancer
	// sends them (a replica leaves the set before it stops).
	var mu sync.Mutex
	live := []*testsrv.Env{a, b}
	var calls, failures atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var stopOnce sync.Once
	stopLoad := func() { stopOnce.Do(func() { close(stop); wg.Wait() }) }
	defer stopLoad() // before any Fatal returns
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				env := live[rand.IntN(len(live))]
				mu.Unlock()
				c, err := env.Config.GetModelConfig(worker, &pb.GetModelConfigRequest{AccountId: "acct", Function: "generate_content"})
				calls.Add(1)
				if err != nil || c.GetApiKey() != apiKey {
					failures.Add(1)
					t.Logf("call failed: %v (key right: %t)", err, err == nil && c.GetApiKey() == apiKey)
				}
			}
		})
	}
	rotate := func() error {
		ring, err := secret.NewKeyring(newKey, oldKey)
		if err != nil {
			t.Fatal(err)
		}
		_, err = a.Store.RotateKeys(context.Background(), ring)
		return err
	}
	time.Sleep(200 * time.Millisecond)

	// Rotating before the replicas hold the new key is refused, naming them.
	var de *domain.Error
	if err := rotate(); !errors.As(err, &de) || de.Code != domain.CodeFailedPrecondition || de.Reason != domain.ReasonKeyNotDeployed ||
		!strings.Contains(de.Message, fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("rotate before deploying the key: %v", err)
	}
	// 1. Every replica gets the new key as a previous key (no restart).
	write(previousFile, newKey)
	newID := func() string { r, _ := secret.NewKeyring(newKey); return r.ActiveID() }()
	for _, env := range []*testsrv.Env{a, b} {
		deadline := time.Now().Add(5 * time.Second)
		for !contains(env.App.Config.Keys.IDs(), newID) {
			if time.Now().After(deadline) {
				t.Fatal("a replica did not pick up the new key from its file")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	time.Sleep(300 * time.Millisecond) // their reports reach the database
	// 2. Re-seal under the new key.
	if err := rotate(); err != nil {
		t.Fatalf("rotate with the key deployed: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	// 3. The new key becomes active, the old one stays for reading.
	write(activeFile, newKey)
	write(previousFile, oldKey)
	time.Sleep(300 * time.Millisecond)
	// 4. A rolling restart, one replica at a time.
	for _, env := range []*testsrv.Env{a, b} {
		next := start()
		mu.Lock()
		for i := range live {
			if live[i] == env {
				live[i] = next
			}
		}
		mu.Unlock()
		time.Sleep(100 * time.Millisecond) // calls in flight on env finish
		env.Stop()
		time.Sleep(200 * time.Millisecond)
	}
	// 5. The old key goes.
	write(previousFile, "")
	time.Sleep(400 * time.Millisecond)
	stopLoad()
	if failures.Load() != 0 || calls.Load() < 100 {
		t.Fatalf("%d of %d calls failed through the rotation", failures.Load(), calls.Load())
	}
	t.Logf("%d calls through the rotation, none failed", calls.Load())
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
