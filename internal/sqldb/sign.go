package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Signing checkpoints safely. The threat is a writer of the database who does
// not hold the signing key: if the server signed whatever tree the tables
// hold, such a writer could rewrite history, recompute every stored hash, and
// have the result signed. So before signing size N the store proves that the
// tree of size N extends the newest checkpoint it can trust: one this process
// signed, or a stored one whose note verifies under a known key and whose row
// matches its note. The prefix is checked against that checkpoint's root, and
// the new part is hashed from the record bytes, not taken from stored hashes.
// A log that fails is marked inconsistent: nothing more is signed or appended
// for its account (ELOGINCONSISTENT) until an operator has looked at it, and
// nothing is repaired automatically.

// logState is what this process knows of one account's log.
type logState struct {
	mu   sync.Mutex // held while signing: one signing round per log at a time
	size int64      // size of the newest trusted checkpoint; -1 for none yet
	root tlog.Hash
	note []byte // its signed note
	// noteKey is the verifier key note is known to be signed by; when the
	// signing key was replaced, the note is signed again with the new one.
	noteKey string
	seen    int64 // stored checkpoint rows up to this size have been examined; -1 for none
}

func (db *DB) logState(accountID int64) *logState {
	if v, ok := db.logs.Load(accountID); ok {
		return v.(*logState)
	}
	v, _ := db.logs.LoadOrStore(accountID, &logState{size: -1, seen: -1})
	return v.(*logState)
}

// OnInconsistent sets a function called once for each account whose log is
// found inconsistent, with what was found: the server logs it and counts it.
func (db *DB) OnInconsistent(fn func(accountID int64, cause error)) { db.onInconsistent = fn }

// LogInconsistent returns ELOGINCONSISTENT if an account's log was found
// inconsistent by this process, and nil otherwise.
func (db *DB) LogInconsistent(accountID int64) error {
	if _, bad := db.badLogs.Load(accountID); bad {
		return errInconsistent()
	}
	return nil
}

// LogHealth returns ELOGINCONSISTENT if the actor's account's log was found
// inconsistent, for the console's banner.
func (db *DB) LogHealth(ctx context.Context) error {
	a, err := reseller.Authorize(ctx, reseller.PermViewAudit)
	if err != nil {
		return nil
	}
	return db.LogInconsistent(a.AccountID)
}

func errInconsistent() error {
	return reseller.Errorf(reseller.ELOGINCONSISTENT, "This account's audit log failed its consistency check, so changes and new checkpoints are refused until an operator has looked at it (reseller audit check). Reading the log still works.")
}

// markInconsistent stops an account's log for what cause says, and returns
// the error its callers get.
func (db *DB) markInconsistent(accountID int64, cause error) error {
	if _, loaded := db.badLogs.LoadOrStore(accountID, cause); !loaded && db.onInconsistent != nil {
		db.onInconsistent(accountID, cause)
	}
	return errInconsistent()
}

// signLatest makes sure the newest checkpoint of an account's log covers the
// whole log, signing and storing one if the log grew, and returns it. It
// refuses to sign a tree that is not an extension of the newest checkpoint
// it trusts, and marks the log inconsistent instead.
func (db *DB) signLatest(ctx context.Context, accountID int64) (size int64, root tlog.Hash, signed []byte, err error) {
	if err := db.LogInconsistent(accountID); err != nil {
		return 0, root, nil, err
	}
	st := db.logState(accountID)
	st.mu.Lock()
	defer st.mu.Unlock()
	origin := auditlog.Origin(db.keyName(), accountID)
	fail := func(format string, args ...any) error {
		return db.markInconsistent(accountID, fmt.Errorf("log %s: "+format, append([]any{origin}, args...)...))
	}
	var n int64
	err = db.view(ctx, func(tx *Tx) error {
		var err error
		if n, err = tx.logSize(ctx, accountID); err != nil {
			return err
		}
		if n < st.size {
			return fail("it has %d entries, but a checkpoint of size %d was signed: entries were removed", n, st.size)
		}
		hr := tx.hashReader(ctx, accountID)
		if err := db.adoptStored(ctx, tx, st, accountID, origin, n, hr, fail); err != nil {
			return err
		}
		if n == st.size {
			return nil
		}
		from := max(st.size, 0)
		b, err := auditlog.NewTreeBuilder(from, hr, nil)
		if err != nil {
			return err
		}
		if st.size >= 0 && b.Root() != st.root {
			return fail("the stored hashes of its first %d entries give root %v, but their signed checkpoint says %v: the log was rewritten", st.size, b.Root(), st.root)
		}
		err = tx.forRecords(ctx, accountID, from+1, n, func(seq int64, rec []byte) error {
			if seq != b.Size()+1 {
				return fail("entry %d is missing", b.Size()+1)
			}
			b.Append(rec)
			return nil
		})
		if err != nil {
			return err
		}
		if b.Size() != n {
			return fail("it should have %d entries but holds %d", n, b.Size())
		}
		stored, err := tlog.TreeHash(n, hr)
		if err != nil {
			return err
		}
		if stored != b.Root() {
			return fail("the stored hashes of its %d entries give root %v, but the records give %v", n, stored, b.Root())
		}
		root = b.Root()
		return nil
	})
	if err != nil {
		return 0, root, nil, err
	}
	if n == st.size {
		if st.noteKey != db.verifierKey && !db.signedByCurrentKey(st.note) {
			// Signed by an earlier key: sign the same size and root again
			// with today's key, so that what we serve verifies with the key
			// we publish. The stored one stays as it was.
			if st.note, err = auditlog.SignCheckpoint(auditlog.Checkpoint{Origin: origin, Size: n, Root: st.root}, db.signer); err != nil {
				return 0, root, nil, err
			}
		}
		st.noteKey = db.verifierKey
		return st.size, st.root, st.note, nil
	}
	cp := auditlog.Checkpoint{Origin: origin, Size: n, Root: root}
	if signed, err = auditlog.SignCheckpoint(cp, db.signer); err != nil {
		return 0, root, nil, err
	}
	if signed, err = db.storeCheckpoint(ctx, accountID, cp, signed, fail); err != nil {
		return 0, root, nil, err
	}
	if err := db.witness(ctx, accountID, n, signed, fail); err != nil {
		return 0, root, nil, err
	}
	st.size, st.root, st.note, st.noteKey, st.seen = n, root, signed, "", max(st.seen, n)
	return n, root, signed, nil
}

