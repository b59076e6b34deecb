package main

import (
	"fmt"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
)

type migrateCmd struct {
	AppRole          string `name:"app-role" placeholder:"NAME" help:"PostgreSQL only: also create the role NAME if missing and grant it exactly what 'reseller serve' needs (append-only on the audit log). Run 'serve' as this role."`
	AppPasswordStdin bool   `name:"app-password-stdin" help:"With --app-role: read the role's password from stdin and let it log in. Without it a new role is NOLOGIN."`
}

func (c *migrateCmd) Help() string {
	return `Creates the database named by --db if it is a SQLite file that does not exist
yet, then applies the schema migrations it lacks. Migrations are embedded in
the binary and only ever move forward; running this twice is harmless, and
instances that migrate at the same moment take turns (PostgreSQL: an advisory
lock). 'reseller serve' migrates on start too, so this is for deployments
that prepare a PostgreSQL database before starting the app instances.

On PostgreSQL, run it as the role that owns the tables. With --app-role it
then sets up a separate, least-privileged role for the app instances: it may
connect, read and write the state tables, but only read and append to the
audit log's tables, so history cannot be changed through the app's
credentials even if the append-only triggers were gone. It may not change the
schema either, so run 'reseller migrate' as the owner before starting a new
version of the app, and again with --app-role after an upgrade that adds
tables.

Example:
  printf '%s\n' "$APP_PASSWORD" | reseller --db "$OWNER_URL" migrate \
      --app-role reseller_app --app-password-stdin
  reseller --db postgres://reseller_app:...@db.internal/reseller serve`
}

func (c *migrateCmd) Run(e *env) error {
	if c.AppPasswordStdin && c.AppRole == "" {
		return reseller.Errorf(reseller.EINVALID, "--app-password-stdin goes with --app-role.")
	}
	if c.AppRole != "" && !sqldb.IsPostgres(e.dsn) {
		return reseller.Errorf(reseller.EINVALID, "--app-role is for PostgreSQL: a SQLite database is a file that 'reseller serve' opens itself, so protect it with file permissions instead.")
	}
	var password string
	if c.AppPasswordStdin {
		var err error
		if password, err = readPassword(e, "Password for role "+c.AppRole+": "); err != nil {
			if reseller.ErrorCode(err) == reseller.EINVALID {
				return reseller.Errorf(reseller.EINVALID, "No password on stdin; pipe it in, for example: printf '%%s\\n' \"$APP_PASSWORD\" | reseller migrate --app-role %s --app-password-stdin", c.AppRole)
			}
			return err
		}
	}
	db, err := e.open(true)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(e.stderr, "Database %s (%s) is up to date.\n", redact(e.dsn), db.Dialect())
	if c.AppRole == "" {
		return nil
	}
	if err := db.GrantAppRole(e.ctx, c.AppRole, password); err != nil {
		return fmt.Errorf("app role %s: %w", c.AppRole, err)
	}
	fmt.Fprintf(e.stderr, "Role %s may now use the database as the app: read and write the state, only read and append to the audit log.\n", c.AppRole)
	if password == "" {
		fmt.Fprintf(e.stderr, "No password was given: a new role is NOLOGIN until you run this again with --app-password-stdin (or, in psql, \\password %s and ALTER ROLE %s LOGIN); an existing role keeps its password.\n", c.AppRole, c.AppRole)
	}
	fmt.Fprintf(e.stderr, "Run 'reseller serve' with a --db URL that connects as %s.\n", c.AppRole)
	return nil
}
