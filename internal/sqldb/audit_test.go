package sqldb_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
	"golang.org/x/mod/sumdb/tlog"
)

func TestTriggersRefuseChanges(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		f.client(t, "a@x.test")
		for _, q := range []string{
			"UPDATE audit_entries SET action = 'client.deleted'",
			"DELETE FROM audit_entries",
			"UPDATE audit_hashes SET hash = hash",
			"DELETE FROM audit_hashes",
		} {
			if _, err := db.SQL().Exec(q); err == nil {
				t.Errorf("%s: allowed", q)
			}
		}
		if n := len(f.entries(t)); n != 1 {
			t.Fatalf("%d entries after refused changes, want 1", n)
		}
	})
}

func TestEntryContents(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		at := time.Date(2026, 7, 1, 9, 30, 0, 123456789, time.UTC)
		db.Now, _ = fixedClock(at)
		c := f.client(t, "Shop@Example.test")
		l := ok(db.AllocateLicense(f.as(reseller.RoleOperator), c.ID, f.pool.ID, "shop.example"))
		es := f.entries(t)
		want := &reseller.Entry{
			AccountID: f.account.ID, Seq: 2, Time: reseller.Micro(at), Action: reseller.ActionLicenseAllocated,
			Target:  reseller.Target{Type: "client", ID: c.ID, Email: "shop@example.test"},
			Details: reseller.Details{PoolID: f.pool.ID, PoolName: "Pro 10", Product: reseller.DefaultProduct, LicenseID: l.ID, Label: "shop.example"},
			Actor: reseller.EntryActor{ID: f.users[reseller.RoleOperator].ID, Email: "operator@acme.test", Role: reseller.RoleOperator,
				Via: reseller.ViaAPI, IP: "192.0.2.7", UserAgent: "test", RequestID: "req-1"},
		}
		got := es[1]
		if diff := cmp.Diff(want, got, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Record" }, cmp.Ignore())); diff != "" {
			t.Fatalf("entry (-want +got):\n%s", diff)
		}
		dec, err := auditlog.DecodeCanonical(got.Record)
		if err != nil {
			t.Fatalf("stored record is not canonical: %v", err)
		}
		if dec.Seq != 2 || dec.AccountID != f.account.ID {
			t.Fatalf("decoded = %+v", dec)
		}
	})
}

func TestStoredHashesMatchRecords(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		for i := range 13 {
			c := f.client(t, fmt.Sprintf("h%d@x.test", i))
			if i%3 == 0 {
				ok(db.AllocateLicense(f.as(reseller.RoleOperator), c.ID, f.pool.ID, ""))
			}
		}
		// Recompute the tree from the records alone and compare roots at every size.
		mem := map[int64]tlog.Hash{}
		var reader tlog.HashReaderFunc = func(idx []int64) ([]tlog.Hash, error) {
			out := make([]tlog.Hash, len(idx))
			for i, x := range idx {
				out[i] = mem[x]
			}
			return out, nil
		}
		es := f.entries(t)
		for i, e := range es {
			hs, err := tlog.StoredHashes(int64(i), e.Record, reader)
			if err != nil {
				t.Fatal(err)
			}
			for j, h := range hs {
				mem[tlog.StoredHashIndex(0, int64(i))+int64(j)] = h
			}
		}
		want, _ := tlog.TreeHash(int64(len(es)), reader)
		size, root, err := db.Head(context.Background(), f.account.ID)
		if err != nil {
			t.Fatal(err)
		}
		if size != int64(len(es)) || root != want {
			t.Fatalf("head = %d %v, want %d %v", size, root, len(es), want)
		}
		// The other account's log is separate and empty.
		if size, _, _ := db.Head(context.Background(), f.other.ID); size != 0 {
			t.Fatalf("other account's log has %d entries", size)
		}
	})
}

func TestAuditPagingSharedTimestamps(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		db.Now, _ = fixedClock(time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC))
		for i := range 23 {
			f.client(t, fmt.Sprintf("same%d@x.test", i))
		}
		ctx := f.as(reseller.RoleAuditor)
		for _, order := range []string{reseller.OrderDesc, reseller.OrderAsc} {
			seen := map[int64]bool{}
			var seqs []int64
			cursor := ""
			for pages := 0; ; pages++ {
				es, next, err := db.ListEntries(ctx, reseller.AuditFilter{Order: order, Limit: 5, Cursor: cursor})
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range es {
					if seen[e.Seq] {
						t.Fatalf("%s: seq %d repeated", order, e.Seq)
					}
					seen[e.Seq] = true
					seqs = append(seqs, e.Seq)
				}
				if next == "" {
					break
				}
				cursor = next
			}
			if len(seqs) != 23 {
				t.Fatalf("%s: paged %d entries, want 23", order, len(seqs))
			}
			for i := 1; i < len(seqs); i++ {
				if (order == reseller.OrderAsc) != (seqs[i] > seqs[i-1]) {
					t.Fatalf("%s: out of order at %d: %v", order, i, seqs)
				}
			}
		}
	})
}

