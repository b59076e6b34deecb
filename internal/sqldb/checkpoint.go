package sqldb

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/auditlog/bundle"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// SetSigner gives the store the key it signs checkpoints with. Without one,
// the LogService methods fail with reseller.ErrNoSigner.
func (db *DB) SetSigner(s note.Signer, verifierKey string) {
	db.signer, db.verifierKey = s, verifierKey
}

// TrustOldKeys names verifier keys of signing keys used before the current
// one: checkpoints they signed still count in CheckAccount. See "Losing or
// replacing the signing key" in docs/audit-log-format.md.
func (db *DB) TrustOldKeys(vkeys ...string) { db.oldKeys = append(db.oldKeys, vkeys...) }

// VerifierKey returns the public key checkpoints are signed with.
func (db *DB) VerifierKey() string { return db.verifierKey }

// AccountCheckpoint returns the signed checkpoint of an account's log at
// size (0 for its current size). The newest is signed and stored when the
// log has grown, after proving that the tree extends the last trusted
// checkpoint (sign.go); an older size is served from its stored checkpoint,
// or signed once proven a prefix of the newest. The store never signs two
// checkpoints of one size: a stored one of another root marks the log
// inconsistent (ELOGINCONSISTENT). For the operator; LogService methods
// authorise first.
func (db *DB) AccountCheckpoint(ctx context.Context, accountID, size int64) (*reseller.Checkpoint, error) {
	if db.signer == nil {
		return nil, reseller.ErrNoSigner
	}
	n, root, signed, err := db.signLatest(ctx, accountID)
	if err != nil {
		return nil, err
	}
	origin := auditlog.Origin(db.keyName(), accountID)
	if size == 0 || size == n {
		return db.toCheckpoint(auditlog.Checkpoint{Origin: origin, Size: n, Root: root}, db.cosigned(ctx, accountID, n, signed)), nil
	}
	if size < 0 || size > n {
		return nil, reseller.Errorf(reseller.EINVALID, "Size %d is beyond the log, which has %d entries.", size, n)
	}
	fail := func(format string, args ...any) error {
		return db.markInconsistent(accountID, fmt.Errorf("log %s: "+format, append([]any{origin}, args...)...))
	}
	cp := auditlog.Checkpoint{Origin: origin, Size: size}
	err = db.ViewLog(ctx, accountID, func(_ int64, hr tlog.HashReader) error {
		var err error
		if cp.Root, err = tlog.TreeHash(size, hr); err != nil {
			return err
		}
		proof, err := tlog.ProveTree(n, size, hr)
		if err != nil {
			return err
		}
		if tlog.CheckTree(proof, n, root, size, cp.Root) != nil {
			return fail("the stored hashes of its first %d entries are not a prefix of its signed checkpoint of size %d", size, n)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if signed, err = auditlog.SignCheckpoint(cp, db.signer); err != nil {
		return nil, err
	}
	if signed, err = db.storeCheckpoint(ctx, accountID, cp, signed, fail); err != nil {
		return nil, err
	}
	return db.toCheckpoint(cp, db.cosigned(ctx, accountID, size, signed)), nil
}

type storedCheckpoint struct {
	root []byte
	note string
}

func (db *DB) storedCheckpoint(ctx context.Context, accountID, size int64) (*storedCheckpoint, error) {
	s := &storedCheckpoint{}
	err := db.ro.QueryRowContext(ctx, db.dialect.rebind("SELECT root, note FROM audit_checkpoints WHERE account_id = ? AND size = ?"),
		accountID, size).Scan(&s.root, &s.note)
	return s, err
}

func (db *DB) toCheckpoint(cp auditlog.Checkpoint, signed []byte) *reseller.Checkpoint {
	return &reseller.Checkpoint{Origin: cp.Origin, Size: cp.Size, Root: append([]byte(nil), cp.Root[:]...), Note: string(signed), VerifierKey: db.verifierKey}
}

// keyName is the name in the signing key, which also names the logs.
func (db *DB) keyName() string {
	if db.signer == nil {
		return auditlog.DefaultKeyName
	}
	return db.signer.Name()
}

// LatestCheckpoint returns the newest stored checkpoint of an account, or
// ENOTFOUND when none was signed yet.
func (db *DB) LatestCheckpoint(ctx context.Context, accountID int64) (*reseller.Checkpoint, error) {
	var size int64
	var root []byte
	var text string
	err := db.ro.QueryRowContext(ctx, db.dialect.rebind("SELECT size, root, note FROM audit_checkpoints WHERE account_id = ? ORDER BY size DESC LIMIT 1"),
		accountID).Scan(&size, &root, &text)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, reseller.Errorf(reseller.ENOTFOUND, "No checkpoint has been signed for account %d yet.", accountID)
	} else if err != nil {
		return nil, err
	}
	origin := auditlog.Origin(db.keyName(), accountID)
	if cp, err := auditlog.ParseCheckpoint(noteText([]byte(text))); err == nil {
		origin = cp.Origin
	}
	return &reseller.Checkpoint{Origin: origin, Size: size, Root: root, Note: text, VerifierKey: db.verifierKey}, nil
}

// noteText returns the signed text of a note: everything before the blank line.
func noteText(n []byte) []byte {
	if i := bytes.Index(n, []byte("\n\n")); i >= 0 {
		return n[:i+1]
	}
	return n
}

// Checkpoint implements reseller.LogService.
func (db *DB) Checkpoint(ctx context.Context) (*reseller.Checkpoint, error) {
	a, err := reseller.Authorize(ctx, reseller.PermViewAudit)
	if err != nil {
		return nil, err
	}
	return db.AccountCheckpoint(ctx, a.AccountID, 0)
}

// ProveInclusion implements reseller.LogService.
func (db *DB) ProveInclusion(ctx context.Context, seq, size int64) (*reseller.InclusionProof, error) {
	a, err := reseller.Authorize(ctx, reseller.PermViewAudit)
	if err != nil {
		return nil, err
	}
	cp, err := db.AccountCheckpoint(ctx, a.AccountID, size)
	if err != nil {
		return nil, err
	}
	if seq < 1 || seq > cp.Size {
		return nil, reseller.Errorf(reseller.EINVALID, "Seq %d is not in the tree of size %d.", seq, cp.Size)
	}
	p := &reseller.InclusionProof{Seq: seq, Size: cp.Size, Checkpoint: cp}
	err = db.view(ctx, func(tx *Tx) error {
		var rec []byte
		if err := tx.queryRow(ctx, "SELECT record FROM audit_entries WHERE account_id = ? AND seq = ?", a.AccountID, seq).Scan(&rec); err != nil {
			return err
		}
		p.Record = string(rec)
		leaf := tlog.RecordHash(rec)
		p.LeafHash = leaf[:]
		proof, err := auditlog.ProveInclusion(cp.Size, seq, tx.hashReader(ctx, a.AccountID))
		p.Proof = hashBytes(proof)
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// ProveConsistency implements reseller.LogService.
func (db *DB) ProveConsistency(ctx context.Context, from, to int64) (*reseller.ConsistencyProof, error) {
	a, err := reseller.Authorize(ctx, reseller.PermViewAudit)
	if err != nil {
		return nil, err
	}
	cp, err := db.AccountCheckpoint(ctx, a.AccountID, to)
	if err != nil {
		return nil, err
	}
	if from < 1 || from > cp.Size {
		return nil, reseller.Errorf(reseller.EINVALID, "From must be between 1 and %d (the newer size), not %d.", cp.Size, from)
	}
	old, err := db.AccountCheckpoint(ctx, a.AccountID, from)
	if err != nil {
		return nil, err
	}
	p := &reseller.ConsistencyProof{From: from, To: cp.Size, Old: old, Checkpoint: cp}
	proof, err := auditlog.ProveConsistency(from, cp.Size, db.hashReader(ctx, a.AccountID))
	if err != nil {
		return nil, err
	}
	p.Proof = hashBytes(proof)
	return p, nil
}

func hashBytes(hs []tlog.Hash) [][]byte {
	out := make([][]byte, len(hs))
	for i, h := range hs {
		out[i] = append([]byte(nil), h[:]...)
	}
	return out
}

// WriteBundle implements reseller.LogService.
func (db *DB) WriteBundle(ctx context.Context, w io.Writer, f reseller.AuditFilter, since int64) (int, error) {
	a, err := reseller.Authorize(ctx, reseller.PermViewAudit)
	if err != nil {
		return 0, err
	}
	return db.WriteAccountBundle(ctx, a.AccountID, w, f, since)
}

// WriteAccountBundle writes a verification bundle of an account's entries
// that f selects, against a checkpoint of the log as it is now, with a
// consistency proof from size since (0 for none). It returns how many
// entries the bundle holds. For the operator.
func (db *DB) WriteAccountBundle(ctx context.Context, accountID int64, w io.Writer, f reseller.AuditFilter, since int64) (entries int, err error) {
	f.Limit, f.Cursor, f.Order = 0, "", reseller.OrderAsc
	if err := f.Validate(); err != nil {
		return 0, err
	}
	cp, err := db.AccountCheckpoint(ctx, accountID, 0)
	if err != nil {
		return 0, err
	}
	if since < 0 || since > cp.Size {
		return 0, reseller.Errorf(reseller.EINVALID, "Since must be between 0 (no consistency proof) and the log's size %d, not %d.", cp.Size, since)
	}
	err = db.view(ctx, func(tx *Tx) error {
		q, err := tx.newAuditQuery(ctx, accountID, &f)
		if err != nil {
			return err
		}
		q.hi = min(q.hi, cp.Size+1)
		var seqs []int64
		if err := tx.scanRows(ctx, q, reseller.OrderAsc, false, func(seq int64, _ []byte) error { seqs = append(seqs, seq); return nil }); err != nil {
			return err
		}
		entries = len(seqs)
		return bundle.Write(w, bundle.Input{
			Checkpoint:  []byte(cp.Note),
			VerifierKey: cp.VerifierKey,
			Origin:      cp.Origin,
			Size:        cp.Size,
			Hashes:      db.hashReader(ctx, accountID),
			Seqs:        seqs,
			Records: func(fn func(int64, []byte) error) error {
				return tx.scanRows(ctx, q, reseller.OrderAsc, true, fn)
			},
			Since:  since,
			Filter: reseller.DescribeFilter(f),
		})
	})
	return entries, err
}
