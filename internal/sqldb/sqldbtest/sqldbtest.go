// Package sqldbtest opens real, throw-away databases for tests: a SQLite
// file in a temporary directory always, and a PostgreSQL database of its own
// when RESELLER_TEST_POSTGRES names a server (or CI=true, which requires one).
package sqldbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
)

// DefaultPostgres is the server tests use under CI when RESELLER_TEST_POSTGRES is unset.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// PostgresURL returns the admin URL of the test server, or "" when the
// PostgreSQL runs are not configured.
func PostgresURL() string {
	if u := os.Getenv("RESELLER_TEST_POSTGRES"); u != "" {
		return u
	}
	if os.Getenv("CI") == "true" {
		return DefaultPostgres
	}
	return ""
}

// Dialects lists the databases a suite runs on: "sqlite" always, and
// "postgres" when configured.
func Dialects() []string {
	if PostgresURL() != "" {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

// Run runs fn as a subtest on each dialect, with a fresh migrated database.
// When PostgreSQL is not configured the "postgres" subtest is skipped, and it
// says so, so that a run shows what it did not cover. The subtests run in
// parallel (t.Parallel): each has a database of its own, so fn must keep to
// it and to t (no t.Setenv, no package-level state).
func Run(t *testing.T, fn func(t *testing.T, db *sqldb.DB)) {
	t.Helper()
	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) {
			if d == "postgres" && PostgresURL() == "" {
				t.Skip("PostgreSQL not configured: set RESELLER_TEST_POSTGRES=" + DefaultPostgres)
			}
			t.Parallel()
			fn(t, MustOpen(t, d))
		})
	}
}

// SQLiteOnly runs fn once, on SQLite, for tests of what does not depend on
// the database (HTTP headers, limits, request logs): running them on
// PostgreSQL too would test nothing more.
func SQLiteOnly(t *testing.T, fn func(t *testing.T, db *sqldb.DB)) {
	t.Helper()
	t.Parallel()
	fn(t, MustOpen(t, "sqlite"))
}

