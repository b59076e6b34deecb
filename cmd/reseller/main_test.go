package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

// result is what one run of the CLI did.
type result struct {
	code           int
	stdout, stderr string
}

// invoke runs the real command line wiring with the given stdin, as a script
// would run the binary.
func invoke(t testing.TB, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return result{code, out.String(), errb.String()}
}

// mustCLI runs the CLI and fails the test unless it exits 0.
func mustCLI(t testing.TB, stdin string, args ...string) result {
	t.Helper()
	r := invoke(t, stdin, args...)
	if r.code != 0 {
		t.Fatalf("reseller %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

var (
	idLine    = regexp.MustCompile(`^[1-9][0-9]*\n$`)
	tokenLine = regexp.MustCompile(`^` + sqldb.TokenPrefix + `[A-Za-z0-9_-]{20,}\n$`)
)

// oneLine fails unless out is exactly one line matching re, and returns it
// without the newline.
func oneLine(t testing.TB, re *regexp.Regexp, out string) string {
	t.Helper()
	if !re.MatchString(out) {
		t.Fatalf("stdout = %q, want exactly one line matching %s", out, re)
	}
	return strings.TrimSuffix(out, "\n")
}

// dialects runs fn on a fresh, empty database of each dialect: a SQLite file
// that does not exist yet, and a PostgreSQL database when one is configured
// (skipped, visibly, otherwise).
func dialects(t *testing.T, fn func(t *testing.T, dsn string)) {
	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) {
			if d == "postgres" && sqldbtest.PostgresURL() == "" {
				t.Skip("PostgreSQL not configured: set RESELLER_TEST_POSTGRES=" + sqldbtest.DefaultPostgres)
			}
			fn(t, sqldbtest.NewDSN(t, d))
		})
	}
}

// openDB opens the database the CLI works on, to check what it did.
func openDB(t testing.TB, dsn string) *sqldb.DB {
	t.Helper()
	db, err := sqldb.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// counts summarises everything the operator commands can change.
func counts(t testing.TB, dsn string) string {
	t.Helper()
	db, err := sqldb.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var accounts, users, passwords, pools, capacity, tokens, entries int64
	err = db.SQL().QueryRow(`SELECT
		(SELECT count(*) FROM accounts), (SELECT count(*) FROM users),
		(SELECT count(*) FROM users WHERE password_hash <> ''), (SELECT count(*) FROM pools),
		(SELECT coalesce(sum(capacity), 0) FROM pools), (SELECT count(*) FROM tokens),
		(SELECT count(*) FROM audit_entries)`).Scan(&accounts, &users, &passwords, &pools, &capacity, &tokens, &entries)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("accounts=%d users=%d passwords=%d pools=%d capacity=%d tokens=%d entries=%d",
		accounts, users, passwords, pools, capacity, tokens, entries)
}

// provisioned is an account set up through the CLI.
type provisioned struct {
	dsn       string
	accountID string
	ownerID   string
	poolID    string
	token     string
}

// provision runs the operator's setup of a new reseller through the CLI.
func provision(t *testing.T, dsn string) *provisioned {
	t.Helper()
	p := &provisioned{dsn: dsn}
	mustCLI(t, "", "--db", dsn, "migrate")
	p.accountID = oneLine(t, idLine, mustCLI(t, "", "--db", dsn, "account", "create", "--name", "Acme Hosting").stdout)
	// The owner and their token are put in place directly, as a fixture, so
	// that the log holds only what a test does ('user add' and 'token
	// create' are tested on their own, with the entries they record).
	db := openDB(t, dsn)
	owner := sqldbtest.Member(t, db, mustInt(t, p.accountID), "owner@acme.test", reseller.RoleOwner)
	_, p.token = sqldbtest.MemberToken(t, db, owner, "deploy")
	db.Close()
	p.ownerID = fmt.Sprint(owner.ID)
	p.poolID = oneLine(t, idLine, mustCLI(t, "", "--db", dsn, "pool", "create", "--account", p.accountID, "--name", "Pro 10", "--capacity", "10", "--product", "shield").stdout)
	return p
}

// actor returns a context acting as a user of the database, through the API.
func actor(t testing.TB, db *sqldb.DB, email string) context.Context {
	t.Helper()
	u, err := db.FindUserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return reseller.NewContext(context.Background(), &reseller.Actor{
		UserID: u.ID, AccountID: u.AccountID, Email: u.Email, Role: u.Role, Via: reseller.ViaAPI,
		IP: "192.0.2.1", UserAgent: "cli-test",
	})
}

// syncBuffer is a bytes.Buffer safe to write from a running server while a
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestMain points the default signing key at a temporary directory, so that
// commands run against PostgreSQL (whose key defaults to the working
// directory) leave nothing behind in the source tree.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "reseller-cli-test-")
	if err != nil {
		panic(err)
	}
	os.Setenv("RESELLER_KEY_FILE", filepath.Join(dir, "signing.key"))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
