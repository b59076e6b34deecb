package sqldb

import (
	"context"
	"strings"

	"github.com/resellerconsole/reseller"
)

const clientColumns = `c.id, c.account_id, c.email, c.name, c.status, c.created_at, c.updated_at,
	(SELECT count(*) FROM licenses l WHERE l.account_id = c.account_id AND l.client_id = c.id AND l.status = 'active'), c.site_url`

func scanClient(row scanner) (*reseller.Client, error) {
	c := &reseller.Client{}
	var created, updated int64
	if err := row.Scan(&c.ID, &c.AccountID, &c.Email, &c.Name, &c.Status, &created, &updated, &c.Licenses, &c.SiteURL); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return c, nil
}

// lockClient reads a client of the account for change (locking its row on PostgreSQL).
func (tx *Tx) lockClient(ctx context.Context, accountID, id int64) (*reseller.Client, error) {
	c, err := scanClient(tx.queryRow(ctx, "SELECT "+clientColumns+" FROM clients c WHERE c.account_id = ? AND c.id = ?"+tx.db.dialect.forUpdate, accountID, id))
	return c, notFound(err, "Client", id)
}

// CreateClient onboards a client and records client.created.
func (db *DB) CreateClient(ctx context.Context, email, name string) (*reseller.Client, error) {
	c, _, err := db.OnboardClient(ctx, reseller.NewClient{Email: email, Name: name})
	return c, err
}

// FindClientByID returns a client of the actor's account, with what its
// plugins last reported. ENOTFOUND.
func (db *DB) FindClientByID(ctx context.Context, id int64) (*reseller.Client, error) {
	a, err := reseller.Authorize(ctx, reseller.PermViewClients)
	if err != nil {
		return nil, err
	}
	c, err := scanClientView(db.ro.QueryRowContext(ctx, db.dialect.rebind("SELECT "+clientViewColumns+" FROM clients c"+clientStateJoin+
		" WHERE c.account_id = ? AND c.id = ?"), a.AccountID, id))
	return c, notFound(err, "Client", id)
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// SuspendClient suspends an active client and records client.suspended.
func (db *DB) SuspendClient(ctx context.Context, id int64, reason string) (*reseller.Client, error) {
	reason, err := reseller.CleanText("Reason", reason, reseller.MaxReasonLen)
	if err != nil {
		return nil, err
	}
	return db.transition(ctx, id, reseller.DoSuspend, reseller.ActionClientSuspended, reseller.Details{Reason: reason})
}

// ReactivateClient returns a suspended client to active and records client.reactivated.
func (db *DB) ReactivateClient(ctx context.Context, id int64) (*reseller.Client, error) {
	return db.transition(ctx, id, reseller.DoReactivate, reseller.ActionClientReactivated, reseller.Details{})
}

// DeleteClient revokes each of the client's active licenses (one
// license.revoked entry each, reason "client deleted"), then deletes the
// client (client.deleted), all in one transaction.
func (db *DB) DeleteClient(ctx context.Context, id int64) (*reseller.Client, error) {
	return db.DeleteClientWithReason(ctx, id, "")
}

// DeleteClientWithReason is DeleteClient with an optional reason, recorded
// in the client.deleted entry's details.
func (db *DB) DeleteClientWithReason(ctx context.Context, id int64, reason string) (*reseller.Client, error) {
	reason, err := reseller.CleanText("Reason", reason, reseller.MaxReasonLen)
	if err != nil {
		return nil, err
	}
	return db.transition(ctx, id, reseller.DoDelete, reseller.ActionClientDeleted, reseller.Details{Reason: reason})
}

// transition applies a status change to a client with its entry.
func (db *DB) transition(ctx context.Context, id int64, do reseller.ClientAction, action reseller.Action, d reseller.Details) (*reseller.Client, error) {
	perm := reseller.PermManageClients
	if do == reseller.DoDelete {
		perm = reseller.PermDeleteClients
	}
	a, err := reseller.Authorize(ctx, perm)
	if err != nil {
		return nil, err
	}
	var c *reseller.Client
	err = db.update(ctx, func(ctx context.Context, tx *Tx) error {
		if c, err = tx.lockClient(ctx, a.AccountID, id); err != nil {
			return err
		}
		if err := c.Status.Check(do); err != nil {
			return err
		}
		if do == reseller.DoDelete {
			if err := tx.revokeClientLicenses(ctx, a, c); err != nil {
				return err
			}
			c.Licenses = 0
		}
		c.Status, c.UpdatedAt = c.Status.Next(do), tx.now
		if _, err := tx.exec(ctx, "UPDATE clients SET status = ?, updated_at = ? WHERE account_id = ? AND id = ?",
			c.Status, micros(tx.now), a.AccountID, id); err != nil {
			return err
		}
		_, err := tx.appendEntry(ctx, a, action, reseller.Target{ID: c.ID, Email: c.Email}, d)
		return err
	})
	if err != nil {
		return nil, err
	}
	db.noteClientStatus(a.AccountID, c.ID, c.Status)
	return c, nil
}
