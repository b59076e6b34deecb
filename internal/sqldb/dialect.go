package sqldb

import (
	"database/sql"
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/resellerconsole/reseller"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect holds what differs between SQLite and PostgreSQL.
type dialect struct {
	name string
	// forUpdate is appended to a SELECT that reads a row the transaction
	// will change: PostgreSQL locks it; SQLite's single writer needs nothing.
	forUpdate string
	// snapshot is the isolation of read transactions.
	snapshot sql.IsolationLevel
	// numbered placeholders ($1, $2...) instead of ?.
	numbered bool
}

var (
	sqliteDialect   = dialect{name: "sqlite", snapshot: sql.LevelDefault}
	postgresDialect = dialect{name: "postgres", forUpdate: " FOR UPDATE", snapshot: sql.LevelRepeatableRead, numbered: true}
)

// rebind turns ? placeholders into $n for PostgreSQL. Our SQL has no ? inside
// string literals.
func (d dialect) rebind(q string) string {
	if !d.numbered || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// Constraint-violation kinds, translated once here from driver errors.
var (
	errUnique = errors.New("unique violation")
	errCheck  = errors.New("check violation")
)

// constraintError carries the violated constraint's name (or message) on top
// of its kind, so callers can tell which unique index refused a row.
type constraintError struct {
	kind error
	name string
	err  error
}

func (e *constraintError) Error() string { return e.err.Error() }
func (e *constraintError) Unwrap() error { return e.kind }

// translate maps driver errors to kinds the store checks with errors.Is, and
// sql.ErrNoRows through unchanged.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return &constraintError{kind: errUnique, name: se.Error(), err: err}
		case sqlite3.SQLITE_CONSTRAINT_CHECK:
			return &constraintError{kind: errCheck, name: se.Error(), err: err}
		}
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return &constraintError{kind: errUnique, name: pe.ConstraintName, err: err}
		case "23514":
			return &constraintError{kind: errCheck, name: pe.ConstraintName, err: err}
		}
	}
	return err
}

// violates reports whether err is a violation of kind on the named index or
// table (SQLite names columns in its message, PostgreSQL names the constraint).
func violates(err error, kind error, name string) bool {
	var ce *constraintError
	return errors.As(err, &ce) && errors.Is(ce.kind, kind) && strings.Contains(ce.name, name)
}

// notFound turns sql.ErrNoRows into ENOTFOUND for the named thing.
func notFound(err error, what string, id int64) error {
	if errors.Is(err, sql.ErrNoRows) {
		return reseller.Errorf(reseller.ENOTFOUND, "%s %d not found.", what, id)
	}
	return err
}
