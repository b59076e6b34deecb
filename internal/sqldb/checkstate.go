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

	err = tx.each(ctx, func(scan func(...any) error) error {
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
	if err != nil {
		return err
	}
	return tx.compareTeam(ctx, accountID, s, add)
}

// compareTeam compares the team and its tokens with what the log says of
// them. Logs began recording team changes at some point: every user and
// token the log mentions must be as it says (a removed user gone), and
// every user and token created since the first team entry (all of them, for
// an account whose log starts with its owner's user.added) must be in it.
func (tx *Tx) compareTeam(ctx context.Context, accountID int64, s *replay.State, add func(error)) error {
	covered := func(created int64) bool {
		return s.TeamComplete || s.TeamSince != 0 && !fromMicros(created).Before(s.TeamSinceTime)
	}
	seen := map[int64]bool{}
	err := tx.each(ctx, func(scan func(...any) error) error {
		var id, created int64
		var email string
		var role reseller.Role
		if err := scan(&id, &email, &role, &created); err != nil {
			return err
		}
		seen[id] = true
		got, ok := s.Users[id]
		switch {
		case !ok && covered(created):
			add(fmt.Errorf("user %d (%s) is in the table but the log never added them", id, email))
		case !ok:
		case got.Removed:
			add(fmt.Errorf("user %d (%s) is in the table but the log removed them", id, email))
		case got.Email != email || got.Role != "" && got.Role != role:
			add(fmt.Errorf("user %d: the table has %s as %s but the log replays to %s as %s", id, email, role, got.Email, got.Role))
		}
		return nil
	}, "SELECT id, email, role, created_at FROM users WHERE account_id = ? ORDER BY id", accountID)
	if err != nil {
		return err
	}
	for _, id := range sortedKeys(s.Users) {
		if u := s.Users[id]; !seen[id] && !u.Removed {
			add(fmt.Errorf("user %d (%s): the log has them on the team but the table does not", id, u.Email))
		}
	}
	clear(seen)
	err = tx.each(ctx, func(scan func(...any) error) error {
		var id, userID, created int64
		var name string
		var revoked bool
		if err := scan(&id, &userID, &name, &revoked, &created); err != nil {
			return err
		}
		seen[id] = true
		got, ok := s.Tokens[id]
		switch {
		case !ok && covered(created):
			add(fmt.Errorf("API token %d (%q) is in the table but the log never created it", id, name))
		case !ok:
		case got.UserID != userID || got.Name != "" && got.Name != name || got.Revoked != revoked:
			add(fmt.Errorf("API token %d: the table has user %d, %q, revoked %v but the log replays to user %d, %q, revoked %v",
				id, userID, name, revoked, got.UserID, got.Name, got.Revoked))
		}
		return nil
	}, "SELECT id, user_id, name, revoked_at IS NOT NULL, created_at FROM tokens WHERE account_id = ? ORDER BY id", accountID)
	if err != nil {
		return err
	}
	for _, id := range sortedKeys(s.Tokens) {
		t := s.Tokens[id]
		if seen[id] {
			continue
		}
		if u, ok := s.Users[t.UserID]; ok && u.Removed {
			continue // its user was removed, and their tokens with them
		}
		if !t.Revoked || t.Created {
			add(fmt.Errorf("API token %d: the log has it but the table does not", id))
		}
	}
	return nil
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
