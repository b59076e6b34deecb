package sqldb_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

// BenchmarkCheckAccount is `reseller audit check` of one account whose log
// has -entries entries (rounded down to whole client lives), a checkpoint
// signed at its end, and tables that match its replay, so that every part
// of the check runs to the end:
//
//	go test ./internal/sqldb -run '^$' -bench CheckAccount/sqlite -benchtime 1x -count 3 -timeout 30m
func BenchmarkCheckAccount(b *testing.B) {
	for _, d := range sqldbtest.Dialects() {
		b.Run(d, func(b *testing.B) {
			db, account, size := openCheckLog(b, d, *benchEntries)
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				if err := db.CheckAccount(ctx, account); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(size)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// openCheckLog returns a database with one account whose log is n/6 client
// lives of six entries each (created, license allocated, suspended,
// reactivated, license revoked, deleted), written through the ordinary
// append path, with the client and license rows those entries leave
// behind. On SQLite it is kept in the temp dir, with its signing key, and
// reused by later runs of the same size.
func openCheckLog(b *testing.B, dialect string, n int) (*sqldb.DB, int64, int64) {
	b.Helper()
	ctx := context.Background()
	clients := n / 6
	var dsn string
	reuse := false
	keyPath := filepath.Join(b.TempDir(), "check.key")
	if dialect == "sqlite" {
		dsn = filepath.Join(os.TempDir(), fmt.Sprintf("reseller-checkbench-%d.db", n))
		keyPath = dsn + ".key"
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
	signer, vkey, err := auditlog.LoadOrCreateKey(keyPath, auditlog.DefaultKeyName)
	if err != nil {
		b.Fatal(err)
	}
	db.SetSigner(signer, vkey)
	if reuse {
		as, err := db.ListAccounts(ctx)
		if err != nil || len(as) != 1 {
			b.Fatalf("reusing %s: %d accounts, %v", dsn, len(as), err)
		}
		return db, as[0].ID, int64(6 * clients)
	}
	b.Logf("building a %d-entry log on %s (once)", 6*clients, dialect)
	acc := ok(db.CreateAccount(ctx, "Check bench"))
	u := ok(db.AddUser(reseller.NewContext(ctx, reseller.OperatorActor(acc.ID)), "owner@bench.test", reseller.RoleOwner))
	pool := ok(db.CreatePool(ctx, acc.ID, "Agency 250", "Hosting", 250))
	a := &reseller.Actor{UserID: u.ID, AccountID: acc.ID, Email: u.Email, Role: reseller.RoleOwner, Via: reseller.ViaAPI, IP: "203.0.113.9", UserAgent: "bench", RequestID: "bench"}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	lives := []reseller.Action{reseller.ActionClientCreated, reseller.ActionLicenseAllocated, reseller.ActionClientSuspended,
		reseller.ActionClientReactivated, reseller.ActionLicenseRevoked, reseller.ActionClientDeleted}
	err = sqldb.BulkAppend(ctx, db, a, 6*clients, 5000,
		func(i int) time.Time { return start.Add(time.Duration(i) * 10 * time.Second) },
		func(i int) (reseller.Action, reseller.Target, reseller.Details) {
			id := int64(i/6 + 1)
			t := reseller.Target{ID: id, Email: fmt.Sprintf("client%d@bench.test", id)}
			switch action := lives[i%6]; action {
			case reseller.ActionClientCreated:
				return action, t, reseller.Details{Name: fmt.Sprintf("Client %d", id)}
			case reseller.ActionLicenseAllocated:
				return action, t, reseller.Details{PoolID: pool.ID, PoolName: pool.Name, Product: pool.Product, LicenseID: id, Label: "site.example"}
			case reseller.ActionLicenseRevoked:
				return action, t, reseller.Details{PoolID: pool.ID, LicenseID: id}
			case reseller.ActionClientSuspended:
				return action, t, reseller.Details{Reason: "unpaid"}
			default:
				return action, t, reseller.Details{}
			}
		})
	if err != nil {
		b.Fatal(err)
	}
	// The rows the entries describe, as the actions would have left them.
	series := fmt.Sprintf("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d) ", clients)
	for _, q := range []string{
		series + fmt.Sprintf("INSERT INTO clients (id, account_id, email, name, status, created_at, updated_at) SELECT i, %d, 'client' || i || '@bench.test', 'Client ' || i, 'deleted', 0, 0 FROM s", acc.ID),
		series + fmt.Sprintf("INSERT INTO licenses (id, account_id, pool_id, client_id, label, status, allocated_at, revoked_at) SELECT i, %d, %d, i, 'site.example', 'revoked', 0, 0 FROM s", acc.ID, pool.ID),
	} {
		if _, err := db.SQL().ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := db.AccountCheckpoint(ctx, acc.ID, 0); err != nil {
		b.Fatal(err)
	}
	if err := db.CheckAccount(ctx, acc.ID); err != nil {
		b.Fatalf("the benchmark's log does not check out: %v", err)
	}
	return db, acc.ID, int64(6 * clients)
}
