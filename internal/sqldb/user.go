package sqldb

import (
	"context"
	"database/sql"
	"errors"

	"github.com/resellerconsole/reseller"
)

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 10

const userColumns = "id, account_id, email, role, password_hash <> '', created_at"

func scanUser(row scanner) (*reseller.User, error) {
	u := &reseller.User{}
	var created int64
	if err := row.Scan(&u.ID, &u.AccountID, &u.Email, &u.Role, &u.HasPassword, &created); err != nil {
		return nil, err
	}
	u.CreatedAt = fromMicros(created)
	return u, nil
}

// teamActor returns the actor of ctx if it may manage its account's team:
// an owner, an admin, or the platform operator. Without an actor there is
// no one to act for, and nothing is allowed.
func teamActor(ctx context.Context) (*reseller.Actor, error) {
	return reseller.Authorize(ctx, reseller.PermManageTeam)
}

// userTarget is a user as an audit entry's target.
func userTarget(u *reseller.User) reseller.Target {
	return reseller.Target{Type: reseller.TargetUser, ID: u.ID, Email: u.Email}
}

// lockUser reads a user of the account for change.
func (tx *Tx) lockUser(ctx context.Context, accountID, id int64) (*reseller.User, error) {
	u, err := scanUser(tx.queryRow(ctx, "SELECT "+userColumns+" FROM users WHERE account_id = ? AND id = ?"+tx.db.dialect.forUpdate, accountID, id))
	return u, notFound(err, "User", id)
}

// AddUser adds a user to the actor's account and records user.added. An
// account has exactly one owner: only the platform operator adds one, to an
// account that has none; anyone else gets ECONFLICT (transfer ownership
// instead). EINVALID, EEMAILTAKEN, EFORBIDDEN, ECONFLICT.
func (db *DB) AddUser(ctx context.Context, email string, role reseller.Role) (*reseller.User, error) {
	actor, err := teamActor(ctx)
	if err != nil {
		return nil, err
	}
	if email, err = reseller.NormalizeEmail(email); err != nil {
		return nil, err
	}
	if !role.Valid() {
		return nil, reseller.Errorf(reseller.EINVALID, "Role %q is not one of owner, admin, operator, auditor.", role)
	}
	if role == reseller.RoleOwner && !actor.IsOperator() {
		return nil, reseller.Errorf(reseller.ECONFLICT, "An account has one owner; transfer ownership instead of adding an owner.")
	}
	var u *reseller.User
	err = db.update(ctx, func(ctx context.Context, tx *Tx) error {
		var n int
		if err := tx.queryRow(ctx, "SELECT count(*) FROM accounts WHERE id = ?", actor.AccountID).Scan(&n); err != nil {
			return err
		} else if n == 0 {
			return reseller.Errorf(reseller.ENOTFOUND, "Account %d not found.", actor.AccountID)
		}
		if role == reseller.RoleOwner {
			if err := tx.queryRow(ctx, "SELECT count(*) FROM users WHERE account_id = ? AND role = 'owner'", actor.AccountID).Scan(&n); err != nil {
				return err
			} else if n > 0 {
				return reseller.Errorf(reseller.ECONFLICT, "Account %d already has an owner; transfer ownership instead.", actor.AccountID)
			}
		}
		id, err := tx.nextID(ctx, "users")
		if err != nil {
			return err
		}
		if id != 0 {
			_, err = tx.exec(ctx, "INSERT INTO users (id, account_id, email, role, created_at) VALUES (?, ?, ?, ?, ?)",
				id, actor.AccountID, email, role, micros(tx.now))
		} else {
			err = tx.queryRow(ctx, "INSERT INTO users (account_id, email, role, created_at) VALUES (?, ?, ?, ?) RETURNING id",
				actor.AccountID, email, role, micros(tx.now)).Scan(&id)
		}
		if violates(err, errUnique, "email") {
			return reseller.Errorf(reseller.EEMAILTAKEN, "A user with email %s already exists.", email)
		} else if err != nil {
			return err
		}
		u = &reseller.User{ID: id, AccountID: actor.AccountID, Email: email, Role: role, CreatedAt: tx.now}
		_, err = tx.appendEntry(ctx, actor, reseller.ActionUserAdded, userTarget(u), reseller.Details{Role: role})
		return err
	})
	return u, err
}

// FindUserByID returns a user of the actor's account; ENOTFOUND for unknown
// ids and other accounts' users, EFORBIDDEN for roles that do not manage
// the team.
func (db *DB) FindUserByID(ctx context.Context, id int64) (*reseller.User, error) {
	a, err := teamActor(ctx)
	if err != nil {
		return nil, err
	}
	u, err := scanUser(db.ro.QueryRowContext(ctx, db.dialect.rebind("SELECT "+userColumns+" FROM users WHERE account_id = ? AND id = ?"), a.AccountID, id))
	return u, notFound(err, "User", id)
}

