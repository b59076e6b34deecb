package sqldb_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/export"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

// Benchmarks for docs/performance.md. Run with, for example:
//
//	go test ./internal/sqldb -run '^$' -bench . -benchtime 2000x
//	RESELLER_TEST_POSTGRES=postgres://... go test ./internal/sqldb -run '^$' -bench . -entries 1000000
//
// The large-log benchmarks build their log once per run (on SQLite it is
// kept in the temp dir and reused by later runs with the same size).
var benchEntries = flag.Int("entries", 1_000_000, "entries in the large-log benchmarks' main account")

// BenchmarkWrite compares recording an action (state change + entry +
// Merkle hashes, durable) with a plain durable single-row insert, on the
// same database in the same run.
func BenchmarkWrite(b *testing.B) {
	for _, d := range sqldbtest.Dialects() {
		b.Run(d, func(b *testing.B) {
			db := sqldbtest.MustOpen(b, d)
			f := newFixture(b, db)
			ctx := context.Background()
			if _, err := db.SQL().Exec("CREATE TABLE bench_plain (id BIGINT PRIMARY KEY, account_id BIGINT NOT NULL, email TEXT NOT NULL, created_at BIGINT NOT NULL)"); err != nil {
				b.Fatal(err)
			}
			ins := "INSERT INTO bench_plain (id, account_id, email, created_at) VALUES (?, ?, ?, ?)"
			if d == "postgres" {
				ins = "INSERT INTO bench_plain (id, account_id, email, created_at) VALUES ($1, $2, $3, $4)"
			}
			id := 0 // across the benchmark's runs, which restart b.N
			b.Run("PlainInsert", func(b *testing.B) {
				for range b.N {
					id++
					tx, err := db.SQL().BeginTx(ctx, nil)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := tx.Exec(ins, id, f.account.ID, fmt.Sprintf("p%d@x.test", id), time.Now().UnixMicro()); err != nil {
						tx.Rollback()
						b.Fatal(err)
					}
					if err := tx.Commit(); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("RecordAction", func(b *testing.B) {
				op := f.as(reseller.RoleOperator)
				for range b.N {
					id++
					if _, err := db.CreateClient(op, fmt.Sprintf("b%d@x.test", id), ""); err != nil {
						b.Fatal(err)
					}
				}
			})
			// Many writers at once, as under a busy API: on SQLite their
			// actions share commits (see commit.go).
			b.Run("RecordActionParallel", func(b *testing.B) {
				op := f.as(reseller.RoleOperator)
				var n atomic.Int64
				b.SetParallelism(16)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := db.CreateClient(op, fmt.Sprintf("par%d-%d@x.test", id, n.Add(1)), ""); err != nil {
							b.Error(err)
							return
						}
					}
				})
				id++
			})
			// The same action without the Merkle hashes, in a second account
			// whose log is left unverifiable: what the hashes cost.
			acc := ok(db.CreateAccount(ctx, "No Merkle"))
			nm := actorCtx(ok(db.AddUser(reseller.NewContext(ctx, reseller.OperatorActor(acc.ID)), "nomerkle@x.test", reseller.RoleOperator)), reseller.ViaAPI)
			b.Run("RecordActionNoMerkle", func(b *testing.B) {
				op := nm
				sqldb.SetNoMerkle(db, true)
				defer sqldb.SetNoMerkle(db, false)
				for range b.N {
					id++
					if _, err := db.CreateClient(op, fmt.Sprintf("b%d@x.test", id), ""); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// bigLog is a database whose main account has n entries over one year,
// with two other accounts of n/10 entries each interleaved in time.
type bigLog struct {
	db       *sqldb.DB
	ctx      context.Context // the main account's auditor
	start    time.Time
	n        int
	accounts []int64
}

func openBigLog(b *testing.B, dialect string, n int) *bigLog {
	b.Helper()
	ctx := context.Background()
	var dsn string
	reuse := false
	if dialect == "sqlite" {
		dsn = filepath.Join(os.TempDir(), fmt.Sprintf("reseller-bench-%d.db", n))
		_, err := os.Stat(dsn)
		reuse = err == nil
	} else {
		dsn = sqldbtest.NewDSN(b, dialect)
	}
	db, err := sqldb.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	l := &bigLog{db: db, n: n, start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	if !reuse {
		b.Logf("building a %d-entry log on %s (once)", n, dialect)
		for i, size := range []int{n, n / 10, n / 10} {
			acc, err := db.CreateAccount(ctx, fmt.Sprintf("Bench %d", i))
			if err != nil {
				b.Fatal(err)
			}
			u, err := db.AddUser(reseller.NewContext(ctx, reseller.OperatorActor(acc.ID)), fmt.Sprintf("auditor%d@bench.test", i), reseller.RoleAuditor)
			if err != nil {
				b.Fatal(err)
			}
			a := &reseller.Actor{UserID: u.ID, AccountID: acc.ID, Email: u.Email, Role: reseller.RoleOperator, Via: reseller.ViaAPI, IP: "203.0.113.9", UserAgent: "bench", RequestID: "bench"}
			step := 365 * 24 * time.Hour / time.Duration(size)
			err = sqldb.BulkAppend(ctx, db, a, size, 5000,
				func(i int) time.Time { return l.start.Add(time.Duration(i) * step) },
				func(i int) (reseller.Action, reseller.Target, reseller.Details) {
					action := reseller.Actions[i%len(reseller.Actions)]
					if i%7 == 0 {
						action = reseller.ActionClientSuspended
					}
					cid := int64(i/4 + 1)
					return action, reseller.Target{ID: cid, Email: fmt.Sprintf("client%d@example.test", cid)},
						reseller.Details{PoolID: 1, PoolName: "Agency 250", LicenseID: int64(i), Label: "site.example"}
				})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	u, err := db.FindUserByEmail(ctx, "auditor0@bench.test")
	if err != nil {
		b.Fatal(err)
	}
	l.ctx = reseller.NewContext(ctx, &reseller.Actor{UserID: u.ID, AccountID: u.AccountID, Email: u.Email, Role: reseller.RoleAuditor, Via: reseller.ViaAPI})
	return l
}

// BenchmarkAuditLog measures reads on a large log: pages, counts, export.
func BenchmarkAuditLog(b *testing.B) {
	for _, d := range sqldbtest.Dialects() {
		b.Run(d, func(b *testing.B) {
			l := openBigLog(b, d, *benchEntries)
			db := l.db
			suspended := []reseller.Action{reseller.ActionClientSuspended}
			q3 := reseller.AuditFilter{From: time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)}
			b.Run("FirstPage", func(b *testing.B) {
				for range b.N {
					if es, _, err := db.ListEntries(l.ctx, reseller.AuditFilter{}); err != nil || len(es) != 50 {
						b.Fatal(err, len(es))
					}
				}
			})
			b.Run("FirstPageFiltered", func(b *testing.B) {
				for range b.N {
					if es, _, err := db.ListEntries(l.ctx, reseller.AuditFilter{Actions: suspended}); err != nil || len(es) != 50 {
						b.Fatal(err, len(es))
					}
				}
			})
			b.Run("FirstPageFilteredQuarter", func(b *testing.B) {
				f := q3
				f.Actions = suspended
				for range b.N {
					if es, _, err := db.ListEntries(l.ctx, f); err != nil || len(es) != 50 {
						b.Fatal(err, len(es))
					}
				}
			})
			b.Run("DeepCursorPageFiltered", func(b *testing.B) {
				// A cursor in the middle of the log, as after paging far back.
				_, next, err := db.ListEntries(l.ctx, reseller.AuditFilter{Actions: suspended, Limit: 500})
				if err != nil {
					b.Fatal(err)
				}
				deep := reseller.AuditFilter{Actions: suspended, Limit: 1, Cursor: next}
				for range (*benchEntries / 7) / 2 / 500 {
					deep.Limit = 500
					_, deep.Cursor, _ = db.ListEntries(l.ctx, deep)
				}
				deep.Limit = 50
				b.ResetTimer()
				for range b.N {
					if es, _, err := db.ListEntries(l.ctx, deep); err != nil || len(es) != 50 {
						b.Fatal(err, len(es))
					}
				}
			})
			b.Run("CountQuarter", func(b *testing.B) {
				for range b.N {
					if c, err := db.CountEntries(l.ctx, q3, "", nil); err != nil || c.Total == 0 {
						b.Fatal(err)
					}
				}
			})
			b.Run("CountQuarterFiltered", func(b *testing.B) {
				f := q3
				f.Actions = suspended
				for range b.N {
					if c, err := db.CountEntries(l.ctx, f, "", nil); err != nil || c.Total == 0 {
						b.Fatal(err)
					}
				}
			})
			b.Run("CountQuarterByDay", func(b *testing.B) {
				f := q3
				f.Actions = suspended
				for range b.N {
					if c, err := db.CountEntries(l.ctx, f, reseller.BucketDay, time.UTC); err != nil || len(c.Buckets) != 92 {
						b.Fatal(err)
					}
				}
			})
			b.Run("Export", func(b *testing.B) {
				n := 0
				for range b.N {
					err := db.ExportEntries(l.ctx, q3, func(e *reseller.Entry) error { n++; return nil })
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "entries/s")
			})
			b.Run("ExportCSV", func(b *testing.B) {
				n := 0
				for range b.N {
					c := export.NewCSV(io.Discard)
					err := db.ExportEntries(l.ctx, q3, func(e *reseller.Entry) error { n++; return c.Write(e) })
					if err == nil {
						err = c.Flush()
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "entries/s")
			})
			b.Run("ExportRecords", func(b *testing.B) {
				n := 0
				for range b.N {
					err := db.ExportRecords(l.ctx, q3, func(rec []byte) error { n++; return nil })
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "entries/s")
			})
		})
	}
}

// BenchmarkSignRound measures one round of continuous checkpoint signing on
// a large log: the check that the tree extends the last trusted checkpoint
// (its prefix from stored hashes, the new entries hashed from their
// records), one Ed25519 signature, and storing it. Each round first appends
// perRound entries, outside the timer: about a second of heavy writing.
//   - Running: this process signed the previous round (its memory holds
//     the trusted checkpoint).
//   - Restarted: a fresh process, which first examines the newest stored
//     checkpoints and takes the newest that verifies as its anchor.
func BenchmarkSignRound(b *testing.B) {
	const perRound = 1000
	for _, d := range sqldbtest.Dialects() {
		b.Run(d, func(b *testing.B) {
			l := openBigLog(b, d, *benchEntries)
			s, vkey := signerOf(b, l.db)
			ctx := context.Background()
			u, err := l.db.FindUserByEmail(ctx, "auditor0@bench.test")
			if err != nil {
				b.Fatal(err)
			}
			a := &reseller.Actor{UserID: u.ID, AccountID: u.AccountID, Email: u.Email, Role: reseller.RoleOperator, Via: reseller.ViaAPI}
			grow := func(b *testing.B) {
				b.StopTimer()
				err := sqldb.BulkAppend(ctx, l.db, a, perRound, perRound, func(int) time.Time { return time.Now() },
					func(i int) (reseller.Action, reseller.Target, reseller.Details) {
						return reseller.ActionClientCreated, reseller.Target{ID: int64(i + 1), Email: "round@example.test"}, reseller.Details{}
					})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			// The first signing of the log, with nothing to start from but
			// what earlier runs stored.
			start := time.Now()
			if _, err := l.db.AccountCheckpoint(ctx, u.AccountID, 0); err != nil {
				b.Fatal(err)
			}
			b.Logf("first signing of a %d-entry log: %v", *benchEntries, time.Since(start).Round(time.Millisecond))
			b.Run("Running", func(b *testing.B) {
				for range b.N {
					grow(b)
					if err := l.db.SignCheckpoints(ctx, false); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("Restarted", func(b *testing.B) {
				for range b.N {
					grow(b)
					b.StopTimer()
					db := reopen(b, l.db, s, vkey)
					b.StartTimer()
					if err := db.SignCheckpoints(ctx, true); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
