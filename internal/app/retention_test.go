package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/igny8/aiconfig/internal/app"
)

// SPEC 17: idempotency keys are kept at least 24 h; a shorter setting is
// refused at start, naming it.
func TestKeyRetentionAtLeastADay(t *testing.T) {
	t.Parallel()
	c := app.Defaults()
	c.DatabaseURL = "postgres://localhost/x"
	if err := c.Check(); err != nil || c.KeyRetention != 24*time.Hour {
		t.Fatalf("defaults: %v, retention %v", err, c.KeyRetention)
	}
	c.KeyRetention = 23 * time.Hour
	if err := c.Check(); err == nil || !strings.Contains(err.Error(), "AICONFIG_IDEMPOTENCY_RETENTION") {
		t.Fatalf("23h: %v", err)
	}
}
