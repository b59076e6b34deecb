package auditlog_test

import (
	"github.com/resellerconsole/reseller/internal/auditlog/internal/logtest"
)

// The simulation and keys the tests build logs with; see logtest.
type (
	tester     = logtest.Tester
	sim        = logtest.Sim
	seedReader = logtest.SeedReader
)

var (
	testKey = logtest.FixedKey
	newSim  = logtest.NewSim
	story   = logtest.Story
	// teamStory is the version 2 log of a new account, with every action.
	teamStory = logtest.TeamStory
	forked    = logtest.Forked
	allSeqs   = logtest.AllSeqs
	rowsOf    = logtest.RowsOf

	replayLog  = logtest.ReplayLog
	checkState = logtest.CheckState
)

func sortedIDs[V any](m map[int64]V) []int64 { return logtest.SortedIDs(m) }
