package sqldb_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

// insertAccount is a write action that adds an account named name.
func insertAccount(name string) func(context.Context, func(string, ...any) error) error {
	return func(ctx context.Context, exec func(string, ...any) error) error {
		return exec("INSERT INTO accounts (name, created_at) VALUES (?, 0)", name)
	}
}

func accountExists(t *testing.T, db *sqldb.DB, name string) bool {
	t.Helper()
	q := "SELECT count(*) FROM accounts WHERE name = ?"
	if db.Dialect() == "postgres" {
		q = "SELECT count(*) FROM accounts WHERE name = $1"
	}
	var n int
	if err := db.SQL().QueryRow(q, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// wait fails the test if done is not closed soon: something hangs.
func wait(t *testing.T, done <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: still waiting after 10s", what)
	}
}

// TestWritePanics: an action that panics gets an internal error and its
// changes are rolled back; the actions committed with it in the same batch
// commit, and the store goes on writing.
func TestWritePanics(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		// Hold the writer so that the others queue up and are committed
		// together as one batch.
		release := holdCommitter(t, ctx, db, insertAccount("first"))
		queued := sqldb.Queued(db)
		names := []string{"before", "panics", "after"}
		errs := make([]error, len(names))
		var wg sync.WaitGroup
		for i, name := range names {
			wg.Go(func() {
				errs[i] = sqldb.Write(ctx, db, func(ctx context.Context, exec func(string, ...any) error) error {
					if err := insertAccount(name)(ctx, exec); err != nil {
						return err
					}
					if name == "panics" {
						panic("boom")
					}
					return nil
				})
			})
		}
		for range names {
			<-queued // each is waiting for the committer, which the first holds
		}
		if err := release(); err != nil {
			t.Fatalf("first: %v", err)
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		wait(t, done, "writes")
		for i, name := range names {
			if name == "panics" {
				err := errs[i]
				if reseller.ErrorCode(err) != reseller.EINTERNAL || !strings.Contains(fmt.Sprint(err), "boom") || !strings.Contains(fmt.Sprint(err), "commit_test.go") {
					t.Errorf("panicking write: error %v, want an internal error with the panic and its stack", err)
				}
				if accountExists(t, db, name) {
					t.Errorf("the panicking write's insert was committed")
				}
				continue
			}
			if errs[i] != nil {
				t.Errorf("%s: %v", name, errs[i])
			}
			if !accountExists(t, db, name) {
				t.Errorf("%s: not committed", name)
			}
		}
		// A panic with an error keeps it for errors.Is.
		errBoom := errors.New("boom")
		err := sqldb.Write(ctx, db, func(context.Context, func(string, ...any) error) error { panic(errBoom) })
		if !errors.Is(err, errBoom) {
			t.Errorf("panic(errBoom): error %v, want one that wraps errBoom", err)
		}
		if err := sqldb.Write(ctx, db, insertAccount("later")); err != nil || !accountExists(t, db, "later") {
			t.Errorf("a write after the panics: %v", err)
		}
	})
}

// TestCloseWithWritesWaiting: Close fails the writes waiting for the
// committer and later ones with errClosed, lets the action under way
// commit, and nothing hangs.
func TestCloseWithWritesWaiting(t *testing.T) {
	ctx := context.Background()
	db := sqldbtest.MustOpen(t, "sqlite")
	release := holdCommitter(t, ctx, db, insertAccount("under way"))
	queued := sqldb.Queued(db)
	errs := make([]error, 5)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { errs[i] = sqldb.Write(ctx, db, insertAccount(fmt.Sprintf("waiting %d", i))) })
	}
	for range errs {
		<-queued // each is waiting for the committer, which the first holds
	}
	closed := make(chan struct{})
	go func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		close(closed)
	}()
	waited := make(chan struct{})
	go func() { wg.Wait(); close(waited) }()
	// The waiting writes return at once, while the action under way holds
	// the committer.
	wait(t, waited, "writes waiting at Close")
	for i, err := range errs {
		if !errors.Is(err, sqldb.ErrClosed) {
			t.Errorf("waiting write %d: error %v, want ErrClosed", i, err)
		}
	}
	if err := release(); err != nil {
		t.Errorf("the write under way at Close: %v", err)
	}
	wait(t, closed, "Close")
	if err := sqldb.Write(ctx, db, insertAccount("after")); !errors.Is(err, sqldb.ErrClosed) {
		t.Errorf("write after Close: error %v, want ErrClosed", err)
	}

	again, err := sqldb.Open(ctx, db.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if !accountExists(t, again, "under way") {
		t.Error("the write under way at Close was not committed")
	}
	for i := range errs {
		if accountExists(t, again, fmt.Sprintf("waiting %d", i)) {
			t.Errorf("waiting write %d was committed though it failed", i)
		}
	}
}
