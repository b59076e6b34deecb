package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The command line's own rules: which --db it takes and how it shows one,
// which commands may create a schema, negative numbers as flag values, and
// files that are not overwritten unless asked.
func TestCommandLineRules(t *testing.T) {
	dir := t.TempDir()
	t.Run("empty --db", func(t *testing.T) {
		r := invoke(t, "", "--db", "", "account", "list")
		if r.code != exitUsage || !strings.Contains(r.stderr, "--db is empty") {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("unsupported scheme", func(t *testing.T) {
		r := invoke(t, "", "--db", "mysql://root:secret@db/reseller", "account", "list")
		if r.code != exitUsage || !strings.Contains(r.stderr, "mysql:// databases are not supported") || strings.Contains(r.stderr, "secret") {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("libpq key/value string is PostgreSQL, its password never shown", func(t *testing.T) {
		r := invoke(t, "", "--db", "host=127.0.0.1 port=1 dbname=nosuch user=nobody password=hunter2 connect_timeout=2", "account", "list")
		if r.code != exitError || strings.Contains(r.stderr+r.stdout, "hunter2") || !strings.Contains(r.stderr, "password=xxxxx") {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
		if _, err := os.Stat("host=127.0.0.1 port=1 dbname=nosuch user=nobody password=hunter2 connect_timeout=2"); err == nil {
			t.Fatal("the connection string was taken for a file name")
		}
	})
	t.Run("read-only commands do not create the schema", func(t *testing.T) {
		empty := filepath.Join(dir, "empty.db")
		os.WriteFile(empty, nil, 0o644)
		for _, args := range [][]string{{"account", "list"}, {"audit", "check"}, {"pool", "list", "--account", "1"}} {
			r := invoke(t, "", append([]string{"--db", empty}, args...)...)
			if r.code != exitError || !strings.Contains(r.stderr, "reseller migrate") {
				t.Errorf("%v on an empty database: exit %d, stderr %q", args, r.code, r.stderr)
			}
		}
		db := openDB(t, empty)
		defer db.Close()
		var tables int
		if err := db.SQL().QueryRow("SELECT count(*) FROM sqlite_master WHERE type = 'table'").Scan(&tables); err != nil || tables != 0 {
			t.Fatalf("a read-only command created %d tables (%v)", tables, err)
		}
	})
	t.Run("negative numbers as flag values", func(t *testing.T) {
		got := joinNegatives([]string{"serve", "--rate-limit", "-1", "--rate-burst", "5", "-q", "x"})
		if want := []string{"serve", "--rate-limit=-1", "--rate-burst", "5", "-q", "x"}; !slices.Equal(got, want) {
			t.Fatalf("joinNegatives = %q, want %q", got, want)
		}
	})
	t.Run("files are not overwritten unless --force", func(t *testing.T) {
		dsn := filepath.Join(dir, "r.db")
		p := provision(t, dsn)
		out := filepath.Join(dir, "out.csv")
		os.WriteFile(out, []byte("keep me"), 0o644)
		r := invoke(t, "", "--db", dsn, "audit", "export", "--account", p.accountID, "--out", out)
		if b, _ := os.ReadFile(out); r.code != exitError || !strings.Contains(r.stderr, "pass --force") || string(b) != "keep me" {
			t.Fatalf("export over a file: exit %d, stderr %q, file %q", r.code, r.stderr, b)
		}
		mustCLI(t, "", "--db", dsn, "audit", "export", "--account", p.accountID, "--out", out, "--force")
		if b, _ := os.ReadFile(out); !strings.HasPrefix(string(b), "seq,") && !strings.Contains(string(b), "time_utc") {
			t.Fatalf("export --force wrote %q", b)
		}
		bak := filepath.Join(dir, "backup.db")
		os.WriteFile(bak, []byte("old"), 0o644)
		if r := invoke(t, "", "--db", dsn, "backup", "--out", bak); r.code != exitError || !strings.Contains(r.stderr, "pass --force") {
			t.Fatalf("backup over a file: exit %d, stderr %q", r.code, r.stderr)
		}
		mustCLI(t, "", "--db", dsn, "backup", "--out", bak, "--force")
		if fi, _ := os.Stat(bak); fi.Size() < 4096 {
			t.Fatal("backup --force did not write the backup")
		}
	})
}
