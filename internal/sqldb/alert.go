package sqldb

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/resellerconsole/reseller"
)

const alertColumns = `a.id, a.client_id, COALESCE(c.email, ''), a.license_id, a.key, a.severity, a.kind, a.message,
	a.first_raised_us, a.last_raised_us, a.times_raised, a.dismissed_us, a.dismissed_by_email`

const alertFrom = " FROM alerts a LEFT JOIN clients c ON c.account_id = a.account_id AND c.id = a.client_id"

func scanAlert(row scanner) (*reseller.Alert, error) {
	a := &reseller.Alert{}
	var first, last int64
	var dismissed sql.NullInt64
	if err := row.Scan(&a.ID, &a.ClientID, &a.ClientEmail, &a.LicenseID, &a.Key, &a.Severity, &a.Kind, &a.Message,
		&first, &last, &a.TimesRaised, &dismissed, &a.DismissedBy); err != nil {
		return nil, err
	}
	a.FirstRaised, a.LastRaised, a.DismissedAt = fromMicros(first), fromMicros(last), nullTime(dismissed)
	return a, nil
}

// ListAlerts returns a page of the actor's account's alerts, last raised
// first, and the cursor of the next page. Active alerts only unless
// f.Dismissed says otherwise. EINVALID for a bad filter or cursor.
func (db *DB) ListAlerts(ctx context.Context, f reseller.AlertFilter) ([]*reseller.Alert, string, error) {
	act, err := reseller.Authorize(ctx, reseller.PermViewClients)
	if err != nil {
		return nil, "", err
	}
	if err := reseller.CheckLimit(&f.Limit); err != nil {
		return nil, "", err
	}
	q := "SELECT " + alertColumns + alertFrom + " WHERE a.account_id = ?"
	args := []any{act.AccountID}
	switch f.Dismissed {
	case "", reseller.AlertsActive:
		q += " AND a.dismissed_us IS NULL"
	case reseller.AlertsDismissed:
		q += " AND a.dismissed_us IS NOT NULL"
	case reseller.AlertsAll:
	default:
		return nil, "", reseller.Errorf(reseller.EINVALID, "Dismissed %q is not one of active, dismissed, all.", f.Dismissed)
	}
	if f.Severity != "" {
		if !f.Severity.Valid() {
			return nil, "", reseller.Errorf(reseller.EINVALID, "Severity %q is not one of critical, warning, info.", f.Severity)
		}
		q += " AND a.severity = ?"
		args = append(args, string(f.Severity))
	}
	if f.ClientID != 0 {
		q += " AND a.client_id = ?"
		args = append(args, f.ClientID)
	}
	if f.Cursor != "" {
		last, id, err := decodeAlertCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		q += " AND (a.last_raised_us < ? OR (a.last_raised_us = ? AND a.id < ?))"
		args = append(args, last, last, id)
	}
	q += " ORDER BY a.last_raised_us DESC, a.id DESC LIMIT ?"
	args = append(args, f.Limit+1)
	rows, err := db.ro.QueryContext(ctx, db.dialect.rebind(q), args...)
	as, err := collect(rows, err, scanAlert)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(as) > f.Limit {
		as = as[:f.Limit]
		l := as[len(as)-1]
		next = base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "a1.%d.%d", micros(l.LastRaised), l.ID))
	}
	return as, next, nil
}

func decodeAlertCursor(c string) (last, id int64, err error) {
	b, derr := base64.RawURLEncoding.DecodeString(c)
	s, ok := strings.CutPrefix(string(b), "a1.")
	if n, serr := fmt.Sscanf(s, "%d.%d", &last, &id); derr != nil || !ok || serr != nil || n != 2 || id < 1 {
		return 0, 0, reseller.Errorf(reseller.EINVALID, "Cursor %q is not valid; use next_cursor from a previous page.", c)
	}
	return last, id, nil
}

// FindAlert returns an alert of the actor's account. ENOTFOUND.
func (db *DB) FindAlert(ctx context.Context, id int64) (*reseller.Alert, error) {
	act, err := reseller.Authorize(ctx, reseller.PermViewClients)
	if err != nil {
		return nil, err
	}
	a, err := scanAlert(db.ro.QueryRowContext(ctx, db.dialect.rebind("SELECT "+alertColumns+alertFrom+" WHERE a.account_id = ? AND a.id = ?"), act.AccountID, id))
	return a, notFound(err, "Alert", id)
}

// DismissAlert clears an alert from the active view, noting who did and
// when; it stays in the history. Dismissing a dismissed alert changes
// nothing. Not an audit log action: alerts are plugin activity. ENOTFOUND,
// EFORBIDDEN.
func (db *DB) DismissAlert(ctx context.Context, id int64) (*reseller.Alert, error) {
	return db.setDismissed(ctx, id, true)
}

// UndismissAlert returns a dismissed alert to the active view. ENOTFOUND,
// EFORBIDDEN.
func (db *DB) UndismissAlert(ctx context.Context, id int64) (*reseller.Alert, error) {
	return db.setDismissed(ctx, id, false)
}

func (db *DB) setDismissed(ctx context.Context, id int64, dismiss bool) (*reseller.Alert, error) {
	act, err := reseller.Authorize(ctx, reseller.PermManageClients)
	if err != nil {
		return nil, err
	}
	err = db.activityUpdate(ctx, 0, func(ctx context.Context, tx *Tx) error {
		var err error
		if dismiss {
			_, err = tx.tx.ExecContext(ctx, db.dialect.rebind(`UPDATE alerts SET dismissed_us = ?, dismissed_by_id = ?, dismissed_by_email = ?
				WHERE account_id = ? AND id = ? AND dismissed_us IS NULL`), micros(tx.now), act.UserID, act.Email, act.AccountID, id)
		} else {
			_, err = tx.tx.ExecContext(ctx, db.dialect.rebind(`UPDATE alerts SET dismissed_us = NULL, dismissed_by_id = NULL, dismissed_by_email = ''
				WHERE account_id = ? AND id = ?`), act.AccountID, id)
		}
		return translate(err)
	})
	if err != nil {
		return nil, err
	}
	return db.FindAlert(ctx, id)
}
