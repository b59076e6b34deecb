package sqldb_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

func TestDeleteClientRevokesLicenses(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		op, owner := f.as(reseller.RoleOperator), f.as(reseller.RoleOwner)
		c := f.client(t, "gone@x.test")
		l1 := ok(db.AllocateLicense(op, c.ID, f.pool.ID, "a.example"))
		l2 := ok(db.AllocateLicense(op, c.ID, f.small.ID, "b.example"))
		l3 := ok(db.AllocateLicense(op, c.ID, f.pool.ID, "c.example"))
		ok(db.RevokeLicense(op, l3.ID, "not needed"))
		before := len(f.entries(t))
		got := ok(db.DeleteClient(owner, c.ID))
		if got.Status != reseller.ClientDeleted {
			t.Fatalf("status = %s", got.Status)
		}
		es := f.entries(t)[before:]
		if len(es) != 3 {
			t.Fatalf("delete wrote %d entries, want 3", len(es))
		}
		for i, want := range []*reseller.License{l1, l2} {
			e := es[i]
			if e.Action != reseller.ActionLicenseRevoked || e.Details.LicenseID != want.ID ||
				e.Details.Reason != sqldb.ClientDeletedReason || e.Target.ID != c.ID || e.Details.PoolID != want.PoolID {
				t.Fatalf("entry %d = %+v", i, e)
			}
		}
		if es[2].Action != reseller.ActionClientDeleted {
			t.Fatalf("last entry = %s", es[2].Action)
		}
		for i := 1; i < len(es); i++ {
			if es[i].Seq != es[i-1].Seq+1 {
				t.Fatalf("seqs not consecutive: %d then %d", es[i-1].Seq, es[i].Seq)
			}
		}
		for _, p := range []*reseller.Pool{f.pool, f.small} {
			if got := ok(db.FindPoolByID(op, p.ID)); got.Used != 0 {
				t.Fatalf("pool %s used = %d after delete", p.Name, got.Used)
			}
		}
		ls, _, _ := db.ListLicenses(op, reseller.LicenseFilter{ClientID: c.ID, Status: reseller.LicenseActive})
		if len(ls) != 0 {
			t.Fatalf("%d active licenses remain", len(ls))
		}
		_, err := db.RevokeLicense(op, l1.ID, "")
		wantCode(t, err, reseller.ECONFLICT)
	})
}

func TestConcurrentAllocations(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		op := f.as(reseller.RoleOperator)
		c := f.client(t, "many@x.test")
		var wg sync.WaitGroup
		codes := make(chan string, 50)
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := db.AllocateLicense(op, c.ID, f.pool.ID, "")
				codes <- reseller.ErrorCode(err)
			}()
		}
		wg.Wait()
		close(codes)
		count := map[string]int{}
		for c := range codes {
			count[c]++
		}
		if count[""] != 10 || count[reseller.EPOOLEXHAUSTED] != 40 {
			t.Fatalf("outcomes = %v, want 10 ok and 40 pool_exhausted", count)
		}
		ls, _, _ := db.ListLicenses(op, reseller.LicenseFilter{PoolID: f.pool.ID, Limit: 100})
		if p := ok(db.FindPoolByID(op, f.pool.ID)); len(ls) != 10 || p.Used != 10 || p.Free != 0 {
			t.Fatalf("licenses = %d, pool = %+v", len(ls), p)
		}
		es := f.entries(t)
		for i, e := range es {
			if e.Seq != int64(i+1) {
				t.Fatalf("entry %d has seq %d: log has a gap", i, e.Seq)
			}
		}
	})
}

func TestResizePool(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		op := f.as(reseller.RoleOperator)
		c := f.client(t, "r@x.test")
		ok(db.AllocateLicense(op, c.ID, f.pool.ID, ""))
		ok(db.AllocateLicense(op, c.ID, f.pool.ID, ""))
		_, err := db.ResizePool(op, f.pool.ID, 1)
		wantCode(t, err, reseller.ECONFLICT)
		_, err = db.ResizePool(op, f.pool.ID, -1)
		wantCode(t, err, reseller.EINVALID)
		_, err = db.ResizePool(op, 999999, 5)
		wantCode(t, err, reseller.ENOTFOUND)
		p := ok(db.ResizePool(op, f.pool.ID, 2))
		if p.Capacity != 2 || p.Free != 0 {
			t.Fatalf("pool = %+v", p)
		}
		_, err = db.AllocateLicense(op, c.ID, f.pool.ID, "")
		wantCode(t, err, reseller.EPOOLEXHAUSTED)
		_, err = db.CreatePool(op, f.account.ID, "", "", 1)
		wantCode(t, err, reseller.EINVALID)
		_, err = db.CreatePool(op, 424242, "x", "", 1)
		wantCode(t, err, reseller.ENOTFOUND)
	})
}

// Concurrent actions share commits on SQLite (group commit): those refused
// must leave nothing behind, and the others must all be there, gapless.
func TestConcurrentMixedActions(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		op := f.as(reseller.RoleOperator)
		var wg sync.WaitGroup
		var mu sync.Mutex
		okCount := 0
		for i := range 80 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Every email is tried twice: one of each pair is refused.
				_, err := db.CreateClient(op, fmt.Sprintf("pair%d@x.test", i/2), "")
				if err != nil && reseller.ErrorCode(err) != reseller.EEMAILTAKEN {
					t.Error(err)
				}
				if err == nil {
					mu.Lock()
					okCount++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		es := f.entries(t)
		if okCount != 40 || len(es) != 40 {
			t.Fatalf("%d creates succeeded and %d entries written, want 40 and 40", okCount, len(es))
		}
		for i, e := range es {
			if e.Seq != int64(i+1) {
				t.Fatalf("entry %d has seq %d", i, e.Seq)
			}
		}
		if err := db.CheckAccount(context.Background(), f.account.ID); err != nil {
			t.Fatal(err)
		}
	})
}
