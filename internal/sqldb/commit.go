package sqldb

import (
	"context"
	"errors"
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

// errClosed is returned for writes submitted after Close.
var errClosed = errors.New("sqldb: database is closed")

type writeReq struct {
	ctx  context.Context
	fn   func(tx *Tx) error
	done chan error
}

// startCommitter starts the committer of a SQLite database.
func (db *DB) startCommitter() {
	db.writes = make(chan *writeReq)
	db.committerDone = make(chan struct{})
	go func() {
		defer close(db.committerDone)
		for first := range db.writes {
			batch := []*writeReq{first}
		drain:
			for len(batch) < maxBatch {
				select {
				case r, ok := <-db.writes:
					if !ok {
						break drain
					}
					batch = append(batch, r)
				default:
					break drain
				}
			}
			db.commitBatch(batch)
		}
	}()
}

// submit hands fn to the committer and waits for its outcome.
func (db *DB) submit(ctx context.Context, fn func(tx *Tx) error) (err error) {
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	defer func() {
		if recover() != nil { // send on a closed channel: Close came first
			err = errClosed
		}
	}()
	select {
	case db.writes <- r:
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
// is rolled back whole.
func (db *DB) runAlone(tx *Tx, r *writeReq) error {
	tx.ctx = context.WithoutCancel(r.ctx)
	defer func() { tx.ctx = nil }()
	tx.now = microNow(db)
	return r.fn(tx)
}

// runSaved runs one action of a batch inside a savepoint, with the
// transaction's clock set for it. Once started, an action runs to its end
// even if its caller goes away: interrupting a statement would make SQLite
// roll back the whole batch's transaction under the other actions' feet.
func (db *DB) runSaved(tx *Tx, r *writeReq) (err error) {
	ctx := context.WithoutCancel(r.ctx)
	if _, err := tx.tx.ExecContext(ctx, "SAVEPOINT action"); err != nil {
		return translate(err)
	}
	defer func() {
		if p := recover(); p != nil {
			tx.tx.Exec("ROLLBACK TO SAVEPOINT action")
			tx.tx.Exec("RELEASE SAVEPOINT action")
			panic(p)
		}
	}()
	tx.now = microNow(db)
	tx.ctx = ctx
	defer func() { tx.ctx = nil }()
	if err = r.fn(tx); err != nil {
		if _, rerr := tx.tx.Exec("ROLLBACK TO SAVEPOINT action"); rerr != nil {
			return errors.Join(err, rerr)
		}
	}
	if _, rerr := tx.tx.Exec("RELEASE SAVEPOINT action"); rerr != nil && err == nil {
		return translate(rerr)
	}
	return err
}
