package sqldb_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

// BenchmarkSiteViews measures the views of protected sites on an account
// with RESELLER_BENCH_SITES clients (10,000 by default), each with a
// license, a latest state, RESELLER_BENCH_DAYS days of roll-ups (30 by
// default) and an alert. The rows are put in place with plain SQL (the
// check-in path is measured by the simulator, docs/performance.md).
func BenchmarkSiteViews(b *testing.B) {
	sites, days := envInt("RESELLER_BENCH_SITES", 10_000), envInt("RESELLER_BENCH_DAYS", 30)
	for _, d := range sqldbtest.Dialects() {
		b.Run(d, func(b *testing.B) {
			db := sqldbtest.MustOpen(b, d)
			ctx := seedSites(b, db, sites, days)
			now := time.Unix(1_780_000_000, 0)
			db.Now = func() time.Time { return now }
			for _, v := range []struct {
				name string
				fn   func() error
			}{
				{"dashboard", func() error { _, err := db.Dashboard(ctx); return err }},
				{"clients-newest", func() error { _, _, err := db.ListClients(ctx, reseller.ClientFilter{}); return err }},
				{"clients-by-score", func() error {
					_, _, err := db.ListClients(ctx, reseller.ClientFilter{Sort: reseller.SortScore})
					return err
				}},
				{"clients-not-seen-2d", func() error { _, _, err := db.ListClients(ctx, reseller.ClientFilter{NotSeenDays: 2}); return err }},
				{"alerts", func() error { _, _, err := db.ListAlerts(ctx, reseller.AlertFilter{}); return err }},
				{"alerts-critical", func() error {
					_, _, err := db.ListAlerts(ctx, reseller.AlertFilter{Severity: reseller.SeverityCritical})
					return err
				}},
				{"client-activity-year", func() error {
					_, err := db.ClientActivity(ctx, 1, now.AddDate(0, 0, -364), now, time.UTC)
					return err
				}},
			} {
				b.Run(v.name, func(b *testing.B) {
					for b.Loop() {
						if err := v.fn(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// seedSites writes an account of n clients with their sites' activity and
// returns a context acting as its owner.
func seedSites(b *testing.B, db *sqldb.DB, n, days int) context.Context {
	b.Helper()
	bg := context.Background()
	acc, err := db.CreateAccount(bg, "Bench")
	if err != nil {
		b.Fatal(err)
	}
	owner := sqldbtest.Member(b, db, acc.ID, "owner@bench.test", reseller.RoleOwner)
	ctx := reseller.NewContext(bg, &reseller.Actor{UserID: owner.ID, AccountID: acc.ID, Email: owner.Email, Role: reseller.RoleOwner, Via: reseller.ViaAPI})
	p, err := db.CreatePool(bg, acc.ID, "Big", "", n)
	if err != nil {
		b.Fatal(err)
	}
	// The rows are made by the database from a series (set-based, so that a
	// year of roll-ups for 100,000 sites takes minutes, not hours).
	ph := func(db *sql.DB, q string) string {
		if fmt.Sprintf("%T", db.Driver()) != "*stdlib.Driver" {
			return q
		}
		out, k := "", 0
		for _, c := range q {
			if c == '?' {
				k++
				out += "$" + strconv.Itoa(k)
				continue
			}
			out += string(c)
		}
		return out
	}
	series := func(h *sql.DB, count int, insert string, args ...any) {
		q := "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < ?) " + insert
		if _, err := h.Exec(ph(h, q), append([]any{count}, args...)...); err != nil {
			b.Fatalf("%s: %v", insert, err)
		}
	}
	const dayUS = 86_400_000_000
	now := int64(1_780_000_000) * 1_000_000
	// Client i+1 (i from 0): every fifth suspended, score (i*37)%101, last
	// seen (i%97) hours ago, an alert of severity i%3.
	const status = "CASE WHEN i % 5 = 4 THEN 'suspended' ELSE 'active' END"
	const seen = "(CAST(? AS BIGINT) - (i % 97) * 3600000000)"
	series(db.SQL(), n, "INSERT INTO clients (id, account_id, email, name, status, created_at, updated_at, site_url) "+
		"SELECT i + 1, ?, 'c' || i || '@example.io', '', "+status+", 0, 0, 'https://c' || i || '.example.io' FROM s", acc.ID)
	series(db.SQL(), n, "INSERT INTO licenses (id, account_id, pool_id, client_id, status, allocated_at) SELECT i + 1, ?, ?, i + 1, 'active', 0 FROM s", acc.ID, p.ID)
	if _, err := db.SQL().Exec(ph(db.SQL(), "UPDATE pools SET used = ? WHERE id = ?"), n, p.ID); err != nil {
		b.Fatal(err)
	}
	act := db.ActivitySQL()
	series(act, n, "INSERT INTO client_state (account_id, client_id, license_id, score, last_seen_us, active) "+
		"SELECT ?, i + 1, i + 1, (i * 37) % 101, "+seen+", CASE WHEN i % 5 = 4 THEN 0 ELSE 1 END FROM s", acc.ID, now)
	series(act, n, "INSERT INTO license_state (account_id, license_id, client_id, site_url, plugin_version, platform_version, score, last_seen_us) "+
		"SELECT ?, i + 1, i + 1, 'https://x', '4', '6', (i * 37) % 101, "+seen+" FROM s", acc.ID, now)
	series(act, n*days, `INSERT INTO activity_days (account_id, license_id, day, client_id, checkins, score_min, score_sum, score_last, last_us, blocked, scans, critical, warning, info)
		SELECT ?, i / ? + 1, CAST(? AS BIGINT) - i % ?, i / ? + 1, 288, 50, 20000, 70, 0, 30, 1, 0, 1, 2 FROM s`, acc.ID, days, now/dayUS, days, days)
	series(act, n, `INSERT INTO alerts (account_id, client_id, license_id, key, severity, kind, message, first_raised_us, last_raised_us, times_raised)
		SELECT ?, i + 1, i + 1, 'k', CASE i % 3 WHEN 0 THEN 'critical' WHEN 1 THEN 'warning' ELSE 'info' END, 'malware', 'm', `+seen+", "+seen+", 1 FROM s", acc.ID, now, now)
	if _, err := act.Exec("ANALYZE"); err != nil {
		b.Fatal(err)
	}
	return ctx
}
