package sqldb_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// withKey gives db a fresh signing key and returns the verifier key.
func withKey(t testing.TB, db *sqldb.DB) string {
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
	return vkey
}

// history gives the fixture's account a little of everything: creates,
// suspensions, allocations, revocations and a deletion.
func (f *fixture) history(t testing.TB) {
	t.Helper()
	op, owner := f.as(reseller.RoleOperator), f.as(reseller.RoleOwner)
	for i := range 6 {
		c := f.client(t, fmt.Sprintf("h%d@x.test", i))
		l := ok(f.db.AllocateLicense(op, c.ID, f.pool.ID, fmt.Sprintf("site%d.example", i)))
		switch i % 3 {
		case 0:
			ok(f.db.SuspendClient(op, c.ID, "unpaid"))
		case 1:
			ok(f.db.RevokeLicense(op, l.ID, "moved"))
		case 2:
			ok(f.db.DeleteClient(owner, c.ID))
		}
	}
}

func TestCheckpointsAndProofs(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		vkey := withKey(t, db)
		aud := f.as(reseller.RoleAuditor)
		empty := ok(db.Checkpoint(aud))
		if empty.Size != 0 {
			t.Fatalf("empty log checkpoint size %d", empty.Size)
		}
		f.history(t)
		cp := ok(db.Checkpoint(aud))
		again := ok(db.Checkpoint(aud))
		if cp.Note != again.Note {
			t.Fatal("two checkpoints signed for one size differ")
		}
		c, err := auditlog.OpenCheckpoint([]byte(cp.Note), vkey, auditlog.Origin(auditlog.DefaultKeyName, f.account.ID))
		if err != nil {
			t.Fatal(err)
		}
		if c.Size != cp.Size || !bytes.Equal(c.Root[:], cp.Root) {
			t.Fatalf("note says %d %v, checkpoint %d %x", c.Size, c.Root, cp.Size, cp.Root)
		}
		for seq := int64(1); seq <= cp.Size; seq++ {
			p := ok(db.ProveInclusion(aud, seq, 0))
			if err := auditlog.CheckInclusion(toHashes(p.Proof), p.Size, c.Root, seq, []byte(p.Record)); err != nil {
				t.Fatalf("seq %d: %v", seq, err)
			}
		}
		for from := int64(1); from <= cp.Size; from += 3 {
			p := ok(db.ProveConsistency(aud, from, 0))
			old, err := auditlog.OpenCheckpoint([]byte(p.Old.Note), vkey, "")
			if err != nil {
				t.Fatal(err)
			}
			if err := auditlog.CheckConsistency(toHashes(p.Proof), from, old.Root, c.Size, c.Root); err != nil {
				t.Fatalf("from %d: %v", from, err)
			}
		}
		for name, err := range map[string]error{
			"seq 0":        second(db.ProveInclusion(aud, 0, 0)),
			"seq too big":  second(db.ProveInclusion(aud, cp.Size+1, 0)),
			"size too big": second(db.ProveInclusion(aud, 1, cp.Size+1)),
			"from 0":       second(db.ProveConsistency(aud, 0, 0)),
			"from > to":    second(db.ProveConsistency(aud, 5, 3)),
		} {
			wantCodeNamed(t, name, err, reseller.EINVALID)
		}
		_, err = db.Checkpoint(context.Background())
		wantCode(t, err, reseller.EUNAUTHORIZED)
		// The other account cannot prove this account's entries: its log is its own.
		_, err = db.ProveInclusion(f.otherOp, 1, 0)
		wantCode(t, err, reseller.EINVALID)
		if err := db.CheckAccount(context.Background(), f.account.ID); err != nil {
			t.Fatalf("check of an untouched log: %v", err)
		}
	})
}

func second[T any](_ T, err error) error { return err }

func wantCodeNamed(t *testing.T, name string, err error, code string) {
	t.Helper()
	if got := reseller.ErrorCode(err); got != code {
		t.Errorf("%s: code %q (%v), want %q", name, got, err, code)
	}
}

func toHashes(bs [][]byte) []tlog.Hash {
	hs := make([]tlog.Hash, len(bs))
	for i, b := range bs {
		copy(hs[i][:], b)
	}
	return hs
}

