package app

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
)

// The cache's share of the memory the process may use, and the budget
// without any limit known. The cached accounts are most of the live heap;
// with the Go memory limit at twice that, the collector runs about as often
// as Go's default (GOGC=100) would, and the rest of the heap (connections,
// calls in flight, answers being encoded) fits in the other half.
const (
	cacheShareOfLimit   = 0.5
	defaultCacheBytes   = 512 << 20
	goLimitShareOfGroup = 0.9 // of a cgroup's limit, as automemlimit does
	minCacheBytes       = 1 << 20
)

// MemoryLimits are the limits on the memory the process may use, as read
// at start.
type MemoryLimits struct {
	// Go is the Go runtime's memory limit (GOMEMLIMIT); 0: none.
	Go int64
	// Cgroup is the process's cgroup memory limit (memory.max); 0: none.
	Cgroup int64
	// CgroupFile is the file Cgroup was read from.
	CgroupFile string
}

// MemoryPlan is what the process does with its memory limits: the cache's
// budget, where it comes from, and the Go memory limit to set.
type MemoryPlan struct {
	CacheBytes int64
	// CacheSource says where CacheBytes comes from, for the log and for
	// the warning when the accounts do not fit.
	CacheSource string
	// SetGoLimit: the Go memory limit to set (0: leave it), 90% of the
	// cgroup's when GOMEMLIMIT is not set, so that the collector works
	// toward the cgroup's limit rather than past it.
	SetGoLimit int64
}

// PlanMemory is the one rule for the cache's budget. setting is
// AICONFIG_CACHE_MAX_BYTES (0: not set). Unset, the budget is half of the
// Go memory limit (GOMEMLIMIT, else 90% of the cgroup's limit, which
// becomes the Go limit), else 512 MiB when no limit is known.
func PlanMemory(setting int64, l MemoryLimits) MemoryPlan {
	var p MemoryPlan
	limit, from := l.Go, "GOMEMLIMIT"
	if limit <= 0 && l.Cgroup > 0 {
		p.SetGoLimit = int64(float64(l.Cgroup) * goLimitShareOfGroup)
		limit, from = p.SetGoLimit, fmt.Sprintf("the cgroup memory limit %s (%s), 90%% of which is the Go memory limit", mib(l.Cgroup), l.CgroupFile)
	}
	switch {
	case setting != 0: // Config.Check refuses a setting below 1 MiB
		p.CacheBytes, p.CacheSource = setting, "AICONFIG_CACHE_MAX_BYTES"
	case limit > 0:
		p.CacheBytes = max(minCacheBytes, int64(float64(limit)*cacheShareOfLimit))
		p.CacheSource = "half of " + from
		if from == "GOMEMLIMIT" {
			p.CacheSource += " " + mib(limit)
		}
	default:
		p.CacheBytes, p.CacheSource = defaultCacheBytes, "the default, no memory limit found (GOMEMLIMIT or cgroup)"
	}
	return p
}

// mib writes n bytes as MiB, e.g. 900 MiB.
func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }

// ReadMemoryLimits reads the process's limits: the Go runtime's, and its
// cgroup's (v2 memory.max, or v1 memory.limit_in_bytes).
func ReadMemoryLimits() MemoryLimits {
	var l MemoryLimits
	if g := debug.SetMemoryLimit(-1); g < math.MaxInt64 {
		l.Go = g
	}
	self, _ := os.ReadFile("/proc/self/cgroup")
	l.Cgroup, l.CgroupFile = cgroupLimit(self, "/sys/fs/cgroup")
	return l
}

// cgroupLimit finds the memory limit of the cgroup that selfCgroup
// (/proc/self/cgroup's content) names, under the cgroup file system at
// root: the lowest of its own and its ancestors' (each bounds it), up to
// the mount's root (in a container with its own cgroup namespace the own
// path may not resolve from inside, and the root is the container's). It
// returns the file the limit is read from; 0: none.
func cgroupLimit(selfCgroup []byte, root string) (limit int64, file string) {
	sc := bufio.NewScanner(bytes.NewReader(selfCgroup))
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), ":", 3)
		if len(f) != 3 {
			continue
		}
		dir, name := root, "memory.max" // v2
		if f[0] != "0" || f[1] != "" {
			if !slices.Contains(strings.Split(f[1], ","), "memory") {
				continue
			}
			dir, name = filepath.Join(root, "memory"), "memory.limit_in_bytes" // v1
		}
		for p := filepath.Join("/", f[2]); ; p = filepath.Dir(p) {
			candidate := filepath.Join(dir, p, name)
			if b, err := os.ReadFile(candidate); err == nil {
				n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
				// "max" (v2) or a huge number (v1): no limit here.
				if err == nil && n > 0 && n < 1<<62 && (limit == 0 || n < limit) {
					limit, file = n, candidate
				}
			}
			if p == "/" {
				break
			}
		}
		if limit > 0 {
			return limit, file
		}
	}
	return 0, ""
}

// ApplyMemoryLimits reads the process's limits, sets the Go memory limit
// from the cgroup's when GOMEMLIMIT is not set, and returns the plan for
// setting (AICONFIG_CACHE_MAX_BYTES; 0: not set). serve calls it once.
func ApplyMemoryLimits(setting int64) (MemoryPlan, MemoryLimits) {
	l := ReadMemoryLimits()
	p := PlanMemory(setting, l)
	if p.SetGoLimit > 0 {
		debug.SetMemoryLimit(p.SetGoLimit)
	}
	return p, l
}
