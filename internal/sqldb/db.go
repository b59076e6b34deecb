// Package sqldb is the one store of Reseller Console, over database/sql, for
// embedded SQLite (modernc.org/sqlite) and PostgreSQL (jackc/pgx/v5). Queries
// are hand-written with ? placeholders; the few dialect differences live in
// dialect.go. Public methods open their own transaction; lowercase helpers
// take the *Tx. Every query is scoped by account.
package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/resellerconsole/reseller"
	"golang.org/x/mod/sumdb/note"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DB is the store. Its methods implement the service interfaces of package
// reseller.
type DB struct {
	rw      *sql.DB // writes; on SQLite one connection, BEGIN IMMEDIATE
	ro      *sql.DB // reads; on PostgreSQL the same pool as rw
	dialect dialect
	dsn     string

	// Now is the clock that fixes each transaction's time. Tests and the demo
	// set it to write history at chosen times through the ordinary path.
	Now reseller.Clock

	beforeCommit func() error          // test hook: fail a transaction at its last moment
	onSubmit     func()                // test hook: a write is handed to the SQLite committer
	fault        atomic.Pointer[error] // the last write's failure to store anything; see Writable
	noMerkle     bool                  // benchmark hook: append entries without their Merkle hashes

	writes        []chan *writeReq // group commit: actions for the committers, by account (commit.go)
	closed        chan struct{}    // closed by Close
	closeOnce     sync.Once
	committerDone chan struct{}
	stmts         sync.Map // query text → *sql.Stmt prepared on rw (SQLite)
	edges         sync.Map // account id → *treeEdge: its tree's right edge as last committed (tree.go)
	roStmts       sync.Map // query text → *sql.Stmt prepared on ro (SQLite): see prepareRead

	signer      note.Signer // signs checkpoints; see SetSigner
	verifierKey string
	oldKeys     []string // verifier keys of earlier signing keys; see TrustOldKeys

	logs           sync.Map // account id → *logState: what this process trusts of each log (sign.go)
	badLogs        sync.Map // account id → error: logs found inconsistent, stopped
	onInconsistent func(accountID int64, cause error)
	witnesses      []*dbWitness // see witness.go
	onWitnessError func(accountID int64, url string, err error)
	nstmts         atomic.Int32

	act *activity // plugin activity's own write path (activity.go)
}

// Open opens the database that dsn names: a postgres:// URL, or else the path
// of a SQLite file (created if missing). It does not migrate; call Migrate.
func Open(ctx context.Context, dsn string) (*DB, error) {
	db := &DB{dsn: dsn, Now: time.Now, closed: make(chan struct{})}
	var err error
	if IsPostgres(dsn) {
		db.dialect = postgresDialect
		if db.rw, err = sql.Open("pgx", dsn); err != nil {
			return nil, err
		}
		db.rw.SetMaxOpenConns(4 * runtime.GOMAXPROCS(0))
		db.rw.SetMaxIdleConns(4 * runtime.GOMAXPROCS(0))
		db.ro = db.rw
		db.startCommitters(postgresCommitters)
	} else {
		db.dialect = sqliteDialect
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
		if path == "" {
			return nil, fmt.Errorf("sqldb: empty database path")
		}
		// Pragmas go in the DSN so every pooled connection gets them.
		// synchronous=FULL: an acknowledged action survives power loss.
		base := "file:" + (&url.URL{Path: path}).EscapedPath() +
			"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)" +
			"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)"
		// temp_store=MEMORY: a batch's savepoint journal stays in memory
		// instead of a temp file written twice per page.
		if db.rw, err = sql.Open("sqlite", base+"&_pragma=temp_store(MEMORY)&_txlock=immediate"); err != nil {
			return nil, err
		}
		// SQLite has one writer anyway, and queueing in Go (the committer,
		// commit.go) is cheaper and fairer than spinning on SQLITE_BUSY.
		// The second connection lets statements be prepared while a write
		// is under way.
		db.rw.SetMaxOpenConns(2)
		if db.ro, err = openReader(base+"&_pragma=query_only(1)", activityPath(path)); err != nil {
			db.rw.Close()
			return nil, err
		}
		// As many idle as open: a read connection that is closed and
		// opened again costs its pragmas and a parse of the schema.
		n := max(4, runtime.GOMAXPROCS(0))
		db.ro.SetMaxOpenConns(n)
		db.ro.SetMaxIdleConns(n)
		db.startCommitters(1)
	}
	if err := db.openActivity(); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqldb: open activity database: %w", err)
	}
	if err := db.rw.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqldb: open %s: %w", db.dialect.name, err)
	}
	return db, nil
}

