package sqldb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/resellerconsole/reseller/internal/witness"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Witnesses. Every checkpoint the store signs is sent to each witness (C2SP
// tlog-witness), which keeps its own copy of the latest one outside our
// database and cosigns only a tree that extends it. Cosignatures are stored
// and served with the checkpoint, so an auditor can require them. A witness
// that says our tree does not extend what it cosigned (a fork, a rollback)
// stops the log like a failed check does; one that cannot be reached is
// logged and tried again with the next checkpoint.

// witnessTimeout bounds one call to a witness.
const witnessTimeout = 5 * time.Second

// dbWitness is a witness the store sends checkpoints to.
type dbWitness struct {
	client *witness.Client
	id     string // the witness key's name+hash, as cosignature rows name it

	mu   sync.Mutex
	size map[int64]int64 // account → size of the latest checkpoint it cosigned, as far as we know
}

// AddWitness makes the store send every checkpoint it signs to a witness
// at url, whose cosignatures v verifies (auditlog.NewCosignatureVerifier).
// Call it before serving.
func (db *DB) AddWitness(url string, v note.Verifier) {
	db.witnesses = append(db.witnesses, &dbWitness{
		client: &witness.Client{URL: url, Verifier: v},
		id:     fmt.Sprintf("%s+%08x", v.Name(), v.KeyHash()),
		size:   map[int64]int64{},
	})
}

// OnWitnessError sets a function called when a witness cannot be reached
// or answers something unexpected (not a refusal): the server logs it.
func (db *DB) OnWitnessError(fn func(accountID int64, url string, err error)) { db.onWitnessError = fn }

// witness sends a newly signed checkpoint of size n to every witness and
// stores their cosignatures. It returns an error (having marked the log)
// only when a witness says the tree is not an extension of what it cosigned.
func (db *DB) witness(ctx context.Context, accountID, n int64, signed []byte, fail func(string, ...any) error) error {
	for _, w := range db.witnesses {
		line, err := db.sendToWitness(ctx, w, accountID, n, signed)
		var refused *witness.RefusedError
		switch {
		case errors.As(err, &refused) && refused.Status == 422:
			return fail("witness %s refused the checkpoint of size %d: it does not extend the checkpoint the witness cosigned (%s)", w.client.URL, n, strings.TrimSpace(refused.Body))
		case errors.Is(err, errRolledBack):
			return fail("witness %s: %v", w.client.URL, err)
		case err != nil:
			if db.onWitnessError != nil {
				db.onWitnessError(accountID, w.client.URL, err)
			}
			continue
		}
		err = db.update(ctx, func(ctx context.Context, tx *Tx) error {
			_, err := tx.exec(ctx, "INSERT INTO audit_cosignatures (account_id, size, witness, line, created_at) VALUES (?, ?, ?, ?, ?)",
				accountID, n, w.id, string(line), micros(tx.now))
			return err
		})
		if err != nil && !violates(err, errUnique, "") && !strings.Contains(err.Error(), "append-only") {
			return err
		}
	}
	return nil
}

var errRolledBack = errors.New("it cosigned a larger tree than the log now has: the log was rolled back")

// sendToWitness sends one checkpoint to one witness with a consistency
// proof from the size it last cosigned, learning that size from a 409 once.
func (db *DB) sendToWitness(ctx context.Context, w *dbWitness, accountID, n int64, signed []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, witnessTimeout)
	defer cancel()
	w.mu.Lock()
	old, known := w.size[accountID]
	w.mu.Unlock()
	if !known {
		err := db.ro.QueryRowContext(ctx, db.dialect.rebind("SELECT COALESCE(max(size), 0) FROM audit_cosignatures WHERE account_id = ? AND witness = ?"), accountID, w.id).Scan(&old)
		if err != nil {
			return nil, err
		}
	}
	for try := 0; ; try++ {
		if old > n {
			return nil, fmt.Errorf("%w (the witness has size %d, the log %d)", errRolledBack, old, n)
		}
		var proof []tlog.Hash
		if old > 0 && old < n {
			err := db.ViewLog(ctx, accountID, func(_ int64, hr tlog.HashReader) error {
				var err error
				proof, err = tlog.ProveTree(n, old, hr)
				return err
			})
			if err != nil {
				return nil, err
			}
		}
		line, err := w.client.AddCheckpoint(ctx, old, proof, signed)
		var conflict *witness.ConflictError
		if errors.As(err, &conflict) && try == 0 {
			old = conflict.Size
			continue
		}
		if err == nil {
			w.mu.Lock()
			w.size[accountID] = n
			w.mu.Unlock()
		}
		return line, err
	}
}

// cosigned returns a signed checkpoint with the cosignatures stored for it.
func (db *DB) cosigned(ctx context.Context, accountID, size int64, signed []byte) []byte {
	rows, err := db.ro.QueryContext(ctx, db.dialect.rebind("SELECT line FROM audit_cosignatures WHERE account_id = ? AND size = ? ORDER BY witness"), accountID, size)
	if err != nil {
		return signed
	}
	defer rows.Close()
	out := signed
	for rows.Next() {
		var line string
		if rows.Scan(&line) == nil && strings.HasPrefix(line, "— ") && strings.HasSuffix(line, "\n") {
			out = append(out[:len(out):len(out)], line...)
		}
	}
	return out
}