// MustOpen opens a fresh, migrated database of the dialect, dropped when the
// test ends. On PostgreSQL it is a copy of a template migrated once per
// schema (CREATE DATABASE ... TEMPLATE), which is much faster than
// migrating each test's database.
func MustOpen(tb testing.TB, dialect string) *sqldb.DB {
	tb.Helper()
	var dsn string
	if dialect == "postgres" {
		dsn = newDSN(tb, dialect, migratedTemplate(tb))
	} else {
		dsn = NewDSN(tb, dialect)
	}
	db, err := sqldb.Open(context.Background(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return db
}

// NewDSN returns the DSN of a new empty database of the dialect, removed
// when the test ends: a file in a temp dir, or a PostgreSQL database with a
// random name created on the test server.
func NewDSN(tb testing.TB, dialect string) string {
	tb.Helper()
	return newDSN(tb, dialect, "")
}

// newDSN is NewDSN, copying the PostgreSQL database template when it is not "".
func newDSN(tb testing.TB, dialect, template string) string {
	tb.Helper()
	if dialect == "sqlite" {
		return filepath.Join(tb.TempDir(), "test.db")
	}
	admin := PostgresURL()
	if admin == "" {
		tb.Fatal("sqldbtest: PostgreSQL not configured (RESELLER_TEST_POSTGRES)")
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "reseller_test_" + hex.EncodeToString(b)
	adb, err := sql.Open("pgx", admin)
	if err != nil {
		tb.Fatal(err)
	}
	defer adb.Close()
	create := "CREATE DATABASE " + name
	if template != "" {
		create += " TEMPLATE " + template
	}
	if _, err := adb.Exec(create); err != nil {
		tb.Fatalf("sqldbtest: create database on %s: %v", redact(admin), err)
	}
	tb.Cleanup(func() {
		adb, err := sql.Open("pgx", admin)
		if err != nil {
			tb.Error(err)
			return
		}
		defer adb.Close()
		if _, err := adb.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			tb.Errorf("sqldbtest: drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func redact(u string) string {
	if p, err := url.Parse(u); err == nil {
		return p.Redacted()
	}
	return strings.SplitN(u, "@", 2)[len(strings.SplitN(u, "@", 2))-1]
}

// Dialect names the database a DSN points at.
func Dialect(dsn string) string {
	if sqldb.IsPostgres(dsn) {
		return "postgres"
	}
	return "sqlite"
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// migratedTemplate returns the name of a PostgreSQL template database with
// the current schema, making it the first time. Test binaries run at once
// (one per package) take turns with an advisory lock; a template is marked
// IS_TEMPLATE only once fully migrated, so a half-made one is made again.
// Templates are named by sqldb.SchemaHash and kept for later runs.
func migratedTemplate(tb testing.TB) string {
	tb.Helper()
	templateOnce.Do(func() { templateName, templateErr = makeTemplate() })
	if templateErr != nil {
		tb.Fatalf("sqldbtest: template database: %v", templateErr)
	}
	return templateName
}

func makeTemplate() (string, error) {
	ctx := context.Background()
	name := "reseller_test_tmpl_" + sqldb.SchemaHash()[:16]
	admin := PostgresURL()
	adb, err := sql.Open("pgx", admin)
	if err != nil {
		return "", err
	}
	defer adb.Close()
	conn, err := adb.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	const lock = 0x72657374 // "rest"
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", lock); err != nil {
		return "", err
	}
	defer conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", lock)
	var ready bool
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)", name).Scan(&ready); err != nil {
		return "", err
	}
	if ready {
		return name, nil
	}
	for _, q := range []string{"DROP DATABASE IF EXISTS " + name + " WITH (FORCE)", "CREATE DATABASE " + name} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return "", err
		}
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	db, err := sqldb.Open(ctx, u.String())
	if err != nil {
		return "", err
	}
	err = db.Migrate(ctx)
	db.Close()
	if err != nil {
		return "", err
	}
	if _, err := conn.ExecContext(ctx, "ALTER DATABASE "+name+" WITH IS_TEMPLATE true"); err != nil {
		return "", err
	}
	return name, nil
}

// Member adds a user to an account directly in the database, as a fixture:
// without the audit entry that adding one through the store records, so
// that a test's log holds only what the test itself does.
func Member(tb testing.TB, db *sqldb.DB, accountID int64, email string, role reseller.Role) *reseller.User {
	tb.Helper()
	u := &reseller.User{AccountID: accountID, Email: email, Role: role, CreatedAt: time.Unix(0, 0).UTC()}
	if err := db.SQL().QueryRow(rebind(db, "INSERT INTO users (account_id, email, role, created_at) VALUES (?, ?, ?, 0) RETURNING id"),
		accountID, email, string(role)).Scan(&u.ID); err != nil {
		tb.Fatalf("sqldbtest: add %s: %v", email, err)
	}
	return u
}

// MemberToken gives a user an API token directly in the database, as a
// fixture (no audit entry), and returns its id and secret.
func MemberToken(tb testing.TB, db *sqldb.DB, u *reseller.User, name string) (int64, string) {
	tb.Helper()
	secret, hash := sqldb.NewTokenSecret()
	var id int64
	if err := db.SQL().QueryRow(rebind(db, "INSERT INTO tokens (account_id, user_id, name, hash, created_at) VALUES (?, ?, ?, ?, 0) RETURNING id"),
		u.AccountID, u.ID, name, hash).Scan(&id); err != nil {
		tb.Fatalf("sqldbtest: token for %s: %v", u.Email, err)
	}
	return id, secret
}

// rebind numbers the placeholders of q for PostgreSQL.
func rebind(db *sqldb.DB, q string) string {
	if db.Dialect() != "postgres" {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}
