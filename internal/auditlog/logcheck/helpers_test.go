package logcheck_test

import "github.com/resellerconsole/reseller/internal/auditlog/internal/logtest"

// The simulation the tests build logs with; see logtest.
type (
	tester = logtest.Tester
	sim    = logtest.Sim
	rows   = logtest.Rows
)

var (
	newSim = logtest.NewSim
	story  = logtest.Story
	rowsOf = logtest.RowsOf
	forked = logtest.Forked
)
