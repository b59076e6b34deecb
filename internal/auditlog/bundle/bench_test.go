package bundle_test

import (
	"io"
	"testing"

	"github.com/resellerconsole/reseller/internal/auditlog/internal/logtest"
)

// BenchmarkWriteBundle exports all 1,000,000 entries as a bundle, as the
// server does for a complete export (records and hashes from memory here).
func BenchmarkWriteBundle(b *testing.B) {
	signer, vkey := logtest.FixedKey(b, 1)
	log := logtest.MillionLog(b)
	seqs := logtest.AllSeqs(logtest.BenchSize)
	b.ResetTimer()
	for b.Loop() {
		logtest.WriteBenchBundle(b, io.Discard, log, signer, vkey, seqs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/logtest.BenchSize, "ns/entry")
}
