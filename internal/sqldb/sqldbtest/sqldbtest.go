// Package sqldbtest opens real, throw-away databases for tests: a SQLite
// file in a temporary directory always, and a PostgreSQL database of its own
// when RESELLER_TEST_POSTGRES names a server (or CI=true, which requires one).
package sqldbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
// says so, so that a run shows what it did not cover.
func Run(t *testing.T, fn func(t *testing.T, db *sqldb.DB)) {
	t.Helper()
	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) {
			if d == "postgres" && PostgresURL() == "" {
				t.Skip("PostgreSQL not configured: set RESELLER_TEST_POSTGRES=" + DefaultPostgres)
			}
			fn(t, MustOpen(t, d))
		})
	}
}

// MustOpen opens a fresh, migrated database of the dialect, dropped when the
// test ends.
func MustOpen(tb testing.TB, dialect string) *sqldb.DB {
	tb.Helper()
	dsn := NewDSN(tb, dialect)
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
	if _, err := adb.Exec("CREATE DATABASE " + name); err != nil {
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
