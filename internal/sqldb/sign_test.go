package sqldb_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/auditlog/memlog"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// signerOf gives db a fresh signing key and returns the key, so that a
// second handle on the same database (a restarted server, another
// instance) can sign with it too.
func signerOf(t testing.TB, db *sqldb.DB) (note.Signer, string) {
	t.Helper()
	skey, vkey, err := auditlog.GenerateKey(auditlog.DefaultKeyName)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	db.SetSigner(s, vkey)
	return s, vkey
}

// reopen opens another handle on db's database with the same key: the
// server after a restart, or a second instance.
func reopen(t testing.TB, db *sqldb.DB, s note.Signer, vkey string) *sqldb.DB {
	t.Helper()
	db2, err := sqldb.Open(context.Background(), db.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db2.Close() })
	db2.SetSigner(s, vkey)
	return db2
}

// rehash recomputes every stored Merkle hash of the account's log from its
// records, as an attacker who rewrote a record would to cover it up.
func rehash(t *testing.T, db *sqldb.DB, accountID int64) {
	t.Helper()
	rows, err := db.SQL().Query(rebind(db, "SELECT record FROM audit_entries WHERE account_id = ? ORDER BY seq"), accountID)
	if err != nil {
		t.Fatal(err)
	}
	var m memlog.Log
	for rows.Next() {
		var rec []byte
		if err := rows.Scan(&rec); err != nil {
			t.Fatal(err)
		}
		if err := m.Append(rec); err != nil {
			t.Fatal(err)
		}
	}
	rows.Close()
	stmts := []string{fmt.Sprintf("DELETE FROM audit_hashes WHERE account_id = %d", accountID)}
	n := int64(0)
	for {
		hs, err := m.ReadHashes([]int64{n})
		if err != nil {
			break
		}
		stmts = append(stmts, fmt.Sprintf("INSERT INTO audit_hashes (account_id, idx, hash) VALUES (%d, %d, X'%x')", accountID, n, hs[0][:]))
		n++
	}
	tamper(t, db, stmts...)
}

func rebind(db *sqldb.DB, q string) string {
	if db.Dialect() == "postgres" {
		return strings.Replace(q, "?", "$1", 1)
	}
	return q
}

// rewriteDeletion changes who performed the account's first client.deleted
// entry: the attack of a database writer who wants an action to look like
// someone else's.
func rewriteDeletion(t *testing.T, f *fixture) {
	t.Helper()
	var seq int64
	if err := f.db.SQL().QueryRow(rebind(f.db, "SELECT min(seq) FROM audit_entries WHERE account_id = ? AND action = 'client.deleted'"), f.account.ID).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	tamper(t, f.db, fmt.Sprintf("UPDATE audit_entries SET record = %s WHERE account_id = %d AND seq = %d",
		replaceSQL(f.db, `"owner@acme.test"`, `"auditor@acme.test"`), f.account.ID, seq))
	rehash(t, f.db, f.account.ID)
}

// swapNewestNote puts the note of the oldest checkpoint into the newest
// checkpoint row: a validly signed note, but not the row's.
func swapNewestNote(t *testing.T, f *fixture) {
	t.Helper()
	a := f.account.ID
	tamper(t, f.db, fmt.Sprintf(`UPDATE audit_checkpoints SET note = (SELECT note FROM audit_checkpoints WHERE account_id = %d AND size = (SELECT min(size) FROM audit_checkpoints WHERE account_id = %d))
		WHERE account_id = %d AND size = (SELECT max(size) FROM audit_checkpoints WHERE account_id = %d)`, a, a, a, a))
}