func TestAuditFiltersAndCounts(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		clock, advance := fixedClock(time.Date(2026, 3, 30, 22, 0, 0, 0, time.UTC))
		db.Now = clock
		op, admin := f.as(reseller.RoleOperator), f.as(reseller.RoleAdmin)
		var cs []*reseller.Client
		// One client a day for 10 days; every other one suspended the same day.
		for i := range 10 {
			c := f.client(t, fmt.Sprintf("c%d@x.test", i))
			cs = append(cs, c)
			if i%2 == 0 {
				ok(db.SuspendClient(admin, c.ID, "unpaid"))
			}
			advance(24 * time.Hour)
		}
		ok(db.AllocateLicense(op, cs[1].ID, f.pool.ID, ""))
		aud := f.as(reseller.RoleAuditor)
		count := func(fl reseller.AuditFilter) int64 {
			t.Helper()
			c, err := db.CountEntries(aud, fl, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			es, _, err := db.ListEntries(aud, reseller.AuditFilter{
				Actions: fl.Actions, NotActions: fl.NotActions, Targets: fl.Targets, NotTargets: fl.NotTargets, Actors: fl.Actors,
				ClientID: fl.ClientID, From: fl.From, To: fl.To, Limit: 500})
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(es)) != c.Total {
				t.Fatalf("count %d but list %d for %+v", c.Total, len(es), fl)
			}
			return c.Total
		}
		day := func(d int) time.Time { return time.Date(2026, 3, 30+d, 0, 0, 0, 0, time.UTC) }
		for name, tc := range map[string]struct {
			f    reseller.AuditFilter
			want int64
		}{
			"all":             {reseller.AuditFilter{}, 16},
			"suspended":       {reseller.AuditFilter{Actions: []reseller.Action{reseller.ActionClientSuspended}}, 5},
			"two actions":     {reseller.AuditFilter{Actions: []reseller.Action{reseller.ActionClientSuspended, reseller.ActionLicenseAllocated}}, 6},
			"not created":     {reseller.AuditFilter{NotActions: []reseller.Action{reseller.ActionClientCreated}}, 6},
			"target":          {reseller.AuditFilter{Targets: []string{"C2@X.test"}}, 2},
			"actor":           {reseller.AuditFilter{Actors: []string{"admin@acme.test"}}, 5},
			"client":          {reseller.AuditFilter{ClientID: cs[1].ID}, 2},
			"time range":      {reseller.AuditFilter{From: day(1), To: day(3)}, 3},
			"range + action":  {reseller.AuditFilter{From: day(1), To: day(5), Actions: []reseller.Action{reseller.ActionClientSuspended}}, 2},
			"before all":      {reseller.AuditFilter{To: day(-5)}, 0},
			"target search":   {reseller.AuditFilter{Targets: []string{"*C2*"}}, 2},
			"actor domain":    {reseller.AuditFilter{Actors: []string{"*@acme.test"}}, 16},
			"search or exact": {reseller.AuditFilter{Targets: []string{"*c2@*", "c3@x.test"}}, 3},
			"not search":      {reseller.AuditFilter{NotTargets: []string{"*c1@*"}}, 14},
			"like escaped":    {reseller.AuditFilter{Targets: []string{"*c_*"}}, 0},
			"after all":       {reseller.AuditFilter{From: day(50)}, 0},
		} {
			if got := count(tc.f); got != tc.want {
				t.Errorf("%s: count = %d, want %d", name, got, tc.want)
			}
		}
		// Per-day buckets in Tokyo (UTC+9): entries at 22:00 UTC fall on the next local day.
		tokyo, _ := time.LoadLocation("Asia/Tokyo")
		res, err := db.CountEntries(aud, reseller.AuditFilter{Actions: []reseller.Action{reseller.ActionClientCreated}}, reseller.BucketDay, tokyo)
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != 10 || len(res.Buckets) != 10 {
			t.Fatalf("buckets = %+v", res)
		}
		if first := res.Buckets[0].Start; !first.Equal(time.Date(2026, 3, 31, 0, 0, 0, 0, tokyo)) {
			t.Fatalf("first bucket starts %v", first)
		}
		for _, b := range res.Buckets {
			if b.Count != 1 {
				t.Fatalf("bucket %v has %d", b.Start, b.Count)
			}
		}
		// Mar 30 and Mar 31 (3 entries) fall in Q1, the rest in Q2.
		q, err := db.CountEntries(aud, reseller.AuditFilter{From: day(0), To: day(60)}, reseller.BucketQuarter, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		if len(q.Buckets) != 2 || q.Buckets[0].Count != 3 || q.Buckets[1].Count != 13 {
			t.Fatalf("quarters = %+v", q.Buckets)
		}
	})
}

func TestAuditBadFilters(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		f.client(t, "a@x.test")
		aud := f.as(reseller.RoleAuditor)
		now := time.Now()
		for name, fl := range map[string]reseller.AuditFilter{
			"unknown action": {Actions: []reseller.Action{"client.exploded"}},
			"from after to":  {From: now, To: now.Add(-time.Hour)},
			"bad cursor":     {Cursor: "not-a-cursor"},
			"limit 0-1":      {Limit: -1},
			"limit 501":      {Limit: 501},
			"bad order":      {Order: "sideways"},
		} {
			_, _, err := db.ListEntries(aud, fl)
			if reseller.ErrorCode(err) != reseller.EINVALID || reseller.ErrorMessage(err) == "" {
				t.Errorf("%s: err = %v, want invalid with a message", name, err)
			}
		}
		if _, err := db.CountEntries(aud, reseller.AuditFilter{}, "fortnight", nil); reseller.ErrorCode(err) != reseller.EINVALID {
			t.Errorf("bad bucket: %v", err)
		}
	})
}
