package sqldb

import (
	"context"
	"database/sql"
	"strings"

	"github.com/resellerconsole/reseller"
)

const licenseColumns = "id, account_id, pool_id, client_id, label, status, allocated_at, revoked_at"

func scanLicense(row scanner) (*reseller.License, error) {
	l := &reseller.License{}
	var alloc int64
	var revoked sql.NullInt64
	if err := row.Scan(&l.ID, &l.AccountID, &l.PoolID, &l.ClientID, &l.Label, &l.Status, &alloc, &revoked); err != nil {
		return nil, err
	}
	l.AllocatedAt, l.RevokedAt = fromMicros(alloc), nullTime(revoked)
	return l, nil
}

// AllocateLicense takes one slot of a pool for a client and records
// license.allocated. The slot is taken by a conditional update of the pool's
// used count, so concurrent allocations never exceed capacity.
func (db *DB) AllocateLicense(ctx context.Context, clientID, poolID int64, label string) (*reseller.License, error) {
	a, err := reseller.Authorize(ctx, reseller.PermManageClients)
	if err != nil {
		return nil, err
	}
	if label, err = reseller.CleanText("Label", label, reseller.MaxLabelLen); err != nil {
		return nil, err
	}
	var l *reseller.License
	err = db.update(ctx, func(ctx context.Context, tx *Tx) error {
		c, err := tx.lockClient(ctx, a.AccountID, clientID)
		if err != nil {
			return err
		}
		l, err = tx.allocate(ctx, a, c, poolID, label)
		return err
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// allocate takes a slot of a pool for client c, read under lock, with a
// new license key, and records license.allocated.
func (tx *Tx) allocate(ctx context.Context, a *reseller.Actor, c *reseller.Client, poolID int64, label string) (*reseller.License, error) {
	clientID := c.ID
	if err := c.Status.Check(reseller.DoAllocate); err != nil {
		return nil, err
	}
	var poolName, product string
	err := tx.queryRow(ctx, `UPDATE pools SET used = used + 1 WHERE account_id = ? AND id = ? AND used < capacity
		RETURNING name, product`, a.AccountID, poolID).Scan(&poolName, &product)
	if err == sql.ErrNoRows {
		var n int
		if err := tx.queryRow(ctx, "SELECT count(*) FROM pools WHERE account_id = ? AND id = ?", a.AccountID, poolID).Scan(&n); err != nil {
			return nil, err
		} else if n == 0 {
			return nil, reseller.Errorf(reseller.ENOTFOUND, "Pool %d not found.", poolID)
		}
		return nil, reseller.Errorf(reseller.EPOOLEXHAUSTED, "Pool %d has no free slot.", poolID)
	} else if err != nil {
		return nil, err
	}
	key, hash := newSecret(reseller.LicenseKeyPrefix)
	l := &reseller.License{AccountID: a.AccountID, PoolID: poolID, ClientID: clientID, Label: label, Status: reseller.LicenseActive, AllocatedAt: tx.now, Key: key}
	if err := tx.queryRow(ctx, `INSERT INTO licenses (account_id, pool_id, client_id, label, status, allocated_at, key_hash)
		VALUES (?, ?, ?, ?, 'active', ?, ?) RETURNING id`, a.AccountID, poolID, clientID, label, micros(tx.now), hash).Scan(&l.ID); err != nil {
		return nil, err
	}
	_, err = tx.appendEntry(ctx, a, reseller.ActionLicenseAllocated, reseller.Target{ID: c.ID, Email: c.Email},
		reseller.Details{PoolID: poolID, PoolName: poolName, Product: product, LicenseID: l.ID, Label: label})
	return l, err
}

// RevokeLicense gives a license's slot back to its pool and records
// license.revoked. Revoking a revoked license is ECONFLICT.
func (db *DB) RevokeLicense(ctx context.Context, id int64, reason string) (*reseller.License, error) {
	a, err := reseller.Authorize(ctx, reseller.PermManageClients)
	if err != nil {
		return nil, err
	}
	if reason, err = reseller.CleanText("Reason", reason, reseller.MaxReasonLen); err != nil {
		return nil, err
	}
	var l *reseller.License
	err = db.update(ctx, func(ctx context.Context, tx *Tx) error {
		if l, err = scanLicense(tx.queryRow(ctx, "SELECT "+licenseColumns+" FROM licenses WHERE account_id = ? AND id = ?"+tx.db.dialect.forUpdate, a.AccountID, id)); err != nil {
			return notFound(err, "License", id)
		}
		if l.Status == reseller.LicenseRevoked {
			return reseller.Errorf(reseller.ECONFLICT, "License %d is already revoked.", id)
		}
		var email string
		if err := tx.queryRow(ctx, "SELECT email FROM clients WHERE account_id = ? AND id = ?", a.AccountID, l.ClientID).Scan(&email); err != nil {
			return err
		}
		return tx.revokeLicense(ctx, a, l, email, reason)
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// revokeLicense revokes an active license read under lock and records it.
func (tx *Tx) revokeLicense(ctx context.Context, a *reseller.Actor, l *reseller.License, clientEmail, reason string) error {
	var poolName, product string
	if err := tx.queryRow(ctx, "UPDATE pools SET used = used - 1 WHERE account_id = ? AND id = ? RETURNING name, product",
		a.AccountID, l.PoolID).Scan(&poolName, &product); err != nil {
		return err
	}
	now := tx.now
	l.Status, l.RevokedAt = reseller.LicenseRevoked, &now
	if _, err := tx.exec(ctx, "UPDATE licenses SET status = 'revoked', revoked_at = ? WHERE account_id = ? AND id = ?",
		micros(now), a.AccountID, l.ID); err != nil {
		return err
	}
	_, err := tx.appendEntry(ctx, a, reseller.ActionLicenseRevoked, reseller.Target{ID: l.ClientID, Email: clientEmail},
		reseller.Details{PoolID: l.PoolID, PoolName: poolName, Product: product, LicenseID: l.ID, Label: l.Label, Reason: reason})
	return err
}

// ClientDeletedReason is the reason of the revocations a client deletion makes.
const ClientDeletedReason = "client deleted"

// revokeClientLicenses revokes every active license of a client being
// deleted, in license order. It locks the pools involved in id order first,
// so that it cannot deadlock with allocations on PostgreSQL.
func (tx *Tx) revokeClientLicenses(ctx context.Context, a *reseller.Actor, c *reseller.Client) error {
	rows, err := tx.query(ctx, "SELECT "+licenseColumns+" FROM licenses WHERE account_id = ? AND client_id = ? AND status = 'active' ORDER BY id"+tx.db.dialect.forUpdate,
		a.AccountID, c.ID)
	if err != nil {
		return err
	}
	var ls []*reseller.License
	for rows.Next() {
		l, err := scanLicense(rows)
		if err != nil {
			rows.Close()
			return err
		}
		ls = append(ls, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(ls) == 0 {
		return nil
	}
	if tx.db.dialect.forUpdate != "" {
		if _, err := tx.exec(ctx, `SELECT id FROM pools WHERE account_id = ? AND id IN
			(SELECT pool_id FROM licenses WHERE account_id = ? AND client_id = ? AND status = 'active') ORDER BY id FOR UPDATE`,
			a.AccountID, a.AccountID, c.ID); err != nil {
			return err
		}
	}
	for _, l := range ls {
		if err := tx.revokeLicense(ctx, a, l, c.Email, ClientDeletedReason); err != nil {
			return err
		}
	}
	return nil
}

// FindLicenseByID returns a license of the actor's account. ENOTFOUND.
func (db *DB) FindLicenseByID(ctx context.Context, id int64) (*reseller.License, error) {
	a, err := reseller.Authorize(ctx, reseller.PermViewClients)
	if err != nil {
		return nil, err
	}
	l, err := scanLicense(db.ro.QueryRowContext(ctx, db.dialect.rebind("SELECT "+licenseColumns+" FROM licenses WHERE account_id = ? AND id = ?"), a.AccountID, id))
	return l, notFound(err, "License", id)
}

// ListLicenses returns a page of the actor's account's licenses, newest first.
func (db *DB) ListLicenses(ctx context.Context, f reseller.LicenseFilter) ([]*reseller.License, string, error) {
	a, err := reseller.Authorize(ctx, reseller.PermViewClients)
	if err != nil {
		return nil, "", err
	}
	if f.Status != "" && f.Status != reseller.LicenseActive && f.Status != reseller.LicenseRevoked {
		return nil, "", reseller.Errorf(reseller.EINVALID, "Status %q is not one of active, revoked.", f.Status)
	}
	if err := reseller.CheckLimit(&f.Limit); err != nil {
		return nil, "", err
	}
	after, err := decodeCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	var q strings.Builder
	q.WriteString("SELECT " + licenseColumns + " FROM licenses WHERE account_id = ?")
	args := []any{a.AccountID}
	if f.ClientID != 0 {
		q.WriteString(" AND client_id = ?")
		args = append(args, f.ClientID)
	}
	if f.PoolID != 0 {
		q.WriteString(" AND pool_id = ?")
		args = append(args, f.PoolID)
	}
	if f.Status != "" {
		q.WriteString(" AND status = ?")
		args = append(args, f.Status)
	}
	if after > 0 {
		q.WriteString(" AND id < ?")
		args = append(args, after)
	}
	q.WriteString(" ORDER BY id DESC LIMIT ?")
	args = append(args, f.Limit+1)
	rows, err := db.ro.QueryContext(ctx, db.dialect.rebind(q.String()), args...)
	ls, err := collect(rows, err, scanLicense)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ls) > f.Limit {
		ls = ls[:f.Limit]
		next = encodeCursor(ls[len(ls)-1].ID)
	}
	return ls, next, nil
}
