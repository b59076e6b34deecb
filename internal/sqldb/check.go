package sqldb

import (
	"context"
	"fmt"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
)

// CheckAccount verifies an account's log against itself and against the
// state it describes: every record is canonical and hashes to its stored
// leaf, every stored Merkle hash is right, seqs run 1..size without gaps,
// the latest checkpoint's signature holds and its root matches the tree,
// and replaying the log from empty rebuilds exactly the clients and
// licenses in the tables (and each pool's used count). It returns the first
// discrepancy found. For the operator (`reseller audit check`).
func (db *DB) CheckAccount(ctx context.Context, accountID int64) error {
	var cp *auditlog.Checkpoint
	latest, err := db.LatestCheckpoint(ctx, accountID)
	switch {
	case err == nil:
		origin := auditlog.Origin(db.keyName(), accountID)
		c, err := auditlog.OpenCheckpoint([]byte(latest.Note), db.verifierKey, origin)
		for _, k := range db.oldKeys {
			if err == nil {
				break
			}
			c, err = auditlog.OpenCheckpoint([]byte(latest.Note), k, origin)
		}
		if db.verifierKey == "" {
			c, err = auditlog.ParseCheckpoint(noteText([]byte(latest.Note)))
		}
		if err != nil {
			return fmt.Errorf("checkpoint of size %d: %w", latest.Size, err)
		}
		cp = &c
	case reseller.ErrorCode(err) != reseller.ENOTFOUND:
		return err
	}
	return db.view(ctx, func(tx *Tx) error {
		size, err := tx.logSize(ctx, accountID)
		if err != nil {
			return err
		}
		all := &auditQuery{accountID: accountID, lo: 1, hi: 1 << 62}
		all.where.WriteString("account_id = ?")
		all.args = []any{accountID}
		records := func(fn func(int64, []byte) error) error { return tx.scanRows(ctx, all, reseller.OrderAsc, true, fn) }
		if err := auditlog.CheckLog(size, records, db.hashReader(ctx, accountID), cp); err != nil {
			return err
		}
		state, err := auditlog.Replay(func(fn func(*reseller.Entry) error) error {
			return tx.scanRows(ctx, all, reseller.OrderAsc, true, func(_ int64, rec []byte) error {
				e, err := auditlog.DecodeRecord(rec)
				if err != nil {
					return err
				}
				return fn(e)
			})
		})
		if err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		return tx.compareState(ctx, accountID, state)
	})
}

// compareState reports the first difference between the replayed state and the tables.
func (tx *Tx) compareState(ctx context.Context, accountID int64, s *auditlog.State) error {
	rows, err := tx.query(ctx, "SELECT id, email, name, status FROM clients WHERE account_id = ? ORDER BY id", accountID)
	if err != nil {
		return err
	}
	n := 0
	for rows.Next() {
		var id int64
		var c auditlog.ClientState
		if err := rows.Scan(&id, &c.Email, &c.Name, &c.Status); err != nil {
			rows.Close()
			return err
		}
		n++
		if got, ok := s.Clients[id]; !ok {
			rows.Close()
			return fmt.Errorf("client %d (%s) is in the table but the log never created it", id, c.Email)
		} else if got != c {
			rows.Close()
			return fmt.Errorf("client %d: the table has %+v but the log replays to %+v", id, c, got)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if n != len(s.Clients) {
		return fmt.Errorf("the log created %d clients but the table has %d", len(s.Clients), n)
	}
	rows, err = tx.query(ctx, "SELECT id, pool_id, client_id, label, status FROM licenses WHERE account_id = ? ORDER BY id", accountID)
	if err != nil {
		return err
	}
	used := map[int64]int{}
	n = 0
	for rows.Next() {
		var id int64
		var l auditlog.LicenseState
		if err := rows.Scan(&id, &l.PoolID, &l.ClientID, &l.Label, &l.Status); err != nil {
			rows.Close()
			return err
		}
		n++
		if l.Status == reseller.LicenseActive {
			used[l.PoolID]++
		}
		if got, ok := s.Licenses[id]; !ok {
			rows.Close()
			return fmt.Errorf("license %d is in the table but the log never allocated it", id)
		} else if got != l {
			rows.Close()
			return fmt.Errorf("license %d: the table has %+v but the log replays to %+v", id, l, got)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if n != len(s.Licenses) {
		return fmt.Errorf("the log allocated %d licenses but the table has %d", len(s.Licenses), n)
	}
	rows, err = tx.query(ctx, "SELECT id, used FROM pools WHERE account_id = ? ORDER BY id", accountID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var u int
		if err := rows.Scan(&id, &u); err != nil {
			return err
		}
		if u != used[id] {
			return fmt.Errorf("pool %d counts %d slots in use but %d licenses are active", id, u, used[id])
		}
	}
	return rows.Err()
}
