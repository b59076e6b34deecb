package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/witness"
	"golang.org/x/mod/sumdb/tlog"
)

var witnessKeyLine = regexp.MustCompile(`^reseller-witness\+[0-9a-f]{8}\+B[A-Za-z0-9+/]{43}\n$`)

func TestWitnessKey(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "witness.db")
	vkey := oneLine(t, witnessKeyLine, mustCLI(t, "", "witness", "key", "--db", db).stdout)
	if again := oneLine(t, witnessKeyLine, mustCLI(t, "", "witness", "key", "--db", db, "--name", "ignored.example").stdout); again != vkey {
		t.Fatalf("key changed between runs: %q then %q", vkey, again)
	}
	if fi, err := os.Stat(db); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("witness database: %v, mode %v; want mode 0600", err, fi.Mode())
	}
	named := mustCLI(t, "", "witness", "key", "--db", filepath.Join(dir, "w2.db"), "--name", "witness.example.com/w1").stdout
	if !strings.HasPrefix(named, "witness.example.com/w1+") {
		t.Fatalf("witness key --name: %q", named)
	}
	if r := invoke(t, "", "witness", "key", "--db", filepath.Join(dir, "w3.db"), "--name", "two words"); r.code != 1 || !strings.Contains(r.stderr, "witness key name") {
		t.Fatalf("bad name: %d %q", r.code, r.stderr)
	}

	if r := invoke(t, "", "witness", "serve", "--db", db, "--log-key", "garbage", "--addr", "127.0.0.1:0"); r.code != 1 || !strings.Contains(r.stderr, `--log-key: "garbage" is neither a log verifier key`) {
		t.Fatalf("serve with a bad --log-key: %d %q", r.code, r.stderr)
	}
	if r := invoke(t, "", "witness", "serve", "--db", db, "--log-key", vkey, "--addr", "127.0.0.1:0"); r.code != 1 || !strings.Contains(r.stderr, "--log-key") {
		t.Fatalf("serve with a witness key as --log-key: %d %q", r.code, r.stderr)
	}

	// Without --db the witness uses witness.db in the working directory,
	// never the console's database that RESELLER_DB names.
	console := filepath.Join(dir, "reseller.db")
	mustCLI(t, "", "--db", console, "migrate")
	t.Setenv("RESELLER_DB", console)
	t.Chdir(dir)
	if got := oneLine(t, witnessKeyLine, mustCLI(t, "", "witness", "key").stdout); got != vkey {
		t.Fatalf("witness key without --db: %q, want the key of ./witness.db %q", got, vkey)
	}
	// And refuses to put its state into the console's database.
	if r := invoke(t, "", "witness", "key", "--db", console); r.code != 1 || !strings.Contains(r.stderr, "another program's database") {
		t.Fatalf("witness key on the console's database: %d %q", r.code, r.stderr)
	}
}

