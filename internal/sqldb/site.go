package sqldb

import (
	"context"

	"github.com/resellerconsole/reseller"
)

// OnboardClient creates a client with its site URL and records
// client.created; with nc.PoolID it also allocates the client's first
// license in the same transaction (license.allocated, the same request id),
// so that a full pool refuses the whole onboarding and nothing is written.
// The license comes back with its key, which is shown this once. EINVALID,
// EEMAILTAKEN, EPOOLEXHAUSTED, ENOTFOUND (pool), EFORBIDDEN.
func (db *DB) OnboardClient(ctx context.Context, nc reseller.NewClient) (*reseller.Client, *reseller.License, error) {
	a, err := reseller.Authorize(ctx, reseller.PermManageClients)
	if err != nil {
		return nil, nil, err
	}
	email, err := reseller.NormalizeEmail(nc.Email)
	if err != nil {
		return nil, nil, err
	}
	name, err := reseller.CleanText("Name", nc.Name, reseller.MaxNameLen)
	if err != nil {
		return nil, nil, err
	}
	site, err := reseller.NormalizeSiteURL(nc.SiteURL)
	if err != nil {
		return nil, nil, err
	}
	label, err := reseller.CleanText("Label", nc.Label, reseller.MaxLabelLen)
	if err != nil {
		return nil, nil, err
	}
	if nc.PoolID < 0 {
		return nil, nil, reseller.Errorf(reseller.EINVALID, "Pool id %d is not valid.", nc.PoolID)
	}
	if label != "" && nc.PoolID == 0 {
		return nil, nil, reseller.Errorf(reseller.EINVALID, "A label names the first license: give a pool to allocate it from.")
	}
	var c *reseller.Client
	var l *reseller.License
	err = db.update(ctx, func(ctx context.Context, tx *Tx) error {
		c = &reseller.Client{AccountID: a.AccountID, Email: email, Name: name, SiteURL: site, Status: reseller.ClientActive, CreatedAt: tx.now, UpdatedAt: tx.now}
		err := tx.queryRow(ctx, `INSERT INTO clients (account_id, email, name, status, created_at, updated_at, site_url)
			VALUES (?, ?, ?, 'active', ?, ?, ?) RETURNING id`, a.AccountID, email, name, micros(tx.now), micros(tx.now), site).Scan(&c.ID)
		if violates(err, errUnique, "email") {
			return reseller.Errorf(reseller.EEMAILTAKEN, "A client with email %s already exists.", email)
		} else if err != nil {
			return err
		}
		if _, err := tx.appendEntry(ctx, a, reseller.ActionClientCreated, reseller.Target{ID: c.ID, Email: email}, reseller.Details{Name: name}); err != nil {
			return err
		}
		if nc.PoolID == 0 {
			return nil
		}
		if l, err = tx.allocate(ctx, a, c, nc.PoolID, label); err != nil {
			return err
		}
		c.Licenses = 1
		return tx.queryRow(ctx, "SELECT product FROM pools WHERE account_id = ? AND id = ?", a.AccountID, nc.PoolID).Scan(&c.Product)
	})
	if err != nil {
		return nil, nil, err
	}
	return c, l, nil
}

// ReissueLicenseKey gives an active license a new key and records
// license.key_reissued (target the client; details the license and its
// pool). The old key stops working at once; the new one is returned in
// License.Key, this once. Licenses allocated before keys existed get their
// first key this way. ENOTFOUND, ECONFLICT (revoked), EFORBIDDEN.
func (db *DB) ReissueLicenseKey(ctx context.Context, id int64) (*reseller.License, error) {
	a, err := reseller.Authorize(ctx, reseller.PermManageClients)
	if err != nil {
		return nil, err
	}
	var l *reseller.License
	err = db.update(ctx, func(ctx context.Context, tx *Tx) error {
		if l, err = scanLicense(tx.queryRow(ctx, "SELECT "+licenseColumns+" FROM licenses WHERE account_id = ? AND id = ?"+tx.db.dialect.forUpdate, a.AccountID, id)); err != nil {
			return notFound(err, "License", id)
		}
		if l.Status != reseller.LicenseActive {
			return reseller.Errorf(reseller.ECONFLICT, "License %d is revoked; only an active license has a key.", id)
		}
		var email, poolName, product string
		if err := tx.queryRow(ctx, `SELECT c.email, p.name, p.product FROM clients c, pools p
			WHERE c.account_id = ? AND c.id = ? AND p.account_id = c.account_id AND p.id = ?`, a.AccountID, l.ClientID, l.PoolID).Scan(&email, &poolName, &product); err != nil {
			return err
		}
		key, hash := newSecret(reseller.LicenseKeyPrefix)
		if _, err := tx.exec(ctx, "UPDATE licenses SET key_hash = ? WHERE account_id = ? AND id = ?", hash, a.AccountID, id); err != nil {
			return err
		}
		l.Key = key
		_, err := tx.appendEntry(ctx, a, reseller.ActionLicenseKeyReissued, reseller.Target{ID: l.ClientID, Email: email},
			reseller.Details{PoolID: l.PoolID, PoolName: poolName, Product: product, LicenseID: l.ID, Label: l.Label})
		return err
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}
