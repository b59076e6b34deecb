package sqldb

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/resellerconsole/reseller"
)

// pluginLicense is a license as a check-in finds it by its key.
type pluginLicense struct {
	id, accountID, clientID int64
	status                  reseller.LicenseStatus
	clientStatus            reseller.ClientStatus
	pool, product           string
}

// maxLicenseKeyLen bounds what is hashed and looked up as a key.
const maxLicenseKeyLen = 100

// CheckIn records a check-in of the plugin that holds key and answers with
// the license's state: active; suspended when the client is suspended;
// revoked when the license is revoked or the client deleted. Suspended and
// revoked are answers, not errors. It writes on the activity path, never
// the audit log: the site's latest state, its day's roll-up, the raw
// check-in and its alerts (a check-in of a revoked license is answered but
// not kept). EUNAUTHORIZED for an unknown key; EINVALID for bad input.
func (db *DB) CheckIn(ctx context.Context, key string, in *reseller.CheckIn) (*reseller.CheckInResult, error) {
	return db.CheckInAt(ctx, key, in, microNow(db))
}

// CheckInAt is CheckIn as if it arrived at time at: the same path, for the
// demo's history and for tests, which write months of check-ins at once.
func (db *DB) CheckInAt(ctx context.Context, key string, in *reseller.CheckIn, at time.Time) (*reseller.CheckInResult, error) {
	at = reseller.Micro(at)
	l, err := db.licenseByKey(ctx, key)
	if err != nil {
		return nil, err
	}
	if err := in.Validate(at); err != nil {
		return nil, err
	}
	res := &reseller.CheckInResult{NextCheckInSeconds: db.nextCheckIn()}
	res.License.Product, res.License.Pool = l.product, l.pool
	switch {
	case l.status != reseller.LicenseActive || l.clientStatus == reseller.ClientDeleted:
		res.License.Status = reseller.PluginRevoked
		return res, nil
	case l.clientStatus == reseller.ClientSuspended:
		res.License.Status = reseller.PluginSuspended
	default:
		res.License.Status = reseller.PluginActive
	}
	if err := db.activityCheckIn(ctx, newCheckinRow(l, in, at)); err != nil {
		return nil, err
	}
	return res, nil
}

// licenseByKey finds the license of a key. A key is the credential, so the
// lookup is across accounts, by the key's hash, as for API tokens.
func (db *DB) licenseByKey(ctx context.Context, key string) (*pluginLicense, error) {
	unknown := reseller.Errorf(reseller.EUNAUTHORIZED, "Unknown license key; check the key the plugin is configured with, or ask for a new one.")
	if !strings.HasPrefix(key, reseller.LicenseKeyPrefix) || len(key) > maxLicenseKeyLen {
		return nil, unknown
	}
	l := &pluginLicense{}
	// Prepared once (readRow): at thousands of check-ins a second, parsing
	// the query each time was a fifth of the server's CPU on SQLite.
	err := db.readRow(ctx, `SELECT l.id, l.account_id, l.client_id, l.status, c.status, p.name, p.product
		FROM licenses l JOIN clients c ON c.account_id = l.account_id AND c.id = l.client_id
		JOIN pools p ON p.account_id = l.account_id AND p.id = l.pool_id
		WHERE l.key_hash = ?`, hashSecret(key)).Scan(&l.id, &l.accountID, &l.clientID, &l.status, &l.clientStatus, &l.pool, &l.product)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, unknown
	}
	return l, translate(err)
}

// nextCheckIn is the interval the plugins are asked to keep: the default,
// longer while the activity writer has a backlog, so that a crowd of
// plugins spreads itself out.
func (db *DB) nextCheckIn() int {
	base := int(reseller.DefaultCheckInInterval / time.Second)
	switch b := db.ActivityBacklog(); {
	case b > 2*maxActivityBatch*4:
		return 3 * base
	case b > maxActivityBatch*4:
		return 2 * base
	}
	return base
}

// checkinRow is what one check-in writes.
type checkinRow struct {
	account, license, client, us, day, score, active int64
	site, plugin, platform                           string
	blocked, scans, files                            int64
	findings                                         reseller.Findings
	scanUS                                           *int64
	alerts                                           []*reseller.AlertInput
}

