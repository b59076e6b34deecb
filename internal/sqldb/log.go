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
//
// The transaction reads the head once and keeps it (with the hashes of the
// tree's right edge, which the next append needs) in tx.log; the head row
// is written back once, at commit. On SQLite an append costs two prepared
// statements (the entry, its hashes); on PostgreSQL none until the commit,
// which writes all of the transaction's entries, hashes and heads in one
// statement (see pendingAppends).
func (tx *Tx) appendEntry(ctx context.Context, a *reseller.Actor, action reseller.Action, target reseller.Target, d reseller.Details) (*reseller.Entry, error) {
	if err := tx.db.LogInconsistent(a.AccountID); err != nil {
		return nil, err // see sign.go: a log that failed its check takes nothing more
	}
	h, err := tx.head(ctx, a.AccountID)
	if err != nil {
		return nil, err
	}
	size, tus := h.size, max(h.timeUS, micros(tx.now))
	t := fromMicros(tus)
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
		if hashes, err = tlog.StoredHashes(size, rec, edgeReader{ctx: ctx, tx: tx, accountID: a.AccountID, edge: &h.edge}); err != nil {
			return nil, err
		}
	}
	if tx.db.dialect.batchAppends {
		tx.log.pending.add(e, tus, clientID, strings.ToLower(target.Email), strings.ToLower(a.Email), tlog.StoredHashIndex(0, size), hashes)
	} else {
		if _, err := tx.exec(ctx, insertEntry, a.AccountID, e.Seq, tus, string(action), clientID, strings.ToLower(target.Email),
			a.UserID, strings.ToLower(a.Email), rec); err != nil {
			return nil, err
		}
		if len(hashes) > 0 {
			var q strings.Builder
			args := make([]any, 0, 3*len(hashes))
			q.WriteString("INSERT INTO audit_hashes (account_id, idx, hash) VALUES ")
			start := tlog.StoredHashIndex(0, size)
			for i := range hashes {
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString("(?, ?, ?)")
				args = append(args, a.AccountID, start+int64(i), hashes[i][:])
			}
			if _, err := tx.exec(ctx, q.String(), args...); err != nil {
				return nil, err
			}
		}
	}
	if len(hashes) > 0 {
		h.edge.appended(size, hashes)
	}
	h.size, h.timeUS = size+1, tus
	return e, nil
}

const insertEntry = `INSERT INTO audit_entries
		(account_id, seq, time_us, action, client_id, target_email, actor_id, actor_email, record)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`

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

// logBatch is what a write transaction knows of the logs it appends to:
// each account's head as the transaction has it, read (and on PostgreSQL
// locked) once, and written back once by flushHeads.
type logBatch struct {
	heads   map[int64]*logHead
	pending pendingAppends // with dialect.batchAppends: the rows not written yet
}

// pendingAppends holds the rows of a transaction's appends, column by
// column, until flushHeads writes them with the heads in one statement.
// Appends never read back hashes of their own transaction (the tree's right
// edge holds those), so nothing needs them in the database before then.
type pendingAppends struct {
	account, seq, timeUS, client, actor []int64
	action, target, actorEmail          []string
	record                              [][]byte
	hashAccount, hashIdx                []int64
	hash                                [][]byte
}

func (p *pendingAppends) add(e *reseller.Entry, timeUS, clientID int64, target, actorEmail string, start int64, hashes []tlog.Hash) {
	p.account = append(p.account, e.AccountID)
	p.seq = append(p.seq, e.Seq)
	p.timeUS = append(p.timeUS, timeUS)
	p.action = append(p.action, string(e.Action))
	p.client = append(p.client, clientID)
	p.target = append(p.target, target)
	p.actor = append(p.actor, e.Actor.ID)
	p.actorEmail = append(p.actorEmail, actorEmail)
	p.record = append(p.record, e.Record)
	for i := range hashes {
		p.hashAccount = append(p.hashAccount, e.AccountID)
		p.hashIdx = append(p.hashIdx, start+int64(i))
		p.hash = append(p.hash, hashes[i][:])
	}
}

// truncate forgets the rows past the first entries and hashes.
func (p *pendingAppends) truncate(entries, hashes int) {
	p.account, p.seq, p.timeUS, p.client, p.actor = p.account[:entries], p.seq[:entries], p.timeUS[:entries], p.client[:entries], p.actor[:entries]
	p.action, p.target, p.actorEmail, p.record = p.action[:entries], p.target[:entries], p.actorEmail[:entries], p.record[:entries]
	p.hashAccount, p.hashIdx, p.hash = p.hashAccount[:hashes], p.hashIdx[:hashes], p.hash[:hashes]
}

