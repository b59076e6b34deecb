package sqldb

import (
	"context"

	"github.com/resellerconsole/reseller"
)

const poolColumns = "id, account_id, name, product, capacity, used, created_at"

func scanPool(row scanner) (*reseller.Pool, error) {
	p := &reseller.Pool{}
	var created int64
	if err := row.Scan(&p.ID, &p.AccountID, &p.Name, &p.Product, &p.Capacity, &p.Used, &created); err != nil {
		return nil, err
	}
	p.Free, p.CreatedAt = p.Capacity-p.Used, fromMicros(created)
	return p, nil
}

func checkCapacity(c int) error {
	if c < 0 || c > reseller.MaxCapacity {
		return reseller.Errorf(reseller.EINVALID, "Capacity must be between 0 and %d, not %d.", reseller.MaxCapacity, c)
	}
	return nil
}

// CreatePool creates a pool in an account, for the platform operator.
// EINVALID, ENOTFOUND (account).
func (db *DB) CreatePool(ctx context.Context, accountID int64, name, product string, capacity int) (*reseller.Pool, error) {
	name, err := reseller.CleanText("Pool name", name, reseller.MaxNameLen)
	if err != nil {
		return nil, err
	} else if name == "" {
		return nil, reseller.Errorf(reseller.EINVALID, "Pool name is required.")
	}
	if product, err = reseller.CleanText("Product", product, reseller.MaxNameLen); err != nil {
		return nil, err
	} else if product == "" {
		product = reseller.DefaultProduct
	}
	if err := checkCapacity(capacity); err != nil {
		return nil, err
	}
	p := &reseller.Pool{AccountID: accountID, Name: name, Product: product, Capacity: capacity, Free: capacity}
	err = db.update(ctx, func(ctx context.Context, tx *Tx) error {
		var n int
		if err := tx.queryRow(ctx, "SELECT count(*) FROM accounts WHERE id = ?", accountID).Scan(&n); err != nil {
			return err
		} else if n == 0 {
			return reseller.Errorf(reseller.ENOTFOUND, "Account %d not found.", accountID)
		}
		p.CreatedAt = tx.now
		return tx.queryRow(ctx, "INSERT INTO pools (account_id, name, product, capacity, used, created_at) VALUES (?, ?, ?, ?, 0, ?) RETURNING id",
			accountID, name, product, capacity, micros(tx.now)).Scan(&p.ID)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// ResizePool changes a pool's capacity, never below the slots in use
// (ECONFLICT). For the platform operator. EINVALID, ENOTFOUND.
func (db *DB) ResizePool(ctx context.Context, poolID int64, capacity int) (*reseller.Pool, error) {
	if err := checkCapacity(capacity); err != nil {
		return nil, err
	}
	var p *reseller.Pool
	err := db.update(ctx, func(ctx context.Context, tx *Tx) error {
		var err error
		p, err = scanPool(tx.queryRow(ctx, "SELECT "+poolColumns+" FROM pools WHERE id = ?"+tx.db.dialect.forUpdate, poolID))
		if err != nil {
			return notFound(err, "Pool", poolID)
		}
		if capacity < p.Used {
			return reseller.Errorf(reseller.ECONFLICT, "Pool %d has %d slots in use; capacity cannot go below that.", poolID, p.Used)
		}
		p.Capacity, p.Free = capacity, capacity-p.Used
		_, err = tx.exec(ctx, "UPDATE pools SET capacity = ? WHERE id = ?", capacity, poolID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// FindPoolByID returns a pool of the actor's account. ENOTFOUND.
func (db *DB) FindPoolByID(ctx context.Context, id int64) (*reseller.Pool, error) {
	a, err := reseller.Authorize(ctx, reseller.PermViewClients)
	if err != nil {
		return nil, err
	}
	p, err := scanPool(db.ro.QueryRowContext(ctx, db.dialect.rebind("SELECT "+poolColumns+" FROM pools WHERE account_id = ? AND id = ?"), a.AccountID, id))
	return p, notFound(err, "Pool", id)
}

// ListPools lists the actor's account's pools.
func (db *DB) ListPools(ctx context.Context) ([]*reseller.Pool, error) {
	a, err := reseller.Authorize(ctx, reseller.PermViewClients)
	if err != nil {
		return nil, err
	}
	return db.listPools(ctx, a.AccountID)
}

// ListAccountPools lists an account's pools, for the operator.
func (db *DB) ListAccountPools(ctx context.Context, accountID int64) ([]*reseller.Pool, error) {
	return db.listPools(ctx, accountID)
}

func (db *DB) listPools(ctx context.Context, accountID int64) ([]*reseller.Pool, error) {
	rows, err := db.ro.QueryContext(ctx, db.dialect.rebind("SELECT "+poolColumns+" FROM pools WHERE account_id = ? ORDER BY id"), accountID)
	return collect(rows, err, scanPool)
}
