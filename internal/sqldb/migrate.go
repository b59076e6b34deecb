package sqldb

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/resellerconsole/reseller"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/jackc/pgx/v5/pgconn"
)

// The migrations are one text/template per version, migrations/NNN_name.sql,
// rendered for each dialect (see renderMigration), so that the two schemas
// cannot drift apart. They are forward-only: a migration that has run is
// never edited, and a change to the schema is a new, higher number.
//
//go:embed migrations/*.sql migrations/activity/*.sql
var migrations embed.FS

// migrationLock is the PostgreSQL advisory lock key held while migrating, so
// that instances starting at once migrate one after the other.
const migrationLock = 0x7265736c // "resl"

// migration is one numbered step of the schema.
type migration struct {
	version int
	name    string // its file name, as recorded in schema_migrations
	path    string
}

// listMigrations returns the embedded migrations in order.
func listMigrations() ([]migration, error) {
	paths, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var ms []migration
	for _, path := range paths {
		name := strings.TrimPrefix(path, "migrations/")
		i := strings.IndexByte(name, '_')
		v, err := strconv.Atoi(name[:max(i, 0)])
		if i < 0 || err != nil {
			return nil, fmt.Errorf("migrate: bad migration name %q", name)
		}
		if len(ms) > 0 && ms[len(ms)-1].version == v {
			return nil, fmt.Errorf("migrate: two migrations numbered %d", v)
		}
		ms = append(ms, migration{version: v, name: name, path: path})
	}
	return ms, nil
}

// renderMigration renders a migration's template for the dialect. Templates
// have {{id}} (an identity primary key), {{int}} (a 64-bit integer) and
// {{blob}} for the types that differ, and {{if sqlite}} / {{if postgres}}
// for what only one dialect has, such as triggers.
func (d dialect) renderMigration(m migration) (string, error) {
	body, err := migrations.ReadFile(m.path)
	if err != nil {
		return "", err
	}
	t, err := template.New(m.name).Option("missingkey=error").Funcs(d.schemaFuncs).Parse(string(body))
	if err != nil {
		return "", fmt.Errorf("migrate: %w", err)
	}
	var b strings.Builder
	if err := t.Execute(&b, nil); err != nil {
		return "", fmt.Errorf("migrate: %w", err)
	}
	return b.String(), nil
}

// Migrate applies the embedded migrations that have not run yet, in order,
// each rendered for the database's dialect and run in its own transaction.
func (db *DB) Migrate(ctx context.Context) error {
	ms, err := listMigrations()
	if err != nil {
		return err
	}
	conn, err := db.rw.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if db.dialect.lockMigrations != "" {
		if _, err := conn.ExecContext(ctx, db.dialect.lockMigrations, migrationLock); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), db.dialect.unlockMigrations, migrationLock)
	}
	// Look before creating: the least-privileged app role (GrantAppRole)
	// may not create tables, not even with IF NOT EXISTS, and it must still
	// be able to start on a database that is up to date.
	var exists bool
	if err := conn.QueryRowContext(ctx, db.dialect.hasMigrations).Scan(&exists); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if !exists {
		if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
			return fmt.Errorf("migrate: %w", ownerHint(err))
		}
	}
	applied := map[int]bool{}
	rows, err := conn.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[v] = true
	}
	rows.Close()

	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		body, err := db.dialect.renderMigration(m)
		if err != nil {
			return err
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, body); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate: %s: %w", m.name, ownerHint(err))
		}
		if _, err := tx.ExecContext(ctx, db.dialect.rebind("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
			m.version, m.name, micros(db.Now())); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate: %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate: %s: %w", m.name, err)
		}
	}
	return db.migrateActivity(ctx)
}

// ownerHint adds what to do when a migration is refused for lack of
// privilege: typically a new binary started as the app role, which may read
// and write rows but not change the schema.
func ownerHint(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42501" { // insufficient_privilege
		return fmt.Errorf("%w (the schema needs migrating, and this role may not change it: run 'reseller migrate' as the role that owns the tables, then start the app again)", err)
	}
	return err
}

// SchemaHash names the schema the embedded migrations make: a hex SHA-256
// over their names and sources. Test helpers key migrated template
// databases by it.
func SchemaHash() string {
	h := sha256.New()
	paths, _ := fs.Glob(migrations, "migrations/*.sql")
	activity, _ := fs.Glob(migrations, "migrations/activity/*.sql")
	for _, p := range append(paths, activity...) {
		b, _ := migrations.ReadFile(p)
		fmt.Fprintf(h, "%s %d\n", p, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// SchemaCurrent returns nil when every embedded migration has run, and
// EINVALID naming what is missing otherwise: an empty database, or one an
// older version left. Commands that only read or change data check it
// instead of migrating, so that a wrong --db is not silently given a schema.
func (db *DB) SchemaCurrent(ctx context.Context) error {
	ms, err := listMigrations()
	if err != nil {
		return err
	}
	var exists bool
	if err := db.rw.QueryRowContext(ctx, db.dialect.hasMigrations).Scan(&exists); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if !exists {
		return reseller.Errorf(reseller.EINVALID, "The database has no Reseller Console schema; create it with 'reseller migrate' (or point --db at the right database).")
	}
	var applied int
	if err := db.rw.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&applied); err != nil {
		return err
	}
	if applied < len(ms) {
		return reseller.Errorf(reseller.EINVALID, "The database's schema is %d migrations behind this version; run 'reseller migrate' first.", len(ms)-applied)
	}
	return nil
}