// Close closes the database. Writes waiting for the committer fail with
// an error; the batch being committed finishes first.
func (db *DB) Close() error {
	db.closeOnce.Do(func() { close(db.closed) })
	if db.committerDone != nil {
		<-db.committerDone
	}
	err := db.rw.Close()
	if db.act != nil {
		if e := db.act.close(); err == nil {
			err = e
		}
	}
	if db.ro != db.rw {
		if e := db.ro.Close(); err == nil {
			err = e
		}
	}
	return err
}

// Dialect names the database: "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect.name }

// DSN returns the data source name the database was opened with.
func (db *DB) DSN() string { return db.dsn }

// SQL returns the write handle, for tests and tools that inspect the database.
func (db *DB) SQL() *sql.DB { return db.rw }

// postgresCommitters is how many committers a PostgreSQL database runs;
// an account's writes all go to the same one.
const postgresCommitters = 4

// Tx is a transaction with its time fixed once at its start.
type Tx struct {
	tx    *sql.Tx
	db    *DB
	now   time.Time
	write bool
	log   logBatch // the log heads this transaction appends to (log.go)
}

// begin starts a write transaction; end it with commit or rollback. Only
// the committers and single-user tools call it: others would wait on the
// database's locks rather than in the committers' queues.
func (db *DB) begin(ctx context.Context) (*Tx, error) {
	tx, err := db.beginAt(ctx)
	if err == nil {
		tx.now = microNow(db)
	}
	return tx, err
}

// beginAt starts a write transaction without reading the clock: the
// committer sets each action's time itself.
func (db *DB) beginAt(ctx context.Context) (*Tx, error) {
	tx, err := db.rw.BeginTx(ctx, nil)
	if err != nil {
		return nil, translate(err)
	}
	return &Tx{tx: tx, db: db, write: true}, nil
}

// commit writes back the log heads that the transaction moved and commits.
func (tx *Tx) commit() error {
	if err := tx.flushHeads(context.Background()); err != nil {
		return err
	}
	if err := tx.tx.Commit(); err != nil {
		return translate(err)
	}
	tx.log.committed(tx.db)
	return nil
}

func (tx *Tx) rollback() { tx.tx.Rollback() }

func microNow(db *DB) time.Time { return reseller.Micro(db.Now()) }

// beginRead starts a read-only transaction: one consistent snapshot.
func (db *DB) beginRead(ctx context.Context) (*Tx, error) {
	tx, err := db.ro.BeginTx(ctx, &sql.TxOptions{ReadOnly: db.dialect.readOnlyTx, Isolation: db.dialect.snapshot})
	if err != nil {
		return nil, translate(err)
	}
	return &Tx{tx: tx, db: db, now: reseller.Micro(db.Now())}, nil
}

// update runs fn in a write transaction, through a committer (commit.go),
// and commits it if fn returns nil. fn's statements run with the caller's
// ctx without its cancellation (see runSaved). A panic in fn rolls its
// changes back and becomes its error. fn may run more than once (when its
// batch lost a deadlock), so it only sets what it returns.
func (db *DB) update(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) (err error) {
	defer func() { db.noteWrite(err) }()
	return db.submit(ctx, fn)
}

// noteWrite remembers whether the last write failed because the database
// cannot store anything (a full disk, a read-only file or server), for
// Writable and so for the health check; a write that commits clears it.
func (db *DB) noteWrite(err error) {
	switch {
	case err == nil:
		db.fault.Store(nil)
	case reseller.ErrorCode(err) == reseller.EUNAVAILABLE:
		db.fault.Store(&err)
	}
}

