package sqldb_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

// TestAppRoleCoversSchema fails when a migration adds a table that
// GrantAppRole does not know: the app role would be refused on it, or, worse,
// someone would grant it by hand without deciding whether it is history.
func TestAppRoleCoversSchema(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		q := "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
		if db.Dialect() == "postgres" {
			q = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
		}
		var tables []string
		handles := []*sql.DB{db.SQL()}
		if db.Dialect() == "sqlite" {
			handles = append(handles, db.ActivitySQL()) // the activity file
		}
		for _, h := range handles {
			rows, err := h.Query(q)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var name string
				if err := rows.Scan(&name); err != nil {
					t.Fatal(err)
				}
				tables = append(tables, name)
			}
			rows.Close()
		}
		slices.Sort(tables)
		want := slices.Sorted(slices.Values(sqldb.AppTables()))
		if diff := cmp.Diff(want, tables); diff != "" {
			t.Errorf("tables of the schema vs. those GrantAppRole grants (-granted +schema):\n%s", diff)
		}
	})
}

func TestGrantAppRoleSQLite(t *testing.T) {
	db := sqldbtest.MustOpen(t, "sqlite")
	wantCode(t, db.GrantAppRole(context.Background(), "reseller_app", ""), reseller.EINVALID)
}

// appRole is a PostgreSQL role made for one test: a unique name (roles are
// shared by every database of the server), dropped when the test ends.
func appRole(t *testing.T, owner *sqldb.DB) string {
	t.Helper()
	b := make([]byte, 5)
	rand.Read(b)
	role := "reseller_app_test_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		// The role holds privileges in this database only (its CONNECT
		// grant lives on the database too), so DROP OWNED here frees it.
		ctx := context.Background()
		var exists bool
		if err := owner.SQL().QueryRowContext(ctx, "SELECT count(*) > 0 FROM pg_roles WHERE rolname = $1", role).Scan(&exists); err != nil || !exists {
			return
		}
		for _, q := range []string{"DROP OWNED BY " + role, "DROP ROLE " + role} {
			if _, err := owner.SQL().ExecContext(ctx, q); err != nil {
				t.Errorf("%s: %v", q, err)
			}
		}
	})
	return role
}

// asRole returns dsn with the role and password as its user.
func asRole(t *testing.T, dsn, role, password string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(role, password)
	return u.String()
}

// privileges lists what role may do on each of the app's tables.
func privileges(t *testing.T, db *sql.DB, role string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, table := range sqldb.AppTables() {
		var got []string
		for _, p := range []string{"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"} {
			var has bool
			if err := db.QueryRow("SELECT has_table_privilege($1, $2, $3)", role, table, p).Scan(&has); err != nil {
				t.Fatal(err)
			}
			if has {
				got = append(got, p)
			}
		}
		out[table] = strings.Join(got, ",")
	}
	return out
}

