package app

import (
	"os"
	"path/filepath"
	"testing"
)

// TestPlanMemory: the cache's budget is the setting when set; else half
// the Go memory limit (GOMEMLIMIT), else half of 90% of the cgroup's limit,
// which becomes the Go limit; else 512 MiB. Each says where it comes from.
func TestPlanMemory(t *testing.T) {
	const mi = 1 << 20
	cgroup := MemoryLimits{Cgroup: 2000 * mi, CgroupFile: "/sys/fs/cgroup/memory.max"}
	for _, c := range []struct {
		name       string
		setting    int64
		limits     MemoryLimits
		cache      int64
		source     string
		setGoLimit int64
	}{
		{"no limit", 0, MemoryLimits{}, 512 * mi, "the default, no memory limit found (GOMEMLIMIT or cgroup)", 0},
		{"GOMEMLIMIT", 0, MemoryLimits{Go: 900 * mi}, 450 * mi, "half of GOMEMLIMIT 900 MiB", 0},
		{"GOMEMLIMIT beside a cgroup", 0, MemoryLimits{Go: 900 * mi, Cgroup: 2000 * mi}, 450 * mi, "half of GOMEMLIMIT 900 MiB", 0},
		{"a cgroup", 0, cgroup, 900 * mi,
			"half of the cgroup memory limit 2000 MiB (/sys/fs/cgroup/memory.max), 90% of which is the Go memory limit", 1800 * mi},
		{"the setting beside a cgroup", 64 * mi, cgroup, 64 * mi, "AICONFIG_CACHE_MAX_BYTES", 1800 * mi},
		{"the setting beside GOMEMLIMIT", 3000 * mi, MemoryLimits{Go: 900 * mi}, 3000 * mi, "AICONFIG_CACHE_MAX_BYTES", 0},
		{"a tiny limit", 0, MemoryLimits{Go: mi}, mi, "half of GOMEMLIMIT 1 MiB", 0},
		{"a negative setting, for Check to refuse", -1, MemoryLimits{}, -1, "AICONFIG_CACHE_MAX_BYTES", 0},
	} {
		p := PlanMemory(c.setting, c.limits)
		if p.CacheBytes != c.cache || p.CacheSource != c.source || p.SetGoLimit != c.setGoLimit {
			t.Errorf("%s: %d bytes from %q, Go limit %d; want %d from %q, %d", c.name, p.CacheBytes, p.CacheSource, p.SetGoLimit, c.cache, c.source, c.setGoLimit)
		}
	}
}

// TestCgroupLimit: the lowest limit of the process's own cgroup and its
// ancestors up to the mount's root (v2 memory.max, v1
// memory.limit_in_bytes), paths that do not resolve skipped; "max" and
// v1's huge number mean none.
func TestCgroupLimit(t *testing.T) {
	root := t.TempDir()
	write := func(file, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	own := filepath.Join(root, "kubepods", "pod1", "memory.max")
	write(own, "1073741824\n")
	write(filepath.Join(root, "memory.max"), "max\n")
	write(filepath.Join(root, "other", "memory.max"), "max\n")
	write(filepath.Join(root, "limited", "memory.max"), "805306368\n")
	write(filepath.Join(root, "limited", "child", "memory.max"), "max\n")
	write(filepath.Join(root, "memory", "docker", "c1", "memory.limit_in_bytes"), "536870912\n")
	write(filepath.Join(root, "memory", "memory.limit_in_bytes"), "9223372036854771712\n")
	for _, c := range []struct {
		name, self string
		limit      int64
		file       string
	}{
		{"v2", "0::/kubepods/pod1\n", 1 << 30, own},
		{"v2 without a limit", "0::/other\n", 0, ""},
		{"v2, a parent's limit", "0::/limited/child\n", 768 << 20, filepath.Join(root, "limited", "memory.max")},
		{"v2, the own path not mounted: the root's", "0::/elsewhere\n", 0, ""},
		{"v1", "4:memory:/docker/c1\n2:cpu,cpuacct:/docker/c1\n", 512 << 20, filepath.Join(root, "memory", "docker", "c1", "memory.limit_in_bytes")},
		{"v1 without a limit, the own path not mounted", "4:memory:/process_api/x\n0::/\n", 0, ""},
		{"nothing", "", 0, ""},
	} {
		limit, file := cgroupLimit([]byte(c.self), root)
		if limit != c.limit || file != c.file {
			t.Errorf("%s: %d from %q; want %d from %q", c.name, limit, file, c.limit, c.file)
		}
	}
	// The root's limit counts when the own path does not resolve.
	write(filepath.Join(root, "memory.max"), "268435456")
	if limit, _ := cgroupLimit([]byte("0::/elsewhere\n"), root); limit != 256<<20 {
		t.Errorf("the root's limit: %d", limit)
	}
	if limit, file := cgroupLimit([]byte("0::/kubepods/pod1\n"), root); limit != 256<<20 || file != filepath.Join(root, "memory.max") {
		t.Errorf("the root's limit, below the own one: %d from %s", limit, file)
	}
}
