package auditlog_test

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"

	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/auditlog/internal/logtest"
	"github.com/resellerconsole/reseller/internal/auditlog/memlog"
)

// The million-entry log of the benchmarks; see logtest.
var (
	benchLog         = logtest.BenchLog
	writeBenchBundle = logtest.WriteBenchBundle
)

const benchSize = logtest.BenchSize

func millionLog(b *testing.B) *memlog.Log { return logtest.MillionLog(b) }

// BenchmarkVerifyBundle verifies a full export of a 1,000,000-entry log
// from a file, as `reseller audit verify` does.
func BenchmarkVerifyBundle(b *testing.B) {
	const n = benchSize
	signer, vkey := testKey(b, 1)
	log := millionLog(b)
	path := filepath.Join(b.TempDir(), "bundle.json")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriter(f)
	writeBenchBundle(b, bw, log, signer, vkey, allSeqs(n))
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	st, _ := f.Stat()
	f.Close()
	b.ResetTimer()
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		sum, err := auditlog.VerifyBundle(f, auditlog.VerifyOptions{VerifierKey: vkey})
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		if sum.Entries != n || !sum.Complete {
			b.Fatalf("verified %d entries, complete %v", sum.Entries, sum.Complete)
		}
	}
	b.ReportMetric(float64(st.Size())/n, "bundle-bytes/entry")
}

// BenchmarkProveInclusion is one inclusion proof in a 1,000,000-entry log.
func BenchmarkProveInclusion(b *testing.B) {
	log := millionLog(b)
	seq := int64(1)
	for b.Loop() {
		if _, err := auditlog.ProveInclusion(benchSize, seq, log); err != nil {
			b.Fatal(err)
		}
		seq = seq*7919%benchSize + 1
	}
}

// BenchmarkProveConsistency is one consistency proof in a 1,000,000-entry log.
func BenchmarkProveConsistency(b *testing.B) {
	log := millionLog(b)
	old := int64(1)
	for b.Loop() {
		if _, err := auditlog.ProveConsistency(old, benchSize, log); err != nil {
			b.Fatal(err)
		}
		old = old*7919%benchSize + 1
	}
}