func newCheckinRow(l *pluginLicense, in *reseller.CheckIn, at time.Time) *checkinRow {
	c := &checkinRow{account: l.accountID, license: l.id, client: l.clientID, us: micros(at), day: at.Unix() / 86400,
		score: int64(*in.Score), site: in.SiteURL, plugin: in.PluginVersion, platform: in.PlatformVersion, alerts: in.Alerts}
	if l.clientStatus == reseller.ClientActive {
		c.active = 1
	}
	if in.Firewall != nil {
		c.blocked = in.Firewall.Blocked
	}
	if in.Scan != nil {
		us := micros(in.Scan.CompletedAt)
		c.scans, c.files, c.findings, c.scanUS = 1, in.Scan.FilesScanned, in.Scan.Findings, &us
	}
	return c
}

// The upserts of a check-in. A state row takes a check-in unless a later
// one is already there; a day's roll-up adds it up. As statements over one
// row (SQLite) or over unnest of arrays, one row per key (PostgreSQL).
const (
	upsertLicenseState = `ON CONFLICT (account_id, license_id) DO UPDATE SET client_id = excluded.client_id, site_url = excluded.site_url,
			plugin_version = excluded.plugin_version, platform_version = excluded.platform_version,
			score = excluded.score, last_seen_us = excluded.last_seen_us
		WHERE excluded.last_seen_us >= license_state.last_seen_us`
	upsertClientState = `ON CONFLICT (account_id, client_id) DO UPDATE SET license_id = excluded.license_id, score = excluded.score,
			last_seen_us = excluded.last_seen_us, active = excluded.active
		WHERE excluded.last_seen_us >= client_state.last_seen_us`
	upsertDay = `ON CONFLICT (account_id, license_id, day) DO UPDATE SET checkins = activity_days.checkins + excluded.checkins,
			score_min = CASE WHEN excluded.score_min < activity_days.score_min THEN excluded.score_min ELSE activity_days.score_min END,
			score_sum = activity_days.score_sum + excluded.score_sum,
			score_last = CASE WHEN excluded.last_us >= activity_days.last_us THEN excluded.score_last ELSE activity_days.score_last END,
			last_us = CASE WHEN excluded.last_us >= activity_days.last_us THEN excluded.last_us ELSE activity_days.last_us END,
			blocked = activity_days.blocked + excluded.blocked, scans = activity_days.scans + excluded.scans,
			critical = activity_days.critical + excluded.critical, warning = activity_days.warning + excluded.warning,
			info = activity_days.info + excluded.info`
	licenseStateCols = "INSERT INTO license_state (account_id, license_id, client_id, site_url, plugin_version, platform_version, score, last_seen_us) "
	clientStateCols  = "INSERT INTO client_state (account_id, client_id, license_id, score, last_seen_us, active) "
	dayCols          = "INSERT INTO activity_days (account_id, license_id, day, client_id, checkins, score_min, score_sum, score_last, last_us, blocked, scans, critical, warning, info) "
	checkinCols      = "INSERT INTO checkins (account_id, license_id, client_id, time_us, score, blocked, scan_us, files_scanned, critical, warning, info, alerts) "
)

// recordCheckIn writes one check-in: the license's and the client's latest
// state, the day's roll-up, the raw check-in and the alerts.
func (tx *Tx) recordCheckIn(ctx context.Context, c *checkinRow) error {
	var scanUS sql.NullInt64
	if c.scanUS != nil {
		scanUS = sql.NullInt64{Int64: *c.scanUS, Valid: true}
	}
	for _, st := range []struct {
		q    string
		args []any
	}{
		{licenseStateCols + "VALUES (?, ?, ?, ?, ?, ?, ?, ?) " + upsertLicenseState,
			[]any{c.account, c.license, c.client, c.site, c.plugin, c.platform, c.score, c.us}},
		{clientStateCols + "VALUES (?, ?, ?, ?, ?, ?) " + upsertClientState,
			[]any{c.account, c.client, c.license, c.score, c.us, c.active}},
		{dayCols + "VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?) " + upsertDay,
			[]any{c.account, c.license, c.day, c.client, c.score, c.score, c.score, c.us, c.blocked, c.scans, c.findings.Critical, c.findings.Warning, c.findings.Info}},
		{checkinCols + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			[]any{c.account, c.license, c.client, c.us, c.score, c.blocked, scanUS, c.files, c.findings.Critical, c.findings.Warning, c.findings.Info, len(c.alerts)}},
	} {
		if _, err := tx.actExec(ctx, st.q, st.args...); err != nil {
			return err
		}
	}
	return tx.recordAlerts(ctx, c)
}

