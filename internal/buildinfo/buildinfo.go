// Package buildinfo says which build is running: `aiconfigd version` prints
// it and the aiconfig_build_info metric carries it.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Set at link time by `make build` from git:
//
//	-ldflags "-X github.com/igny8/aiconfig/internal/buildinfo.version=... -X ...buildinfo.commit=..."
var version, commit string

// Info describes the running binary.
type Info struct {
	Version   string // a release tag or `git describe`; "devel" when unknown
	Commit    string // full commit hash; "" when unknown
	GoVersion string
}

// Get returns what the linker was told, else what the Go toolchain
// recorded (a module version for `go install …@v1.2.3`, the VCS revision
// when built with -buildvcs).
func Get() Info {
	i := Info{Version: version, Commit: commit, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if i.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			i.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && i.Commit == "" {
				i.Commit = s.Value
			}
		}
	}
	if i.Version == "" {
		i.Version = "devel"
	}
	return i
}
