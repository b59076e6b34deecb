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

// CreateToken issues an API token for the acting user and returns its
// secret, which is shown once and stored only as a hash; it records
// token.created. A token acts as the user who created it, so nobody creates
// one for someone else (the platform operator uses CreateTokenFor). Needs
// PermManageTeam. EINVALID, EFORBIDDEN.
func (db *DB) CreateToken(ctx context.Context, name string) (*reseller.Token, string, error) {
	actor, err := teamActor(ctx)
	if err != nil {
		return nil, "", err
	}
	if actor.IsOperator() {
		return nil, "", reseller.Errorf(reseller.EFORBIDDEN, "The platform operator has no tokens of its own; name the user the token is for.")
	}
	return db.createToken(ctx, actor, actor.UserID, name)
}

// CreateTokenFor issues a token for a user of the actor's account: for the
// platform operator (the CLI) alone, and recorded as its action.
// EFORBIDDEN, ENOTFOUND, EINVALID.
func (db *DB) CreateTokenFor(ctx context.Context, userID int64, name string) (*reseller.Token, string, error) {
	actor, err := teamActor(ctx)
	if err != nil {
		return nil, "", err
	}
	if !actor.IsOperator() && actor.UserID != userID {
		return nil, "", reseller.Errorf(reseller.EFORBIDDEN, "A token acts as the user who creates it: you can create one only for yourself.")
	}
	return db.createToken(ctx, actor, userID, name)
}

func (db *DB) createToken(ctx context.Context, actor *reseller.Actor, userID int64, name string) (*reseller.Token, string, error) {
	name, err := reseller.CleanText("Token name", name, reseller.MaxNameLen)
	if err != nil {
		return nil, "", err
	}
	if name == "" {
		name = "API token"
	}
	t := &reseller.Token{UserID: userID, Name: name, AccountID: actor.AccountID}
	secret, hash := newSecret(TokenPrefix)
	err = db.update(ctx, func(ctx context.Context, tx *Tx) error {
		u, err := tx.lockUser(ctx, actor.AccountID, userID)
		if err != nil {
			return err
		}
		t.CreatedAt = tx.now
		if t.ID, err = tx.nextID(ctx, "tokens"); err != nil {
			return err
		}
		if t.ID != 0 {
			_, err = tx.exec(ctx, "INSERT INTO tokens (id, account_id, user_id, name, hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
				t.ID, t.AccountID, userID, name, hash, micros(tx.now))
		} else {
			err = tx.queryRow(ctx, "INSERT INTO tokens (account_id, user_id, name, hash, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
				t.AccountID, userID, name, hash, micros(tx.now)).Scan(&t.ID)
		}
		if err != nil {
			return err
		}
		_, err = tx.appendEntry(ctx, actor, reseller.ActionTokenCreated, userTarget(u), reseller.Details{TokenID: t.ID, TokenName: name})
		return err
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
	err := db.readRow(ctx, `SELECT t.id, t.last_used_at, u.id, u.account_id, u.email, u.role
		FROM tokens t JOIN users u ON u.id = t.user_id AND u.account_id = t.account_id
		WHERE t.hash = ? AND t.revoked_at IS NULL`, hashSecret(secret)).
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

// ListTokens lists the actor's account's tokens, newest first.
// EFORBIDDEN without PermManageTeam.
func (db *DB) ListTokens(ctx context.Context) ([]*reseller.Token, error) {
	a, err := teamActor(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := db.ro.QueryContext(ctx, db.dialect.rebind(`SELECT id, account_id, user_id, name, created_at, last_used_at, revoked_at
		FROM tokens WHERE account_id = ? ORDER BY id DESC`), a.AccountID)
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

// RevokeToken revokes a token of the actor's account and records
// token.revoked. Owners revoke any token; admins any but the owner's
// (their own included). ENOTFOUND, EFORBIDDEN, ECONFLICT if already revoked.
func (db *DB) RevokeToken(ctx context.Context, tokenID int64) error {
	actor, err := teamActor(ctx)
	if err != nil {
		return err
	}
	return db.update(ctx, func(ctx context.Context, tx *Tx) error {
		var revoked sql.NullInt64
		var userID int64
		var name string
		if err := tx.queryRow(ctx, "SELECT user_id, name, revoked_at FROM tokens WHERE account_id = ? AND id = ?"+tx.db.dialect.forUpdate,
			actor.AccountID, tokenID).Scan(&userID, &name, &revoked); err != nil {
			return notFound(err, "Token", tokenID)
		}
		u, err := tx.lockUser(ctx, actor.AccountID, userID)
		if err != nil {
			return err
		}
		if u.Role == reseller.RoleOwner && actor.Role == reseller.RoleAdmin {
			return reseller.Errorf(reseller.EFORBIDDEN, "Only the owner can revoke the owner's tokens.")
		}
		if revoked.Valid {
			return reseller.Errorf(reseller.ECONFLICT, "Token %d is already revoked.", tokenID)
		}
		if _, err := tx.exec(ctx, "UPDATE tokens SET revoked_at = ? WHERE account_id = ? AND id = ?", micros(tx.now), actor.AccountID, tokenID); err != nil {
			return err
		}
		_, err = tx.appendEntry(ctx, actor, reseller.ActionTokenRevoked, userTarget(u), reseller.Details{TokenID: tokenID, TokenName: name})
		return err
	})
}