// recordCheckIns writes a batch of check-ins with one statement per table
// (PostgreSQL): the latest of each license's and each client's, each
// license's day summed up, every raw check-in. Rows go in key order, so
// that writers of several instances lock them in one order.
func (tx *Tx) recordCheckIns(ctx context.Context, cs []*checkinRow) error {
	type licenseKey struct{ account, license int64 }
	type clientKey struct{ account, client int64 }
	type dayKey struct{ account, license, day int64 }
	type day struct {
		dayKey
		client, checkins, min, sum, last, lastUS, blocked, scans, critical, warning, info int64
	}
	licenses, clients, days := map[licenseKey]*checkinRow{}, map[clientKey]*checkinRow{}, map[dayKey]*day{}
	for _, c := range cs {
		if o := licenses[licenseKey{c.account, c.license}]; o == nil || c.us >= o.us {
			licenses[licenseKey{c.account, c.license}] = c
		}
		if o := clients[clientKey{c.account, c.client}]; o == nil || c.us >= o.us {
			clients[clientKey{c.account, c.client}] = c
		}
		k := dayKey{c.account, c.license, c.day}
		d := days[k]
		if d == nil {
			d = &day{dayKey: k, client: c.client, min: c.score, lastUS: c.us, last: c.score}
			days[k] = d
		}
		d.checkins++
		d.min, d.sum = min(d.min, c.score), d.sum+c.score
		if c.us >= d.lastUS {
			d.lastUS, d.last, d.client = c.us, c.score, c.client
		}
		d.blocked, d.scans = d.blocked+c.blocked, d.scans+c.scans
		d.critical, d.warning, d.info = d.critical+c.findings.Critical, d.warning+c.findings.Warning, d.info+c.findings.Info
	}

	ls := slices.SortedFunc(maps.Values(licenses), func(a, b *checkinRow) int {
		return cmp.Or(cmp.Compare(a.account, b.account), cmp.Compare(a.license, b.license))
	})
	var l cols
	for _, c := range ls {
		l.add(0, c.account).add(1, c.license).add(2, c.client).add(6, c.score).add(7, c.us)
		l.addText(3, c.site).addText(4, c.plugin).addText(5, c.platform)
	}
	cl := slices.SortedFunc(maps.Values(clients), func(a, b *checkinRow) int {
		return cmp.Or(cmp.Compare(a.account, b.account), cmp.Compare(a.client, b.client))
	})
	var cs6 cols
	for _, c := range cl {
		cs6.add(0, c.account).add(1, c.client).add(2, c.license).add(3, c.score).add(4, c.us).add(5, c.active)
	}
	ds := slices.SortedFunc(maps.Values(days), func(a, b *day) int {
		return cmp.Or(cmp.Compare(a.account, b.account), cmp.Compare(a.license, b.license), cmp.Compare(a.day, b.day))
	})
	var d14 cols
	for _, d := range ds {
		d14.add(0, d.account).add(1, d.license).add(2, d.day).add(3, d.client).add(4, d.checkins).add(5, d.min).add(6, d.sum).
			add(7, d.last).add(8, d.lastUS).add(9, d.blocked).add(10, d.scans).add(11, d.critical).add(12, d.warning).add(13, d.info)
	}
	var raw cols
	var scanUS []*int64
	for _, c := range cs {
		raw.add(0, c.account).add(1, c.license).add(2, c.client).add(3, c.us).add(4, c.score).add(5, c.blocked).
			add(7, c.files).add(8, c.findings.Critical).add(9, c.findings.Warning).add(10, c.findings.Info).add(11, int64(len(c.alerts)))
		scanUS = append(scanUS, c.scanUS)
	}
	for _, st := range []struct {
		q    string
		args []any
	}{
		{licenseStateCols + "SELECT * FROM unnest(" + arrays("bigint", "bigint", "bigint", "text", "text", "text", "bigint", "bigint") + ") " + upsertLicenseState,
			[]any{l.ints[0], l.ints[1], l.ints[2], l.texts[3], l.texts[4], l.texts[5], l.ints[6], l.ints[7]}},
		{clientStateCols + "SELECT * FROM unnest(" + arrays("bigint", "bigint", "bigint", "bigint", "bigint", "bigint") + ") " + upsertClientState,
			cs6.intArgs(6)},
		{dayCols + "SELECT * FROM unnest(" + arrays(slices.Repeat([]string{"bigint"}, 14)...) + ") " + upsertDay,
			d14.intArgs(14)},
		{checkinCols + "SELECT * FROM unnest(" + arrays(slices.Repeat([]string{"bigint"}, 12)...) + ")",
			[]any{raw.ints[0], raw.ints[1], raw.ints[2], raw.ints[3], raw.ints[4], raw.ints[5], scanUS, raw.ints[7], raw.ints[8], raw.ints[9], raw.ints[10], raw.ints[11]}},
	} {
		if _, err := tx.actExec(ctx, st.q, st.args...); err != nil {
			return err
		}
	}
	for _, c := range cs {
		if err := tx.recordAlerts(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// arrays is the parameter list of an unnest: "?::bigint[], ?::text[]".
func arrays(types ...string) string {
	var b strings.Builder
	for i, t := range types {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("?::" + t + "[]")
	}
	return b.String()
}

// cols gathers rows column by column, for unnest.
type cols struct {
	ints  [14][]int64
	texts [14][]string
}

func (c *cols) add(i int, v int64) *cols      { c.ints[i] = append(c.ints[i], v); return c }
func (c *cols) addText(i int, v string) *cols { c.texts[i] = append(c.texts[i], v); return c }

// intArgs returns the first n integer columns as arguments.
func (c *cols) intArgs(n int) []any {
	args := make([]any, n)
	for i := range n {
		args[i] = c.ints[i]
	}
	return args
}

// recordAlerts writes a check-in's alerts. The same key from the same
// license is one alert. A report no later than the alert's last is a
// repeat and changes nothing; a later one counts as raised again, and
// returns a dismissed alert to the active view if it was raised after its
// dismissal.
func (tx *Tx) recordAlerts(ctx context.Context, c *checkinRow) error {
	for _, a := range c.alerts {
		r := micros(a.RaisedAt)
		if _, err := tx.actExec(ctx, `INSERT INTO alerts (account_id, client_id, license_id, key, severity, kind, message,
				first_raised_us, last_raised_us, times_raised)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
			ON CONFLICT (account_id, license_id, key) DO UPDATE SET severity = excluded.severity, kind = excluded.kind,
				message = excluded.message, last_raised_us = excluded.last_raised_us, times_raised = alerts.times_raised + 1,
				dismissed_us = CASE WHEN alerts.dismissed_us < excluded.last_raised_us THEN NULL ELSE alerts.dismissed_us END,
				dismissed_by_id = CASE WHEN alerts.dismissed_us < excluded.last_raised_us THEN NULL ELSE alerts.dismissed_by_id END,
				dismissed_by_email = CASE WHEN alerts.dismissed_us < excluded.last_raised_us THEN '' ELSE alerts.dismissed_by_email END
			WHERE excluded.last_raised_us > alerts.last_raised_us`,
			c.account, c.client, c.license, a.Key, string(a.Severity), a.Kind, a.Message, r, r); err != nil {
			return err
		}
	}
	return nil
}

// actExec runs a statement of the activity path, prepared once per query on
// SQLite, where parsing costs about as much as running it (the activity
// database has one connection there, which the statement stays on).
func (tx *Tx) actExec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if !tx.db.dialect.singleWriter {
		r, err := tx.tx.ExecContext(ctx, tx.db.dialect.rebind(q), args...)
		return r, translate(err)
	}
	s, ok := tx.db.act.stmts.Load(q)
	if !ok {
		p, err := tx.db.act.db.PrepareContext(ctx, q)
		if err != nil {
			return nil, translate(err)
		}
		if old, loaded := tx.db.act.stmts.LoadOrStore(q, p); loaded {
			p.Close()
			s = old
		} else {
			s = p
		}
	}
	r, err := tx.tx.StmtContext(ctx, s.(*sql.Stmt)).ExecContext(ctx, args...)
	return r, translate(err)
}

// noteClientStatus copies a client's new status into its latest state, for
// the dashboard, after the change has committed (the two are in different
// databases on SQLite). Should this fail, the client's next check-in sets it.
func (db *DB) noteClientStatus(accountID, clientID int64, status reseller.ClientStatus) {
	active := 0
	if status == reseller.ClientActive {
		active = 1
	}
	db.activityUpdate(context.Background(), clientID, func(ctx context.Context, tx *Tx) error {
		_, err := tx.actExec(ctx, "UPDATE client_state SET active = ? WHERE account_id = ? AND client_id = ?", active, accountID, clientID)
		return err
	})
}
