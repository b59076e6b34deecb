package sqldb_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// TestSchema migrates a fresh database of each dialect and compares what the
// database itself reports of its tables, columns, constraints, indexes,
// triggers and functions with testdata/schema.<dialect>.golden. The golden
// files were written from the hand-written migrations that databases in the
// field were created with, so a change in how migrations are rendered that
// changes the schema shows here. Run with -update after adding a migration.
func TestSchema(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		var got string
		var err error
		if db.Dialect() == "postgres" {
			got, err = describePostgres(db.SQL())
		} else if got, err = describeSQLite(db.SQL()); err == nil {
			// The activity tables are a file of their own on SQLite.
			var act string
			act, err = describeSQLite(db.ActivitySQL())
			got += "-- the activity file\n" + act
		}
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "schema."+db.Dialect()+".golden")
		if *update {
			if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), got); diff != "" {
			t.Errorf("schema differs from %s (-want +got):\n%s", golden, diff)
		}
	})
}

// TestSchemaDialectsAgree checks, from the golden files, that both dialects
// have the same tables with the same columns, of the same kind and
// nullability, in the same order.
func TestSchemaDialectsAgree(t *testing.T) {
	read := func(dialect string) []string {
		b, err := os.ReadFile(filepath.Join("testdata", "schema."+dialect+".golden"))
		if err != nil {
			t.Fatal(err)
		}
		// Tables by name: SQLite keeps the activity tables in a file of
		// their own, described after the main one.
		cols := map[string][]string{}
		table := ""
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			switch {
			case len(f) == 2 && f[0] == "table":
				table = f[1]
			case len(f) >= 4 && f[0] == "column":
				cols[table] = append(cols[table], table+"."+strings.Join(f[1:4], " "))
			}
		}
		var out []string
		for _, t := range slices.Sorted(maps.Keys(cols)) {
			out = append(out, cols[t]...)
		}
		return out
	}
	if diff := cmp.Diff(read("sqlite"), read("postgres")); diff != "" {
		t.Errorf("tables and columns differ between dialects (-sqlite +postgres):\n%s", diff)
	}
}

var spaces = regexp.MustCompile(`\s+`)

// oneLine collapses the white space of a statement, which the databases keep
// as written but which means nothing.
func oneLine(s string) string { return strings.TrimSpace(spaces.ReplaceAllString(s, " ")) }

// kinds maps each dialect's column types to what they hold.
var kinds = map[string]string{
	"INTEGER": "int", "BIGINT": "int", "bigint": "int", "integer": "int",
	"TEXT": "text", "text": "text",
	"BLOB": "bytes", "bytea": "bytes",
}

func nullability(notNull bool) string {
	if notNull {
		return "notnull"
	}
	return "null"
}

// describeSQLite lists every object of the schema with its statement, and
// every table's columns as the database reports them.
func describeSQLite(db *sql.DB) (string, error) {
	ctx := context.Background()
	var b strings.Builder
	rows, err := db.QueryContext(ctx, `SELECT type, name, tbl_name, COALESCE(sql, '') FROM sqlite_master
		WHERE name NOT LIKE 'sqlite_%' OR type = 'index'
		ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, tbl_name, name`)
	if err != nil {
		return "", err
	}
	type object struct{ typ, name, table, sql string }
	var objects []object
	for rows.Next() {
		var o object
		if err := rows.Scan(&o.typ, &o.name, &o.table, &o.sql); err != nil {
			rows.Close()
			return "", err
		}
		objects = append(objects, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", err
	}
	for _, o := range objects {
		if o.typ != "table" {
			fmt.Fprintf(&b, "%s %s on %s\n  %s\n", o.typ, o.name, o.table, oneLine(o.sql))
			continue
		}
		fmt.Fprintf(&b, "table %s\n", o.name)
		cols, err := db.QueryContext(ctx, "SELECT name, type, \"notnull\", COALESCE(dflt_value, ''), pk FROM pragma_table_info(?) ORDER BY cid", o.name)
		if err != nil {
			return "", err
		}
		for cols.Next() {
			var name, typ, dflt string
			var notNull bool
			var pk int
			if err := cols.Scan(&name, &typ, &notNull, &dflt, &pk); err != nil {
				cols.Close()
				return "", err
			}
			fmt.Fprintf(&b, "  column %s %s %s  type %s", name, kinds[typ], nullability(notNull || pk > 0), typ)
			if dflt != "" {
				fmt.Fprintf(&b, " default %s", dflt)
			}
			if pk > 0 {
				fmt.Fprintf(&b, " pk %d", pk)
			}
			b.WriteString("\n")
		}
		cols.Close()
		fmt.Fprintf(&b, "  %s\n", oneLine(o.sql))
	}
	return b.String(), nil
}

// describePostgres lists the tables of the current schema with their
// columns and constraints, then its sequences, indexes, triggers and
// functions, each as PostgreSQL prints its definition.
func describePostgres(db *sql.DB) (string, error) {
	ctx := context.Background()
	var b strings.Builder
	lines := func(format, q string) error {
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			for i, v := range vals {
				if s, ok := v.(string); ok {
					vals[i] = oneLine(s)
				}
			}
			fmt.Fprintf(&b, format, vals...)
		}
		return rows.Err()
	}
	rows, err := db.QueryContext(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() ORDER BY table_name`)
	if err != nil {
		return "", err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return "", err
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", err
	}
	for _, t := range tables {
		fmt.Fprintf(&b, "table %s\n", t)
		cols, err := db.QueryContext(ctx, `SELECT column_name, data_type, is_nullable = 'NO', COALESCE(column_default, ''), COALESCE(identity_generation, '')
			FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, t)
		if err != nil {
			return "", err
		}
		for cols.Next() {
			var name, typ, dflt, identity string
			var notNull bool
			if err := cols.Scan(&name, &typ, &notNull, &dflt, &identity); err != nil {
				cols.Close()
				return "", err
			}
			fmt.Fprintf(&b, "  column %s %s %s  type %s", name, kinds[typ], nullability(notNull), typ)
			if dflt != "" {
				fmt.Fprintf(&b, " default %s", dflt)
			}
			if identity != "" {
				fmt.Fprintf(&b, " identity %s", identity)
			}
			b.WriteString("\n")
		}
		cols.Close()
		if err := lines("  constraint %s %s\n", `SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
			WHERE conrelid = to_regclass('`+t+`') ORDER BY conname`); err != nil {
			return "", err
		}
	}
	for _, q := range []struct{ format, query string }{
		{"sequence %s\n", `SELECT sequence_name FROM information_schema.sequences
			WHERE sequence_schema = current_schema() ORDER BY sequence_name`},
		{"index %s on %s\n  %s\n", `SELECT indexname, tablename, indexdef FROM pg_indexes
			WHERE schemaname = current_schema() ORDER BY tablename, indexname`},
		{"trigger %s on %s\n  %s\n", `SELECT tgname, tgrelid::regclass::text, pg_get_triggerdef(oid) FROM pg_trigger
			WHERE NOT tgisinternal AND tgrelid::regclass::text NOT LIKE 'pg_%' ORDER BY 2, 1`},
		{"function %s\n  %s\n", `SELECT proname, pg_get_functiondef(oid) FROM pg_proc
			WHERE pronamespace = current_schema()::regnamespace ORDER BY proname`},
	} {
		if err := lines(q.format, q.query); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}
