package auditlog_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"golang.org/x/mod/sumdb/note"
)

// benchLog builds a log of n entries shaped like real ones (about 450 bytes
// each: license actions by web users with a browser user agent).
func benchLog(tb testing.TB, account int64, n int) *auditlog.MemoryLog {
	tb.Helper()
	log := &auditlog.MemoryLog{}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		seq := int64(i) + 1
		e := &reseller.Entry{AccountID: account, Seq: seq, Time: t0.Add(time.Duration(i) * 1733 * time.Millisecond),
			Action: reseller.ActionLicenseAllocated,
			Target: reseller.Target{Type: "client", ID: 1000 + seq%5000, Email: fmt.Sprintf("owner%d@client-%d.example", seq%5000, seq%5000)},
			Details: reseller.Details{PoolID: 3, PoolName: "Agency pool 2026", Product: reseller.DefaultProduct,
				LicenseID: 100000 + seq, Label: fmt.Sprintf("www.site-%d.example", seq)},
			Actor: reseller.EntryActor{ID: 7, Email: "alice@acme.test", Role: reseller.RoleOperator, Via: reseller.ViaWeb,
				IP: "203.0.113.9", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
				RequestID: fmt.Sprintf("01J2Z3X4Y5W6V7U8T9%08d", seq)}}
		rec, err := auditlog.EncodeRecord(e)
		if err != nil {
			tb.Fatal(err)
		}
		if err := log.Append(rec); err != nil {
			tb.Fatal(err)
		}
	}
	return log
}

func writeBenchBundle(tb testing.TB, w io.Writer, log *auditlog.MemoryLog, signer note.Signer, vkey string, seqs []int64) {
	tb.Helper()
	origin := auditlog.Origin(signer.Name(), 42)
	cp, err := log.Checkpoint(origin)
	if err != nil {
		tb.Fatal(err)
	}
	signed, err := auditlog.SignCheckpoint(cp, signer)
	if err != nil {
		tb.Fatal(err)
	}
	err = auditlog.WriteBundle(w, auditlog.BundleInput{Checkpoint: signed, VerifierKey: vkey, Origin: origin,
		Size: log.Size(), Hashes: log, Seqs: seqs, Records: log.Select(seqs), Since: log.Size() / 2})
	if err != nil {
		tb.Fatal(err)
	}
}

func allSeqs(n int64) []int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = int64(i) + 1
	}
	return s
}

const benchSize = 1_000_000

var (
	bigLogOnce sync.Once
	bigLog     *auditlog.MemoryLog
)

// millionLog is built once per test binary: it takes seconds.
func millionLog(b *testing.B) *auditlog.MemoryLog {
	bigLogOnce.Do(func() { bigLog = benchLog(b, 42, benchSize) })
	return bigLog
}

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

// BenchmarkWriteBundle exports all 1,000,000 entries as a bundle, as the
// server does for a complete export (records and hashes from memory here).
func BenchmarkWriteBundle(b *testing.B) {
	signer, vkey := testKey(b, 1)
	log := millionLog(b)
	seqs := allSeqs(benchSize)
	b.ResetTimer()
	for b.Loop() {
		writeBenchBundle(b, io.Discard, log, signer, vkey, seqs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchSize, "ns/entry")
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

// BenchmarkCheckLog checks a 1,000,000-entry stored log, as
// `reseller audit check` does (records and hashes from memory here).
func BenchmarkCheckLog(b *testing.B) {
	log := millionLog(b)
	cp, err := log.Checkpoint("x")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := auditlog.CheckLog(benchSize, log.Records, log, []auditlog.Checkpoint{cp}); err != nil {
			b.Fatal(err)
		}
	}
}
