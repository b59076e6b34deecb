package replay_test

import "github.com/resellerconsole/reseller/internal/auditlog/internal/logtest"

// The simulation the tests build logs with; see logtest.
type (
	tester = logtest.Tester
	sim    = logtest.Sim
)

var (
	newSim = logtest.NewSim
	story  = logtest.Story

	replayLog  = logtest.ReplayLog
	checkState = logtest.CheckState
)