// adoptStored examines the checkpoint rows this process has not looked at
// yet (on the first look, only the newest): each must match its note and the
// tree, and the newest that verifies becomes the trusted checkpoint. Rows
// signed by a key this server does not know (one replaced without keeping
// it) are passed over; `reseller audit check` reports them.
func (db *DB) adoptStored(ctx context.Context, tx *Tx, st *logState, accountID int64, origin string, n int64, hr tlog.HashReader, fail func(string, ...any) error) error {
	q, args := "SELECT size, root, note FROM audit_checkpoints WHERE account_id = ? AND size > ? ORDER BY size DESC", []any{accountID, st.seen}
	if st.seen < 0 {
		q += " LIMIT 100"
	}
	type row struct {
		size int64
		root []byte
		note string
	}
	qrows, qerr := tx.query(ctx, q, args...)
	rows, err := collect(qrows, qerr, func(s scanner) (r row, err error) {
		return r, s.Scan(&r.size, &r.root, &r.note)
	})
	if err != nil {
		return err
	}
	for i := len(rows) - 1; i >= 0; i-- { // oldest first
		r := rows[i]
		st.seen = max(st.seen, r.size)
		cp, known, err := db.openRow(origin, r.size, r.root, r.note)
		if err != nil {
			return fail("%v", err)
		}
		if !known {
			continue
		}
		if r.size > n {
			return fail("a checkpoint of size %d is stored, but the log has only %d entries", r.size, n)
		}
		got, err := tlog.TreeHash(r.size, hr)
		if err != nil {
			return err
		}
		if got != cp.Root {
			return fail("the stored hashes of its first %d entries give root %v, but their signed checkpoint says %v: the log was rewritten", r.size, got, cp.Root)
		}
		if r.size == st.size && cp.Root != st.root {
			return fail("two checkpoints of size %d with different roots", r.size)
		}
		if r.size > st.size {
			st.size, st.root, st.note = r.size, cp.Root, []byte(r.note)
		}
	}
	return nil
}

// openRow checks a stored checkpoint row against its note: the note must be
// signed by a key this server knows, be for the account's log, and name the
// row's size and root. known is false when the note's signature is by a key
// that this server does not know at all; any other mismatch is an error.
func (db *DB) openRow(origin string, size int64, root []byte, text string) (cp auditlog.Checkpoint, known bool, err error) {
	vs := make([]note.Verifier, 0, 1+len(db.oldKeys))
	for _, k := range append([]string{db.verifierKey}, db.oldKeys...) {
		if k == "" {
			continue
		}
		v, err := note.NewVerifier(strings.TrimSpace(k))
		if err != nil {
			return cp, true, fmt.Errorf("verifier key: %w", err)
		}
		vs = append(vs, v)
	}
	n, err := note.Open([]byte(text), note.VerifierList(vs...))
	var unknown *note.UnverifiedNoteError
	if errors.As(err, &unknown) {
		return cp, false, nil
	} else if err != nil {
		return cp, true, fmt.Errorf("the stored checkpoint of size %d does not verify: %v", size, err)
	}
	if cp, err = auditlog.ParseCheckpoint([]byte(n.Text)); err != nil {
		return cp, true, fmt.Errorf("the stored checkpoint of size %d: %v", size, err)
	}
	switch {
	case cp.Origin != origin:
		return cp, true, fmt.Errorf("the stored checkpoint of size %d is for log %q", size, cp.Origin)
	case cp.Size != size:
		return cp, true, fmt.Errorf("the checkpoint row of size %d holds the signed checkpoint of size %d", size, cp.Size)
	case string(cp.Root[:]) != string(root):
		return cp, true, fmt.Errorf("the checkpoint row of size %d has root %x, but its signed note says %v", size, root, cp.Root)
	}
	return cp, true, nil
}