func TestGrantAppRole(t *testing.T) {
	if sqldbtest.PostgresURL() == "" {
		t.Skip("PostgreSQL not configured: set RESELLER_TEST_POSTGRES=" + sqldbtest.DefaultPostgres)
	}
	ctx := context.Background()
	dsn := sqldbtest.NewDSN(t, "postgres")
	owner, err := sqldb.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { owner.Close() })
	if err := owner.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, owner)
	f.history(t)
	role := appRole(t, owner)

	const password = "app-s3cret"
	if err := owner.GrantAppRole(ctx, role, password); err != nil {
		t.Fatal(err)
	}
	// The password went over as a SCRAM verifier: stored as sent, never in clear.
	var stored string
	if err := owner.SQL().QueryRow("SELECT rolpassword FROM pg_authid WHERE rolname = $1", role).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stored, "SCRAM-SHA-256$4096:") || strings.Contains(stored, password) {
		t.Errorf("stored password = %q, want a SCRAM-SHA-256 verifier", stored)
	}

	want := map[string]string{}
	for _, table := range sqldb.AppTables() {
		switch table {
		case "audit_entries", "audit_hashes", "audit_checkpoints", "audit_cosignatures":
			want[table] = "SELECT,INSERT"
		case "schema_migrations", "activity_migrations":
			want[table] = "SELECT"
		default:
			want[table] = "SELECT,INSERT,UPDATE,DELETE"
		}
	}
	if diff := cmp.Diff(want, privileges(t, owner.SQL(), role)); diff != "" {
		t.Fatalf("privileges (-want +got):\n%s", diff)
	}
	// Running it again restores exactly that set, also after someone
	// granted more by hand.
	if _, err := owner.SQL().Exec("GRANT UPDATE, DELETE, TRUNCATE ON audit_entries TO " + role); err != nil {
		t.Fatal(err)
	}
	if err := owner.GrantAppRole(ctx, role, ""); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, privileges(t, owner.SQL(), role)); diff != "" {
		t.Fatalf("privileges after granting again (-want +got):\n%s", diff)
	}

	// The app, connected as the role, starts (its migrate finds nothing to
	// do) and does its work: actions, their entries and checkpoints.
	app, err := sqldb.Open(ctx, asRole(t, dsn, role, password))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	if err := app.Migrate(ctx); err != nil {
		t.Fatalf("migrate as the app role on an up-to-date database: %v", err)
	}
	// Nor can it grant itself more: only the owner grants.
	wantCode(t, app.GrantAppRole(ctx, role, ""), reseller.EINVALID)
	withKey(t, app)
	op := f.as(reseller.RoleOperator)
	c := ok(app.CreateClient(op, "app-role@x.test", "Via the app role"))
	l := ok(app.AllocateLicense(op, c.ID, f.pool.ID, "www.example"))
	ok(app.SuspendClient(op, c.ID, "testing"))
	ok(app.RevokeLicense(op, l.ID, ""))
	ok(app.AccountCheckpoint(ctx, f.account.ID, 0))
	if err := app.CheckAccount(ctx, f.account.ID); err != nil {
		t.Fatalf("check as the app role: %v", err)
	}
	// It may insert checkpoints, but none of a log larger than the one
	// there is: a junk row would make every later check fail.
	if _, err := app.SQL().Exec("INSERT INTO audit_checkpoints (account_id, size, root, note, created_at) VALUES ($1, 999999, $2, 'junk', 0)",
		f.account.ID, make([]byte, 32)); err == nil || !strings.Contains(err.Error(), "beyond the log") {
		t.Fatalf("app role inserted a checkpoint beyond the log: %v", err)
	}
	if err := app.CheckAccount(ctx, f.account.ID); err != nil {
		t.Fatalf("check after the refused insert: %v", err)
	}

	// History cannot be changed with the app's credentials, even with the
	// append-only triggers out of the way: the privilege is simply missing.
	if _, err := owner.SQL().Exec("ALTER TABLE audit_entries DISABLE TRIGGER USER; ALTER TABLE audit_hashes DISABLE TRIGGER USER; ALTER TABLE audit_checkpoints DISABLE TRIGGER USER"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		owner.SQL().Exec("ALTER TABLE audit_entries ENABLE TRIGGER USER; ALTER TABLE audit_hashes ENABLE TRIGGER USER; ALTER TABLE audit_checkpoints ENABLE TRIGGER USER")
	})
	var before int64
	if err := owner.SQL().QueryRow("SELECT count(*) FROM audit_entries").Scan(&before); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"UPDATE audit_entries SET action = 'client.created'",
		"DELETE FROM audit_entries",
		"TRUNCATE audit_entries",
		"UPDATE audit_hashes SET hash = hash",
		"DELETE FROM audit_hashes",
		"DELETE FROM audit_checkpoints",
		"UPDATE audit_heads SET size = 0 WHERE false", // allowed: the head is state
		// Nor can the role put the triggers out of the way itself, or
		// change the schema.
		"ALTER TABLE audit_entries DISABLE TRIGGER ALL",
		"SET session_replication_role = replica",
		"DROP TABLE audit_entries",
		"CREATE TABLE shadow (id int)",
	} {
		_, err := app.SQL().Exec(q)
		allowed := strings.HasPrefix(q, "UPDATE audit_heads")
		var pe *pgconn.PgError
		switch {
		case allowed && err != nil:
			t.Errorf("app role: %s: %v, want it allowed", q, err)
		case !allowed && err == nil:
			t.Errorf("app role: %s succeeded, want permission denied", q)
		case !allowed && (!errors.As(err, &pe) || pe.Code != "42501"):
			t.Errorf("app role: %s: %v, want permission denied (42501)", q, err)
		}
	}
	var after int64
	if err := owner.SQL().QueryRow("SELECT count(*) FROM audit_entries").Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != before || before == 0 {
		t.Errorf("audit_entries has %d rows after the attempts, %d before", after, before)
	}
}

func TestGrantAppRoleRefuses(t *testing.T) {
	if sqldbtest.PostgresURL() == "" {
		t.Skip("PostgreSQL not configured: set RESELLER_TEST_POSTGRES=" + sqldbtest.DefaultPostgres)
	}
	ctx := context.Background()
	owner := sqldbtest.MustOpen(t, "postgres")
	for _, name := range []string{"", "App", "app-role", `app"; DROP TABLE audit_entries; --`, "pg_app", "public", strings.Repeat("a", 64)} {
		wantCode(t, owner.GrantAppRole(ctx, name, ""), reseller.EINVALID)
	}
	var me string
	if err := owner.SQL().QueryRow("SELECT current_user").Scan(&me); err != nil {
		t.Fatal(err)
	}
	// The owner itself (here a superuser) would make the grants meaningless.
	wantCode(t, owner.GrantAppRole(ctx, me, ""), reseller.EINVALID)

	// So would a member of the owner's role, which inherits ownership.
	member := appRole(t, owner)
	if _, err := owner.SQL().Exec("CREATE ROLE " + member + " NOLOGIN IN ROLE " + me); err != nil {
		t.Fatal(err)
	}
	wantCode(t, owner.GrantAppRole(ctx, member, ""), reseller.EINVALID)

	// A role created without a password cannot log in.
	plain := appRole(t, owner)
	if err := owner.GrantAppRole(ctx, plain, ""); err != nil {
		t.Fatal(err)
	}
	var login bool
	if err := owner.SQL().QueryRow("SELECT rolcanlogin FROM pg_roles WHERE rolname = $1", plain).Scan(&login); err != nil {
		t.Fatal(err)
	}
	if login {
		t.Errorf("role %s created without a password can log in", plain)
	}
}
