package sqldb

import (
	"context"
	"strings"

	"github.com/resellerconsole/reseller"
)

const clientColumns = `c.id, c.account_id, c.email, c.name, c.status, c.created_at, c.updated_at,
	(SELECT count(*) FROM licenses l WHERE l.account_id = c.account_id AND l.client_id = c.id AND l.status = 'active')`

func scanClient(row scanner) (*reseller.Client, error) {
	c := &reseller.Client{}
	var created, updated int64
	if err := row.Scan(&c.ID, &c.AccountID, &c.Email, &c.Name, &c.Status, &created, &updated, &c.Licenses); err != nil {
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
	a, err := reseller.Authorize(ctx, reseller.PermManageClients)
	if err != nil {
		return nil, err
	}
	if email, err = reseller.NormalizeEmail(email); err != nil {
		return nil, err
	}
	if name, err = reseller.CleanText("Name", name, reseller.MaxNameLen); err != nil {
		return nil, err
	}
	var c *reseller.Client
	err = db.update(ctx, func(ctx context.Context, tx *Tx) error {
		c = &reseller.Client{AccountID: a.AccountID, Email: email, Name: name, Status: reseller.ClientActive, CreatedAt: tx.now, UpdatedAt: tx.now}
		err := tx.queryRow(ctx, `INSERT INTO clients (account_id, email, name, status, created_at, updated_at)
			VALUES (?, ?, ?, 'active', ?, ?) RETURNING id`, a.AccountID, email, name, micros(tx.now), micros(tx.now)).Scan(&c.ID)
		if violates(err, errUnique, "email") {
			return reseller.Errorf(reseller.EEMAILTAKEN, "A client with email %s already exists.", email)
		} else if err != nil {
			return err
		}
		_, err = tx.appendEntry(ctx, a, reseller.ActionClientCreated, reseller.Target{ID: c.ID, Email: email}, reseller.Details{Name: name})
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// FindClientByID returns a client of the actor's account. ENOTFOUND.
func (db *DB) FindClientByID(ctx context.Context, id int64) (*reseller.Client, error) {
	a, err := reseller.Authorize(ctx, reseller.PermViewClients)
	if err != nil {
		return nil, err
	}
	c, err := scanClient(db.ro.QueryRowContext(ctx, db.dialect.rebind("SELECT "+clientColumns+" FROM clients c WHERE c.account_id = ? AND c.id = ?"), a.AccountID, id))
	return c, notFound(err, "Client", id)
}

// ListClients returns a page of the actor's account's clients, newest first.
func (db *DB) ListClients(ctx context.Context, f reseller.ClientFilter) ([]*reseller.Client, string, error) {
	a, err := reseller.Authorize(ctx, reseller.PermViewClients)
	if err != nil {
		return nil, "", err
	}
	if f.Status != "" && !f.Status.Valid() {
		return nil, "", reseller.Errorf(reseller.EINVALID, "Status %q is not one of active, suspended, deleted.", f.Status)
	}
	if err := reseller.CheckLimit(&f.Limit); err != nil {
		return nil, "", err
	}
	after, err := decodeCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	q := "SELECT " + clientColumns + " FROM clients c WHERE c.account_id = ?"
	args := []any{a.AccountID}
	if f.Status == "" {
		q += " AND c.status <> 'deleted'"
	} else {
		q += " AND c.status = ?"
		args = append(args, f.Status)
	}
	search, err := reseller.CleanSearch("Search", f.Search)
	if err != nil {
		return nil, "", err
	}
	if s := strings.ToLower(search); s != "" {
		q += ` AND (lower(c.email) LIKE ? ESCAPE '\' OR lower(c.name) LIKE ? ESCAPE '\')`
		like := "%" + escapeLike(s) + "%"
		args = append(args, like, like)
	}
	if after > 0 {
		q += " AND c.id < ?"
		args = append(args, after)
	}
	q += " ORDER BY c.id DESC LIMIT ?"
	args = append(args, f.Limit+1)
	rows, err := db.ro.QueryContext(ctx, db.dialect.rebind(q), args...)
	cs, err := collect(rows, err, scanClient)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(cs) > f.Limit {
		cs = cs[:f.Limit]
		next = encodeCursor(cs[len(cs)-1].ID)
	}
	return cs, next, nil
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
	return c, nil
}