// signedByCurrentKey reports whether a note carries a valid signature by the
// key this server signs with today.
func (db *DB) signedByCurrentKey(text []byte) bool {
	v, err := note.NewVerifier(strings.TrimSpace(db.verifierKey))
	if err != nil {
		return false
	}
	_, err = note.Open(text, note.VerifierList(v))
	return err == nil
}

// storeCheckpoint stores a checkpoint that was just signed, unless one of
// that size is stored already (another instance signed it first), and
// returns the note to serve: the stored one if it has the same root and the
// current key signed it; ours if it has the same root but an older key
// signed it. A stored one with another root is a fork: the log is marked.
func (db *DB) storeCheckpoint(ctx context.Context, accountID int64, cp auditlog.Checkpoint, signed []byte, fail func(string, ...any) error) ([]byte, error) {
	var existing *storedCheckpoint
	read := func(tx *Tx) error {
		s := &storedCheckpoint{}
		err := tx.queryRow(ctx, "SELECT root, note FROM audit_checkpoints WHERE account_id = ? AND size = ?", accountID, cp.Size).Scan(&s.root, &s.note)
		if err == nil {
			existing = s
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		return nil
	}
	err := db.update(ctx, func(ctx context.Context, tx *Tx) error {
		if err := read(tx); err != nil || existing != nil {
			return err
		}
		_, err := tx.exec(ctx, "INSERT INTO audit_checkpoints (account_id, size, root, note, created_at) VALUES (?, ?, ?, ?, ?)",
			accountID, cp.Size, cp.Root[:], string(signed), micros(tx.now))
		return err
	})
	if violates(err, errUnique, "") {
		err = db.view(ctx, read) // another instance stored it between our look and our insert
	}
	if err != nil || existing == nil {
		return signed, err
	}
	if _, known, err := db.openRow(cp.Origin, cp.Size, existing.root, existing.note); err != nil {
		return nil, fail("%v", err)
	} else if string(existing.root) != string(cp.Root[:]) {
		return nil, fail("a checkpoint of size %d with root %x is stored, but the log's root is %v", cp.Size, existing.root, cp.Root)
	} else if known && db.signedByCurrentKey([]byte(existing.note)) {
		return []byte(existing.note), nil
	}
	return signed, nil
}

// forRecords calls fn with each record of an account's log from seq lo to
// hi, in order, a batch at a time.
func (tx *Tx) forRecords(ctx context.Context, accountID, lo, hi int64, fn func(seq int64, rec []byte) error) error {
	q := &auditQuery{accountID: accountID, lo: lo, hi: hi + 1}
	q.where.WriteString("account_id = ?")
	q.args = []any{accountID}
	return tx.scanRows(ctx, q, reseller.OrderAsc, true, fn)
}

// SignCheckpoints signs a checkpoint of each log that grew since its newest
// stored checkpoint, or of every log when all is set (as a server does when
// it starts, to check each log once). The server calls it every second, so
// that the part of a log no signature covers yet is never more than about a
// second of writes. Logs found inconsistent are skipped: they were reported
// when they were found.
func (db *DB) SignCheckpoints(ctx context.Context, all bool) error {
	if db.signer == nil {
		return nil
	}
	q := `SELECT h.account_id FROM audit_heads h WHERE h.size > COALESCE(
		(SELECT max(c.size) FROM audit_checkpoints c WHERE c.account_id = h.account_id), 0)`
	if all {
		q = "SELECT account_id FROM audit_heads WHERE size > 0"
	}
	qrows, qerr := db.ro.QueryContext(ctx, q)
	ids, err := collect(qrows, qerr, func(s scanner) (id int64, err error) { return id, s.Scan(&id) })
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range ids {
		if db.LogInconsistent(id) != nil {
			continue
		}
		if _, _, _, err := db.signLatest(ctx, id); err != nil && reseller.ErrorCode(err) != reseller.ELOGINCONSISTENT {
			errs = append(errs, fmt.Errorf("account %d: %w", id, err))
		}
	}
	return errors.Join(errs...)
}
