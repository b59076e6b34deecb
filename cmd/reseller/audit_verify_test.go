package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/auditlog/memlog"
	"golang.org/x/mod/sumdb/tlog"
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
		if r := cli("audit", "export", "--account", p.accountID, "--format", "bundle", "--out", full); r.code != 0 || !strings.Contains(r.stderr, "Exported 9 entries") {
			t.Fatalf("export bundle: %d %s", r.code, r.stderr)
		}
		r := invoke(t, "", "audit", "verify", full, "--key", vkey)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "OK: 9 entries") || !strings.Contains(r.stdout, "; complete: ") || strings.Count(r.stdout, "\n") != 1 {
			t.Fatalf("verify: %d %q %q", r.code, r.stdout, r.stderr)
		}
		// To stdout, with since 0 (no consistency proof): the count goes to stderr.
		r = cli("audit", "export", "--account", p.accountID, "--format", "bundle", "--since", "0", "--action", "client.created")
		if r.code != 0 || r.stderr != "Exported 3 entries of account "+p.accountID+" as a bundle.\n" || !strings.Contains(r.stdout, `"entry_count":3`) {
			t.Fatalf("export bundle to stdout: %d %q", r.code, r.stderr)
		}
		if r := invoke(t, r.stdout, "audit", "verify", "-", "--key", vkey); r.code != 0 || !strings.Contains(r.stdout, "; a selection: ") {
			t.Fatalf("verify a selection: %d %q %q", r.code, r.stdout, r.stderr)
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

		// After the signing key is replaced, --since-key names the key that
		// signed the kept checkpoint.
		newKey := filepath.Join(dir, "new-signing.key")
		newCLI := func(args ...string) result {
			return invoke(t, "", append([]string{"--db", dsn, "--key-file", newKey}, args...)...)
		}
		newVkey := strings.TrimSpace(newCLI("key", "show").stdout)
		if newVkey == vkey {
			t.Fatal("the new key file holds the old key")
		}
		rotated := filepath.Join(dir, "rotated.json")
		if r := newCLI("audit", "export", "--account", p.accountID, "--format", "bundle", "--since", "9", "--out", rotated); r.code != 0 {
			t.Fatalf("export with the new key: %d %s", r.code, r.stderr)
		}
		r = invoke(t, "", "audit", "verify", rotated, "--key", newVkey, "--since", old, "--since-key", keyFile)
		if r.code != 0 || !strings.Contains(r.stdout, "the log of size 9 is a prefix") || !strings.Contains(r.stdout, newVkey[:25]) {
			t.Fatalf("verify across the key change: %d %q %q", r.code, r.stdout, r.stderr)
		}
		if r := invoke(t, "", "audit", "verify", rotated, "--key", newVkey, "--since", old); r.code != 1 || !strings.Contains(r.stderr, "older checkpoint: checkpoint is not signed by key") {
			t.Fatalf("verify across the key change without --since-key: %d %q", r.code, r.stderr)
		}
		if r := invoke(t, "", "audit", "verify", rotated, "--key", newVkey, "--since-key", keyFile); r.code != 1 || !strings.Contains(r.stderr, "--since-key goes with --since") {
			t.Fatalf("--since-key alone: %d %q", r.code, r.stderr)
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

// TestAuditLegacyRecord: a log holding a record as versions before the
// encoder refused invalid UTF-8 wrote it (an invalid byte of the user agent
// as \ufffd) still exports, as a bundle, JSON Lines and CSV, and the bundle
// verifies, with a warning naming the record.
func TestAuditLegacyRecord(t *testing.T) {
	dir := t.TempDir()
	dsn := filepath.Join(dir, "t.db")
	p := provision(t, dsn)
	someHistory(t, p)
	legacy := makeLegacy(t, dsn, mustInt(t, p.accountID), 9)
	cli := func(args ...string) result {
		return invoke(t, "", append([]string{"--db", dsn, "--key-file", filepath.Join(dir, "signing.key")}, args...)...)
	}
	vkey := strings.TrimSpace(cli("key", "show").stdout)

	bundle := filepath.Join(dir, "full.json")
	if r := cli("audit", "export", "--account", p.accountID, "--format", "bundle", "--out", bundle); r.code != 0 || !strings.Contains(r.stderr, "Exported 9 entries") {
		t.Fatalf("export bundle: %d %s", r.code, r.stderr)
	}
	r := invoke(t, "", "audit", "verify", bundle, "--key", vkey)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if r.code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "OK: 9 entries") || !strings.Contains(lines[0], "complete") ||
		!strings.HasPrefix(lines[1], "WARNING: 1 records are not in canonical form (seqs 9)") {
		t.Fatalf("verify: %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = cli("audit", "export", "--account", p.accountID, "--format", "jsonl")
	if r.code != 0 || !strings.HasSuffix(r.stdout, string(legacy)+"\n") {
		t.Fatalf("export jsonl: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := cli("audit", "export", "--account", p.accountID); r.code != 0 || !strings.Contains(r.stdout, "cli-test \uFFFD") {
		t.Fatalf("export csv: %d %q %q", r.code, r.stdout, r.stderr)
	}
}

// makeLegacy rewrites the record of seq, the last of the account's log, as
// an older version would have written it for a user agent with an invalid
// byte, and its stored hashes to match: the database of an older version.
func makeLegacy(t *testing.T, dsn string, account, seq int64) []byte {
	t.Helper()
	db := openDB(t, dsn)
	for _, q := range []string{"DROP TRIGGER audit_entries_no_update", "DROP TRIGGER audit_hashes_no_update", "DROP TRIGGER audit_checkpoints_no_delete",
		"DELETE FROM audit_checkpoints"} {
		if _, err := db.SQL().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := db.SQL().Query("SELECT record FROM audit_entries WHERE account_id = ? ORDER BY seq", account)
	if err != nil {
		t.Fatal(err)
	}
	var recs [][]byte
	for rows.Next() {
		var rec []byte
		if err := rows.Scan(&rec); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	if err := rows.Close(); err != nil || int64(len(recs)) != seq {
		t.Fatalf("%d records, %v; want %d", len(recs), err, seq)
	}
	legacy := bytes.Replace(recs[seq-1], []byte(`"user_agent":"cli-test"`), []byte(`"user_agent":"cli-test \ufffd"`), 1)
	if bytes.Equal(legacy, recs[seq-1]) {
		t.Fatalf("record %s has no user agent cli-test", recs[seq-1])
	}
	recs[seq-1] = legacy
	log := &memlog.Log{}
	for _, rec := range recs {
		if err := log.Append(rec); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.SQL().Exec("UPDATE audit_entries SET record = ? WHERE account_id = ? AND seq = ?", legacy, account, seq); err != nil {
		t.Fatal(err)
	}
	var idx []int64
	for i := tlog.StoredHashIndex(0, seq-1); i < tlog.StoredHashCount(seq); i++ {
		idx = append(idx, i)
	}
	hs, err := log.ReadHashes(idx)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range hs {
		if _, err := db.SQL().Exec("UPDATE audit_hashes SET hash = ? WHERE account_id = ? AND idx = ?", h[:], account, idx[i]); err != nil {
			t.Fatal(err)
		}
	}
	return legacy
}
