package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/auditlog/logcheck"
	"github.com/resellerconsole/reseller/internal/auditlog/replay"
	"golang.org/x/mod/sumdb/tlog"
)

// maxProblems is how many problems CheckAccountReport lists per account;
// it counts the rest.
const maxProblems = 20

// CheckReport is what CheckAccountReport found in an account's log.
type CheckReport struct {
	AccountID   int64
	Size        int64     // entries, as the log's head says
	Root        tlog.Hash // of the tree recomputed from the records
	Checkpoints int       // signed checkpoints held against the tree: stored rows and kept ones
	Problems    logcheck.Problems
}

// Err returns nil when the check found nothing wrong, or else an
// *logcheck.Error listing the problems.
func (r *CheckReport) Err() error { return r.Problems.Err() }

// KeptCheckpoint is a signed checkpoint kept outside the database, by an
// auditor or saved from GET /api/v1/audit/checkpoint, as OpenCheckpoint
// returns it.
type KeptCheckpoint struct {
	Name string // where it was kept, for the report: a file name
	auditlog.Checkpoint
}

// CheckAccount is CheckAccountReport without kept checkpoints, for callers
// that only need to know whether the log checks out: it returns nil, a
// database error, or a *logcheck.Error listing the problems.
func (db *DB) CheckAccount(ctx context.Context, accountID int64) error {
	r, err := db.CheckAccountReport(ctx, accountID)
	if err != nil {
		return err
	}
	return r.Err()
}

