package sqldb

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"sync/atomic"
	"time"

	"github.com/resellerconsole/reseller"
)

// Group commit. Every write transaction ends in a durable commit (an fsync
// on SQLite, a WAL flush and a round trip on PostgreSQL), and that commit,
// together with the log head that every action of an account updates, bounds
// how many actions a second the store records. So write transactions go
// through a committer goroutine, which runs whatever actions are waiting in
// a single transaction: an action that fails rolls back alone (the batch is
// run again with a savepoint around each action, see commitBatch) and the
// others commit, all with one commit. Alone, an action still gets a
// transaction of its own at once; under load, batches grow by themselves.
//
// A batch takes each account's log head once (see logBatch in log.go) and
// writes it back once, just before the commit. No action's outcome is
// delivered before the commit: a batch that fails to commit acknowledges
// nothing, and every action in it gets the error.
//
// Several instances on one PostgreSQL database. A batch locks the head rows
// of every account its actions act for first, in ascending account order,
// before it runs any action; actions lock the rows they change (clients,
// pools, licenses, users) after that, and those rows belong to the
// account whose head the batch holds. Two batches that touch a common
// account therefore queue on its head before either locks anything else of
// it, and heads are always taken in one order, so batches cannot deadlock
// on each other. Writes that act for no account up front (a token's last
// use, a checkpoint) lock single rows. Should a deadlock or serialization
// failure still happen (an older instance that locks in another order,
// a case this reasoning missed), the batch is rolled back whole and run
// again, up to maxAttempts times; nothing was acknowledged, so nothing is
// acknowledged twice.

// maxBatch bounds the actions committed together, so that one batch cannot
// hold the writer (and its callers' latency) for long. On PostgreSQL it also
// keeps a batch's subtransactions within the 64 a backend caches (past
// them, every snapshot of the server gets slower).
const maxBatch = 64

// maxAttempts bounds how often a batch that lost a deadlock is run again.
const maxAttempts = 5

// errClosed is returned for writes submitted after Close, and for writes
// still waiting for the committer when Close is called.
var errClosed = errors.New("sqldb: database is closed")

type writeReq struct {
	ctx     context.Context
	account int64 // the actor's account, whose head a PostgreSQL batch locks first; 0 for none
	fn      func(ctx context.Context, tx *Tx) error
	done    chan error // buffered: the committer never waits for the caller
	err     error      // the action's outcome in the current attempt
	// state is reqQueued until a committer takes the write (reqTaken) or
	// its caller gives up waiting for one (reqAbandoned), whichever is first.
	state atomic.Int32
}

const (
	reqQueued = iota
	reqTaken
	reqAbandoned
)

// startCommitters starts the committers: one on SQLite, which has one
// writer; on PostgreSQL a few, each taking the writes of some accounts (by
// account id), so that busy accounts do not wait for each other's batches.
// They stop when Close closes db.closed, after the batch under way.
func (db *DB) startCommitters(n int) {
	db.writes = make([]chan *writeReq, n)
	db.committerDone = make(chan struct{})
	done := make(chan struct{}, n)
	for i := range db.writes {
		db.writes[i] = make(chan *writeReq, maxBatch)
		go db.commitLoop(db.writes[i], done)
	}
	go func() {
		for range n {
			<-done
		}
		close(db.committerDone)
	}()
}

func (db *DB) commitLoop(writes chan *writeReq, done chan<- struct{}) {
	defer func() { done <- struct{}{} }()
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
		case r := <-writes:
			if r.state.CompareAndSwap(reqQueued, reqTaken) {
				batch = append(batch, r)
			}
		case <-db.closed:
			return
		}
	drain:
		for len(batch) < maxBatch {
			select {
			case r := <-writes:
				if r.state.CompareAndSwap(reqQueued, reqTaken) {
					batch = append(batch, r)
				}
			default:
				break drain
			}
		}
		if len(batch) > 0 {
			db.commitBatch(batch)
		}
	}
}

