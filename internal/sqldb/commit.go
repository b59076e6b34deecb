package sqldb

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
)

// Group commit. On SQLite every write transaction ends in an fsync, and the
// fsync, not the work, bounds how many actions a second the store records.
// So write transactions go through one committer goroutine, which runs
// whatever actions are waiting in a single transaction, each inside its own
// savepoint: an action that fails rolls back alone and the others commit,
// all with one fsync. Alone, an action still gets a transaction of its own
// at once; under load, batches grow by themselves.

// maxBatch bounds the actions committed together, so that one batch cannot
// hold the writer (and its callers' latency) for long.
const maxBatch = 128

// errClosed is returned for writes submitted after Close, and for writes
// still waiting for the committer when Close is called.
var errClosed = errors.New("sqldb: database is closed")

type writeReq struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx *Tx) error
	done chan error // buffered: the committer never waits for the caller
}

// startCommitter starts the committer of a group-commit database. It stops
// when Close closes db.closed, after the batch under way.
func (db *DB) startCommitter() {
	db.writes = make(chan *writeReq)
	db.committerDone = make(chan struct{})
	go func() {
		defer close(db.committerDone)
		for {
			// Once closed, start no new batch, even with writes waiting:
			// select would otherwise pick between them at random.
			select {
			case <-db.closed:
				return
			default:
			}
			var batch []*writeReq
			select {
			case r := <-db.writes:
				batch = append(batch, r)
			case <-db.closed:
				return
			}
		drain:
			for len(batch) < maxBatch {
				select {
				case r := <-db.writes:
					batch = append(batch, r)
				default:
					break drain
				}
			}
			db.commitBatch(batch)
		}
	}()
}

// submit hands fn to the committer and waits for its outcome. Once the
// committer has taken fn it always answers, so the wait cannot hang.
func (db *DB) submit(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case <-db.closed:
		return errClosed
	default:
	}
	if db.onSubmit != nil {
		db.onSubmit() // test hook: the write is about to wait for the committer
	}
	select {
	case db.writes <- r:
	case <-db.closed:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-r.done
}

// commitBatch runs a batch in one transaction, one savepoint per action.
func (db *DB) commitBatch(batch []*writeReq) {
	tx, err := db.beginAt(context.Background())
	if err != nil {
		for _, r := range batch {
			r.done <- err
		}
		return
	}
	var ok []*writeReq
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- err
			continue
		}
		run := db.runSaved
		if len(batch) == 1 {
			run = db.runAlone // nothing to protect: skip the savepoint
		}
		if err := run(tx, r); err != nil {
			r.done <- err
			continue
		}
		ok = append(ok, r)
	}
	if len(ok) == 0 {
		tx.rollback()
		return
	}
	err = nil
	if db.beforeCommit != nil {
		err = db.beforeCommit()
	}
	if err != nil {
		tx.rollback()
	} else {
		err = tx.commit()
	}
	for _, r := range ok {
		r.done <- err
	}
}

// runAlone runs the only action of a batch; if it fails, the transaction
// is rolled back whole. Like runSaved's, its statements are not cancelled.
func (db *DB) runAlone(tx *Tx, r *writeReq) error {
	tx.now = microNow(db)
	return runProtected(context.WithoutCancel(r.ctx), tx, r.fn)
}

// runSaved runs one action of a batch inside a savepoint, with the
// transaction's clock set for it. Once started, an action runs to its end
// even if its caller goes away: interrupting a statement would make SQLite
// roll back the whole batch's transaction under the other actions' feet.
// So the action's statements run with its caller's context without its
// cancellation.
func (db *DB) runSaved(tx *Tx, r *writeReq) error {
	ctx := context.WithoutCancel(r.ctx)
	if _, err := tx.tx.ExecContext(ctx, "SAVEPOINT action"); err != nil {
		return translate(err)
	}
	tx.now = microNow(db)
	err := runProtected(ctx, tx, r.fn)
	if err != nil {
		if _, rerr := tx.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT action"); rerr != nil {
			return errors.Join(err, rerr)
		}
	}
	if _, rerr := tx.tx.ExecContext(ctx, "RELEASE SAVEPOINT action"); rerr != nil && err == nil {
		return translate(rerr)
	}
	return err
}

// runProtected runs fn, turning a panic into its error: the transaction
// it ran in is then rolled back (or, in a batch, its savepoint), and the
// committer and the other actions of its batch go on.
func runProtected(ctx context.Context, tx *Tx, fn func(ctx context.Context, tx *Tx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &panicError{value: p, stack: debug.Stack()}
		}
	}()
	return fn(ctx, tx)
}

// panicError is the error of a write that panicked, with the stack where it
// did: an internal error, logged in full by whoever logs internal errors.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string {
	return fmt.Sprintf("sqldb: write panicked: %v\n%s", e.value, e.stack)
}

// Unwrap returns the value the write panicked with, if it is an error.
func (e *panicError) Unwrap() error {
	err, _ := e.value.(error)
	return err
}
