package sqldb

import (
	"context"
	"fmt"
	"slices"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog/replay"
)

// compareState reports to add every difference between the replayed state
// and the tables: a client or license that one has and the other has not,
// or has otherwise, and a pool whose used count is not its active licenses.
func (tx *Tx) compareState(ctx context.Context, accountID int64, s *replay.State, add func(error)) error {
	seen := map[int64]bool{}
	err := tx.each(ctx, func(scan func(...any) error) error {
		var id int64
		var c replay.ClientState
		if err := scan(&id, &c.Email, &c.Name, &c.Status); err != nil {
			return err
		}
		seen[id] = true
		if got, ok := s.Clients[id]; !ok {
			add(fmt.Errorf("client %d (%s) is in the table but the log never created it", id, c.Email))
		} else if got != c {
			add(fmt.Errorf("client %d: the table has %+v but the log replays to %+v", id, c, got))
		}
		return nil
	}, "SELECT id, email, name, status FROM clients WHERE account_id = ? ORDER BY id", accountID)
	if err != nil {
		return err
	}
	for _, id := range sortedKeys(s.Clients) {
		if !seen[id] {
			add(fmt.Errorf("client %d (%s): the log created it but the table does not have it", id, s.Clients[id].Email))
		}
	}

	clear(seen)
	used := map[int64]int{}
	err = tx.each(ctx, func(scan func(...any) error) error {
		var id int64
		var l replay.LicenseState
		if err := scan(&id, &l.PoolID, &l.ClientID, &l.Label, &l.Status); err != nil {
			return err
		}
		seen[id] = true
		if l.Status == reseller.LicenseActive {
			used[l.PoolID]++
		}
		if got, ok := s.Licenses[id]; !ok {
			add(fmt.Errorf("license %d is in the table but the log never allocated it", id))
		} else if got != l {
			add(fmt.Errorf("license %d: the table has %+v but the log replays to %+v", id, l, got))
		}
		return nil
	}, "SELECT id, pool_id, client_id, label, status FROM licenses WHERE account_id = ? ORDER BY id", accountID)
	if err != nil {
		return err
	}
	for _, id := range sortedKeys(s.Licenses) {
		if !seen[id] {
			add(fmt.Errorf("license %d: the log allocated it but the table does not have it", id))
		}
	}

	return tx.each(ctx, func(scan func(...any) error) error {
		var id int64
		var u int
		if err := scan(&id, &u); err != nil {
			return err
		}
		if u != used[id] {
			add(fmt.Errorf("pool %d counts %d slots in use but %d licenses are active", id, u, used[id]))
		}
		return nil
	}, "SELECT id, used FROM pools WHERE account_id = ? ORDER BY id", accountID)
}

// each runs a query and calls fn with the Scan of each row.
func (tx *Tx) each(ctx context.Context, fn func(scan func(...any) error) error, q string, args ...any) error {
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

func sortedKeys[V any](m map[int64]V) []int64 {
	ks := make([]int64, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
