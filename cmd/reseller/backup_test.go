package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

func TestBackup(t *testing.T) {
	dir := t.TempDir()
	dsn := filepath.Join(dir, "live.db")
	p := provision(t, dsn)
	someHistory(t, p)
	// Sign a checkpoint, so that the check below covers a signature too.
	mustCLI(t, "", "--db", dsn, "audit", "export", "--account", p.accountID, "--format", "bundle", "--out", filepath.Join(dir, "b.json"))

	// Back up while the app goes on writing.
	db := openDB(t, dsn)
	owner := actor(t, db, "owner@acme.test")
	stop, started, written := make(chan struct{}), make(chan struct{}), make(chan int)
	begin := sync.OnceFunc(func() { close(started) })
	go func() {
		n := 0
		defer func() { begin(); written <- n }()
		for ; ; n++ {
			if n == 1 {
				begin()
			}
			select {
			case <-stop:
				return
			default:
			}
			c, err := db.CreateClient(owner, fmt.Sprintf("busy%d@shop.test", n), "")
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := db.DeleteClient(owner, c.ID); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	<-started
	out := filepath.Join(dir, "backups", "reseller.db")
	os.Mkdir(filepath.Dir(out), 0o755)
	r := invoke(t, "", "--db", dsn, "backup", "--out", out)
	close(stop)
	t.Logf("%d clients created and deleted during the backup", <-written)
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "signing key") {
		t.Fatalf("backup: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}

	// The copy stands on its own: its log verifies against the same key
	// and replays to exactly the state it holds.
	r = mustCLI(t, "", "--db", out, "audit", "check")
	if !regexp.MustCompile(`^account 1: ok, [1-9][0-9]* entries, root \S+\n$`).MatchString(r.stdout) {
		t.Errorf("audit check of the backup: %q", r.stdout)
	}

	// An existing file is never overwritten.
	before, _ := os.ReadFile(out)
	if r := invoke(t, "", "--db", dsn, "backup", "--out", out); r.code != 1 || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("backup over an existing file: exit %d, stderr %q", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(out); string(after) != string(before) {
		t.Error("the refused backup changed the existing file")
	}
	if r := invoke(t, "", "--db", dsn, "backup"); r.code != 2 {
		t.Errorf("backup without --out: exit %d, want 2", r.code)
	}
}

func TestBackupPostgres(t *testing.T) {
	if sqldbtest.PostgresURL() == "" {
		t.Skip("PostgreSQL not configured: set RESELLER_TEST_POSTGRES=" + sqldbtest.DefaultPostgres)
	}
	dsn := sqldbtest.NewDSN(t, "postgres")
	out := filepath.Join(t.TempDir(), "x.db")
	r := invoke(t, "", "--db", dsn, "backup", "--out", out)
	if r.code != 1 || !strings.Contains(r.stderr, "pg_dump --format=custom") {
		t.Errorf("backup of PostgreSQL: exit %d, stderr %q; want exit 1 pointing at pg_dump", r.code, r.stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("refused backup left %s (%v)", out, err)
	}
}