// FindUserByEmail looks a user up platform-wide, for sign-in and for the
// operator's CLI, which then acts in the user's account. ENOTFOUND.
func (db *DB) FindUserByEmail(ctx context.Context, email string) (*reseller.User, error) {
	email, err := reseller.NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	u, err := scanUser(db.ro.QueryRowContext(ctx, db.dialect.rebind("SELECT "+userColumns+" FROM users WHERE email = ?"), email))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, reseller.Errorf(reseller.ENOTFOUND, "No user with email %s.", email)
	}
	return u, err
}

// ListUsers lists the actor's account's team, owner first. EFORBIDDEN for
// roles that do not manage the team.
func (db *DB) ListUsers(ctx context.Context) ([]*reseller.User, error) {
	a, err := teamActor(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := db.ro.QueryContext(ctx, db.dialect.rebind("SELECT "+userColumns+` FROM users WHERE account_id = ?
		ORDER BY CASE role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 WHEN 'operator' THEN 2 ELSE 3 END, email`), a.AccountID)
	return collect(rows, err, scanUser)
}

// SetRole changes a user's role and records user.role_changed. Setting
// RoleOwner transfers ownership (see TransferOwnership). Nobody changes the
// owner's role otherwise. EFORBIDDEN, ENOTFOUND, ECONFLICT, EINVALID.
func (db *DB) SetRole(ctx context.Context, userID int64, role reseller.Role) (*reseller.User, error) {
	actor, err := teamActor(ctx)
	if err != nil {
		return nil, err
	}
	if !role.Valid() {
		return nil, reseller.Errorf(reseller.EINVALID, "Role %q is not one of owner, admin, operator, auditor.", role)
	}
	if role == reseller.RoleOwner {
		return db.TransferOwnership(ctx, userID)
	}
	var u *reseller.User
	err = db.update(ctx, func(ctx context.Context, tx *Tx) error {
		if u, err = tx.lockUser(ctx, actor.AccountID, userID); err != nil {
			return err
		}
		from := u.Role
		switch {
		case from == role:
			return nil
		case from == reseller.RoleOwner:
			return reseller.Errorf(reseller.ECONFLICT, "The owner's role changes only by transferring ownership to another user.")
		}
		if _, err := tx.exec(ctx, "UPDATE users SET role = ? WHERE account_id = ? AND id = ?", role, actor.AccountID, userID); err != nil {
			return err
		}
		u.Role = role
		_, err := tx.appendEntry(ctx, actor, reseller.ActionUserRoleChanged, userTarget(u), reseller.Details{FromRole: from, ToRole: role})
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// TransferOwnership makes a user the account's owner, the owner until then
// becoming an admin, and records ownership.transferred. Only the owner (or
// the platform operator) transfers it. EFORBIDDEN, ENOTFOUND, ECONFLICT.
func (db *DB) TransferOwnership(ctx context.Context, userID int64) (*reseller.User, error) {
	actor, err := teamActor(ctx)
	if err != nil {
		return nil, err
	}
	if actor.Role != reseller.RoleOwner && !actor.IsOperator() {
		return nil, reseller.Errorf(reseller.EFORBIDDEN, "Only the owner can transfer ownership.")
	}
	var u *reseller.User
	err = db.update(ctx, func(ctx context.Context, tx *Tx) error {
		if u, err = tx.lockUser(ctx, actor.AccountID, userID); err != nil {
			return err
		}
		if u.Role == reseller.RoleOwner {
			return reseller.Errorf(reseller.ECONFLICT, "%s is the owner already.", u.Email)
		}
		from := u.Role
		if _, err := tx.exec(ctx, "UPDATE users SET role = 'admin' WHERE account_id = ? AND role = 'owner'", actor.AccountID); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "UPDATE users SET role = 'owner' WHERE account_id = ? AND id = ?", actor.AccountID, userID); err != nil {
			return err
		}
		u.Role = reseller.RoleOwner
		_, err := tx.appendEntry(ctx, actor, reseller.ActionOwnershipTransferred, userTarget(u), reseller.Details{FromRole: from, ToRole: reseller.RoleOwner})
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// RemoveUser removes a user with their sessions, links and tokens, and
// records a token.revoked entry for each of their active tokens and then
// user.removed, in one transaction. The owner cannot be removed. Entries
// they performed keep their id and email as they were.
func (db *DB) RemoveUser(ctx context.Context, userID int64) error {
	actor, err := teamActor(ctx)
	if err != nil {
		return err
	}
	return db.update(ctx, func(ctx context.Context, tx *Tx) error {
		u, err := tx.lockUser(ctx, actor.AccountID, userID)
		if err != nil {
			return err
		}
		if u.Role == reseller.RoleOwner {
			return reseller.Errorf(reseller.ECONFLICT, "The owner cannot be removed; transfer ownership first.")
		}
		type tok struct {
			id   int64
			name string
		}
		rows, qerr := tx.query(ctx, "SELECT id, name FROM tokens WHERE account_id = ? AND user_id = ? AND revoked_at IS NULL ORDER BY id", actor.AccountID, userID)
		toks, err := collect(rows, qerr, func(s scanner) (t tok, err error) { return t, s.Scan(&t.id, &t.name) })
		if err != nil {
			return err
		}
		for _, t := range toks {
			if _, err := tx.appendEntry(ctx, actor, reseller.ActionTokenRevoked, userTarget(u), reseller.Details{TokenID: t.id, TokenName: t.name, Reason: "user removed"}); err != nil {
				return err
			}
		}
		for _, q := range []string{
			"DELETE FROM sessions WHERE account_id = ? AND user_id = ?",
			"DELETE FROM password_links WHERE account_id = ? AND user_id = ?",
			"DELETE FROM tokens WHERE account_id = ? AND user_id = ?",
			"DELETE FROM users WHERE account_id = ? AND id = ?",
		} {
			if _, err := tx.exec(ctx, q, actor.AccountID, userID); err != nil {
				return err
			}
		}
		_, err = tx.appendEntry(ctx, actor, reseller.ActionUserRemoved, userTarget(u), reseller.Details{Role: u.Role})
		return err
	})
}

// SetPassword sets a user's password and ends every session of the user:
// whoever knew the old password is signed out (the console starts a new
// session for the browser that made the change). With an actor in ctx it
// must be the user themself; without one the caller is the operator or a
// verified set-password link. EINVALID for a password that is too short or
// too long.
func (db *DB) SetPassword(ctx context.Context, userID int64, password string) error {
	a := reseller.ActorFrom(ctx)
	if a == nil {
		return reseller.Errorf(reseller.EUNAUTHORIZED, "Sign in first.")
	}
	if a.UserID != userID && !a.IsOperator() {
		return reseller.Errorf(reseller.EFORBIDDEN, "You can only set your own password.")
	}
	if err := checkPasswordRules(password); err != nil {
		return err
	}
	hash := hashPassword(password)
	return db.update(ctx, func(ctx context.Context, tx *Tx) error {
		r, err := tx.exec(ctx, "UPDATE users SET password_hash = ? WHERE account_id = ? AND id = ?", hash, a.AccountID, userID)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return reseller.Errorf(reseller.ENOTFOUND, "User %d not found.", userID)
		}
		_, err = tx.exec(ctx, "DELETE FROM sessions WHERE user_id = ?", userID)
		return err
	})
}

// CheckPassword returns the user whose email and password match, and
// EUNAUTHORIZED otherwise, taking about as long either way.
func (db *DB) CheckPassword(ctx context.Context, email, password string) (*reseller.User, error) {
	bad := reseller.Errorf(reseller.EUNAUTHORIZED, "Email or password is wrong.")
	norm, err := reseller.NormalizeEmail(email)
	if err != nil {
		return nil, bad
	}
	var hash string
	err = db.ro.QueryRowContext(ctx, db.dialect.rebind("SELECT password_hash FROM users WHERE email = ?"), norm).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) || hash == "" {
		checkPassword(dummyHash, password) // same work for unknown users
		return nil, bad
	} else if err != nil {
		return nil, err
	}
	if !checkPassword(hash, password) {
		return nil, bad
	}
	return db.FindUserByEmail(ctx, norm)
}

var dummyHash = hashPassword("not a password of anyone")

// SetTimeZone pins the time zone the console shows times in for a user; ""
// follows the browser. EINVALID for an unknown IANA zone.
func (db *DB) SetTimeZone(ctx context.Context, userID int64, tz string) error {
	if a := reseller.ActorFrom(ctx); a == nil || a.UserID != userID {
		return reseller.Errorf(reseller.EFORBIDDEN, "You can only change your own settings.")
	}
	if tz != "" {
		if _, err := reseller.LoadZone(tz); err != nil {
			return err
		}
	}
	return db.update(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.exec(ctx, "UPDATE users SET time_zone = ? WHERE id = ?", tz, userID)
		return err
	})
}

// TimeZone returns a user's pinned time zone, "" if none.
func (db *DB) TimeZone(ctx context.Context, userID int64) (string, error) {
	var tz string
	err := db.ro.QueryRowContext(ctx, db.dialect.rebind("SELECT time_zone FROM users WHERE id = ?"), userID).Scan(&tz)
	return tz, notFound(err, "User", userID)
}