func TestBundles(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		vkey := withKey(t, db)
		f.history(t)
		old := ok(db.Checkpoint(f.as(reseller.RoleAuditor)))
		f.history2(t)
		ctx := context.Background()
		for name, tc := range map[string]struct {
			f     reseller.AuditFilter
			since int64
			want  int
		}{
			"all":       {reseller.AuditFilter{}, 0, -1},
			"revoked":   {reseller.AuditFilter{Actions: []reseller.Action{reseller.ActionLicenseRevoked}}, 0, 4},
			"since old": {reseller.AuditFilter{Targets: []string{"h1@x.test"}}, old.Size, 3},
			"none":      {reseller.AuditFilter{Targets: []string{"nobody@x.test"}}, 0, 0},
		} {
			var buf bytes.Buffer
			n, err := db.WriteAccountBundle(ctx, f.account.ID, &buf, tc.f, tc.since)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			opts := auditlog.VerifyOptions{VerifierKey: vkey}
			if tc.since > 0 {
				opts.Since = []byte(old.Note)
			}
			sum, err := auditlog.VerifyBundle(bytes.NewReader(buf.Bytes()), opts)
			if err != nil {
				t.Fatalf("%s: verify: %v", name, err)
			}
			if tc.want >= 0 && sum.Entries != tc.want || n != sum.Entries {
				t.Errorf("%s: %d entries (WriteAccountBundle says %d), want %d", name, sum.Entries, n, tc.want)
			}
			if tc.since > 0 && sum.SinceSize != old.Size {
				t.Errorf("%s: since size %d", name, sum.SinceSize)
			}
			// A bundle is bound to its account: another key or origin fails.
			if _, err := auditlog.VerifyBundle(bytes.NewReader(buf.Bytes()), auditlog.VerifyOptions{VerifierKey: vkey,
				Origin: auditlog.Origin(auditlog.DefaultKeyName, f.other.ID)}); err == nil {
				t.Errorf("%s: bundle verified as the other account's", name)
			}
		}
		var buf bytes.Buffer
		_, err := db.WriteAccountBundle(ctx, f.account.ID, &buf, reseller.AuditFilter{}, 1<<40)
		wantCode(t, err, reseller.EINVALID)
	})
}

// history2 adds more entries after a checkpoint.
func (f *fixture) history2(t testing.TB) {
	t.Helper()
	for i := range 3 {
		f.client(t, fmt.Sprintf("late%d@x.test", i))
	}
}

