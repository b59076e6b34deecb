package logcheck_test

import (
	"testing"

	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/auditlog/internal/logtest"
	"github.com/resellerconsole/reseller/internal/auditlog/logcheck"
)

// BenchmarkCheckLog checks a 1,000,000-entry stored log, as
// `reseller audit check` does (records and hashes from memory here).
func BenchmarkCheckLog(b *testing.B) {
	log := logtest.MillionLog(b)
	cp, err := log.Checkpoint("x")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := logcheck.Check(logtest.BenchSize, log.Records, log, []auditlog.Checkpoint{cp}); err != nil {
			b.Fatal(err)
		}
	}
}
