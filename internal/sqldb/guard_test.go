package sqldb_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

// The audit tables refuse to be overwritten. On SQLite a REPLACE deletes the
// row it replaces without firing DELETE triggers, so it needs guards of its
// own; an upsert fires the UPDATE trigger.
func TestAuditTablesRefuseOverwrites(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		withKey(t, db)
		f.history(t)
		ok(db.Checkpoint(f.as(reseller.RoleAuditor)))
		a := f.account.ID
		stmts := []string{
			fmt.Sprintf("INSERT INTO audit_entries (account_id, seq, time_us, action, client_id, target_email, actor_id, actor_email, record) VALUES (%d, 3, 0, 'client.created', 0, 'x@x.test', 0, 'x@x.test', X'7b7d') ON CONFLICT (account_id, seq) DO UPDATE SET action = 'client.created'", a),
			fmt.Sprintf("INSERT INTO audit_hashes (account_id, idx, hash) VALUES (%d, 2, X'00') ON CONFLICT (account_id, idx) DO UPDATE SET hash = excluded.hash", a),
			fmt.Sprintf("INSERT INTO audit_checkpoints (account_id, size, root, note, created_at) VALUES (%d, (SELECT max(size) FROM audit_checkpoints WHERE account_id = %d), X'00', 'forged', 0) ON CONFLICT (account_id, size) DO UPDATE SET note = excluded.note", a, a),
			// A checkpoint of a log larger than the one there is.
			fmt.Sprintf("INSERT INTO audit_checkpoints (account_id, size, root, note, created_at) VALUES (%d, 999999, X'00', 'junk', 0)", a),
		}
		if db.Dialect() == "sqlite" {
			stmts = append(stmts,
				fmt.Sprintf("REPLACE INTO audit_entries (account_id, seq, time_us, action, client_id, target_email, actor_id, actor_email, record) VALUES (%d, 3, 0, 'client.created', 0, 'x@x.test', 0, 'x@x.test', X'7b7d')", a),
				fmt.Sprintf("INSERT OR REPLACE INTO audit_entries (account_id, seq, time_us, action, client_id, target_email, actor_id, actor_email, record) VALUES (%d, 3, 0, 'client.created', 0, 'x@x.test', 0, 'x@x.test', X'7b7d')", a),
				fmt.Sprintf("REPLACE INTO audit_hashes (account_id, idx, hash) VALUES (%d, 2, X'00')", a),
				fmt.Sprintf("INSERT OR REPLACE INTO audit_hashes (account_id, idx, hash) VALUES (%d, 2, X'00')", a),
				fmt.Sprintf("REPLACE INTO audit_checkpoints (account_id, size, root, note, created_at) SELECT account_id, size, root, 'forged', 0 FROM audit_checkpoints WHERE account_id = %d", a),
				fmt.Sprintf("INSERT OR REPLACE INTO audit_checkpoints (account_id, size, root, note, created_at) SELECT account_id, size, root, 'forged', 0 FROM audit_checkpoints WHERE account_id = %d", a),
			)
		}
		for _, q := range stmts {
			if db.Dialect() == "postgres" {
				q = strings.ReplaceAll(q, "X'", "'\\x")
			}
			if _, err := db.SQL().Exec(q); err == nil {
				t.Errorf("%s: accepted", q)
			} else if !strings.Contains(err.Error(), "append-only") && !strings.Contains(err.Error(), "beyond the log") {
				t.Errorf("%s: %v, want the append-only guard", q, err)
			}
		}
		if err := db.CheckAccount(context.Background(), a); err != nil {
			t.Fatalf("the log after the refused statements: %v", err)
		}
	})
}

// Several instances signing one log, each checking what the others stored,
// never take each other's checkpoints for tampering.
func TestSignersAgreeAcrossInstances(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		s, vkey := signerOf(t, db)
		other := reopen(t, db, s, vkey)
		var found []error
		for _, d := range []*sqldb.DB{db, other} {
			d.OnInconsistent(func(_ int64, cause error) { found = append(found, cause) })
		}
		ctx := context.Background()
		aud := f.as(reseller.RoleAuditor)
		for i := range 12 {
			f.client(t, fmt.Sprintf("c%d@x.test", i))
			signer := []*sqldb.DB{db, other}[i%2]
			if i%3 == 0 {
				ok(signer.Checkpoint(aud))
			} else if err := signer.SignCheckpoints(ctx, i < 2); err != nil {
				t.Fatal(err)
			}
			cp := ok(signer.LatestCheckpoint(ctx, f.account.ID))
			if cp.Size != int64(i+1) {
				t.Fatalf("after %d entries the newest checkpoint has size %d", i+1, cp.Size)
			}
			// An older size, proven a prefix of the newest.
			if i > 2 {
				ok(signer.AccountCheckpoint(ctx, f.account.ID, int64(i-1)))
			}
		}
		if len(found) > 0 {
			t.Fatalf("honest signing reported as inconsistent: %v", found)
		}
		if err := db.CheckAccount(ctx, f.account.ID); err != nil {
			t.Fatal(err)
		}
		// Nothing grew: a round signs nothing new.
		var before, after int
		db.SQL().QueryRow("SELECT count(*) FROM audit_checkpoints").Scan(&before)
		if err := other.SignCheckpoints(ctx, false); err != nil {
			t.Fatal(err)
		}
		db.SQL().QueryRow("SELECT count(*) FROM audit_checkpoints").Scan(&after)
		if after != before {
			t.Fatalf("a round over unchanged logs stored %d checkpoints", after-before)
		}
	})
}
