package main

import (
	"fmt"
	"os"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
)

type backupCmd struct {
	Out   string `required:"" short:"o" placeholder:"FILE" help:"Where to write the backup; an existing FILE is refused unless --force."`
	Force bool   `help:"Overwrite --out if it exists."`
}

func (c *backupCmd) Help() string {
	return `Writes a consistent copy of a SQLite database to FILE while 'reseller serve'
goes on running: one snapshot, so the audit log and the state in the copy
agree. Copying the database file itself while the app runs is not safe: the
latest commits may sit in the -wal file beside it, half moved.

FILE appears only once it is complete, and an existing FILE is never
overwritten. The checkpoint signing key is not in the database: keep a copy
of it (reseller-signing.key beside the database, unless --key-file or
--signing-key say otherwise) with your backups, separately.

To restore, stop the app, put the backup in the database's place, start the
app, and run 'reseller audit check'.

For PostgreSQL use its own tools: pg_dump for a logical backup, or base
backups with WAL archiving for point-in-time recovery.

Example:
  reseller --db /var/lib/reseller/reseller.db backup --out /backup/reseller-$(date +%F).db`
}

func (c *backupCmd) Run(e *env) error {
	if sqldb.IsPostgres(e.dsn) {
		return reseller.Errorf(reseller.EINVALID, "'reseller backup' is for SQLite. Back up PostgreSQL with its own tools, for example:\n"+
			"  pg_dump --format=custom --file=reseller-$(date +%%F).dump '%s'\n"+
			"and restore with pg_restore into an empty database, then run 'reseller audit check'. See docs/operations.md.", redact(e.dsn))
	}
	if fi, err := os.Lstat(c.Out); err == nil {
		if !c.Force {
			return reseller.Errorf(reseller.EINVALID, "%s already exists; pass --force to overwrite it.", c.Out)
		}
		if !fi.Mode().IsRegular() {
			return reseller.Errorf(reseller.EINVALID, "%s is not a regular file; --force overwrites only files.", c.Out)
		}
		if err := os.Remove(c.Out); err != nil {
			return err
		}
	}
	db, err := e.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Backup(e.ctx, c.Out); err != nil {
		return err
	}
	var size int64
	if fi, err := os.Stat(c.Out); err == nil {
		size = fi.Size()
	}
	fmt.Fprintf(e.stderr, "Backed up %s to %s (%d bytes).\n", redact(e.dsn), c.Out, size)
	if e.signingKey == "" {
		fmt.Fprintf(e.stderr, "The signing key %s is not in the backup: keep a copy of it separately.\n", e.keyPath())
	} else {
		fmt.Fprintln(e.stderr, "The signing key (--signing-key) is not in the backup: keep a copy of it separately.")
	}
	return nil
}
