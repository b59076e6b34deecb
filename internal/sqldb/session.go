package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/resellerconsole/reseller"
)

// Console sessions and set-password links. Both are 256-bit random secrets
// handed to the browser; the database keeps only their SHA-256, so a copy of
// the database does not let anyone in.

// Prefixes of the secrets, so that a leaked one says what it is.
const (
	SessionPrefix = "rss_"
	LinkPrefix    = "rsp_"
)

// Session lifetimes. A session ends after SessionIdle without use, and in
// any case SessionMaxAge after sign-in, so a stolen cookie is not good forever.
const (
	SessionIdle   = 12 * time.Hour
	SessionMaxAge = 7 * 24 * time.Hour
	// sessionTouchEvery bounds how often a session's expiry is pushed back,
	// so that browsing does not cost a write per page.
	sessionTouchEvery = 5 * time.Minute
	// PasswordLinkTTL is how long a set-password link works.
	PasswordLinkTTL = 72 * time.Hour
)

// CreateSession signs a user in: it stores a new session and returns its
// secret, for the cookie. The caller has checked the password. ip and
// userAgent are kept for the user's list of sessions. ENOTFOUND.
func (db *DB) CreateSession(ctx context.Context, userID int64, ip, userAgent string) (string, error) {
	secret, hash := newSecret(SessionPrefix)
	err := db.update(ctx, func(ctx context.Context, tx *Tx) error {
		var accountID int64
		if err := tx.queryRow(ctx, "SELECT account_id FROM users WHERE id = ?", userID).Scan(&accountID); err != nil {
			return notFound(err, "User", userID)
		}
		// Sweep this user's dead sessions while we are here, so the table
		// holds only live ones without a background job.
		if _, err := tx.exec(ctx, "DELETE FROM sessions WHERE account_id = ? AND user_id = ? AND expires_at <= ?",
			accountID, userID, micros(tx.now)); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `INSERT INTO sessions (hash, account_id, user_id, created_at, expires_at, ip, user_agent)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, hash, accountID, userID, micros(tx.now), micros(tx.now.Add(SessionIdle)),
			clip(ip, 64), clip(userAgent, 256))
		return err
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// SessionActor returns the signed-in user a session secret stands for, with
// Via set to web and the role as it is now (a role change applies at the
// next request). It pushes the idle expiry back. EUNAUTHORIZED for an
// unknown, expired or signed-out session.
func (db *DB) SessionActor(ctx context.Context, secret string) (*reseller.Actor, error) {
	bad := reseller.Errorf(reseller.EUNAUTHORIZED, "Your session has ended; sign in again.")
	if !strings.HasPrefix(secret, SessionPrefix) {
		return nil, bad
	}
	hash := hashSecret(secret)
	a := &reseller.Actor{Via: reseller.ViaWeb}
	var created, expires int64
	err := db.ro.QueryRowContext(ctx, db.dialect.rebind(`SELECT s.created_at, s.expires_at, u.id, u.account_id, u.email, u.role
		FROM sessions s JOIN users u ON u.id = s.user_id AND u.account_id = s.account_id
		WHERE s.hash = ?`), hash).Scan(&created, &expires, &a.UserID, &a.AccountID, &a.Email, &a.Role)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bad
	} else if err != nil {
		return nil, err
	}
	now := reseller.Micro(db.Now())
	end := fromMicros(created).Add(SessionMaxAge)
	if !now.Before(fromMicros(expires)) || !now.Before(end) {
		return nil, bad
	}
	if next := minTime(now.Add(SessionIdle), end); next.Sub(fromMicros(expires)) > sessionTouchEvery {
		// Best effort, like a token's last use: a failed touch must not
		// fail the request; the session just ends a little sooner.
		db.update(ctx, func(ctx context.Context, tx *Tx) error {
			_, err := tx.exec(ctx, "UPDATE sessions SET expires_at = ? WHERE hash = ?", micros(next), hash)
			return err
		})
	}
	return a, nil
}

// DeleteSession signs a session out. Unknown secrets are not an error:
// signing out twice is the same as once.
func (db *DB) DeleteSession(ctx context.Context, secret string) error {
	return db.update(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.exec(ctx, "DELETE FROM sessions WHERE hash = ?", hashSecret(secret))
		return err
	})
}

// DeleteUserSessions signs a user out everywhere. With an actor in ctx it
// must be the user themself or have PermManageTeam in the user's account;
// without one the caller is the operator. EFORBIDDEN, ENOTFOUND.
func (db *DB) DeleteUserSessions(ctx context.Context, userID int64) error {
	return db.update(ctx, func(ctx context.Context, tx *Tx) error {
		var accountID int64
		if err := tx.queryRow(ctx, "SELECT account_id FROM users WHERE id = ?", userID).Scan(&accountID); err != nil {
			return notFound(err, "User", userID)
		}
		if a := reseller.ActorFrom(ctx); a != nil && a.UserID != userID {
			if _, err := reseller.Authorize(ctx, reseller.PermManageTeam); err != nil {
				return err
			} else if a.AccountID != accountID {
				return reseller.Errorf(reseller.ENOTFOUND, "User %d not found.", userID)
			}
		}
		_, err := tx.exec(ctx, "DELETE FROM sessions WHERE account_id = ? AND user_id = ?", accountID, userID)
		return err
	})
}

// CreatePasswordLink returns the secret of a link with which a user sets
// their password, for new users (there is no mail: an admin hands the link
// over) and for forgotten passwords. It works once, for PasswordLinkTTL, and
// replaces the user's earlier links; it records password_link.created. It
// needs PermManageTeam in the user's account, and only the owner (or the
// platform operator) may make one for the owner, else an admin could take
// the owner's place. EFORBIDDEN, ENOTFOUND.
func (db *DB) CreatePasswordLink(ctx context.Context, userID int64) (string, error) {
	actor, err := teamActor(ctx)
	if err != nil {
		return "", err
	}
	secret, hash := newSecret(LinkPrefix)
	err = db.update(ctx, func(ctx context.Context, tx *Tx) error {
		u, err := tx.lockUser(ctx, actor.AccountID, userID)
		if err != nil {
			return err
		}
		if u.Role == reseller.RoleOwner && actor.UserID != u.ID && !actor.IsOperator() {
			return reseller.Errorf(reseller.EFORBIDDEN, "Only the owner can make a set-password link for the owner.")
		}
		if _, err := tx.exec(ctx, "DELETE FROM password_links WHERE account_id = ? AND user_id = ?", u.AccountID, u.ID); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "INSERT INTO password_links (hash, account_id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
			hash, u.AccountID, u.ID, micros(tx.now), micros(tx.now.Add(PasswordLinkTTL))); err != nil {
			return err
		}
		_, err = tx.appendEntry(ctx, actor, reseller.ActionPasswordLinkCreated, userTarget(u), reseller.Details{})
		return err
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// badLink is the one answer for a link that is unknown, used or expired, so
// that the answer does not tell which.
func badLink() error {
	return reseller.Errorf(reseller.ENOTFOUND, "This set-password link is not valid: it may have been used already or have expired. Ask an admin of your team for a new one.")
}

// PasswordLinkUser returns the user a set-password link is for, so that the
// page can name them. ENOTFOUND for an unknown, used or expired link.
func (db *DB) PasswordLinkUser(ctx context.Context, secret string) (*reseller.User, error) {
	if !strings.HasPrefix(secret, LinkPrefix) {
		return nil, badLink()
	}
	var expires int64
	var used sql.NullInt64
	u := &reseller.User{}
	var created int64
	err := db.ro.QueryRowContext(ctx, db.dialect.rebind(`SELECT l.expires_at, l.used_at,
		u.id, u.account_id, u.email, u.role, u.password_hash <> '', u.created_at
		FROM password_links l JOIN users u ON u.id = l.user_id AND u.account_id = l.account_id
		WHERE l.hash = ?`), hashSecret(secret)).
		Scan(&expires, &used, &u.ID, &u.AccountID, &u.Email, &u.Role, &u.HasPassword, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, badLink()
	} else if err != nil {
		return nil, err
	}
	if used.Valid || !db.Now().Before(fromMicros(expires)) {
		return nil, badLink()
	}
	u.CreatedAt = fromMicros(created)
	return u, nil
}

// UsePasswordLink sets the password of the link's user and spends the link,
// in one transaction, so that a link works exactly once even when used twice
// at the same moment. The user's sessions end: whoever knew the old password
// is signed out. ENOTFOUND for an unknown, used or expired link; EINVALID
// for a password the rules refuse (the link then stays usable).
func (db *DB) UsePasswordLink(ctx context.Context, secret, password string) error {
	if !strings.HasPrefix(secret, LinkPrefix) {
		return badLink()
	}
	if err := checkPasswordRules(password); err != nil {
		return err
	}
	hash := hashPassword(password)
	return db.update(ctx, func(ctx context.Context, tx *Tx) error {
		var accountID, userID, expires int64
		var used sql.NullInt64
		err := tx.queryRow(ctx, "SELECT account_id, user_id, expires_at, used_at FROM password_links WHERE hash = ?"+tx.db.dialect.forUpdate,
			hashSecret(secret)).Scan(&accountID, &userID, &expires, &used)
		if errors.Is(err, sql.ErrNoRows) {
			return badLink()
		} else if err != nil {
			return err
		}
		if used.Valid || !tx.now.Before(fromMicros(expires)) {
			return badLink()
		}
		for _, st := range []struct {
			q    string
			args []any
		}{
			{"UPDATE password_links SET used_at = ? WHERE hash = ?", []any{micros(tx.now), hashSecret(secret)}},
			{"UPDATE users SET password_hash = ? WHERE account_id = ? AND id = ?", []any{hash, accountID, userID}},
			{"DELETE FROM sessions WHERE account_id = ? AND user_id = ?", []any{accountID, userID}},
		} {
			if _, err := tx.exec(ctx, st.q, st.args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// checkPasswordRules is the rule SetPassword applies, for the links too.
func checkPasswordRules(password string) error {
	if n := utf8.RuneCountInString(password); n < MinPasswordLen {
		return reseller.Errorf(reseller.EINVALID, "Password must have at least %d characters.", MinPasswordLen)
	} else if len(password) > 1024 {
		return reseller.Errorf(reseller.EINVALID, "Password is longer than 1024 bytes.")
	}
	return nil
}

// clip cuts s to at most n bytes on a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
