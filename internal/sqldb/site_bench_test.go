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

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
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
	ph := func(db *sql.DB, q string) string {
		if db.Driver() != nil && fmt.Sprintf("%T", db.Driver()) == "*stdlib.Driver" {
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
		return q
	}
	bulk := func(h *sql.DB, q string, rows func(i int) []any, count int) {
		tx, err := h.Begin()
		if err != nil {
			b.Fatal(err)
		}
		st, err := tx.Prepare(ph(h, q))
		if err != nil {
			b.Fatal(err)
		}
		for i := range count {
			if _, err := st.Exec(rows(i)...); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	const dayUS = 86_400_000_000
	now := int64(1_780_000_000) * 1_000_000
	statuses := []string{"active", "active", "active", "active", "suspended"}
	bulk(db.SQL(), "INSERT INTO clients (id, account_id, email, name, status, created_at, updated_at, site_url) VALUES (?, ?, ?, '', ?, 0, 0, ?)",
		func(i int) []any {
			return []any{i + 1, acc.ID, fmt.Sprintf("c%d@example.io", i), statuses[i%5], fmt.Sprintf("https://c%d.example.io", i)}
		}, n)
	bulk(db.SQL(), "INSERT INTO licenses (id, account_id, pool_id, client_id, status, allocated_at) VALUES (?, ?, ?, ?, 'active', 0)",
		func(i int) []any { return []any{i + 1, acc.ID, p.ID, i + 1} }, n)
	if _, err := db.SQL().Exec(ph(db.SQL(), "UPDATE pools SET used = ? WHERE id = ?"), n, p.ID); err != nil {
		b.Fatal(err)
	}
	score := func(i int) int { return (i * 37) % 101 }
	seen := func(i int) int64 { return now - int64(i%97)*dayUS/24 }
	act := db.ActivitySQL()
	bulk(act, "INSERT INTO client_state (account_id, client_id, license_id, score, last_seen_us, active) VALUES (?, ?, ?, ?, ?, ?)",
		func(i int) []any {
			return []any{acc.ID, i + 1, i + 1, score(i), seen(i), boolInt(statuses[i%5] == "active")}
		}, n)
	bulk(act, "INSERT INTO license_state (account_id, license_id, client_id, site_url, plugin_version, platform_version, score, last_seen_us) VALUES (?, ?, ?, 'https://x', '4', '6', ?, ?)",
		func(i int) []any { return []any{acc.ID, i + 1, i + 1, score(i), seen(i)} }, n)
	bulk(act, `INSERT INTO activity_days (account_id, license_id, day, client_id, checkins, score_min, score_sum, score_last, last_us, blocked, scans, critical, warning, info)
		VALUES (?, ?, ?, ?, 288, 50, 20000, 70, 0, 30, 1, 0, 1, 2)`,
		func(k int) []any { i, d := k/days, k%days; return []any{acc.ID, i + 1, now/dayUS - int64(d), i + 1} }, n*days)
	sev := []string{"critical", "warning", "info"}
	bulk(act, `INSERT INTO alerts (account_id, client_id, license_id, key, severity, kind, message, first_raised_us, last_raised_us, times_raised)
		VALUES (?, ?, ?, 'k', ?, 'malware', 'm', ?, ?, 1)`,
		func(i int) []any { return []any{acc.ID, i + 1, i + 1, sev[i%3], seen(i), seen(i)} }, n)
	return ctx
}