// tamper runs SQL with the append-only triggers out of the way, as an
// attacker with database access could.
func tamper(t *testing.T, db *sqldb.DB, stmts ...string) {
	t.Helper()
	if db.Dialect() == "postgres" {
		for _, tb := range []string{"audit_entries", "audit_hashes", "audit_checkpoints"} {
			stmts = append([]string{"ALTER TABLE " + tb + " DISABLE TRIGGER USER"}, stmts...)
		}
	} else {
		var drops []string
		for _, tb := range []string{"audit_entries", "audit_hashes", "audit_checkpoints"} {
			drops = append(drops, "DROP TRIGGER "+tb+"_no_update", "DROP TRIGGER "+tb+"_no_delete")
		}
		stmts = append(drops, stmts...)
	}
	for _, s := range stmts {
		if db.Dialect() == "postgres" {
			s = strings.ReplaceAll(s, "X'", "'\\x")
		}
		if _, err := db.SQL().Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestAuditCheckCatchesTampering(t *testing.T) {
	skey2, _, _ := auditlog.GenerateKey(auditlog.DefaultKeyName)
	other, _ := note.NewSigner(skey2)
	for name, attack := range map[string]func(t *testing.T, f *fixture){
		"record byte changed": func(t *testing.T, f *fixture) {
			tamper(t, f.db, "UPDATE audit_entries SET record = "+replaceSQL(f.db, `"unpaid"`, `"unpaiD"`)+" WHERE seq = 3")
		},
		"row deleted": func(t *testing.T, f *fixture) { tamper(t, f.db, "DELETE FROM audit_entries WHERE seq = 5") },
		"rows swapped": func(t *testing.T, f *fixture) {
			tamper(t, f.db,
				"UPDATE audit_entries SET seq = -1 WHERE seq = 2",
				"UPDATE audit_entries SET seq = 2 WHERE seq = 3",
				"UPDATE audit_entries SET seq = 3 WHERE seq = -1")
		},
		"tail truncated": func(t *testing.T, f *fixture) {
			// Cut the log (20 entries) back to 15, hashes and head included.
			tamper(t, f.db, "DELETE FROM audit_entries WHERE seq > 15",
				fmt.Sprintf("DELETE FROM audit_hashes WHERE idx >= %d", tlog.StoredHashIndex(0, 15)),
				"UPDATE audit_heads SET size = 15")
		},
		"stored hash altered": func(t *testing.T, f *fixture) {
			tamper(t, f.db, "UPDATE audit_hashes SET hash = X'"+strings.Repeat("00", 32)+"' WHERE idx = 7")
		},
		"state changed without an entry": func(t *testing.T, f *fixture) {
			tamper(t, f.db, "UPDATE clients SET status = 'active' WHERE status = 'suspended'")
		},
		"license added without an entry": func(t *testing.T, f *fixture) {
			tamper(t, f.db, fmt.Sprintf("INSERT INTO licenses (account_id, pool_id, client_id, label, status, allocated_at) SELECT account_id, pool_id, client_id, 'x', 'active', 0 FROM licenses WHERE account_id = %d LIMIT 1", f.account.ID))
		},
		"checkpoint re-signed with another key": func(t *testing.T, f *fixture) {
			cp := ok(f.db.LatestCheckpoint(context.Background(), f.account.ID))
			c, _ := auditlog.ParseCheckpoint([]byte(strings.SplitN(cp.Note, "\n\n", 2)[0] + "\n"))
			forged, _ := auditlog.SignCheckpoint(c, other)
			tamper(t, f.db, fmt.Sprintf("UPDATE audit_checkpoints SET note = '%s' WHERE account_id = %d AND size = %d", forged, f.account.ID, cp.Size))
		},
	} {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
				f := newFixture(t, db)
				withKey(t, db)
				f.history(t)
				ok(db.Checkpoint(f.as(reseller.RoleAuditor)))
				if err := db.CheckAccount(context.Background(), f.account.ID); err != nil {
					t.Fatalf("before tampering: %v", err)
				}
				attack(t, f)
				err := db.CheckAccount(context.Background(), f.account.ID)
				if err == nil {
					t.Fatal("audit check passed after tampering")
				}
				t.Logf("caught: %v", err)
			})
		})
	}
}

// replaceSQL returns an expression replacing old with new in the record column.
func replaceSQL(db *sqldb.DB, old, new string) string {
	if db.Dialect() == "postgres" {
		return fmt.Sprintf("convert_to(replace(convert_from(record, 'UTF8'), '%s', '%s'), 'UTF8')", old, new)
	}
	return fmt.Sprintf("CAST(replace(CAST(record AS TEXT), '%s', '%s') AS BLOB)", old, new)
}

func TestKeyReplacement(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		oldKey := withKey(t, db)
		f.history(t)
		aud := f.as(reseller.RoleAuditor)
		ok(db.Checkpoint(aud))
		newKey := withKey(t, db) // the key was replaced
		cp := ok(db.Checkpoint(aud))
		if _, err := auditlog.OpenCheckpoint([]byte(cp.Note), newKey, ""); err != nil {
			t.Fatalf("checkpoint of an unchanged size after a key change: %v", err)
		}
		ctx := context.Background()
		if err := db.CheckAccount(ctx, f.account.ID); err == nil {
			t.Fatal("check trusted a checkpoint signed by a key it was not given")
		}
		db.TrustOldKeys(oldKey)
		if err := db.CheckAccount(ctx, f.account.ID); err != nil {
			t.Fatalf("check with the old key trusted: %v", err)
		}
		f.client(t, "after@x.test")
		ok(db.Checkpoint(aud))
		if err := db.CheckAccount(ctx, f.account.ID); err != nil {
			t.Fatalf("check once a checkpoint under the new key exists: %v", err)
		}
	})
}
