package main

import (
	"strings"
	"testing"

	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

func TestMigrateAppRoleRefused(t *testing.T) {
	dsn := t.TempDir() + "/x.db"
	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"migrate", "--app-role", "reseller_app"}, "--app-role is for PostgreSQL"},
		{"pw\n", []string{"migrate", "--app-password-stdin"}, "--app-password-stdin goes with --app-role"},
	} {
		r := invoke(t, tc.stdin, append([]string{"--db", dsn}, tc.args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("reseller %s: exit %d, stderr %q; want exit 1 and %q", strings.Join(tc.args, " "), r.code, r.stderr, tc.want)
		}
	}
}

func TestMigrateAppRolePostgres(t *testing.T) {
	if sqldbtest.PostgresURL() == "" {
		t.Skip("PostgreSQL not configured: set RESELLER_TEST_POSTGRES=" + sqldbtest.DefaultPostgres)
	}
	dsn := sqldbtest.NewDSN(t, "postgres")
	role := uniqueRole(t, dsn)
	// No password on stdin: refused before anything is created.
	r := invoke(t, "", "--db", dsn, "migrate", "--app-role", role, "--app-password-stdin")
	if r.code != 1 || !strings.Contains(r.stderr, "No password on stdin") {
		t.Errorf("empty stdin: exit %d, stderr %q", r.code, r.stderr)
	}
	// Without a password the new role cannot log in, and the operator is told.
	r = mustCLI(t, "", "--db", dsn, "migrate", "--app-role", role)
	if !strings.Contains(r.stderr, "NOLOGIN") || r.stdout != "" {
		t.Errorf("migrate --app-role: stdout %q, stderr %q", r.stdout, r.stderr)
	}
	var login bool
	if err := openDB(t, dsn).SQL().QueryRow("SELECT rolcanlogin FROM pg_roles WHERE rolname = $1", role).Scan(&login); err != nil {
		t.Fatal(err)
	}
	if login {
		t.Errorf("role %s can log in without a password", role)
	}
	// With one it can, and serve runs as it.
	mustCLI(t, "pw\n", "--db", dsn, "migrate", "--app-role", role, "--app-password-stdin")
	if err := openDB(t, dsn).SQL().QueryRow("SELECT rolcanlogin FROM pg_roles WHERE rolname = $1", role).Scan(&login); err != nil || !login {
		t.Errorf("role %s after a password: can log in %v (%v)", role, login, err)
	}
}