// TestSignerRefusesRewrittenTree is the catalogue of attacks on checkpoint
// signing by someone who can write the database but does not hold the key.
// After each, the server must refuse to sign and to append for the account
// (log_inconsistent), go on serving reads, and `audit check` must fail;
// a restarted server must refuse too.
func TestSignerRefusesRewrittenTree(t *testing.T) {
	type setup struct {
		f       *fixture
		s       note.Signer
		vkey    string
		restart bool // the attack happens while the server is stopped
		// memoryOnly: only the running server's memory holds the evidence
		// (the attacker removed what the database held); after a restart
		// the witnesses are what catch it.
		memoryOnly bool
	}
	for name, attack := range map[string]func(t *testing.T, x *setup){
		"entry rewritten and rehashed below the newest checkpoint, server stopped": func(t *testing.T, x *setup) {
			x.restart = true
			rewriteDeletion(t, x.f)
		},
		"entry rewritten and rehashed below the newest checkpoint, server running": func(t *testing.T, x *setup) {
			rewriteDeletion(t, x.f)
		},
		"entry rewritten and rehashed, newest note swapped for an older one": func(t *testing.T, x *setup) {
			x.restart = true
			rewriteDeletion(t, x.f)
			swapNewestNote(t, x.f)
		},
		"newest note swapped for an older valid one": func(t *testing.T, x *setup) {
			x.restart = true
			swapNewestNote(t, x.f)
		},
		"checkpoint rows removed, then an entry above them rewritten and rehashed": func(t *testing.T, x *setup) {
			// Only this process remembers what it signed: the database holds
			// nothing newer than the first checkpoint any more.
			x.memoryOnly = true
			tamper(t, x.f.db, fmt.Sprintf("DELETE FROM audit_checkpoints WHERE account_id = %d AND size > 1", x.f.account.ID))
			rewriteDeletion(t, x.f)
		},
		"tail cut off below the newest checkpoint": func(t *testing.T, x *setup) {
			x.restart = true
			a := x.f.account.ID
			tamper(t, x.f.db, fmt.Sprintf("DELETE FROM audit_entries WHERE account_id = %d AND seq > 15", a),
				fmt.Sprintf("DELETE FROM audit_hashes WHERE account_id = %d AND idx >= %d", a, tlog.StoredHashIndex(0, 15)),
				fmt.Sprintf("UPDATE audit_heads SET size = 15 WHERE account_id = %d", a))
		},
		"tail cut off, server running": func(t *testing.T, x *setup) {
			x.memoryOnly = true
			a := x.f.account.ID
			tamper(t, x.f.db, fmt.Sprintf("DELETE FROM audit_checkpoints WHERE account_id = %d", a),
				fmt.Sprintf("DELETE FROM audit_entries WHERE account_id = %d AND seq > 15", a),
				fmt.Sprintf("DELETE FROM audit_hashes WHERE account_id = %d AND idx >= %d", a, tlog.StoredHashIndex(0, 15)),
				fmt.Sprintf("UPDATE audit_heads SET size = 15 WHERE account_id = %d", a))
		},
	} {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
				f := newFixture(t, db)
				s, vkey := signerOf(t, db)
				aud := f.as(reseller.RoleAuditor)
				f.client(t, "first@x.test")
				ok(db.Checkpoint(aud)) // an early checkpoint, of size 1
				f.history(t)
				ok(db.Checkpoint(aud))
				if err := db.CheckAccount(context.Background(), f.account.ID); err != nil {
					t.Fatalf("before the attack: %v", err)
				}
				x := &setup{f: f, s: s, vkey: vkey}
				attack(t, x)
				var caught []error
				if x.restart {
					db.Close()
					db = reopen(t, db, s, vkey)
					f.db = db
				}
				db.OnInconsistent(func(_ int64, cause error) { caught = append(caught, cause) })
				f.client(t, "more@x.test") // the log grows, so there is something new to sign

				_, err := db.Checkpoint(aud)
				if reseller.ErrorCode(err) != reseller.ELOGINCONSISTENT {
					t.Fatalf("signing after the attack: %v, want %s", err, reseller.ELOGINCONSISTENT)
				}
				if len(caught) != 1 {
					t.Fatalf("OnInconsistent called %d times, want once", len(caught))
				}
				t.Logf("caught: %v", caught[0])
				if _, err := db.CreateClient(f.as(reseller.RoleOperator), "after@x.test", ""); reseller.ErrorCode(err) != reseller.ELOGINCONSISTENT {
					t.Fatalf("append after the attack: %v, want %s", err, reseller.ELOGINCONSISTENT)
				}
				if err := db.SignCheckpoints(context.Background(), true); err != nil {
					t.Fatalf("the signing round should skip the stopped log quietly: %v", err)
				}
				if _, _, err := db.ListEntries(aud, reseller.AuditFilter{}); err != nil {
					t.Fatalf("reads must go on: %v", err)
				}
				if err := db.CheckAccount(context.Background(), f.account.ID); err == nil && !x.memoryOnly {
					t.Error("audit check passed after the attack")
				}
				// The other account is not affected.
				if _, err := db.CreateClient(f.otherOp, "fine@other.test", ""); err != nil {
					t.Fatalf("another account's log: %v", err)
				}

				// A restart does not forget: the evidence is in the database.
				db2 := reopen(t, db, s, vkey)
				if _, err := db2.Checkpoint(aud); reseller.ErrorCode(err) != reseller.ELOGINCONSISTENT && !x.memoryOnly {
					t.Fatalf("signing after a restart: %v, want %s", err, reseller.ELOGINCONSISTENT)
				}
			})
		})
	}
}
