package logtest

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/auditlog/bundle"
	"github.com/resellerconsole/reseller/internal/auditlog/memlog"
	"golang.org/x/mod/sumdb/note"
)

// BenchLog builds a log of n entries shaped like real ones (about 450 bytes
// each: license actions by web users with a browser user agent).
func BenchLog(tb Tester, account int64, n int) *memlog.Log {
	tb.Helper()
	log := &memlog.Log{}
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

// WriteBenchBundle writes a bundle of seqs of log, account 42, with a
// consistency proof from half its size.
func WriteBenchBundle(tb Tester, w io.Writer, log *memlog.Log, signer note.Signer, vkey string, seqs []int64) {
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
	err = bundle.Write(w, bundle.Input{Checkpoint: signed, VerifierKey: vkey, Origin: origin,
		Size: log.Size(), Hashes: log, Seqs: seqs, Records: log.Select(seqs), Since: log.Size() / 2})
	if err != nil {
		tb.Fatal(err)
	}
}

// AllSeqs is 1..n.
func AllSeqs(n int64) []int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = int64(i) + 1
	}
	return s
}

// BenchSize is the size of MillionLog.
const BenchSize = 1_000_000

var (
	bigLogOnce sync.Once
	bigLog     *memlog.Log
)

// MillionLog is built once per test binary: it takes seconds.
func MillionLog(tb Tester) *memlog.Log {
	bigLogOnce.Do(func() { bigLog = BenchLog(tb, 42, BenchSize) })
	return bigLog
}
