package web_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

func TestPoolsAndLicenses(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		pools := func(used10, usedSolo int) string {
			return fmt.Sprintf(`{"pools":[
				{"id":1,"name":"Pro 10","product":"security-plugin","capacity":10,"used":%d,"free":%d},
				{"id":2,"name":"Solo","product":"shield","capacity":1,"used":%d,"free":%d}]}`,
				used10, 10-used10, usedSolo, 1-usedSolo)
		}
		e.get(t, auditor, "/api/v1/pools").wantJSON(t, http.StatusOK, pools(0, 0))

		a := e.client(t, "a@example.io", "A")
		b := e.client(t, "b@example.io", "B")
		lic := func(id, pool, client int64, label, status, revoked string) string {
			return fmt.Sprintf(`{"id":%d,"pool_id":%d,"client_id":%d,"label":%q,"status":%q,"allocated_at":"2026-07-01T10:00:00Z","revoked_at":%s}`,
				id, pool, client, label, status, revoked)
		}
		e.post(t, operator, "/api/v1/licenses", fmt.Sprintf(`{"client_id":%d,"pool_id":1,"label":"a.example.io"}`, a.ID)).
			wantLicense(t, http.StatusCreated, lic(1, 1, a.ID, "a.example.io", "active", "null"))
		e.post(t, operator, "/api/v1/licenses", fmt.Sprintf(`{"client_id":%d,"pool_id":2}`, b.ID)).
			wantLicense(t, http.StatusCreated, lic(2, 2, b.ID, "", "active", "null"))
		e.post(t, operator, "/api/v1/licenses", fmt.Sprintf(`{"client_id":%d,"pool_id":1,"label":"b.example.io"}`, b.ID)).
			wantLicense(t, http.StatusCreated, lic(3, 1, b.ID, "b.example.io", "active", "null"))
		e.get(t, auditor, "/api/v1/pools").wantJSON(t, http.StatusOK, pools(2, 1))

		e.clock.Add(time.Minute)
		e.post(t, operator, "/api/v1/licenses/3/revoke", `{"reason":"site closed"}`).
			wantJSON(t, http.StatusOK, lic(3, 1, b.ID, "b.example.io", "revoked", `"2026-07-01T10:01:00Z"`))
		e.get(t, auditor, "/api/v1/pools").wantJSON(t, http.StatusOK, pools(1, 1))
		if d := e.entries(t)[5].Details; d != (reseller.Details{PoolID: 1, PoolName: "Pro 10", Product: "security-plugin", LicenseID: 3, Label: "b.example.io", Reason: "site closed"}) {
			t.Fatalf("revocation details = %+v", d)
		}

		list := func(ls ...string) string {
			return `{"licenses":[` + join(ls) + `],"next_cursor":""}`
		}
		l1 := lic(1, 1, a.ID, "a.example.io", "active", "null")
		l2 := lic(2, 2, b.ID, "", "active", "null")
		l3 := lic(3, 1, b.ID, "b.example.io", "revoked", `"2026-07-01T10:01:00Z"`)
		tests := []struct{ query, want string }{
			{"", list(l3, l2, l1)},
			{fmt.Sprintf("?client_id=%d", b.ID), list(l3, l2)},
			{"?pool_id=1", list(l3, l1)},
			{"?status=active", list(l2, l1)},
			{fmt.Sprintf("?status=revoked&client_id=%d&pool_id=1", b.ID), list(l3)},
			{"?pool_id=3", list()}, // the other account's pool: nothing of ours
		}
		for _, tt := range tests {
			t.Run(tt.query, func(t *testing.T) {
				e.get(t, auditor, "/api/v1/licenses"+tt.query).wantJSON(t, http.StatusOK, tt.want)
			})
		}
		var page struct {
			Licenses   []reseller.License
			NextCursor string `json:"next_cursor"`
		}
		e.get(t, auditor, "/api/v1/licenses?limit=2").decode(t, &page)
		if len(page.Licenses) != 2 || page.NextCursor == "" {
			t.Fatalf("first page: %+v", page)
		}
		e.get(t, auditor, "/api/v1/licenses?limit=2&cursor="+page.NextCursor).wantJSON(t, http.StatusOK, list(l1))
	})
}

func join(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ","
		}
		out += v
	}
	return out
}

// Fifty concurrent allocations on a pool of ten: exactly ten succeed.
func TestConcurrentAllocations(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		c := e.client(t, "busy@example.io", "Busy")
		before := len(e.entries(t))
		var wg sync.WaitGroup
		results := make([]*response, 50)
		for i := range results {
			wg.Go(func() {
				results[i] = e.post(t, operator, "/api/v1/licenses", fmt.Sprintf(`{"client_id":%d,"pool_id":%d,"label":"site-%d"}`, c.ID, e.pool.ID, i))
			})
		}
		wg.Wait()
		count := map[string]int{}
		for _, r := range results {
			key := fmt.Sprint(r.status)
			if r.status == http.StatusConflict {
				r.wantProblem(t, http.StatusConflict, reseller.EPOOLEXHAUSTED)
				key += " pool_exhausted"
			}
			count[key]++
		}
		if count["201"] != 10 || count["409 pool_exhausted"] != 40 || len(count) != 2 {
			t.Fatalf("results = %v, want 10 201 and 40 409 pool_exhausted", count)
		}
		p := must(db.FindPoolByID(e.as(auditor), e.pool.ID))
		if p.Used != 10 || p.Free != 0 {
			t.Fatalf("pool = %+v", p)
		}
		if n := len(e.entries(t)) - before; n != 10 {
			t.Fatalf("%d entries written, want 10", n)
		}
	})
}
