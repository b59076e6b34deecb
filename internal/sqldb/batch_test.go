package sqldb_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
	"golang.org/x/mod/sumdb/tlog"
)

// holdCommitter starts a write acting in ctx's account that waits until
// release is called, then runs fn (if not nil), so that the writes
// submitted meanwhile for that account queue for its committer and are then
// committed together as one batch. It returns release, which returns the
// held write's error.
func holdCommitter(t *testing.T, ctx context.Context, db *sqldb.DB, fn func(context.Context, func(string, ...any) error) error) (release func() error) {
	t.Helper()
	started, free := make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	var once sync.Once
	go func() {
		held <- sqldb.Write(ctx, db, func(ctx context.Context, exec func(string, ...any) error) error {
			once.Do(func() { close(started) })
			<-free
			if fn == nil {
				return nil
			}
			return fn(ctx, exec)
		})
	}()
	<-started
	return func() error { close(free); return <-held }
}

// checkLog checks that the account's log is gapless and that its stored
// Merkle tree is the one its records give, and returns its length.
func checkLog(t *testing.T, f *fixture) int {
	t.Helper()
	es := f.entries(t)
	mem := map[int64]tlog.Hash{}
	reader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = mem[x]
		}
		return out, nil
	})
	for i, e := range es {
		if e.Seq != int64(i+1) {
			t.Fatalf("entry %d has seq %d: the log has a gap", i+1, e.Seq)
		}
		hs, err := tlog.StoredHashes(int64(i), e.Record, reader)
		if err != nil {
			t.Fatal(err)
		}
		for j, h := range hs {
			mem[tlog.StoredHashIndex(0, int64(i))+int64(j)] = h
		}
	}
	want, _ := tlog.TreeHash(int64(len(es)), reader)
	size, root, err := f.db.Head(context.Background(), f.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	if size != int64(len(es)) || root != want {
		t.Fatalf("head = %d %v, but the %d records give root %v", size, root, len(es), want)
	}
	return len(es)
}

// TestBatchRefusedActionRollsBackAlone: actions committed together, some of
// them refused after they changed rows and appended entries; the refused
// ones leave nothing, the others commit, and the log stays gapless with
// the Merkle tree of its records.
func TestBatchRefusedActionRollsBackAlone(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		op := f.as(reseller.RoleOperator)
		c1, c2 := f.client(t, "one@x.test"), f.client(t, "two@x.test")
		before := checkLog(t, f)

		release := holdCommitter(t, op, db, nil)
		queued := sqldb.Queued(db)
		type result struct {
			what string
			err  error
		}
		actions := []struct {
			what string
			do   func() error
		}{
			{"create a", func() error { _, err := db.CreateClient(op, "a@x.test", ""); return err }},
			{"create a again", func() error { _, err := db.CreateClient(op, "a@x.test", ""); return err }},
			{"create b", func() error { _, err := db.CreateClient(op, "b@x.test", ""); return err }},
			{"allocate small to one", func() error { _, err := db.AllocateLicense(op, c1.ID, f.small.ID, ""); return err }},
			{"allocate small to one again", func() error { _, err := db.AllocateLicense(op, c1.ID, f.small.ID, ""); return err }},
			{"suspend two", func() error { _, err := db.SuspendClient(op, c2.ID, ""); return err }},
			{"suspend two again", func() error { _, err := db.SuspendClient(op, c2.ID, ""); return err }},
			{"panics", func() error {
				return sqldb.Write(op, db, func(ctx context.Context, exec func(string, ...any) error) error {
					if err := exec("UPDATE clients SET name = 'changed' WHERE id = ?", c1.ID); err != nil {
						return err
					}
					panic("boom")
				})
			}},
		}
		results := make([]result, len(actions))
		var wg sync.WaitGroup
		for i, a := range actions {
			wg.Go(func() { results[i] = result{a.what, a.do()} })
		}
		for range actions {
			<-queued
		}
		if err := release(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		failed := map[string]error{}
		for _, r := range results {
			if r.err != nil {
				failed[r.what] = r.err
			}
		}
		// Of each pair, whichever ran second is refused.
		codes := map[string]int{}
		for what, err := range failed {
			codes[reseller.ErrorCode(err)]++
			if reseller.ErrorCode(err) == reseller.EINTERNAL && what != "panics" {
				t.Errorf("%s: %v", what, err)
			}
		}
		want := map[string]int{reseller.EEMAILTAKEN: 1, reseller.EPOOLEXHAUSTED: 1, reseller.EINVALIDTRANSITION: 1, reseller.EINTERNAL: 1}
		if fmt.Sprint(codes) != fmt.Sprint(want) {
			t.Fatalf("refusals %v (%v), want one of each of %v", codes, failed, want)
		}
		if n := checkLog(t, f); n != before+len(actions)-len(failed) {
			t.Fatalf("the log grew by %d entries, want the %d committed actions", n-before, len(actions)-len(failed))
		}
		if p := ok(db.FindPoolByID(op, f.small.ID)); p.Used != 1 {
			t.Fatalf("the small pool has %d slots used, want 1", p.Used)
		}
		if c := ok(db.FindClientByID(op, c1.ID)); c.Name != "Client one@x.test" {
			t.Fatalf("the panicking action's change was committed: name %q", c.Name)
		}
		// The next action appends after them.
		f.client(t, "after@x.test")
		checkLog(t, f)
	})
}