// Writable returns the error of the last write if it failed because the
// database could not store it (EUNAVAILABLE), and nil otherwise.
func (db *DB) Writable() error {
	if p := db.fault.Load(); p != nil {
		return *p
	}
	return nil
}

// view runs fn in a read transaction.
func (db *DB) view(ctx context.Context, fn func(tx *Tx) error) error {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return err
	}
	defer tx.tx.Rollback()
	return fn(tx)
}

// stmt returns a prepared statement for q bound to this transaction. On
// SQLite, parsing a statement costs about as much as running it, so write
// statements are prepared once on the single writer connection and reused;
// pgx prepares each statement once per connection by itself.
func (tx *Tx) stmt(ctx context.Context, q string) (*sql.Stmt, bool) {
	if !tx.db.dialect.prepare || !tx.write {
		return nil, false
	}
	if s, ok := tx.db.stmts.Load(q); ok {
		return tx.tx.StmtContext(ctx, s.(*sql.Stmt)), true
	}
	if tx.db.nstmts.Add(1) > maxCachedStmts {
		return nil, false
	}
	s, err := tx.db.rw.PrepareContext(ctx, q)
	if err != nil {
		return nil, false
	}
	if old, loaded := tx.db.stmts.LoadOrStore(q, s); loaded {
		s.Close()
		s = old.(*sql.Stmt)
	}
	return tx.tx.StmtContext(ctx, s), true
}

// readRow runs a query of the request path that returns one row on a read
// connection. On SQLite it is prepared once (database/sql prepares it again
// on each read connection the first time that one runs it), since parsing
// costs about as much as running it; pgx prepares statements by itself. For
// a few fixed queries only: the cache is not bounded.
func (db *DB) readRow(ctx context.Context, q string, args ...any) row {
	if !db.dialect.prepare {
		return row{db.ro.QueryRowContext(ctx, db.dialect.rebind(q), args...)}
	}
	v, ok := db.roStmts.Load(q)
	if !ok {
		s, err := db.ro.PrepareContext(ctx, q)
		if err != nil {
			return row{db.ro.QueryRowContext(ctx, q, args...)}
		}
		if v, ok = db.roStmts.LoadOrStore(q, s); ok {
			s.Close()
		}
	}
	return row{v.(*sql.Stmt).QueryRowContext(ctx, args...)}
}

// maxCachedStmts bounds the statement cache; queries built from filters
// vary, and past this they are simply not cached.
const maxCachedStmts = 256

func (tx *Tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if s, ok := tx.stmt(ctx, q); ok {
		r, err := s.ExecContext(ctx, args...)
		return r, translate(err)
	}
	r, err := tx.tx.ExecContext(ctx, tx.db.dialect.rebind(q), args...)
	return r, translate(err)
}

func (tx *Tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if s, ok := tx.stmt(ctx, q); ok {
		rows, err := s.QueryContext(ctx, args...)
		return rows, translate(err)
	}
	rows, err := tx.tx.QueryContext(ctx, tx.db.dialect.rebind(q), args...)
	return rows, translate(err)
}

// row is a *sql.Row whose Scan translates driver errors.
type row struct{ r *sql.Row }

func (r row) Scan(dest ...any) error { return translate(r.r.Scan(dest...)) }

func (tx *Tx) queryRow(ctx context.Context, q string, args ...any) row {
	if s, ok := tx.stmt(ctx, q); ok {
		return row{s.QueryRowContext(ctx, args...)}
	}
	return row{tx.tx.QueryRowContext(ctx, tx.db.dialect.rebind(q), args...)}
}

// micros converts a time to the stored integer microseconds.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros converts stored microseconds to a UTC time.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// nullTime converts a nullable microsecond column.
func nullTime(us sql.NullInt64) *time.Time {
	if !us.Valid {
		return nil
	}
	t := fromMicros(us.Int64)
	return &t
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// collect reads every row of a query with scan.
func collect[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
