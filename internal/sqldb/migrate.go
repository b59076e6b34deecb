package sqldb

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

//go:embed migrations
var migrations embed.FS

// migrationLock is the PostgreSQL advisory lock key held while migrating, so
// that instances starting at once migrate one after the other.
const migrationLock = 0x7265736c // "resl"

// Migrate applies the embedded migrations that have not run yet, in order,
// each in its own transaction. Migrations are forward-only and paired by name
// across dialects (migrations/sqlite/NNN_x.sql, migrations/postgres/NNN_x.sql).
func (db *DB) Migrate(ctx context.Context) error {
	conn, err := db.rw.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if db.dialect.name == "postgres" {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock)
	}
	// Look before creating: the least-privileged app role (GrantAppRole)
	// may not create tables, not even with IF NOT EXISTS, and it must still
	// be able to start on a database that is up to date.
	var exists bool
	q := "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
	if db.dialect.name == "postgres" {
		q = "SELECT to_regclass('schema_migrations') IS NOT NULL"
	}
	if err := conn.QueryRowContext(ctx, q).Scan(&exists); err != nil {
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

	dir := "migrations/" + db.dialect.name
	names, err := fs.Glob(migrations, dir+"/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, path := range names {
		name := strings.TrimPrefix(path, dir+"/")
		v, err := strconv.Atoi(name[:strings.IndexByte(name, '_')])
		if err != nil {
			return fmt.Errorf("migrate: bad migration name %q", name)
		}
		if applied[v] {
			continue
		}
		body, err := migrations.ReadFile(path)
		if err != nil {
			return err
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate: %s: %w", name, ownerHint(err))
		}
		if _, err := tx.ExecContext(ctx, db.dialect.rebind("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
			v, name, micros(db.Now())); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate: %s: %w", name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate: %s: %w", name, err)
		}
	}
	return nil
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