// TestBatchFailingAtCommitAcknowledgesNothing: when the commit of a batch
// fails, every action in it gets the error, refused ones included, nothing
// of it is stored, and the next actions append where the log really ends.
func TestBatchFailingAtCommitAcknowledgesNothing(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		op := f.as(reseller.RoleOperator)
		c := f.client(t, "one@x.test")
		before := checkLog(t, f)

		errCommit := errors.New("commit failed")
		var commits atomic.Int32
		// The held write's batch commits; every later one fails.
		sqldb.SetBeforeCommit(db, func() error {
			if commits.Add(1) > 1 {
				return errCommit
			}
			return nil
		})
		release := holdCommitter(t, op, db, nil)
		queued := sqldb.Queued(db)
		const creates = 6
		errs := make([]error, creates+2)
		var wg sync.WaitGroup
		for i := range creates {
			wg.Go(func() { _, errs[i] = db.CreateClient(op, fmt.Sprintf("c%d@x.test", i), "") })
		}
		wg.Go(func() { _, errs[creates] = db.SuspendClient(op, c.ID, "") })
		wg.Go(func() { _, errs[creates+1] = db.CreateClient(op, "one@x.test", "") }) // refused: taken
		for range errs {
			<-queued
		}
		if err := release(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		for i, err := range errs {
			if !errors.Is(err, errCommit) {
				t.Errorf("action %d: error %v, want the commit's", i, err)
			}
		}
		sqldb.SetBeforeCommit(db, nil)
		if n := checkLog(t, f); n != before {
			t.Fatalf("the failed batch left %d entries", n-before)
		}
		if got := ok(db.FindClientByID(op, c.ID)); got.Status != reseller.ClientActive {
			t.Fatalf("client status %s after a failed batch", got.Status)
		}
		for i := range creates {
			ok(db.CreateClient(op, fmt.Sprintf("c%d@x.test", i), ""))
		}
		if n := checkLog(t, f); n != before+creates {
			t.Fatalf("after the failed batch the log grew by %d, want %d", n-before, creates)
		}
	})
}

// TestBatchRetriedAfterDeadlock: two instances on one PostgreSQL database
// whose batches lock two rows in opposite orders deadlock; the server
// aborts one, whose committer runs its batch again. Both writes succeed,
// each is answered once, and each change is stored once.
func TestBatchRetriedAfterDeadlock(t *testing.T) {
	if sqldbtest.PostgresURL() == "" {
		t.Skip("PostgreSQL not configured: set RESELLER_TEST_POSTGRES=" + sqldbtest.DefaultPostgres)
	}
	t.Parallel()
	ctx := context.Background()
	db1 := sqldbtest.MustOpen(t, "postgres")
	db2, err := sqldb.Open(ctx, db1.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	var a, b int64
	for _, p := range []struct {
		id   *int64
		name string
	}{{&a, "A"}, {&b, "B"}} {
		if err := db1.SQL().QueryRow("INSERT INTO accounts (name, created_at) VALUES ($1, 0) RETURNING id", p.name).Scan(p.id); err != nil {
			t.Fatal(err)
		}
	}
	var runs atomic.Int32
	locked := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	write := func(db *sqldb.DB, me int, first, second int64) error {
		return sqldb.Write(ctx, db, func(ctx context.Context, exec func(string, ...any) error) error {
			n := runs.Add(1)
			if err := exec("UPDATE accounts SET name = name || '+' WHERE id = $1", first); err != nil {
				return err
			}
			if n <= 2 { // the first run of each: lock in opposite orders
				close(locked[me])
				<-locked[1-me]
			}
			return exec("UPDATE accounts SET name = name || '+' WHERE id = $1", second)
		})
	}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	wg.Go(func() { errs[0] = write(db1, 0, a, b) })
	wg.Go(func() { errs[1] = write(db2, 1, b, a) })
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("write %d: %v", i, err)
		}
	}
	if n := runs.Load(); n != 3 {
		t.Errorf("the writes ran %d times, want 3: two, and the deadlock's victim again", n)
	}
	for _, id := range []int64{a, b} {
		var name string
		if err := db1.SQL().QueryRow("SELECT name FROM accounts WHERE id = $1", id).Scan(&name); err != nil && !errors.Is(err, sql.ErrNoRows) {
			t.Fatal(err)
		}
		if len(name) != 3 {
			t.Errorf("account %d is named %q: want each write's change once", id, name)
		}
	}
}
