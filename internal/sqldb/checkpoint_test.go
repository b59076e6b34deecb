package sqldb_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

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
	_, vkey := signerOf(t, db)
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
			drops = append(drops, "DROP TRIGGER IF EXISTS "+tb+"_no_update", "DROP TRIGGER IF EXISTS "+tb+"_no_delete", "DROP TRIGGER IF EXISTS "+tb+"_no_replace")
		}
		drops = append(drops, "DROP TRIGGER IF EXISTS audit_checkpoints_within_log")
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

// TestAuditCheckCatchesTampering is the tamper catalogue: what an attacker
// with write access to the database (but not the signing key) could do, and
// what `reseller audit check` says about it. The log has 23 entries, with
// checkpoints stored at sizes 20 and 23.
func TestAuditCheckCatchesTampering(t *testing.T) {
	skey2, _, _ := auditlog.GenerateKey(auditlog.DefaultKeyName)
	other, _ := note.NewSigner(skey2)
	zeros := "X'" + strings.Repeat("00", 32) + "'"
	column := func(set string) func(t *testing.T, f *fixture) {
		return func(t *testing.T, f *fixture) {
			tamper(t, f.db, fmt.Sprintf("UPDATE audit_entries SET %s WHERE account_id = %d AND seq = 3", set, f.account.ID))
		}
	}
	for _, tc := range []struct {
		name   string
		attack func(t *testing.T, f *fixture)
		want   string // in the first problem reported
	}{
		{"record byte changed", func(t *testing.T, f *fixture) {
			tamper(t, f.db, "UPDATE audit_entries SET record = "+replaceSQL(f.db, `"unpaid"`, `"unpaiD"`)+" WHERE seq = 3")
		}, "seq 3: record does not match its stored leaf hash"},
		{"row deleted", func(t *testing.T, f *fixture) { tamper(t, f.db, "DELETE FROM audit_entries WHERE seq = 5") },
			"seq 5 is missing"},
		{"rows swapped", func(t *testing.T, f *fixture) {
			tamper(t, f.db,
				"UPDATE audit_entries SET seq = -1 WHERE seq = 2",
				"UPDATE audit_entries SET seq = 2 WHERE seq = 3",
				"UPDATE audit_entries SET seq = 3 WHERE seq = -1")
		}, "seq 2: the record stored under seq 2 says seq 3"},
		{"tail truncated", func(t *testing.T, f *fixture) {
			// Cut the log (23 entries) back to 15, hashes and head included.
			tamper(t, f.db, fmt.Sprintf("DELETE FROM audit_entries WHERE account_id = %d AND seq > 15", f.account.ID),
				fmt.Sprintf("DELETE FROM audit_hashes WHERE account_id = %d AND idx >= %d", f.account.ID, tlog.StoredHashIndex(0, 15)),
				fmt.Sprintf("UPDATE audit_heads SET size = 15 WHERE account_id = %d", f.account.ID))
		}, "checkpoint row of size 20: the checkpoint covers 20 entries but the log has only 15"},
		{"stored hash altered", func(t *testing.T, f *fixture) {
			tamper(t, f.db, "UPDATE audit_hashes SET hash = "+zeros+" WHERE idx = 7")
		}, "seq 5: record does not match its stored leaf hash (stored hash 7)"},
		{"state changed without an entry", func(t *testing.T, f *fixture) {
			tamper(t, f.db, "UPDATE clients SET status = 'active' WHERE status = 'suspended'")
		}, "the table has"},
		{"license added without an entry", func(t *testing.T, f *fixture) {
			tamper(t, f.db, fmt.Sprintf("INSERT INTO licenses (account_id, pool_id, client_id, label, status, allocated_at) SELECT account_id, pool_id, client_id, 'x', 'active', 0 FROM licenses WHERE account_id = %d LIMIT 1", f.account.ID))
		}, "is in the table but the log never allocated it"},
		{"user added without an entry", func(t *testing.T, f *fixture) {
			ok(f.db.AddUser(f.as(reseller.RoleOwner), "logged@acme.test", reseller.RoleOperator)) // the log records the team from here on
			tamper(t, f.db, fmt.Sprintf("INSERT INTO users (account_id, email, role, created_at) VALUES (%d, 'ghost@acme.test', 'admin', %d)",
				f.account.ID, time.Now().Add(time.Hour).UnixMicro()))
		}, "(ghost@acme.test) is in the table but the log never added them"},
		{"role changed without an entry", func(t *testing.T, f *fixture) {
			ok(f.db.AddUser(f.as(reseller.RoleOwner), "logged@acme.test", reseller.RoleOperator))
			tamper(t, f.db, "UPDATE users SET role = 'admin' WHERE email = 'logged@acme.test'")
		}, "the table has logged@acme.test as admin but the log replays to logged@acme.test as operator"},
		{"token added without an entry", func(t *testing.T, f *fixture) {
			u := ok(f.db.AddUser(f.as(reseller.RoleOwner), "logged@acme.test", reseller.RoleOperator))
			tamper(t, f.db, fmt.Sprintf("INSERT INTO tokens (account_id, user_id, name, hash, created_at) VALUES (%d, %d, 'backdoor', X'00', %d)",
				f.account.ID, u.ID, time.Now().Add(time.Hour).UnixMicro()))
		}, `("backdoor") is in the table but the log never created it`},

		// Columns changed alone, records and hashes untouched: each hides
		// the entry from the lists and exports that filter on it.
		{"action column changed", column("action = 'client.created'"), `seq 3: the row's columns disagree with its record: action is "client.created", not "client.suspended"`},
		{"client_id column changed", column("client_id = client_id + 1"), "seq 3: the row's columns disagree with its record: client_id is"},
		{"target_email column changed", column("target_email = 'someone@else.test'"), `target_email is "someone@else.test", not "h0@x.test"`},
		{"actor_email column changed", column("actor_email = 'owner@acme.test'"), `actor_email is "owner@acme.test", not "operator@acme.test"`},
		{"actor_id column changed", column("actor_id = actor_id + 100"), "seq 3: the row's columns disagree with its record: actor_id is"},
		{"time_us column changed", column("time_us = time_us + 1"), "seq 3: the row's columns disagree with its record: time_us is"},

		// Checkpoint rows.
		{"checkpoint re-signed with another key", func(t *testing.T, f *fixture) {
			cp := ok(f.db.LatestCheckpoint(context.Background(), f.account.ID))
			c, _ := auditlog.ParseCheckpoint([]byte(strings.SplitN(cp.Note, "\n\n", 2)[0] + "\n"))
			forged, _ := auditlog.SignCheckpoint(c, other)
			tamper(t, f.db, fmt.Sprintf("UPDATE audit_checkpoints SET note = '%s' WHERE account_id = %d AND size = %d", forged, f.account.ID, cp.Size))
		}, "checkpoint row of size 23: its note does not verify: checkpoint is not signed by key"},
		{"newest note swapped for an older valid note", func(t *testing.T, f *fixture) {
			tamper(t, f.db, fmt.Sprintf("UPDATE audit_checkpoints SET note = (SELECT note FROM audit_checkpoints WHERE account_id = %[1]d AND size = 20), root = (SELECT root FROM audit_checkpoints WHERE account_id = %[1]d AND size = 20) WHERE account_id = %[1]d AND size = 23", f.account.ID))
		}, "checkpoint row of size 23: its note is a checkpoint of size 20: the note or the row was replaced"},
		{"checkpoint root column differs from its note", func(t *testing.T, f *fixture) {
			tamper(t, f.db, fmt.Sprintf("UPDATE audit_checkpoints SET root = %s WHERE account_id = %d AND size = 20", zeros, f.account.ID))
		}, "checkpoint row of size 20: its root column is AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= but its note says"},
		{"checkpoint row beyond the log", func(t *testing.T, f *fixture) {
			tamper(t, f.db, fmt.Sprintf("INSERT INTO audit_checkpoints (account_id, size, root, note, created_at) SELECT account_id, 999999, root, note, 0 FROM audit_checkpoints WHERE account_id = %d AND size = 23", f.account.ID))
		}, "checkpoint row of size 999999: its note is a checkpoint of size 23"},
		{"checkpoint of another account's log", func(t *testing.T, f *fixture) {
			tamper(t, f.db, fmt.Sprintf("UPDATE audit_checkpoints SET note = (SELECT note FROM audit_checkpoints WHERE account_id = %d) WHERE account_id = %d AND size = 20", f.other.ID, f.account.ID))
		}, "checkpoint row of size 20: its note is a checkpoint of log"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
				f := newFixture(t, db)
				withKey(t, db)
				f.history(t)
				ok(db.Checkpoint(f.as(reseller.RoleAuditor)))
				f.history2(t)
				ok(db.Checkpoint(f.as(reseller.RoleAuditor)))
				ok(db.Checkpoint(f.otherOp))
				ctx := context.Background()
				if err := db.CheckAccount(ctx, f.account.ID); err != nil {
					t.Fatalf("before tampering: %v", err)
				}
				tc.attack(t, f)
				r := ok(db.CheckAccountReport(ctx, f.account.ID))
				if len(r.Problems.List) == 0 {
					t.Fatal("audit check passed after tampering")
				}
				if got := r.Problems.List[0].Error(); !strings.Contains(got, tc.want) {
					t.Errorf("first problem:\n%s\nwant it to contain %q", r.Err(), tc.want)
				}
				t.Logf("caught: %v", r.Err())
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

// TestAuditCheckReportsEveryProblem: problems in two accounts are each
// reported, every problem within an account too, up to a cap.
func TestAuditCheckReportsEveryProblem(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		withKey(t, db)
		f.history(t)
		for i := range 3 {
			ok(db.CreateClient(f.otherOp, fmt.Sprintf("o%d@other.test", i), ""))
		}
		ctx := context.Background()
		tamper(t, db,
			fmt.Sprintf("UPDATE audit_entries SET action = 'client.deleted' WHERE account_id = %d AND seq IN (2, 9)", f.account.ID),
			fmt.Sprintf("UPDATE audit_entries SET target_email = 'x@x.test' WHERE account_id = %d AND seq = 2", f.other.ID))
		r := ok(db.CheckAccountReport(ctx, f.account.ID))
		if len(r.Problems.List) != 2 || !strings.Contains(r.Problems.List[0].Error(), "seq 2:") || !strings.Contains(r.Problems.List[1].Error(), "seq 9:") {
			t.Errorf("account %d: %v", f.account.ID, r.Err())
		}
		r = ok(db.CheckAccountReport(ctx, f.other.ID))
		if len(r.Problems.List) != 1 || !strings.Contains(r.Problems.List[0].Error(), `seq 2: the row's columns disagree with its record: target_email is "x@x.test"`) {
			t.Errorf("account %d: %v", f.other.ID, r.Err())
		}
		// Every entry's time moved: 20 problems listed, the rest counted.
		tamper(t, db, fmt.Sprintf("UPDATE audit_entries SET time_us = time_us + 1 WHERE account_id = %d", f.account.ID))
		r = ok(db.CheckAccountReport(ctx, f.account.ID))
		if len(r.Problems.List) != 20 || r.Problems.More != 0 || r.Problems.Len() != 20 {
			t.Errorf("%d problems listed, %d more: %v", len(r.Problems.List), r.Problems.More, r.Err())
		}
		f.history2(t)
		tamper(t, db, fmt.Sprintf("UPDATE audit_entries SET actor_id = 0 WHERE account_id = %d", f.account.ID))
		r = ok(db.CheckAccountReport(ctx, f.account.ID))
		if len(r.Problems.List) != 20 || r.Problems.More != 3 || !strings.HasSuffix(r.Err().Error(), "; and 3 more problems") {
			t.Errorf("%d problems listed, %d more", len(r.Problems.List), r.Problems.More)
		}
	})
}

// TestAuditCheckKeptCheckpoints: a checkpoint kept outside the database
// must verify, name a log of the database, and be the log's root at its
// size.
func TestAuditCheckKeptCheckpoints(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		skey, vkey, _ := auditlog.GenerateKey(auditlog.DefaultKeyName)
		signer, _ := note.NewSigner(skey)
		db.SetSigner(signer, vkey)
		f.history(t)
		ctx := context.Background()
		kept := ok(db.AccountCheckpoint(ctx, f.account.ID, 12))
		f.history2(t)
		sign := func(c auditlog.Checkpoint, s note.Signer) []byte {
			b, err := auditlog.SignCheckpoint(c, s)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		origin := auditlog.Origin(auditlog.DefaultKeyName, f.account.ID)

		id, cp, err := db.OpenCheckpoint([]byte(kept.Note))
		if err != nil || id != f.account.ID || cp.Size != 12 {
			t.Fatalf("OpenCheckpoint = %d, %+v, %v", id, cp, err)
		}
		r := ok(db.CheckAccountReport(ctx, f.account.ID, sqldb.KeptCheckpoint{Name: "kept.txt", Checkpoint: cp}))
		// Stored: the newest (size 20, signed first to prove 12 a prefix of
		// it) and 12; kept: 12 again.
		if err := r.Err(); err != nil || r.Checkpoints != 3 {
			t.Fatalf("a kept checkpoint of the log: %d checkpoints, %v", r.Checkpoints, err)
		}

		// Validly signed, but not this log: the log was rewritten after the
		// auditor saved it, or cut back below it.
		for name, c := range map[string]auditlog.Checkpoint{
			"checkpoint other.txt: the log's first 12 entries have root":                     {Origin: origin, Size: 12, Root: tlog.Hash{1}},
			"checkpoint other.txt: the checkpoint covers 40 entries but the log has only 23": {Origin: origin, Size: 40, Root: tlog.Hash{1}},
		} {
			_, cp, err := db.OpenCheckpoint(sign(c, signer))
			if err != nil {
				t.Fatal(err)
			}
			r := ok(db.CheckAccountReport(ctx, f.account.ID, sqldb.KeptCheckpoint{Name: "other.txt", Checkpoint: cp}))
			if err := r.Err(); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("got %v, want %q", err, name)
			}
		}

		// Not opened at all: another key, another key name, no account.
		skey2, _, _ := auditlog.GenerateKey(auditlog.DefaultKeyName)
		other, _ := note.NewSigner(skey2)
		skey3, _, _ := auditlog.GenerateKey("elsewhere")
		elsewhere, _ := note.NewSigner(skey3)
		for name, signed := range map[string][]byte{
			"another key":      sign(auditlog.Checkpoint{Origin: origin, Size: 12, Root: cp.Root}, other),
			"another log name": sign(auditlog.Checkpoint{Origin: auditlog.Origin("elsewhere", f.account.ID), Size: 12, Root: cp.Root}, elsewhere),
			"no account":       sign(auditlog.Checkpoint{Origin: "reseller-console/all", Size: 12, Root: cp.Root}, signer),
			"not a note":       []byte("hello\n"),
		} {
			_, _, err := db.OpenCheckpoint(signed)
			wantCodeNamed(t, name, err, reseller.EINVALID)
		}
		// An old key's checkpoint opens once the key is trusted.
		vkey3, _ := auditlog.VerifierKey(skey3)
		db.TrustOldKeys(vkey3)
		if _, _, err := db.OpenCheckpoint(sign(auditlog.Checkpoint{Origin: origin, Size: 12, Root: cp.Root}, elsewhere)); err != nil {
			t.Errorf("a checkpoint signed by a trusted old key: %v", err)
		}
	})
}
