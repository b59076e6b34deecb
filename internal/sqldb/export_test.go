package sqldb

import (
	"context"
	"time"

	"github.com/resellerconsole/reseller"
)

// SetBeforeCommit installs a hook that runs in every write transaction just
// before it commits; an error from it rolls the transaction back.
func SetBeforeCommit(db *DB, fn func() error) { db.beforeCommit = fn }

// SetNoMerkle makes appends skip the Merkle hashes, to measure what they cost.
func SetNoMerkle(db *DB, skip bool) { db.noMerkle = skip }

// BulkAppend appends n entries to the actor's account through the ordinary
// append path, batch entries per transaction, with entry i at times(i) and
// the action and target gen(i) gives. Benchmarks use it to build large logs
// quickly; the entries have no matching client state.
func BulkAppend(ctx context.Context, db *DB, a *reseller.Actor, n, batch int, times func(i int) time.Time,
	gen func(i int) (reseller.Action, reseller.Target, reseller.Details)) error {
	for start := 0; start < n; start += batch {
		tx, err := db.begin(ctx)
		if err != nil {
			return err
		}
		for i := start; i < min(n, start+batch); i++ {
			tx.now = reseller.Micro(times(i))
			action, target, d := gen(i)
			if _, err := tx.appendEntry(ctx, a, action, target, d); err != nil {
				tx.rollback()
				return err
			}
		}
		if err := tx.commit(); err != nil {
			return err
		}
	}
	return nil
}

// Queued returns a channel that gets a value each time a write is queued
// for a committer, so that a test can know its writes queue (and, while
// the committer is held, will be taken together as one batch) without
// sleeping. Set it while no write is being submitted.
func Queued(db *DB) <-chan struct{} {
	ch := make(chan struct{}, 64)
	db.onSubmit = func() { ch <- struct{}{} }
	return ch
}

// ErrClosed is the error of writes after Close.
var ErrClosed = errClosed

// Write runs fn as one write action through the ordinary path, the one the
// store's methods take; exec runs a statement in its transaction.
func Write(ctx context.Context, db *DB, fn func(ctx context.Context, exec func(q string, args ...any) error) error) error {
	return db.update(ctx, func(ctx context.Context, tx *Tx) error {
		return fn(ctx, func(q string, args ...any) error {
			_, err := tx.exec(ctx, q, args...)
			return err
		})
	})
}

// CheckInsTogether writes check-ins in one activity transaction, as one
// batch of the activity writer: check-in i of the license of keys[i], at
// times[i].
func CheckInsTogether(ctx context.Context, db *DB, keys []string, ins []*reseller.CheckIn, times []time.Time) error {
	var batch []*activityReq
	for i, key := range keys {
		l, err := db.licenseByKey(ctx, key)
		if err != nil {
			return err
		}
		at := reseller.Micro(times[i])
		if err := ins[i].Validate(at); err != nil {
			return err
		}
		batch = append(batch, &activityReq{checkin: newCheckinRow(l, ins[i], at)})
	}
	return db.runActivity(batch)
}