// CheckAccountReport verifies an account's log against itself, against
// every signed checkpoint of it, and against the state it describes, for
// the operator (`reseller audit check`):
//
//   - every record is canonical, of its seq and account, and hashes to its
//     stored leaf; every stored Merkle hash is right; seqs run 1..size
//     without gaps (see logcheck.Checker);
//   - the columns that queries and exports filter on (action, client,
//     target and actor email, actor, time) say what the record says;
//   - every row of audit_checkpoints holds a note that verifies under the
//     verifier key or an old key (TrustOldKeys), is for this account's log,
//     and says the row's size and root; and the log's tree has that root at
//     that size, as it has each kept checkpoint's;
//   - replaying the log from empty rebuilds exactly the clients and
//     licenses in the tables, and each pool's used count.
//
// It reads one snapshot. It goes on after a problem and lists up to
// maxProblems of them in the report; the error is for a check that could
// not run (ENOTFOUND for an unknown account, a database error).
func (db *DB) CheckAccountReport(ctx context.Context, accountID int64, kept ...KeptCheckpoint) (*CheckReport, error) {
	r := &CheckReport{AccountID: accountID, Problems: logcheck.Problems{Max: maxProblems}}
	add := r.Problems.Add
	err := db.view(ctx, func(tx *Tx) error {
		var err error
		if r.Size, err = tx.logSize(ctx, accountID); err != nil {
			return err
		}
		cps, report, n, err := db.checkpointsToCheck(ctx, tx, accountID, kept, add)
		if err != nil {
			return err
		}
		r.Checkpoints = n
		lc := logcheck.New(r.Size, tx.hashReader(ctx, accountID), cps, report)
		lc.Account = accountID
		state := replay.NewState()
		err = tx.scanCheckRows(ctx, accountID, func(row *checkRow) {
			e := lc.Entry(row.seq, row.record)
			if e == nil {
				return
			}
			row.compare(e, add)
			if err := state.Apply(e); err != nil {
				add(fmt.Errorf("replay: %w", err))
			}
		})
		if err != nil {
			return err
		}
		lc.Finish()
		r.Root = lc.Root()
		return tx.compareState(ctx, accountID, state, add)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// checkpointsToCheck reads the account's checkpoint rows, reports those
// that do not hold up on their own (see openCheckpointRow), and returns
// every size and root they and the kept checkpoints claim, for
// logcheck.Checker, with a report function that names the claimant of a
// root the log does not have, and the number of rows and kept checkpoints.
func (db *DB) checkpointsToCheck(ctx context.Context, tx *Tx, accountID int64, kept []KeptCheckpoint, add func(error)) ([]auditlog.Checkpoint, func(error), int, error) {
	type claim struct {
		size int64
		root tlog.Hash
	}
	var cps []auditlog.Checkpoint
	names := map[claim]string{}
	claim1 := func(cp auditlog.Checkpoint, name string) {
		k := claim{cp.Size, cp.Root}
		if have, dup := names[k]; dup {
			names[k] = have + ", " + name
			return
		}
		names[k] = name
		cps = append(cps, cp)
	}
	rows, err := tx.query(ctx, "SELECT size, root, note FROM audit_checkpoints WHERE account_id = ? ORDER BY size", accountID)
	if err != nil {
		return nil, nil, 0, err
	}
	type row struct {
		size int64
		root []byte
		note string
	}
	var stored []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.size, &r.root, &r.note); err != nil {
			rows.Close()
			return nil, nil, 0, err
		}
		stored = append(stored, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, 0, err
	}
	for _, r := range stored {
		name := fmt.Sprintf("checkpoint row of size %d", r.size)
		note, err := db.openCheckpointRow(accountID, r.size, r.root, []byte(r.note))
		if err != nil {
			add(fmt.Errorf("%s: %w", name, err))
		}
		// The row is what the server serves proofs against; the note is
		// what an auditor holds. Both must be the log's.
		if root, ok := hashOf(r.root); ok {
			claim1(auditlog.Checkpoint{Size: r.size, Root: root}, name)
		}
		if !errors.Is(err, errNoteUnverified) && note.Origin == auditlog.Origin(db.keyName(), accountID) {
			claim1(note, "the note of "+name)
		}
	}
	for _, k := range kept {
		claim1(k.Checkpoint, "checkpoint "+k.Name)
	}
	report := func(err error) {
		var m *logcheck.CheckpointMismatchError
		if errors.As(err, &m) {
			err = fmt.Errorf("%s: %w", names[claim{m.Checkpoint.Size, m.Checkpoint.Root}], err)
		}
		add(err)
	}
	return cps, report, len(stored) + len(kept), nil
}

// errNoteUnverified marks a checkpoint row whose note does not verify.
var errNoteUnverified = errors.New("its note does not verify")

// openCheckpointRow verifies a row of audit_checkpoints against the note
// it holds: the note verifies under the verifier key or an old key, is for
// the account's log, and says the row's size and root. It returns the
// note's checkpoint whenever the note verifies, even if the row disagrees
// with it; an error wrapping errNoteUnverified when it does not.
func (db *DB) openCheckpointRow(accountID, size int64, root []byte, signed []byte) (auditlog.Checkpoint, error) {
	cp, err := db.openNote(signed)
	if err != nil {
		return cp, fmt.Errorf("%w: %w", errNoteUnverified, err)
	}
	if origin := auditlog.Origin(db.keyName(), accountID); cp.Origin != origin {
		return cp, fmt.Errorf("its note is a checkpoint of log %q, not of this account's %q", cp.Origin, origin)
	}
	if cp.Size != size {
		return cp, fmt.Errorf("its note is a checkpoint of size %d: the note or the row was replaced", cp.Size)
	}
	if h, ok := hashOf(root); !ok {
		return cp, fmt.Errorf("its root column has %d bytes, not %d: the row was altered", len(root), tlog.HashSize)
	} else if h != cp.Root {
		return cp, fmt.Errorf("its root column is %v but its note says %v: the row was altered", h, cp.Root)
	}
	return cp, nil
}

// openNote verifies a signed checkpoint with the verifier key or, failing
// that, one of the old keys, and parses it. The error is the verifier
// key's.
func (db *DB) openNote(signed []byte) (auditlog.Checkpoint, error) {
	keys := slices.DeleteFunc(append([]string{db.verifierKey}, db.oldKeys...), func(k string) bool { return k == "" })
	if len(keys) == 0 {
		return auditlog.Checkpoint{}, errors.New("no verifier key to check its signature with")
	}
	var first error
	for _, k := range keys {
		cp, err := auditlog.OpenCheckpoint(signed, k, "")
		if err == nil {
			return cp, nil
		}
		if first == nil {
			first = err
		}
	}
	return auditlog.Checkpoint{}, first
}

// OpenCheckpoint verifies a signed checkpoint kept outside the database
// (the note text GET /api/v1/audit/checkpoint serves) with the verifier key
// or an old key, and returns it with the account whose log it is, for
// CheckAccountReport. EINVALID when it does not verify or is not the
// checkpoint of a log of this database.
func (db *DB) OpenCheckpoint(signed []byte) (int64, auditlog.Checkpoint, error) {
	cp, err := db.openNote(signed)
	if err != nil {
		return 0, cp, reseller.Errorf(reseller.EINVALID, "The checkpoint does not verify: %v.", err)
	}
	name, accountID, err := auditlog.ParseOrigin(cp.Origin)
	if err != nil {
		return 0, cp, reseller.Errorf(reseller.EINVALID, "The checkpoint does not name an account's log: %v.", err)
	}
	if name != db.keyName() {
		return 0, cp, reseller.Errorf(reseller.EINVALID, "The checkpoint is of log %q, whose key name is not this database's %q.", cp.Origin, db.keyName())
	}
	return accountID, cp, nil
}

func hashOf(b []byte) (tlog.Hash, bool) {
	var h tlog.Hash
	if len(b) != len(h) {
		return h, false
	}
	copy(h[:], b)
	return h, true
}

// checkRow is an audit_entries row: the record and the columns derived
// from it (see appendEntry).
type checkRow struct {
	seq, timeUS, clientID, actorID  int64
	action, targetEmail, actorEmail string
	record                          []byte
}

// compare reports the columns of the row that do not say what its record
// says. Lists and exports select by the columns, so a column changed
// alone hides an entry from them, or shows it where it does not belong.
func (r *checkRow) compare(e *reseller.Entry, add func(error)) {
	var diffs []string
	differ := func(col string, got, want any) {
		diffs = append(diffs, fmt.Sprintf("%s is %#v, not %#v", col, got, want))
	}
	if r.action != string(e.Action) {
		differ("action", r.action, string(e.Action))
	}
	wantClient := e.Target.ID
	if e.Target.Type != reseller.TargetClient {
		wantClient = 0 // the column is for client targets only
	}
	if r.clientID != wantClient {
		differ("client_id", r.clientID, wantClient)
	}
	if want := strings.ToLower(e.Target.Email); r.targetEmail != want {
		differ("target_email", r.targetEmail, want)
	}
	if r.actorID != e.Actor.ID {
		differ("actor_id", r.actorID, e.Actor.ID)
	}
	if want := strings.ToLower(e.Actor.Email); r.actorEmail != want {
		differ("actor_email", r.actorEmail, want)
	}
	if want := micros(e.Time); r.timeUS != want {
		differ("time_us", r.timeUS, want)
	}
	if len(diffs) > 0 {
		add(fmt.Errorf("seq %d: the row's columns disagree with its record: %s", r.seq, strings.Join(diffs, ", ")))
	}
}

// checkBatch is how many rows scanCheckRows reads per query.
const checkBatch = 2000

// scanCheckRows calls fn for every audit_entries row of the account, seq
// order, whatever its seq. It reads a batch of rows and closes the query
// before calling fn, so that fn may query the transaction too.
func (tx *Tx) scanCheckRows(ctx context.Context, accountID int64, fn func(*checkRow)) error {
	batch := make([]checkRow, 0, checkBatch)
	after := int64(-1 << 62)
	for {
		rows, err := tx.query(ctx, `SELECT seq, time_us, action, client_id, target_email, actor_id, actor_email, record
			FROM audit_entries WHERE account_id = ? AND seq > ? ORDER BY seq LIMIT ?`, accountID, after, checkBatch)
		if err != nil {
			return err
		}
		batch = batch[:0]
		for rows.Next() {
			var r checkRow
			if err := rows.Scan(&r.seq, &r.timeUS, &r.action, &r.clientID, &r.targetEmail, &r.actorID, &r.actorEmail, &r.record); err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i := range batch {
			fn(&batch[i])
		}
		if len(batch) < checkBatch {
			return nil
		}
		after = batch[len(batch)-1].seq
	}
}

// ReadHashRange implements logcheck.HashRangeReader: one range scan of the
// primary key instead of a list of indexes.
func (r hashReader) ReadHashRange(lo, hi int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, 0, hi-lo)
	if hi <= lo {
		return out, nil
	}
	const q = "SELECT idx, hash FROM audit_hashes WHERE account_id = ? AND idx BETWEEN ? AND ? ORDER BY idx"
	var rows *sql.Rows
	var err error
	if r.tx != nil {
		rows, err = r.tx.query(r.ctx, q, r.accountID, lo, hi-1)
	} else {
		rows, err = r.db.ro.QueryContext(r.ctx, r.db.dialect.rebind(q), r.accountID, lo, hi-1)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var h []byte
	for rows.Next() {
		var idx int64
		if err := rows.Scan(&idx, &h); err != nil {
			return nil, err
		}
		if want := lo + int64(len(out)); idx != want {
			return nil, fmt.Errorf("stored hash %d is missing", want)
		}
		if len(h) != tlog.HashSize {
			return nil, fmt.Errorf("stored hash %d has %d bytes", idx, len(h))
		}
		out = append(out, tlog.Hash(h))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if int64(len(out)) != hi-lo {
		return nil, fmt.Errorf("stored hashes %d..%d are missing", lo+int64(len(out)), hi-1)
	}
	return out, nil
}
