package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/resellerconsole/reseller/internal/auditlog"
)

func TestAuditBundleVerifyCheck(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		p := provision(t, dsn)
		someHistory(t, p)
		dir := t.TempDir()
		key := filepath.Join(dir, "signing.key")
		cli := func(args ...string) result {
			return invoke(t, "", append([]string{"--db", dsn, "--key-file", key}, args...)...)
		}
		vkey := strings.TrimSpace(cli("key", "show").stdout)
		if !regexp.MustCompile(`^reseller-console\+[0-9a-f]{8}\+\S+$`).MatchString(vkey) {
			t.Fatalf("key show = %q", vkey)
		}
		if again := strings.TrimSpace(cli("key", "show").stdout); again != vkey {
			t.Fatalf("key changed between runs: %q then %q", vkey, again)
		}
		keyFile := filepath.Join(dir, "verifier.key")
		os.WriteFile(keyFile, []byte(vkey+"\n"), 0o644)

		full := filepath.Join(dir, "full.json")
		if r := cli("audit", "export", "--account", p.accountID, "--format", "bundle", "--out", full); r.code != 0 {
			t.Fatalf("export bundle: %d %s", r.code, r.stderr)
		}
		r := invoke(t, "", "audit", "verify", full, "--key", vkey)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "OK: 9 entries") || strings.Count(r.stdout, "\n") != 1 {
			t.Fatalf("verify: %d %q %q", r.code, r.stdout, r.stderr)
		}
		if r := invoke(t, "", "audit", "verify", full, "--key", keyFile); r.code != 0 {
			t.Fatalf("verify with key file: %d %s", r.code, r.stderr)
		}
		if r := invoke(t, "", "audit", "verify", full); r.code != 0 || !strings.Contains(r.stdout, "key taken from the bundle") {
			t.Fatalf("verify without key: %d %q", r.code, r.stdout)
		}

		// A checkpoint kept from before more history is a prefix of the new log.
		old := filepath.Join(dir, "old-checkpoint.txt")
		b, _ := os.ReadFile(full)
		os.WriteFile(old, []byte(noteOf(t, b)), 0o644)
		someMore(t, p)
		later := filepath.Join(dir, "later.json")
		if r := cli("audit", "export", "--account", p.accountID, "--format", "bundle", "--since", "9", "--action", "client.created", "--out", later); r.code != 0 {
			t.Fatalf("export since: %d %s", r.code, r.stderr)
		}
		r = invoke(t, "", "audit", "verify", later, "--key", vkey, "--since", old)
		if r.code != 0 || !strings.Contains(r.stdout, "the log of size 9 is a prefix") {
			t.Fatalf("verify since: %d %q %q", r.code, r.stdout, r.stderr)
		}

		// Tampered bundles fail, naming the entry.
		tampered := filepath.Join(dir, "tampered.json")
		os.WriteFile(tampered, bytes.Replace(b, []byte(`Invoice overdue`), []byte(`Invoice overdua`), 1), 0o644)
		r = invoke(t, "", "audit", "verify", tampered, "--key", vkey)
		if r.code != 1 || !strings.Contains(r.stderr, "FAILED") || !strings.Contains(r.stderr, "seq 7") {
			t.Fatalf("tampered verify: %d %q", r.code, r.stderr)
		}
		_, otherKey, _ := auditlog.GenerateKey(auditlog.DefaultKeyName)
		if r := invoke(t, "", "audit", "verify", full, "--key", otherKey); r.code != 1 {
			t.Fatalf("verify with another key: exit %d", r.code)
		}
		if r := invoke(t, "", "audit", "verify", filepath.Join(dir, "missing.json")); r.code != 1 {
			t.Fatalf("verify a missing file: exit %d", r.code)
		}

		// The database checks out; --account checks one account; unknown is refused.
		r = cli("audit", "check")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "account "+p.accountID+": ok") {
			t.Fatalf("audit check: %d %q %q", r.code, r.stdout, r.stderr)
		}
		if r := cli("audit", "check", "--account", "999"); r.code != 1 {
			t.Fatalf("check unknown account: exit %d", r.code)
		}
	})
}

// noteOf returns the signed checkpoint inside a bundle.
func noteOf(t *testing.T, bundle []byte) string {
	t.Helper()
	m := regexp.MustCompile(`"checkpoint":"((?:[^"\\]|\\.)*)"`).FindSubmatch(bundle)
	if m == nil {
		t.Fatal("no checkpoint in bundle")
	}
	return strings.ReplaceAll(string(m[1]), `\n`, "\n")
}

// someMore adds two clients after a checkpoint was kept.
func someMore(t *testing.T, p *provisioned) {
	t.Helper()
	db := openDB(t, p.dsn)
	owner := actor(t, db, "owner@acme.test")
	for _, email := range []string{"later1@shop.test", "later2@shop.test"} {
		if _, err := db.CreateClient(owner, email, ""); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAuditCheckFailsOnTampering(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "t.db")
	p := provision(t, dsn)
	someHistory(t, p)
	if r := invoke(t, "", "--db", dsn, "audit", "check"); r.code != 0 {
		t.Fatalf("check: %d %s", r.code, r.stderr)
	}
	db := openDB(t, dsn)
	for _, q := range []string{
		"DROP TRIGGER audit_entries_no_update",
		"UPDATE audit_entries SET record = CAST(replace(CAST(record AS TEXT), 'a@shop.test', 'z@shop.test') AS BLOB) WHERE seq = 1",
	} {
		if _, err := db.SQL().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	r := invoke(t, "", "--db", dsn, "audit", "check")
	if r.code != 1 || !strings.Contains(r.stderr, "seq 1") {
		t.Fatalf("check after tampering: %d %q", r.code, r.stderr)
	}
}
