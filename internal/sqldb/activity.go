package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// Plugin activity (check-ins, daily roll-ups, alerts) has a write path of
// its own, apart from the audit log's. A site checks in every five minutes,
// so check-ins outnumber reseller actions by orders of magnitude, and they
// must never queue behind the log's writer, nor it behind them.
//
// On SQLite, which has one writer per database file, activity is a second
// file beside the main one (<db>-activity) with a writer connection of its
// own: the two files' locks are independent, so neither writer ever waits
// for the other. The activity file is synchronous=NORMAL: a commit there
// waits for no fsync (WAL still makes it atomic and survive a crash of the
// process; a power loss may lose the last moments of check-ins, which the
// plugins repeat five minutes later anyway). Reads see both files: every
// reading connection ATTACHes the activity file, and SQLite resolves the
// activity tables' unqualified names there. On PostgreSQL the activity
// tables are in the same database, written on a pool of their own with
// synchronous_commit off, so that check-ins cannot take every connection
// that actions need.
//
// Check-ins are written in batches by writer goroutines (one on SQLite, a
// few on PostgreSQL): whatever is waiting goes into one transaction. The
// writes of one client always go to the same writer, so that two writers'
// batches never wait for each other's locks on a client's rows.

// activityPath is the activity file of the SQLite database at path.
func activityPath(path string) string { return path + "-activity" }

// activity is the activity write path of a DB.
type activity struct {
	db      *sql.DB
	reqs    []chan *activityReq // one per writer
	closed  chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
	backlog atomic.Int64 // requests waiting or being written
	stmts   sync.Map     // query text → *sql.Stmt (SQLite; see actExec)
}

// activityReq is one write of activity, run with others in a transaction:
// a check-in, or any other write as a function.
type activityReq struct {
	checkin *checkinRow
	fn      func(ctx context.Context, tx *Tx) error
	done    chan error
}

// maxActivityBatch bounds the writes of one activity transaction.
const maxActivityBatch = 256

// openActivity opens the activity write path and starts its writers.
func (db *DB) openActivity() error {
	a := &activity{closed: make(chan struct{})}
	writers := 1
	if db.dialect.singleWriter {
		path := strings.TrimPrefix(strings.TrimPrefix(db.dsn, "sqlite:"), "file:")
		dsn := "file:" + (&url.URL{Path: activityPath(path)}).EscapedPath() +
			"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
		var err error
		if a.db, err = sql.Open("sqlite", dsn); err != nil {
			return err
		}
		// One writer (the goroutine below); the second connection lets
		// statements be prepared while a batch holds the first.
		a.db.SetMaxOpenConns(2)
	} else {
		var err error
		if a.db, err = sql.Open("pgx", db.dsn); err != nil {
			return err
		}
		writers = 4
		a.db.SetMaxOpenConns(writers + 2)
		a.db.SetMaxIdleConns(writers + 2)
	}
	db.act = a
	for range writers {
		reqs := make(chan *activityReq, 4096/writers)
		a.reqs = append(a.reqs, reqs)
		a.wg.Add(1)
		go func() { defer a.wg.Done(); db.writeActivity(reqs) }()
	}
	return nil
}

func (a *activity) close() error {
	a.once.Do(func() { close(a.closed) })
	a.wg.Wait()
	return a.db.Close()
}

// ActivitySQL returns the handle of the activity tables: on SQLite the
// activity file, on PostgreSQL another pool of the same database. For
// tests and tools.
func (db *DB) ActivitySQL() *sql.DB { return db.act.db }

// activityUpdate runs fn in an activity transaction, batched with other
// waiting writes of client's writer, and waits for the outcome. Writes of
// no client in particular give client 0.
func (db *DB) activityUpdate(ctx context.Context, client int64, fn func(ctx context.Context, tx *Tx) error) error {
	return db.activitySubmit(ctx, client, &activityReq{fn: fn, done: make(chan error, 1)})
}

// activityCheckIn writes a check-in, batched with other waiting writes of
// its client's writer, and waits for the outcome.
func (db *DB) activityCheckIn(ctx context.Context, c *checkinRow) error {
	return db.activitySubmit(ctx, c.client, &activityReq{checkin: c, done: make(chan error, 1)})
}

func (db *DB) activitySubmit(ctx context.Context, client int64, r *activityReq) error {
	db.act.backlog.Add(1)
	select {
	case db.act.reqs[uint64(client)%uint64(len(db.act.reqs))] <- r:
	case <-db.act.closed:
		db.act.backlog.Add(-1)
		return errClosed
	case <-ctx.Done():
		db.act.backlog.Add(-1)
		return ctx.Err()
	}
	return <-r.done
}

// ActivityBacklog is how many activity writes are waiting or under way: a
// measure of how busy the activity writer is.
func (db *DB) ActivityBacklog() int { return int(db.act.backlog.Load()) }

