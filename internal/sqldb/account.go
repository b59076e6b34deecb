package sqldb

import (
	"context"

	"github.com/resellerconsole/reseller"
)

// CreateAccount creates an account and its empty audit log. EINVALID.
func (db *DB) CreateAccount(ctx context.Context, name string) (*reseller.Account, error) {
	name, err := reseller.CleanText("Account name", name, reseller.MaxNameLen)
	if err != nil {
		return nil, err
	}
	if name == "" {
		return nil, reseller.Errorf(reseller.EINVALID, "Account name is required.")
	}
	a := &reseller.Account{Name: name}
	err = db.update(ctx, func(ctx context.Context, tx *Tx) error {
		a.CreatedAt = tx.now
		if err := tx.queryRow(ctx, "INSERT INTO accounts (name, created_at) VALUES (?, ?) RETURNING id",
			name, micros(tx.now)).Scan(&a.ID); err != nil {
			return err
		}
		_, err := tx.exec(ctx, "INSERT INTO audit_heads (account_id, size, last_time_us) VALUES (?, 0, 0)", a.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// FindAccountByID returns ENOTFOUND when there is no such account.
func (db *DB) FindAccountByID(ctx context.Context, id int64) (*reseller.Account, error) {
	a := &reseller.Account{ID: id}
	var created int64
	err := db.ro.QueryRowContext(ctx, db.dialect.rebind("SELECT name, created_at FROM accounts WHERE id = ?"), id).Scan(&a.Name, &created)
	if err != nil {
		return nil, notFound(err, "Account", id)
	}
	a.CreatedAt = fromMicros(created)
	return a, nil
}

// ListAccounts lists every account, for the operator.
func (db *DB) ListAccounts(ctx context.Context) ([]*reseller.Account, error) {
	rows, err := db.ro.QueryContext(ctx, "SELECT id, name, created_at FROM accounts ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var as []*reseller.Account
	for rows.Next() {
		a := &reseller.Account{}
		var created int64
		if err := rows.Scan(&a.ID, &a.Name, &created); err != nil {
			return nil, err
		}
		a.CreatedAt = fromMicros(created)
		as = append(as, a)
	}
	return as, rows.Err()
}