// submit hands fn to its account's committer and waits for its outcome.
// Until a committer takes fn, the caller may give up (its ctx is done, or
// the database is closed) and fn will not run; once taken, the committer
// always answers, so the wait cannot hang.
func (db *DB) submit(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	if a := reseller.ActorFrom(ctx); a != nil {
		r.account = a.AccountID
	}
	select {
	case <-db.closed:
		return errClosed
	default:
	}
	select {
	case db.writes[int(uint64(r.account)%uint64(len(db.writes)))] <- r:
	case <-db.closed:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	if db.onSubmit != nil {
		db.onSubmit() // test hook: the write is queued for the committer
	}
	var giveUp error
	select {
	case err := <-r.done:
		return err
	case <-db.closed:
		giveUp = errClosed
	case <-ctx.Done():
		giveUp = ctx.Err()
	}
	if r.state.CompareAndSwap(reqQueued, reqAbandoned) {
		return giveUp
	}
	return <-r.done // taken: it runs, and its outcome is what happened
}

// commitBatch runs a batch and answers each of its actions: with its own
// error if it was refused, with nil if it committed, and with the batch's
// error if the batch failed as a whole.
//
// A batch first runs without savepoints: most actions are not refused, and
// a savepoint costs a statement per action (a round trip on PostgreSQL).
// If one is refused, that transaction is rolled back whole, nothing of it
// having been delivered, and the batch runs again with a savepoint around
// each action, so that the refused one rolls back alone. A batch that lost
// a deadlock is run again, all of it, in a new transaction.
func (db *DB) commitBatch(batch []*writeReq) {
	var err error
	saved := false
	for attempt := 1; ; attempt++ {
		err = db.runBatch(batch, saved)
		if errors.Is(err, errRefusedUnsaved) {
			saved, attempt = true, attempt-1
			continue
		}
		if err == nil || !retryable(err) || attempt == maxAttempts {
			break
		}
		// Let the other side of the deadlock finish before trying again.
		time.Sleep(time.Duration(rand.Int64N(int64(attempt) * int64(2*time.Millisecond))))
	}
	for _, r := range batch {
		if err != nil {
			r.done <- err
		} else {
			r.done <- r.err
		}
	}
}

// errRefusedUnsaved is runBatch's answer when an action of a batch run
// without savepoints was refused: the batch must run again with them.
var errRefusedUnsaved = errors.New("sqldb: an action of a batch without savepoints was refused")

// runBatch runs a batch's actions in one transaction and commits it. Each
// action's outcome is left in its err; the returned error is the batch's:
// it failed as a whole and nothing of it was committed. Unless saved, the
// actions of a batch of several run without savepoints, and the first one
// refused fails the batch with errRefusedUnsaved.
func (db *DB) runBatch(batch []*writeReq, saved bool) error {
	ctx := context.Background()
	tx, err := db.beginAt(ctx)
	if err != nil {
		return err
	}
	defer tx.rollback() // after a commit, a no-op
	if db.dialect.forUpdate != "" {
		// Lock the heads of the accounts the batch acts for, in order,
		// before any action locks anything: see the comment at the top.
		var accounts []int64
		for _, r := range batch {
			if r.account != 0 {
				accounts = append(accounts, r.account)
			}
		}
		slices.Sort(accounts)
		if err := tx.lockHeads(ctx, slices.Compact(accounts)); err != nil {
			return err
		}
	}
	committed, first := 0, true
	for _, r := range batch {
		if r.err = r.ctx.Err(); r.err != nil {
			continue // its caller has gone: it is not run at all
		}
		switch {
		case len(batch) == 1:
			r.err = db.runAlone(tx, r)
		case !saved:
			if r.err = db.runAlone(tx, r); r.err != nil && !retryable(r.err) {
				return errRefusedUnsaved
			}
		default:
			r.err = db.runSaved(tx, r, first)
			first = false
		}
		if r.err != nil && retryable(r.err) {
			return r.err
		}
		if r.err == nil {
			committed++
		}
	}
	if committed == 0 {
		return nil // every action was refused: roll back
	}
	if err := tx.flushHeads(ctx); err != nil {
		return err
	}
	if db.beforeCommit != nil {
		if err := db.beforeCommit(); err != nil {
			return err
		}
	}
	if err := tx.commit(); err != nil {
		return err
	}
	tx.log.committed(db)
	return nil
}

// runAlone runs an action without a savepoint: the only one of its batch,
// or one of a batch run without them. If it fails, the transaction is
// rolled back whole. Like runSaved's, its statements are not cancelled.
func (db *DB) runAlone(tx *Tx, r *writeReq) error {
	tx.now = microNow(db)
	return runProtected(context.WithoutCancel(r.ctx), tx, r.fn)
}

// runSaved runs one action of a batch inside a savepoint, with the
// transaction's clock set for it. Once started, an action runs to its end
// even if its caller goes away: interrupting a statement would make SQLite
// roll back the whole batch's transaction under the other actions' feet.
// So the action's statements run with its caller's context without its
// cancellation. The savepoint of the action before is released by the
// statement that sets this one's (one round trip on PostgreSQL); the last
// is left for the commit to release.
func (db *DB) runSaved(tx *Tx, r *writeReq, first bool) error {
	ctx := context.WithoutCancel(r.ctx)
	if err := tx.savepoint(ctx, first); err != nil {
		return err
	}
	saved := tx.log.save()
	tx.now = microNow(db)
	err := runProtected(ctx, tx, r.fn)
	if err != nil {
		tx.log.restore(saved)
		if rerr := tx.execControl(ctx, ctlRollbackTo); rerr != nil {
			return errors.Join(err, rerr)
		}
	}
	return err
}

// Savepoint statements of a batch; on SQLite they are prepared once.
const (
	ctlSavepoint  = "SAVEPOINT action"
	ctlRelease    = "RELEASE SAVEPOINT action"
	ctlRollbackTo = "ROLLBACK TO SAVEPOINT action"
)

// savepoint sets the savepoint of the next action of a batch, releasing the
// one before unless first.
func (tx *Tx) savepoint(ctx context.Context, first bool) error {
	if first {
		return tx.execControl(ctx, ctlSavepoint)
	}
	if tx.db.dialect.multiStatement {
		return tx.execControl(ctx, ctlRelease+"; "+ctlSavepoint)
	}
	if err := tx.execControl(ctx, ctlRelease); err != nil {
		return err
	}
	return tx.execControl(ctx, ctlSavepoint)
}

// execControl runs a savepoint statement.
func (tx *Tx) execControl(ctx context.Context, q string) error {
	_, err := tx.exec(ctx, q)
	return err
}

// retryable reports whether err is a deadlock or serialization failure,
// after which a batch is run again.
func retryable(err error) bool {
	var re *retryError
	return errors.As(err, &re)
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