// flushAppends writes the pending rows and the heads in one statement.
const flushAppends = `WITH e AS (
	INSERT INTO audit_entries (account_id, seq, time_us, action, client_id, target_email, actor_id, actor_email, record)
	SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::text[], ?::bigint[], ?::text[], ?::bigint[], ?::text[], ?::bytea[])
), h AS (
	INSERT INTO audit_hashes (account_id, idx, hash) SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::bytea[])
)
UPDATE audit_heads SET size = v.size, last_time_us = v.t
FROM unnest(?::bigint[], ?::bigint[], ?::bigint[]) AS v(account_id, size, t)
WHERE audit_heads.account_id = v.account_id`

// logHead is an account's log head within a transaction.
type logHead struct {
	size, timeUS int64 // the head with this transaction's appends
	stored       int64 // the size the head row holds
	edge         treeEdge
}

// head returns the account's head as this transaction has it, reading the
// row the first time (with FOR UPDATE on PostgreSQL). ENOTFOUND for an
// account that does not exist.
func (tx *Tx) head(ctx context.Context, accountID int64) (*logHead, error) {
	if h, ok := tx.log.heads[accountID]; ok {
		return h, nil
	}
	h := &logHead{}
	if err := tx.queryRow(ctx, "SELECT size, last_time_us FROM audit_heads WHERE account_id = ?"+tx.db.dialect.forUpdate,
		accountID).Scan(&h.size, &h.timeUS); err != nil {
		return nil, notFound(err, "Account", accountID)
	}
	tx.addHead(accountID, h)
	return h, nil
}

// lockHeads reads and locks the heads of the accounts, which must be in
// ascending order: see the lock order in commit.go.
func (tx *Tx) lockHeads(ctx context.Context, accounts []int64) error {
	if len(accounts) == 0 {
		return nil
	}
	rows, err := tx.query(ctx, "SELECT account_id, size, last_time_us FROM audit_heads WHERE account_id = ANY(?) ORDER BY account_id"+tx.db.dialect.forUpdate, accounts)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		h := &logHead{}
		if err := rows.Scan(&id, &h.size, &h.timeUS); err != nil {
			return translate(err)
		}
		tx.addHead(id, h)
	}
	return translate(rows.Err())
}

func (tx *Tx) addHead(accountID int64, h *logHead) {
	h.stored = h.size
	h.edge = tx.db.cachedEdge(accountID, h.size)
	if tx.log.heads == nil {
		tx.log.heads = map[int64]*logHead{}
	}
	tx.log.heads[accountID] = h
}

// flushHeads writes back the heads that this transaction's appends moved,
// with the appends' pending rows (batchAppends).
func (tx *Tx) flushHeads(ctx context.Context) error {
	if p := &tx.log.pending; len(p.account) > 0 {
		var ids, sizes, times []int64
		for id, h := range tx.log.heads {
			if h.size != h.stored {
				ids, sizes, times = append(ids, id), append(sizes, h.size), append(times, h.timeUS)
			}
		}
		if _, err := tx.exec(ctx, flushAppends, p.account, p.seq, p.timeUS, p.action, p.client, p.target, p.actor, p.actorEmail, p.record,
			p.hashAccount, p.hashIdx, p.hash, ids, sizes, times); err != nil {
			return err
		}
		p.truncate(0, 0)
		for _, h := range tx.log.heads {
			h.stored = h.size
		}
		return nil
	}
	for id, h := range tx.log.heads {
		if h.size == h.stored {
			continue
		}
		if _, err := tx.exec(ctx, "UPDATE audit_heads SET size = ?, last_time_us = ? WHERE account_id = ?", h.size, h.timeUS, id); err != nil {
			return err
		}
		h.stored = h.size
	}
	return nil
}

// savedLog is what restore puts back.
type savedLog struct {
	heads           map[int64]logHead
	entries, hashes int
}

// save returns a copy of the heads and the number of pending rows, for
// restore.
func (b *logBatch) save() savedLog {
	s := savedLog{entries: len(b.pending.account), hashes: len(b.pending.hashIdx)}
	if len(b.heads) == 0 {
		return s
	}
	s.heads = make(map[int64]logHead, len(b.heads))
	for id, h := range b.heads {
		s.heads[id] = *h
	}
	return s
}

// restore puts back the heads and pending rows as save found them, when an
// action of a batch rolls back to its savepoint. A head first read by that
// action is forgotten: on PostgreSQL the rollback also released its lock.
func (b *logBatch) restore(saved savedLog) {
	b.heads = nil
	for id, h := range saved.heads {
		if b.heads == nil {
			b.heads = make(map[int64]*logHead, len(saved.heads))
		}
		b.heads[id] = &h
	}
	b.pending.truncate(saved.entries, saved.hashes)
}

// committed keeps the right edges of the trees this transaction appended
// to, now that they are stored, for the next transaction's appends.
func (b *logBatch) committed(db *DB) {
	for id, h := range b.heads {
		if h.size != h.edge.size || db.noMerkle {
			continue
		}
		e := h.edge
		db.edges.Store(id, &e)
	}
}