// TestWitnessEndToEnd runs `reseller witness serve` and cosigns the
// checkpoints that `reseller audit export` writes into bundles, then
// verifies them with `reseller audit verify --witness-key`.
func TestWitnessEndToEnd(t *testing.T) {
	dir := t.TempDir()
	dsn := filepath.Join(dir, "reseller.db")
	p := provision(t, dsn)
	someHistory(t, p)
	logKey := strings.TrimSpace(mustCLI(t, "", "--db", dsn, "key", "show").stdout)
	logKeyFile := filepath.Join(dir, "log.key")
	os.WriteFile(logKeyFile, []byte(logKey+"\n"), 0o644)

	wdb := filepath.Join(dir, "witness.db")
	s := startServe(t, "witness", "serve", "--db", wdb, "--log-key", logKeyFile)
	wkey := oneLine(t, witnessKeyLine, mustCLI(t, "", "witness", "key", "--db", wdb).stdout)
	v, err := auditlog.NewCosignatureVerifier(wkey)
	if err != nil {
		t.Fatal(err)
	}
	c := &witness.Client{URL: s.url, Verifier: v}

	// The log's first checkpoint, cosigned.
	full := filepath.Join(dir, "full.json")
	mustCLI(t, "", "--db", dsn, "audit", "export", "--account", p.accountID, "--format", "bundle", "--out", full)
	b, _ := os.ReadFile(full)
	signed := []byte(noteOf(t, b))
	cosig, err := c.AddCheckpoint(context.Background(), 0, nil, signed)
	if err != nil {
		t.Fatal(err)
	}
	cosigned := filepath.Join(dir, "cosigned.json")
	os.WriteFile(cosigned, withCheckpoint(t, b, append(signed, cosig...)), 0o644)

	r := mustCLI(t, "", "audit", "verify", cosigned, "--key", logKey, "--witness-key", wkey)
	wid := strings.Join(strings.SplitN(wkey, "+", 3)[:2], "+")
	if !strings.HasPrefix(r.stdout, "OK: 9 entries") || !strings.Contains(r.stdout, "; cosigned by "+wid+" at 20") {
		t.Fatalf("verify --witness-key: %q", r.stdout)
	}
	wkeyFile := filepath.Join(dir, "witness.key")
	os.WriteFile(wkeyFile, []byte(wkey+"\n"), 0o644)
	mustCLI(t, "", "audit", "verify", cosigned, "--key", logKey, "--witness-key", wkeyFile)

	// Missing, foreign and altered cosignatures fail, naming the witness.
	_, other, _ := auditlog.GenerateWitnessKey("reseller-witness")
	otherID := strings.Join(strings.SplitN(other, "+", 3)[:2], "+")
	altered := filepath.Join(dir, "altered.json")
	os.WriteFile(altered, withCheckpoint(t, b, append(signed, flipSignature(t, cosig)...)), 0o644)
	for _, tc := range []struct {
		bundle string
		keys   []string
		want   string
	}{
		{full, []string{wkey}, "carries no cosignature by witness " + wid},
		{cosigned, []string{wkey, other}, "carries no cosignature by witness " + otherID},
		{altered, []string{wkey}, "the cosignature by witness " + wid + " does not verify"},
		{cosigned, []string{logKey}, "--witness-key"},
	} {
		args := []string{"audit", "verify", tc.bundle, "--key", logKey}
		for _, k := range tc.keys {
			args = append(args, "--witness-key", k)
		}
		r := invoke(t, "", args...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("verify %s with witnesses %v: exit %d, stderr %q; want exit 1 naming %q", filepath.Base(tc.bundle), tc.keys, r.code, r.stderr, tc.want)
		}
	}

	// The log grows: the next checkpoint goes with a proof from the last
	// one cosigned, which a bundle exported with --since carries.
	someMore(t, p)
	later := filepath.Join(dir, "later.json")
	mustCLI(t, "", "--db", dsn, "audit", "export", "--account", p.accountID, "--format", "bundle", "--since", "9", "--out", later)
	lb, _ := os.ReadFile(later)
	next := []byte(noteOf(t, lb))
	if _, err := c.AddCheckpoint(context.Background(), 0, nil, next); !isConflict(err, 9) {
		t.Fatalf("add from 0 after 9: %v, want a 409 at 9", err)
	}
	if _, err := c.AddCheckpoint(context.Background(), 9, consistencyOf(t, lb), next); err != nil {
		t.Fatalf("add 9 -> 11: %v", err)
	}
	// The old checkpoint is now behind: refused.
	if _, err := c.AddCheckpoint(context.Background(), 11, nil, signed); err == nil {
		t.Fatal("the witness cosigned an older checkpoint")
	}

	if code := s.stop(t); code != 0 {
		t.Fatalf("witness serve exited %d; stderr:\n%s", code, s.stderr)
	}
	// Its state survived: it is at 11.
	s = startServe(t, "witness", "serve", "--db", wdb, "--log-key", logKey)
	c.URL = s.url
	if _, err := c.AddCheckpoint(context.Background(), 9, consistencyOf(t, lb), next); !isConflict(err, 11) {
		t.Fatalf("after restart: %v, want a 409 at 11", err)
	}
}

