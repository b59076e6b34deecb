package sqldb

import (
	"context"
	"database/sql"
	"strings"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"golang.org/x/mod/sumdb/tlog"
)

// appendEntry records an action in the actor's account's log, inside the
// transaction that makes the change: the entry, its record bytes and the
// Merkle hashes commit or roll back together with the state. The head row
// serialises appends per account (locked on PostgreSQL; SQLite has one
// writer), so seqs are gapless, and an entry's time is never before the
// previous entry's, so the log's order is also chronological.
func (tx *Tx) appendEntry(ctx context.Context, a *reseller.Actor, action reseller.Action, target reseller.Target, d reseller.Details) (*reseller.Entry, error) {
	if err := tx.db.LogInconsistent(a.AccountID); err != nil {
		return nil, err // see sign.go: a log that failed its check takes nothing more
	}
	// Taking the next seq and time updates the head row, which on PostgreSQL
	// also locks it until commit: appends to one log go one at a time.
	var seq, tus int64
	if err := tx.queryRow(ctx, `UPDATE audit_heads SET size = size + 1, last_time_us = CASE WHEN last_time_us > ? THEN last_time_us ELSE ? END
		WHERE account_id = ? RETURNING size, last_time_us`, micros(tx.now), micros(tx.now), a.AccountID).Scan(&seq, &tus); err != nil {
		return nil, notFound(err, "Account", a.AccountID)
	}
	size, t := seq-1, fromMicros(tus)
	target.Type = action.TargetType()
	clientID := target.ID
	if target.Type != reseller.TargetClient {
		clientID = 0 // the client column and filter are for client targets
	}
	e := &reseller.Entry{
		AccountID: a.AccountID,
		Seq:       size + 1,
		Time:      t,
		Action:    action,
		Target:    target,
		Details:   d,
		Actor: reseller.EntryActor{
			ID: a.UserID, Email: a.Email, Role: a.Role, Via: a.Via, TokenID: a.TokenID,
			IP: a.IP, UserAgent: a.UserAgent, RequestID: a.RequestID,
		},
	}
	rec, err := auditlog.EncodeRecord(e)
	if err != nil {
		return nil, err
	}
	e.Record = rec
	var hashes []tlog.Hash
	if !tx.db.noMerkle {
		if hashes, err = tlog.StoredHashes(size, rec, tx.hashReader(ctx, a.AccountID)); err != nil {
			return nil, err
		}
	}
	if _, err := tx.exec(ctx, `INSERT INTO audit_entries
		(account_id, seq, time_us, action, client_id, target_email, actor_id, actor_email, record)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.AccountID, e.Seq, micros(t), string(action), clientID, strings.ToLower(target.Email),
		a.UserID, strings.ToLower(a.Email), rec); err != nil {
		return nil, err
	}
	q := strings.Builder{}
	q.WriteString("INSERT INTO audit_hashes (account_id, idx, hash) VALUES ")
	args := make([]any, 0, 3*len(hashes))
	start := tlog.StoredHashIndex(0, size)
	for i, h := range hashes {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?)")
		args = append(args, a.AccountID, start+int64(i), h[:])
	}
	if len(hashes) > 0 {
		if _, err := tx.exec(ctx, q.String(), args...); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// hashReader reads an account's stored Merkle hashes, within a transaction
// or (tx nil) on a pooled read connection of its own. Stored hashes below
// the log's size never change, so the latter may run beside a transaction
// that streams records.
type hashReader struct {
	ctx       context.Context
	tx        *Tx
	db        *DB
	accountID int64
}

func (tx *Tx) hashReader(ctx context.Context, accountID int64) hashReader {
	return hashReader{ctx: ctx, tx: tx, db: tx.db, accountID: accountID}
}

func (db *DB) hashReader(ctx context.Context, accountID int64) hashReader {
	return hashReader{ctx: ctx, db: db, accountID: accountID}
}

// ReadHashes implements tlog.HashReader.
func (r hashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	if len(indexes) == 0 {
		return out, nil
	}
	pos := make(map[int64][]int, len(indexes))
	var q strings.Builder
	q.WriteString("SELECT idx, hash FROM audit_hashes WHERE account_id = ? AND idx IN (")
	args := make([]any, 0, len(indexes)+1)
	args = append(args, r.accountID)
	for i, x := range indexes {
		if _, dup := pos[x]; !dup {
			if len(args) > 1 {
				q.WriteString(", ")
			}
			q.WriteString("?")
			args = append(args, x)
		}
		pos[x] = append(pos[x], i)
	}
	q.WriteString(")")
	var rows *sql.Rows
	var err error
	if r.tx != nil {
		rows, err = r.tx.query(r.ctx, q.String(), args...)
	} else {
		rows, err = r.db.ro.QueryContext(r.ctx, r.db.dialect.rebind(q.String()), args...)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	found := 0
	for rows.Next() {
		var idx int64
		var h []byte
		if err := rows.Scan(&idx, &h); err != nil {
			return nil, err
		}
		if len(h) != tlog.HashSize {
			return nil, reseller.Errorf(reseller.EINTERNAL, "stored hash %d has %d bytes", idx, len(h))
		}
		for _, i := range pos[idx] {
			copy(out[i][:], h)
			found++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if found != len(indexes) {
		return nil, reseller.Errorf(reseller.EINTERNAL, "account %d: %d of %d stored hashes missing", r.accountID, len(indexes)-found, len(indexes))
	}
	return out, nil
}
