package sqldb

import (
	"context"
	"database/sql"
	"errors"
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
	err = db.activityUpdate(ctx, l.clientID, func(ctx context.Context, tx *Tx) error {
		return tx.recordCheckIn(ctx, l, in, at)
	})
	if err != nil {
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
	err := db.ro.QueryRowContext(ctx, db.dialect.rebind(`SELECT l.id, l.account_id, l.client_id, l.status, c.status, p.name, p.product
		FROM licenses l JOIN clients c ON c.account_id = l.account_id AND c.id = l.client_id
		JOIN pools p ON p.account_id = l.account_id AND p.id = l.pool_id
		WHERE l.key_hash = ?`), hashSecret(key)).Scan(&l.id, &l.accountID, &l.clientID, &l.status, &l.clientStatus, &l.pool, &l.product)
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

// recordCheckIn writes one check-in at time at: the license's and the
// client's latest state (unless a later check-in is already there), the
// day's roll-up, the raw check-in and the alerts.
func (tx *Tx) recordCheckIn(ctx context.Context, l *pluginLicense, in *reseller.CheckIn, at time.Time) error {
	us := micros(at)
	day := at.Unix() / 86400
	score := int64(*in.Score)
	var blocked, scans, files int64
	var f reseller.Findings
	var scanUS sql.NullInt64
	if in.Firewall != nil {
		blocked = in.Firewall.Blocked
	}
	if in.Scan != nil {
		scans, files, f = 1, in.Scan.FilesScanned, in.Scan.Findings
		scanUS = sql.NullInt64{Int64: micros(in.Scan.CompletedAt), Valid: true}
	}
	if _, err := tx.actExec(ctx, `INSERT INTO license_state
		(account_id, license_id, client_id, site_url, plugin_version, platform_version, score, last_seen_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_id, license_id) DO UPDATE SET client_id = excluded.client_id, site_url = excluded.site_url,
			plugin_version = excluded.plugin_version, platform_version = excluded.platform_version,
			score = excluded.score, last_seen_us = excluded.last_seen_us
		WHERE excluded.last_seen_us >= license_state.last_seen_us`,
		l.accountID, l.id, l.clientID, in.SiteURL, in.PluginVersion, in.PlatformVersion, score, us); err != nil {
		return err
	}
	active := 0
	if l.clientStatus == reseller.ClientActive {
		active = 1
	}
	if _, err := tx.actExec(ctx, `INSERT INTO client_state (account_id, client_id, license_id, score, last_seen_us, active)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_id, client_id) DO UPDATE SET license_id = excluded.license_id, score = excluded.score,
			last_seen_us = excluded.last_seen_us, active = excluded.active
		WHERE excluded.last_seen_us >= client_state.last_seen_us`,
		l.accountID, l.clientID, l.id, score, us, active); err != nil {
		return err
	}
	if _, err := tx.actExec(ctx, `INSERT INTO activity_days (account_id, license_id, day, client_id, checkins,
			score_min, score_sum, score_last, last_us, blocked, scans, critical, warning, info)
		VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_id, license_id, day) DO UPDATE SET checkins = activity_days.checkins + 1,
			score_min = CASE WHEN excluded.score_min < activity_days.score_min THEN excluded.score_min ELSE activity_days.score_min END,
			score_sum = activity_days.score_sum + excluded.score_sum,
			score_last = CASE WHEN excluded.last_us >= activity_days.last_us THEN excluded.score_last ELSE activity_days.score_last END,
			last_us = CASE WHEN excluded.last_us >= activity_days.last_us THEN excluded.last_us ELSE activity_days.last_us END,
			blocked = activity_days.blocked + excluded.blocked, scans = activity_days.scans + excluded.scans,
			critical = activity_days.critical + excluded.critical, warning = activity_days.warning + excluded.warning,
			info = activity_days.info + excluded.info`,
		l.accountID, l.id, day, l.clientID, score, score, score, us, blocked, scans, f.Critical, f.Warning, f.Info); err != nil {
		return err
	}
	if _, err := tx.actExec(ctx, `INSERT INTO checkins (account_id, license_id, client_id, time_us, score, blocked,
			scan_us, files_scanned, critical, warning, info, alerts)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		l.accountID, l.id, l.clientID, us, score, blocked, scanUS, files, f.Critical, f.Warning, f.Info, len(in.Alerts)); err != nil {
		return err
	}
	for _, a := range in.Alerts {
		// The same key from the same license is one alert. A report no
		// later than the alert's last is a repeat and changes nothing; a
		// later one counts as raised again, and returns a dismissed alert
		// to the active view if it was raised after its dismissal.
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
			l.accountID, l.clientID, l.id, a.Key, string(a.Severity), a.Kind, a.Message, r, r); err != nil {
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
