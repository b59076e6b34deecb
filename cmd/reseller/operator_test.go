package main

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/resellerconsole/reseller"
)

func TestProvisioning(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		p := provision(t, dsn)
		ctx := context.Background()

		r := mustCLI(t, "", "--db", dsn, "user", "add", "--account", p.accountID, "--email", "ops@acme.test", "--role", "operator")
		oneLine(t, idLine, r.stdout)
		if !strings.Contains(r.stderr, "ops@acme.test") {
			t.Errorf("user add says %q, want it to name the user", r.stderr)
		}
		r = mustCLI(t, "correct horse battery\n", "--db", dsn, "user", "set-password", "--email", "ops@acme.test")
		if r.stdout != "" || strings.Contains(r.stderr, "correct horse") {
			t.Errorf("set-password printed stdout %q, stderr %q; the password must never show", r.stdout, r.stderr)
		}
		// A password piped without a final newline counts too.
		mustCLI(t, "another good one", "--db", dsn, "user", "set-password", "--email", "owner@acme.test")

		r = mustCLI(t, "", "--db", dsn, "pool", "resize", "--pool", p.poolID, "--capacity", "25")
		if r.stdout != "" || !strings.Contains(r.stderr, "25 slots") {
			t.Errorf("pool resize: stdout %q, stderr %q", r.stdout, r.stderr)
		}

		list := mustCLI(t, "", "--db", dsn, "account", "list").stdout
		if !strings.Contains(list, "Acme Hosting") || !strings.HasPrefix(list, "ID") {
			t.Errorf("account list:\n%s", list)
		}
		list = mustCLI(t, "", "--db", dsn, "pool", "list", "--account", p.accountID).stdout
		if !strings.Contains(list, "Pro 10") || !strings.Contains(list, "shield") || !strings.Contains(list, "25") {
			t.Errorf("pool list:\n%s", list)
		}
		list = mustCLI(t, "", "--db", dsn, "user", "list", "--account", p.accountID).stdout
		if !strings.Contains(list, "owner@acme.test") || !strings.Contains(list, "ops@acme.test") {
			t.Errorf("user list:\n%s", list)
		}

		db := openDB(t, dsn)
		if _, err := db.CheckPassword(ctx, "ops@acme.test", "correct horse battery"); err != nil {
			t.Errorf("password set through the CLI does not work: %v", err)
		}
		if _, err := db.CheckPassword(ctx, "owner@acme.test", "another good one"); err != nil {
			t.Errorf("password without newline: %v", err)
		}
		a, err := db.Authenticate(ctx, p.token)
		if err != nil {
			t.Fatalf("token from the CLI: %v", err)
		}
		if a.Email != "owner@acme.test" || a.Role != reseller.RoleOwner {
			t.Errorf("token acts as %s (%s), want the owner", a.Email, a.Role)
		}
		pool, err := db.FindPoolByID(actor(t, db, "owner@acme.test"), mustInt(t, p.poolID))
		if err != nil || pool.Capacity != 25 || pool.Product != "shield" {
			t.Errorf("pool = %+v, %v", pool, err)
		}
	})
}

