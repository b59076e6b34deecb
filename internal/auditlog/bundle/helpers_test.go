package bundle_test

import "github.com/resellerconsole/reseller/internal/auditlog/internal/logtest"

// The simulation and keys the tests build logs with; see logtest.
var (
	testKey = logtest.FixedKey
	story   = logtest.Story
)
