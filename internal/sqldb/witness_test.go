package sqldb_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
	"github.com/resellerconsole/reseller/internal/witness"
)

// startWitness runs a real witness of the log key vkey over HTTP and
// returns its URL and verifier key.
func startWitness(t *testing.T, vkey string) (url, wkey string) {
	t.Helper()
	w, err := witness.Open(context.Background(), filepath.Join(t.TempDir(), "witness.db"),
		witness.Options{LogKeys: []string{vkey}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	srv := httptest.NewServer(w.Handler())
	t.Cleanup(srv.Close)
	return srv.URL, w.VerifierKey()
}

func addWitness(t *testing.T, db *sqldb.DB, url, wkey string) {
	t.Helper()
	v, err := auditlog.NewCosignatureVerifier(wkey)
	if err != nil {
		t.Fatal(err)
	}
	db.AddWitness(url, v)
}

// Every checkpoint goes to the witness and is served with its cosignature;
// a witness that cannot be reached delays nothing but its cosignature.
func TestWitnessCosignsCheckpoints(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		_, vkey := signerOf(t, db)
		url, wkey := startWitness(t, vkey)
		addWitness(t, db, url, wkey)
		down := httptest.NewServer(nil)
		down.Close() // a witness that is not there
		_, otherKey := startWitness(t, vkey)
		addWitness(t, db, down.URL, otherKey)
		var unavailable []error
		db.OnWitnessError(func(_ int64, _ string, err error) { unavailable = append(unavailable, err) })
		var stopped []error
		db.OnInconsistent(func(_ int64, err error) { stopped = append(stopped, err) })

		aud := f.as(reseller.RoleAuditor)
		for i := range 3 {
			f.client(t, "w"+string(rune('a'+i))+"@x.test")
			if err := db.SignCheckpoints(context.Background(), i == 0); err != nil {
				t.Fatal(err)
			}
			cp := ok(db.Checkpoint(aud))
			if _, err := auditlog.CheckCosignature([]byte(cp.Note), wkey); err != nil {
				t.Fatalf("checkpoint of size %d: %v\n%s", cp.Size, err, cp.Note)
			}
			if _, err := auditlog.OpenCheckpoint([]byte(cp.Note), vkey, ""); err != nil {
				t.Fatalf("the cosigned checkpoint no longer opens with the log key: %v", err)
			}
		}
		if len(unavailable) != 3 {
			t.Errorf("%d witness errors reported, want 3 (one per checkpoint, for the witness that is down)", len(unavailable))
		}
		if len(stopped) > 0 {
			t.Fatalf("an unreachable witness stopped the log: %v", stopped)
		}
	})
}

// A witness keeps its own copy of what it cosigned, outside the database:
// history rewritten above every checkpoint left in the database is caught
// when the witness refuses the forged tree, also after a restart.
func TestWitnessRefusesAFork(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		s, vkey := signerOf(t, db)
		url, wkey := startWitness(t, vkey)
		addWitness(t, db, url, wkey)
		aud := f.as(reseller.RoleAuditor)
		f.client(t, "first@x.test")
		ok(db.Checkpoint(aud))
		f.history(t)
		ok(db.Checkpoint(aud))

		// With the server stopped: every checkpoint but the first removed,
		// an entry above it rewritten, every hash recomputed.
		tamper(t, db, "DELETE FROM audit_checkpoints WHERE size > 1")
		rewriteDeletion(t, f)
		db.Close()
		for i := range 2 { // the restart after the attack, and one more
			db2 := reopen(t, db, s, vkey)
			addWitness(t, db2, url, wkey)
			var stopped error
			db2.OnInconsistent(func(_ int64, err error) { stopped = err })
			f.db = db2
			if _, err := db2.CreateClient(f.as(reseller.RoleOperator), fmt.Sprintf("more%d@x.test", i), ""); err != nil && reseller.ErrorCode(err) != reseller.ELOGINCONSISTENT {
				t.Fatal(err)
			}
			_, err := db2.Checkpoint(aud)
			if reseller.ErrorCode(err) != reseller.ELOGINCONSISTENT {
				t.Fatalf("signing a forked tree with a witness: %v, want %s", err, reseller.ELOGINCONSISTENT)
			}
			if stopped == nil {
				t.Fatal("the log was not reported inconsistent")
			}
			t.Logf("caught: %v", stopped)
			if _, err := db2.CreateClient(f.as(reseller.RoleOperator), fmt.Sprintf("after%d@x.test", i), ""); reseller.ErrorCode(err) != reseller.ELOGINCONSISTENT {
				t.Fatalf("append after the witness refused: %v", err)
			}
			db2.Close()
		}
	})
}
