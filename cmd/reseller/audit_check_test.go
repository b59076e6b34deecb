package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/resellerconsole/reseller/internal/auditlog"
	"golang.org/x/mod/sumdb/tlog"
)

// TestAuditCheckReportsEveryAccount: audit check goes through every account,
// prints one line per problem prefixed with the account and a summary, and
// holds the logs against checkpoints kept in files.
func TestAuditCheckReportsEveryAccount(t *testing.T) {
	dir := t.TempDir()
	dsn := filepath.Join(dir, "t.db")
	key := filepath.Join(dir, "signing.key")
	p := provision(t, dsn)
	someHistory(t, p) // 9 entries
	cli := func(args ...string) result {
		return invoke(t, "", append([]string{"--db", dsn, "--key-file", key}, args...)...)
	}
	second := oneLine(t, idLine, mustCLI(t, "", "--db", dsn, "account", "create", "--name", "Second").stdout)
	mustCLI(t, "", "--db", dsn, "user", "add", "--account", second, "--email", "boss@second.test", "--role", "owner")
	db := openDB(t, dsn)
	for _, email := range []string{"x@second.test", "y@second.test"} {
		if _, err := db.CreateClient(actor(t, db, "boss@second.test"), email, ""); err != nil {
			t.Fatal(err)
		}
	}

	// A checkpoint an auditor kept, as the API serves it (JSON) and as note text.
	bundle := filepath.Join(dir, "full.json")
	if r := cli("audit", "export", "--account", p.accountID, "--format", "bundle", "--out", bundle); r.code != 0 {
		t.Fatalf("export bundle: %d %s", r.code, r.stderr)
	}
	b, _ := os.ReadFile(bundle)
	kept := filepath.Join(dir, "kept.txt")
	os.WriteFile(kept, []byte(noteOf(t, b)), 0o644)
	keptJSON := filepath.Join(dir, "kept.json")
	os.WriteFile(keptJSON, fmt.Appendf(nil, `{"checkpoint":%q}`, noteOf(t, b)), 0o644)

	r := cli("audit", "check", "--checkpoint", kept, "--checkpoint", keptJSON)
	okLines := regexp.MustCompile(`^account ` + p.accountID + `: ok, 9 entries, root \S+\naccount ` + second + `: ok, 3 entries, root \S+\n$`) // user.added by the operator, 2 clients
	if r.code != 0 || !okLines.MatchString(r.stdout) || !strings.Contains(r.stderr, "audit check: 2 accounts ok, 3 checkpoints match their logs (2 of them kept outside the database)") {
		t.Fatalf("check: %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}

	// Kept checkpoints signed with the real key that the log does not
	// match, and files that are no checkpoint of this database.
	signer, _, err := auditlog.LoadOrCreateKey(key, auditlog.DefaultKeyName)
	if err != nil {
		t.Fatal(err)
	}
	origin := auditlog.Origin(auditlog.DefaultKeyName, mustInt(t, p.accountID))
	write := func(name string, c auditlog.Checkpoint, s interface {
		Name() string
		KeyHash() uint32
		Sign([]byte) ([]byte, error)
	}) string {
		signed, err := auditlog.SignCheckpoint(c, s)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		os.WriteFile(path, signed, 0o644)
		return path
	}
	rewritten := write("rewritten.txt", auditlog.Checkpoint{Origin: origin, Size: 3, Root: tlog.Hash{1}}, signer)
	longer := write("longer.txt", auditlog.Checkpoint{Origin: origin, Size: 50, Root: tlog.Hash{1}}, signer)
	nobody := write("nobody.txt", auditlog.Checkpoint{Origin: auditlog.Origin(auditlog.DefaultKeyName, 99), Size: 1, Root: tlog.Hash{1}}, signer)
	skey2, _, _ := auditlog.GenerateKey(auditlog.DefaultKeyName)
	otherKey := filepath.Join(dir, "other.key")
	os.WriteFile(otherKey, []byte(skey2), 0o600)
	other, _, err := auditlog.LoadOrCreateKey(otherKey, auditlog.DefaultKeyName)
	if err != nil {
		t.Fatal(err)
	}
	forged := write("forged.txt", auditlog.Checkpoint{Origin: origin, Size: 9, Root: tlog.Hash{1}}, other)
	r = cli("audit", "check", "--checkpoint", kept, "--checkpoint", rewritten, "--checkpoint", longer, "--checkpoint", nobody, "--checkpoint", forged)
	for _, want := range []string{
		"checkpoint " + nobody + ": FAILED: it is of the log of account 99, which this database does not have\n",
		"checkpoint " + forged + ": FAILED: The checkpoint does not verify: checkpoint is not signed by key",
		"account " + p.accountID + ": FAILED: checkpoint " + rewritten + ": the log's first 3 entries have root",
		"account " + p.accountID + ": FAILED: checkpoint " + longer + ": the checkpoint covers 50 entries but the log has only 9",
		"audit check FAILED: 1 of 2 accounts with problems (2 in all); 2 of 5 checkpoint files unusable",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if r.code != 1 || !regexp.MustCompile(`^account `+second+`: ok, 3 entries, root \S+\n$`).MatchString(r.stdout) {
		t.Errorf("check with bad checkpoints: %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if r := cli("audit", "check", "--checkpoint", filepath.Join(dir, "missing.txt")); r.code != 1 || !strings.Contains(r.stderr, "--checkpoint") {
		t.Errorf("a missing checkpoint file: %d %q", r.code, r.stderr)
	}
	if r := cli("audit", "check", "--account", second, "--checkpoint", kept); r.code != 1 || !strings.Contains(r.stderr, "not of account "+second) {
		t.Errorf("a checkpoint of another account than --account: %d %q", r.code, r.stderr)
	}

	// Both accounts tampered with: both reported, each problem on its own line.
	for _, q := range []string{
		"DROP TRIGGER audit_entries_no_update",
		"UPDATE audit_entries SET action = 'client.created' WHERE account_id = " + p.accountID + " AND seq IN (2, 8)",
		"UPDATE audit_entries SET record = CAST(replace(CAST(record AS TEXT), 'y@second.test', 'z@second.test') AS BLOB) WHERE account_id = " + second + " AND seq = 3",
	} {
		if _, err := db.SQL().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	r = cli("audit", "check", "--checkpoint", kept)
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	want := []string{
		"account " + p.accountID + `: FAILED: seq 2: the row's columns disagree with its record: action is "client.created", not "license.allocated"`,
		"account " + p.accountID + `: FAILED: seq 8: the row's columns disagree with its record: action is "client.created", not "license.revoked"`,
		"account " + second + ": FAILED: seq 3: record does not match its stored leaf hash",
		"account " + second + `: FAILED: seq 3: the row's columns disagree with its record: target_email is "y@second.test", not "z@second.test"`,
		"account " + second + ": FAILED: client ",
		"reseller: audit check FAILED: 2 of 2 accounts with problems (5 in all)",
	}
	if r.code != 1 || r.stdout != "" || len(lines) != len(want) {
		t.Fatalf("check after tampering: %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q\nwant prefix %q", i, lines[i], w)
		}
	}
}
