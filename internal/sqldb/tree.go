package sqldb

import (
	"context"

	"golang.org/x/mod/sumdb/tlog"
)

// ViewLog calls fn with an account's log size and a reader of its stored
// Merkle hashes, over one consistent snapshot. For proofs and checks; it
// does no role check, so callers authorise first.
func (db *DB) ViewLog(ctx context.Context, accountID int64, fn func(size int64, hashes tlog.HashReader) error) error {
	return db.view(ctx, func(tx *Tx) error {
		size, err := tx.logSize(ctx, accountID)
		if err != nil {
			return err
		}
		return fn(size, tx.hashReader(ctx, accountID))
	})
}

// Head returns the size and Merkle root of an account's log.
func (db *DB) Head(ctx context.Context, accountID int64) (size int64, root tlog.Hash, err error) {
	err = db.ViewLog(ctx, accountID, func(n int64, r tlog.HashReader) error {
		size = n
		root, err = tlog.TreeHash(n, r)
		return err
	})
	return size, root, err
}