func isConflict(err error, size int64) bool {
	var c *witness.ConflictError
	return errors.As(err, &c) && c.Size == size
}

// withCheckpoint returns a bundle with its checkpoint replaced.
func withCheckpoint(t *testing.T, bundle, signed []byte) []byte {
	t.Helper()
	re := regexp.MustCompile(`"checkpoint":"(?:[^"\\]|\\.)*"`)
	if !re.Match(bundle) {
		t.Fatal("no checkpoint in bundle")
	}
	j, _ := json.Marshal(string(signed))
	return re.ReplaceAllLiteral(bundle, append([]byte(`"checkpoint":`), j...))
}

// consistencyOf returns the consistency proof a bundle carries.
func consistencyOf(t *testing.T, bundle []byte) []tlog.Hash {
	t.Helper()
	m := regexp.MustCompile(`"consistency":(\{[^}]*\})`).FindSubmatch(bundle)
	if m == nil {
		t.Fatal("no consistency proof in bundle")
	}
	var raw struct{ Proof []string }
	if err := json.Unmarshal(m[1], &raw); err != nil {
		t.Fatal(err)
	}
	var proof []tlog.Hash
	for _, s := range raw.Proof {
		h, err := tlog.ParseHash(s)
		if err != nil {
			t.Fatal(err)
		}
		proof = append(proof, h)
	}
	return proof
}

// flipSignature changes one byte of the signature (not the key ID) of a
// signature line.
func flipSignature(t *testing.T, line []byte) []byte {
	t.Helper()
	rest, ok := strings.CutPrefix(strings.TrimSuffix(string(line), "\n"), "— ")
	name, b64, _ := strings.Cut(rest, " ")
	sig, err := base64.StdEncoding.DecodeString(b64)
	if !ok || err != nil {
		t.Fatalf("not a signature line: %q", line)
	}
	sig[30] ^= 1
	return []byte("— " + name + " " + base64.StdEncoding.EncodeToString(sig) + "\n")
}

// TestServeWithWitness: `reseller serve --witness` sends its checkpoints to
// a running `reseller witness serve`, and the bundles it serves carry the
// witness's cosignature, which `audit verify --witness-key` requires.
func TestServeWithWitness(t *testing.T) {
	dir := t.TempDir()
	dsn := filepath.Join(dir, "reseller.db")
	p := provision(t, dsn)
	someHistory(t, p)
	logKey := strings.TrimSpace(mustCLI(t, "", "--db", dsn, "key", "show").stdout)
	wdb := filepath.Join(dir, "witness.db")
	w := startServe(t, "witness", "serve", "--db", wdb, "--log-key", logKey)
	wkey := oneLine(t, witnessKeyLine, mustCLI(t, "", "witness", "key", "--db", wdb).stdout)

	s := startServe(t, "--db", dsn, "serve", "--witness", w.url, "--witness-key", wkey)
	code, body := get(t, s.url+"/api/v1/audit/bundle", p.token)
	if code != http.StatusOK {
		t.Fatalf("GET /api/v1/audit/bundle = %d %s", code, body)
	}
	bundle := filepath.Join(dir, "bundle.json")
	os.WriteFile(bundle, []byte(body), 0o644)
	r := mustCLI(t, "", "audit", "verify", bundle, "--key", logKey, "--witness-key", wkey)
	if !strings.Contains(r.stdout, "; cosigned by ") {
		t.Fatalf("verify --witness-key: %q", r.stdout)
	}
	// A witness key without its witness is a usage error.
	if r := invoke(t, "", "--db", dsn, "serve", "--witness-key", wkey); r.code != exitUsage {
		t.Fatalf("serve --witness-key alone: exit %d, stderr %q", r.code, r.stderr)
	}
}