// writeActivity is one writer of the activity path: it takes what is
// waiting, up to maxActivityBatch, and writes it in one transaction. If
// the batch fails, each write is tried again alone, so that one bad write
// (or a deadlock between PostgreSQL writers) fails only itself.
func (db *DB) writeActivity(reqs chan *activityReq) {
	a := db.act
	for {
		var batch []*activityReq
		select {
		case r := <-reqs:
			batch = append(batch, r)
		case <-a.closed:
			for {
				select {
				case r := <-reqs:
					r.done <- errClosed
					a.backlog.Add(-1)
				default:
					return
				}
			}
		}
	drain:
		for len(batch) < maxActivityBatch {
			select {
			case r := <-reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		err := db.runActivity(batch)
		if err != nil && len(batch) > 1 {
			for _, r := range batch {
				r.done <- db.runActivityAlone(r)
			}
		} else if err != nil {
			batch[0].done <- db.runActivityAlone(batch[0])
		} else {
			for _, r := range batch {
				r.done <- err
			}
		}
		a.backlog.Add(-int64(len(batch)))
	}
}

// runActivityAlone runs one write in a transaction of its own, again while
// PostgreSQL reports a deadlock with another writer (or instance) whose
// batch took the same rows in another order: one of the two is chosen to
// fail, and trying it again succeeds.
func (db *DB) runActivityAlone(r *activityReq) error {
	var err error
	for try := 0; try < 5; try++ {
		if err = db.runActivity([]*activityReq{r}); !deadlocked(err) {
			return err
		}
		time.Sleep(time.Duration(try+1) * time.Millisecond)
	}
	return err
}

// deadlocked reports whether err is a deadlock or serialization failure
// that running the transaction again resolves.
func deadlocked(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// runActivity runs writes in one transaction of the activity database.
func (db *DB) runActivity(batch []*activityReq) error {
	ctx := context.Background()
	sqlTx, err := db.act.db.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	tx := &Tx{tx: sqlTx, db: db, now: microNow(db)}
	if !db.dialect.singleWriter {
		// Losing the last moments of check-ins in a crash of the server
		// is acceptable (the plugins check in again); waiting for the WAL
		// flush on each is not.
		if _, err := tx.tx.ExecContext(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
			sqlTx.Rollback()
			return err
		}
	}
	// Check-ins: on SQLite one at a time (its statements are prepared
	// and cost no round trip); on PostgreSQL all together, after the rest.
	var checkins []*checkinRow
	for _, r := range batch {
		var err error
		switch {
		case r.checkin == nil:
			err = runProtected(ctx, tx, r.fn)
		case db.dialect.singleWriter:
			err = tx.recordCheckIn(ctx, r.checkin)
		default:
			checkins = append(checkins, r.checkin)
		}
		if err != nil {
			sqlTx.Rollback()
			return err
		}
	}
	if len(checkins) > 0 {
		if err := tx.recordCheckIns(ctx, checkins); err != nil {
			sqlTx.Rollback()
			return err
		}
	}
	return translate(sqlTx.Commit())
}

// openReader opens SQLite's read pool on dsn, each connection with the
// activity file attached, so that queries may join both.
func openReader(dsn, activityFile string) (*sql.DB, error) {
	d := &sqlite.Driver{}
	d.RegisterConnectionHook(func(c sqlite.ExecQuerierContext, _ string) error {
		_, err := c.ExecContext(context.Background(), "ATTACH DATABASE ? AS activity",
			[]driver.NamedValue{{Ordinal: 1, Value: "file:" + (&url.URL{Path: activityFile}).EscapedPath() + "?mode=rwc"}})
		return err
	})
	return sql.OpenDB(connector{d: d, dsn: dsn}), nil
}

// connector opens connections of a driver of our own on one DSN.
type connector struct {
	d   driver.Driver
	dsn string
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.d }

// migrateActivity applies the activity schema's migrations
// (migrations/activity) to the activity database, tracked in its table
// activity_migrations.
func (db *DB) migrateActivity(ctx context.Context) error {
	paths, err := fs.Glob(migrations, "migrations/activity/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(paths)
	conn, err := db.act.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if db.dialect.lockMigrations != "" {
		if _, err := conn.ExecContext(ctx, db.dialect.lockMigrations, migrationLock+1); err != nil {
			return fmt.Errorf("migrate activity: lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), db.dialect.unlockMigrations, migrationLock+1)
	}
	var exists bool
	if err := conn.QueryRowContext(ctx, strings.ReplaceAll(db.dialect.hasMigrations, "schema_migrations", "activity_migrations")).Scan(&exists); err != nil {
		return fmt.Errorf("migrate activity: %w", err)
	}
	if !exists {
		if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS activity_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
			return fmt.Errorf("migrate activity: %w", ownerHint(err))
		}
	}
	for _, path := range paths {
		name := strings.TrimPrefix(path, "migrations/activity/")
		v, err := strconv.Atoi(name[:max(strings.IndexByte(name, '_'), 0)])
		if err != nil {
			return fmt.Errorf("migrate activity: bad migration name %q", name)
		}
		var n int
		if err := conn.QueryRowContext(ctx, db.dialect.rebind("SELECT count(*) FROM activity_migrations WHERE version = ?"), v).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		body, err := db.dialect.renderMigration(migration{version: v, name: name, path: path})
		if err != nil {
			return err
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, body); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate activity: %s: %w", name, ownerHint(err))
		}
		if _, err := tx.ExecContext(ctx, db.dialect.rebind("INSERT INTO activity_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
			v, name, micros(db.Now())); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// PruneCheckIns deletes the raw check-ins older than before, in small
// transactions so that check-ins go on meanwhile, and returns how many it
// deleted. Daily roll-ups, latest states and alerts are kept. The server
// calls it in the background (serve --activity-retention).
func (db *DB) PruneCheckIns(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		var n int64
		err := db.activityUpdate(ctx, 0, func(ctx context.Context, tx *Tx) error {
			r, err := tx.tx.ExecContext(ctx, db.dialect.rebind(`DELETE FROM checkins WHERE id IN
				(SELECT id FROM checkins WHERE time_us < ? ORDER BY time_us LIMIT 5000)`), micros(before))
			if err != nil {
				return translate(err)
			}
			n, err = r.RowsAffected()
			return err
		})
		total += n
		if err != nil || n == 0 {
			return total, err
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
		runtime.Gosched()
	}
}
