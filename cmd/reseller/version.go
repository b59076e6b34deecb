package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is the release this binary was built as, set at link time:
// go build -ldflags "-X main.version=v1.2.3" ./cmd/reseller
var version = ""

type versionCmd struct{}

func (c *versionCmd) Run(e *env) error {
	v, rev := version, ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = " " + s.Value[:12]
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	fmt.Fprintf(e.stdout, "reseller %s%s %s %s/%s\n", v, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
