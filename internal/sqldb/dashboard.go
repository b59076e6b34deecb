package sqldb

import (
	"context"
	"database/sql"
	"time"

	"github.com/resellerconsole/reseller"
)

// Dashboard returns the roll-up of the actor's account that the landing
// page shows: client counts by status, the average score of the active
// clients that reported, every pool's usage, the lowest-scoring active
// clients, the active clients not seen for more than a day, and the newest
// active critical alerts. Each part is one indexed read. EFORBIDDEN.
func (db *DB) Dashboard(ctx context.Context) (*reseller.Dashboard, error) {
	a, err := reseller.Authorize(ctx, reseller.PermViewClients)
	if err != nil {
		return nil, err
	}
	d := &reseller.Dashboard{}
	rows, err := db.ro.QueryContext(ctx, db.dialect.rebind("SELECT status, count(*) FROM clients WHERE account_id = ? GROUP BY status"), a.AccountID)
	if err != nil {
		return nil, translate(err)
	}
	for rows.Next() {
		var status string
		var n int64
		if err := rows.Scan(&status, &n); err != nil {
			rows.Close()
			return nil, err
		}
		switch reseller.ClientStatus(status) {
		case reseller.ClientActive:
			d.ActiveClients = n
		case reseller.ClientSuspended:
			d.SuspendedClients = n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	d.TotalClients = d.ActiveClients + d.SuspendedClients
	const activeState = " FROM client_state s CROSS JOIN clients c WHERE c.account_id = s.account_id AND c.id = s.client_id AND s.account_id = ? AND c.status = 'active'"
	// The average and the count read client_state alone, by its index on
	// the active flag (see migrations/activity/002): a join with 100,000
	// clients costs more than the whole page may.
	cutoff := micros(db.Now().Add(-reseller.NotSeenAfter))
	var avg sql.NullFloat64
	var notSeen sql.NullInt64
	if err := db.ro.QueryRowContext(ctx, db.dialect.rebind(`SELECT avg(score), sum(CASE WHEN last_seen_us < ? THEN 1 ELSE 0 END)
		FROM client_state WHERE account_id = ? AND active = 1`), cutoff, a.AccountID).Scan(&avg, &notSeen); err != nil {
		return nil, translate(err)
	}
	d.NotSeenCount = notSeen.Int64
	if avg.Valid {
		v := float64(int(avg.Float64*10+0.5)) / 10
		d.AverageScore = &v
	}
	if d.Pools, err = db.ListPools(ctx); err != nil {
		return nil, err
	}
	const cols = "SELECT s.client_id, c.email, c.site_url, s.score, s.last_seen_us"
	scan := func(row scanner) (*reseller.ClientScore, error) {
		cs := &reseller.ClientScore{}
		var score, seen int64
		if err := row.Scan(&cs.ClientID, &cs.Email, &cs.SiteURL, &score, &seen); err != nil {
			return nil, err
		}
		n, t := int(score), fromMicros(seen)
		cs.Score, cs.LastSeen = &n, &t
		return cs, nil
	}
	rows, err = db.ro.QueryContext(ctx, db.dialect.rebind(cols+activeState+" ORDER BY s.score, s.client_id LIMIT ?"), a.AccountID, reseller.DashboardListSize)
	if d.LowestScores, err = collect(rows, err, scan); err != nil {
		return nil, err
	}
	rows, err = db.ro.QueryContext(ctx, db.dialect.rebind(cols+activeState+" AND s.last_seen_us < ? ORDER BY s.last_seen_us, s.client_id LIMIT ?"),
		a.AccountID, cutoff, reseller.DashboardListSize)
	if d.NotSeen, err = collect(rows, err, scan); err != nil {
		return nil, err
	}
	if d.CriticalAlerts, _, err = db.ListAlerts(ctx, reseller.AlertFilter{Severity: reseller.SeverityCritical, Limit: reseller.DashboardListSize}); err != nil {
		return nil, err
	}
	d.LowestScores, d.NotSeen, d.CriticalAlerts = nonNilSlice(d.LowestScores), nonNilSlice(d.NotSeen), nonNilSlice(d.CriticalAlerts)
	return d, nil
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ClientActivity returns a client's activity: one ActivityDay per day from
// from to to (both dates as read in loc, inclusive; the last 30 days up to
// today in loc when both are zero), summed over its licenses, with its
// sites' latest state and its recent scans. The days are UTC days, which
// is how they are rolled up: loc only says which dates the range names.
// ENOTFOUND for another account's client, EINVALID for a bad range.
func (db *DB) ClientActivity(ctx context.Context, clientID int64, from, to time.Time, loc *time.Location) (*reseller.ClientActivity, error) {
	a, err := reseller.Authorize(ctx, reseller.PermViewClients)
	if err != nil {
		return nil, err
	}
	if _, err := db.FindClientByID(ctx, clientID); err != nil {
		return nil, err
	}
	if loc == nil {
		loc = time.UTC
	}
	day := func(t time.Time) int64 {
		y, m, d := t.In(loc).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
	}
	if to.IsZero() {
		to = db.Now()
	}
	last := day(to)
	first := last - 29
	if !from.IsZero() {
		first = day(from)
	}
	switch {
	case first > last:
		return nil, reseller.Errorf(reseller.EINVALID, "The range starts after it ends.")
	case last-first+1 > reseller.MaxActivityDays:
		return nil, reseller.Errorf(reseller.EINVALID, "The range is %d days; ask for at most %d.", last-first+1, reseller.MaxActivityDays)
	}
	date := func(d int64) string { return time.Unix(d*86400, 0).UTC().Format(time.DateOnly) }
	ca := &reseller.ClientActivity{ClientID: clientID, From: date(first), To: date(last),
		Days: make([]reseller.ActivityDay, last-first+1), Sites: []reseller.SiteState{}, Scans: []reseller.ScanReport{}}
	type acc struct{ sum, lastUS int64 }
	sums := make([]acc, len(ca.Days))
	for i := range ca.Days {
		ca.Days[i].Day = date(first + int64(i))
	}
	rows, err := db.ro.QueryContext(ctx, db.dialect.rebind(`SELECT day, checkins, score_min, score_sum, score_last, last_us,
		blocked, scans, critical, warning, info FROM activity_days WHERE account_id = ? AND client_id = ? AND day >= ? AND day <= ?`),
		a.AccountID, clientID, first, last)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var d, n, smin, ssum, slast, lastUS, blocked, scans, crit, warn, info int64
		if err := rows.Scan(&d, &n, &smin, &ssum, &slast, &lastUS, &blocked, &scans, &crit, &warn, &info); err != nil {
			return nil, err
		}
		i := d - first
		ad, s := &ca.Days[i], &sums[i]
		ad.CheckIns += n
		ad.Blocked += blocked
		ad.Scans += scans
		ad.Critical, ad.Warning, ad.Info = ad.Critical+crit, ad.Warning+warn, ad.Info+info
		s.sum += ssum
		if ad.ScoreMin == nil || int(smin) < *ad.ScoreMin {
			v := int(smin)
			ad.ScoreMin = &v
		}
		if lastUS >= s.lastUS {
			v := int(slast)
			ad.ScoreLast, s.lastUS = &v, lastUS
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range ca.Days {
		if n := ca.Days[i].CheckIns; n > 0 {
			v := int((sums[i].sum + n/2) / n)
			ca.Days[i].ScoreAvg = &v
		}
	}
	rows, err = db.ro.QueryContext(ctx, db.dialect.rebind(`SELECT license_id, client_id, site_url, plugin_version, platform_version, score, last_seen_us
		FROM license_state WHERE account_id = ? AND client_id = ? ORDER BY last_seen_us DESC`), a.AccountID, clientID)
	sites, err := collect(rows, err, func(r scanner) (reseller.SiteState, error) {
		var s reseller.SiteState
		var seen int64
		err := r.Scan(&s.LicenseID, &s.ClientID, &s.SiteURL, &s.PluginVersion, &s.PlatformVersion, &s.Score, &seen)
		s.LastSeen = fromMicros(seen)
		return s, err
	})
	if err != nil {
		return nil, err
	}
	ca.Sites = append(ca.Sites, sites...)
	rows, err = db.ro.QueryContext(ctx, db.dialect.rebind(`SELECT license_id, scan_us, files_scanned, critical, warning, info
		FROM checkins WHERE account_id = ? AND client_id = ? AND scan_us IS NOT NULL ORDER BY scan_us DESC LIMIT 20`), a.AccountID, clientID)
	scans, err := collect(rows, err, func(r scanner) (reseller.ScanReport, error) {
		var s reseller.ScanReport
		var at int64
		err := r.Scan(&s.LicenseID, &at, &s.FilesScanned, &s.Findings.Critical, &s.Findings.Warning, &s.Findings.Info)
		s.CompletedAt = fromMicros(at)
		return s, err
	})
	if err != nil {
		return nil, err
	}
	ca.Scans = append(ca.Scans, scans...)
	return ca, nil
}
