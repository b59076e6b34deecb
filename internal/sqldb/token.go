package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/resellerconsole/reseller"
)

// TokenPrefix starts every API token, so that leaked tokens are easy to spot.
const TokenPrefix = "rsl_"

// tokenTouchEvery bounds how often a token's last use is written, so that
// reads through the API do not each cost a write.
const tokenTouchEvery = time.Minute

// CreateToken issues an API token for a user and returns its secret, which
// is shown once and stored only as a hash. With an actor in ctx it needs
// PermManageTeam in the user's account; without one the caller is the
// operator. EINVALID, ENOTFOUND, EFORBIDDEN.
func (db *DB) CreateToken(ctx context.Context, userID int64, name string) (*reseller.Token, string, error) {
	name, err := reseller.CleanText("Token name", name, reseller.MaxNameLen)
	if err != nil {
		return nil, "", err
	}
	if name == "" {
		name = "API token"
	}
	t := &reseller.Token{UserID: userID, Name: name}
	secret, hash := newSecret(TokenPrefix)
	err = db.update(ctx, func(ctx context.Context, tx *Tx) error {
		q := "SELECT account_id FROM users WHERE id = ?"
		args := []any{userID}
		actor, err := teamActor(ctx, 0)
		if err != nil {
			return err
		} else if actor != nil {
			q += " AND account_id = ?"
			args = append(args, actor.AccountID)
		}
		if err := tx.queryRow(ctx, q, args...).Scan(&t.AccountID); err != nil {
			return notFound(err, "User", userID)
		}
		t.CreatedAt = tx.now
		return tx.queryRow(ctx, "INSERT INTO tokens (account_id, user_id, name, hash, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
			t.AccountID, userID, name, hash, micros(tx.now)).Scan(&t.ID)
	})
	if err != nil {
		return nil, "", err
	}
	return t, secret, nil
}

// Authenticate returns the actor a token secret stands for, with Via set to
// API. EUNAUTHORIZED for unknown or revoked tokens.
func (db *DB) Authenticate(ctx context.Context, secret string) (*reseller.Actor, error) {
	if !strings.HasPrefix(secret, TokenPrefix) {
		return nil, reseller.Errorf(reseller.EUNAUTHORIZED, "The API token is not valid.")
	}
	a := &reseller.Actor{Via: reseller.ViaAPI}
	var lastUsed sql.NullInt64
	err := db.ro.QueryRowContext(ctx, db.dialect.rebind(`SELECT t.id, t.last_used_at, u.id, u.account_id, u.email, u.role
		FROM tokens t JOIN users u ON u.id = t.user_id AND u.account_id = t.account_id
		WHERE t.hash = ? AND t.revoked_at IS NULL`), hashSecret(secret)).
		Scan(&a.TokenID, &lastUsed, &a.UserID, &a.AccountID, &a.Email, &a.Role)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, reseller.Errorf(reseller.EUNAUTHORIZED, "The API token is not valid or has been revoked.")
	} else if err != nil {
		return nil, err
	}
	now := db.Now()
	if !lastUsed.Valid || now.Sub(fromMicros(lastUsed.Int64)) > tokenTouchEvery {
		// Best effort: a failed touch must not fail the request.
		db.update(ctx, func(ctx context.Context, tx *Tx) error {
			_, err := tx.exec(ctx, "UPDATE tokens SET last_used_at = ? WHERE id = ?", micros(tx.now), a.TokenID)
			return err
		})
	}
	return a, nil
}

// ListTokens lists an account's tokens, newest first. EFORBIDDEN without PermManageTeam.
func (db *DB) ListTokens(ctx context.Context, accountID int64) ([]*reseller.Token, error) {
	if _, err := teamActor(ctx, accountID); err != nil {
		return nil, err
	}
	rows, err := db.ro.QueryContext(ctx, db.dialect.rebind(`SELECT id, account_id, user_id, name, created_at, last_used_at, revoked_at
		FROM tokens WHERE account_id = ? ORDER BY id DESC`), accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ts []*reseller.Token
	for rows.Next() {
		t := &reseller.Token{}
		var created int64
		var used, revoked sql.NullInt64
		if err := rows.Scan(&t.ID, &t.AccountID, &t.UserID, &t.Name, &created, &used, &revoked); err != nil {
			return nil, err
		}
		t.CreatedAt, t.LastUsedAt, t.RevokedAt = fromMicros(created), nullTime(used), nullTime(revoked)
		ts = append(ts, t)
	}
	return ts, rows.Err()
}

// RevokeToken revokes a token of the actor's account. ENOTFOUND, ECONFLICT if already revoked.
func (db *DB) RevokeToken(ctx context.Context, tokenID int64) error {
	actor, err := reseller.Authorize(ctx, reseller.PermManageTeam)
	if err != nil {
		return err
	}
	return db.update(ctx, func(ctx context.Context, tx *Tx) error {
		var revoked sql.NullInt64
		if err := tx.queryRow(ctx, "SELECT revoked_at FROM tokens WHERE account_id = ? AND id = ?", actor.AccountID, tokenID).Scan(&revoked); err != nil {
			return notFound(err, "Token", tokenID)
		}
		if revoked.Valid {
			return reseller.Errorf(reseller.ECONFLICT, "Token %d is already revoked.", tokenID)
		}
		_, err := tx.exec(ctx, "UPDATE tokens SET revoked_at = ? WHERE account_id = ? AND id = ?", micros(tx.now), actor.AccountID, tokenID)
		return err
	})
}