func TestBadInputChangesNothing(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		p := provision(t, dsn)
		// One license in use, so that shrinking the pool below it is refused.
		db := openDB(t, dsn)
		owner := actor(t, db, "owner@acme.test")
		c, err := db.CreateClient(owner, "client@shop.test", "Shop")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.AllocateLicense(owner, c.ID, mustInt(t, p.poolID), ""); err != nil {
			t.Fatal(err)
		}
		db.Close()
		before := counts(t, dsn)

		db_ := []string{"--db", dsn}
		tests := []struct {
			name  string
			stdin string
			args  []string
			code  int
			want  string // in stderr
		}{
			{"UnknownCommand", "", []string{"acount", "create"}, 2, "unexpected argument acount"},
			{"UnknownRole", "", []string{"user", "add", "--account", p.accountID, "--email", "x@acme.test", "--role", "boss"}, 2, "--role must be one of"},
			{"MissingFlags", "", []string{"user", "add", "--account", p.accountID}, 2, "missing flags"},
			{"NotANumber", "", []string{"pool", "create", "--account", "one", "--name", "P", "--capacity", "5"}, 2, "--account"},
			{"BadEmail", "", []string{"user", "add", "--account", p.accountID, "--email", "not-an-email", "--role", "admin"}, 2, `Email "not-an-email" is not a valid address`},
			{"UnknownAccount", "", []string{"user", "add", "--account", "999", "--email", "x@acme.test", "--role", "admin"}, 1, "Account 999 not found."},
			{"SecondOwner", "", []string{"user", "add", "--account", p.accountID, "--email", "boss@acme.test", "--role", "owner"}, 1, "already has an owner"},
			{"EmailTaken", "", []string{"user", "add", "--account", p.accountID, "--email", "OWNER@acme.test", "--role", "admin"}, 1, "already exists"},
			{"EmptyAccountName", "", []string{"account", "create", "--name", "  "}, 1, "Account name is required."},
			{"PoolUnknownAccount", "", []string{"pool", "create", "--account", "999", "--name", "P", "--capacity", "5"}, 1, "Account 999 not found."},
			{"NegativeCapacity", "", []string{"pool", "create", "--account", p.accountID, "--name", "P", "--capacity=-5"}, 2, "--capacity must be 0 or more, not -5"},
			{"NegativeCapacitySpaced", "", []string{"pool", "create", "--account", p.accountID, "--name", "P", "--capacity", "-5"}, 2, "--capacity must be 0 or more, not -5"},
			{"ResizeBelowUsed", "", []string{"pool", "resize", "--pool", p.poolID, "--capacity", "0"}, 1, "1 slots in use"},
			{"ResizeUnknownPool", "", []string{"pool", "resize", "--pool", "999", "--capacity", "5"}, 1, "Pool 999 not found."},
			{"TokenUnknownUser", "", []string{"token", "create", "--user", "nobody@acme.test"}, 1, "No user with email nobody@acme.test."},
			{"ShortPassword", "short\n", []string{"user", "set-password", "--email", "owner@acme.test"}, 1, "at least 10 characters"},
			{"NoPassword", "", []string{"user", "set-password", "--email", "owner@acme.test"}, 1, "No password on stdin"},
			{"PasswordUnknownUser", "long enough password\n", []string{"user", "set-password", "--email", "nobody@acme.test"}, 1, "No user with email"},
			{"ListUnknownAccount", "", []string{"pool", "list", "--account", "999"}, 1, "Account 999 not found."},
			{"ExportUnknownAccount", "", []string{"audit", "export", "--account", "999"}, 1, "Account 999 not found."},
			{"ExportBadAction", "", []string{"audit", "export", "--account", p.accountID, "--action", "client.exploded"}, 2, `Unknown action "client.exploded"`},
			{"ExportBadFrom", "", []string{"audit", "export", "--account", p.accountID, "--from", "last tuesday"}, 2, `--from "last tuesday" is not a date`},
			{"ExportEmptyRange", "", []string{"audit", "export", "--account", p.accountID, "--from", "2026-05-02", "--to", "2026-05-01"}, 2, "The time range is empty"},
			{"ExportBadZone", "", []string{"audit", "export", "--account", p.accountID, "--from", "2026-05-01", "--tz", "Mars/Olympus"}, 2, `Time zone "Mars/Olympus"`},
			{"ExportBadQuery", "", []string{"audit", "export", "--account", p.accountID, "--query", "suspended"}, 2, `Query: bare word "suspended" at column 1`},
			{"ExportQueryAndFlags", "", []string{"audit", "export", "--account", p.accountID, "-q", "action:client.created", "--actor", "owner@acme.test"}, 2, "either --query or the filter flags"},
			{"ExportBadFormat", "", []string{"audit", "export", "--account", p.accountID, "--format", "xml"}, 2, "--format must be one of"},
			{"ExportBadOutDir", "", []string{"audit", "export", "--account", p.accountID, "--out", filepath.Join(t.TempDir(), "no", "such", "dir", "x.csv")}, 1, "create output file"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := invoke(t, tt.stdin, append(db_, tt.args...)...)
				if r.code != tt.code {
					t.Errorf("exit %d, want %d\nstderr: %s", r.code, tt.code, r.stderr)
				}
				if !strings.HasPrefix(r.stderr, "reseller: ") || !strings.Contains(r.stderr, tt.want) {
					t.Errorf("stderr = %q, want %q after 'reseller: '", r.stderr, tt.want)
				}
				if r.stdout != "" {
					t.Errorf("stdout = %q, want nothing", r.stdout)
				}
				if after := counts(t, dsn); after != before {
					t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
				}
			})
		}
	})
}

func TestMissingDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "typo.db")
	r := invoke(t, "", "--db", path, "account", "list")
	if r.code != 1 || !strings.Contains(r.stderr, "does not exist") || !strings.Contains(r.stderr, "reseller migrate") {
		t.Errorf("exit %d, stderr %q; want a hint to migrate", r.code, r.stderr)
	}
	if r := invoke(t, "", "--db", path, "account", "create", "--name", "X"); r.code != 1 {
		t.Errorf("account create on a missing database: exit %d", r.code)
	}
	if m, _ := filepath.Glob(path + "*"); len(m) != 0 {
		t.Errorf("the missing database was created: %v", m)
	}
	// migrate and serve create the file, but not a missing directory.
	r = invoke(t, "", "--db", filepath.Join(t.TempDir(), "no", "x.db"), "migrate")
	if r.code != 1 || !strings.Contains(r.stderr, "does not exist") {
		t.Errorf("migrate into a missing directory: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestDatabaseFromEnvironment(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "env.db")
	t.Setenv("RESELLER_DB", dsn)
	mustCLI(t, "", "migrate")
	id := oneLine(t, idLine, mustCLI(t, "", "account", "create", "--name", "From Env").stdout)
	if list := mustCLI(t, "", "--db", dsn, "account", "list").stdout; !strings.Contains(list, "From Env") || !strings.Contains(list, id) {
		t.Errorf("RESELLER_DB was not used:\n%s", list)
	}
}

func TestHelp(t *testing.T) {
	r := mustCLI(t, "", "--help")
	for _, cmd := range []string{"serve", "migrate", "account create", "account list", "user add", "user set-password",
		"pool create", "pool resize", "pool list", "token create", "audit export", "version", "RESELLER_DB"} {
		if !strings.Contains(r.stdout, cmd) {
			t.Errorf("reseller --help does not mention %q:\n%s", cmd, r.stdout)
		}
	}
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"serve"}, []string{"--addr", "--demo", "--log-format", "SIGTERM"}},
		{[]string{"user", "add"}, []string{"--account", "--email", "--role", "owner, admin, operator, auditor"}},
		{[]string{"user", "set-password"}, []string{"--email", "stdin"}},
		{[]string{"pool", "create"}, []string{"--account", "--name", "--capacity", "--product"}},
		{[]string{"pool", "resize"}, []string{"--pool", "--capacity"}},
		{[]string{"token", "create"}, []string{"--user", "--name", "Bearer"}},
		{[]string{"audit", "export"}, []string{"--format", "--out", "--action", "--target", "--actor", "--client", "--from", "--to", "--tz", "--order", "--query"}},
	} {
		r := mustCLI(t, "", append(tt.args, "--help")...)
		for _, w := range tt.want {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("reseller %s --help does not mention %q:\n%s", strings.Join(tt.args, " "), w, r.stdout)
			}
		}
	}
	if r := invoke(t, ""); r.code != 2 || !strings.Contains(r.stderr, "Usage: reseller") {
		t.Errorf("bare reseller: exit %d, stderr %q; want usage and exit 2", r.code, r.stderr)
	}
}

func TestVersion(t *testing.T) {
	r := mustCLI(t, "", "version")
	if !strings.HasPrefix(r.stdout, "reseller ") || !strings.Contains(r.stdout, "go1") {
		t.Errorf("version = %q", r.stdout)
	}
}

func mustInt(t testing.TB, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
