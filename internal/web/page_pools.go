package web

import (
	"net/http"

	"github.com/resellerconsole/reseller"
)

type poolsData struct {
	page
	Pools []*poolRow
	Total reseller.Pool // capacity, used and free over all pools
}

// poolRow is a pool with the thresholds of its usage meter: filling up
// past Low turns it amber, past High red.
type poolRow struct {
	*reseller.Pool
	Low, High int
}

// poolsPage shows each pool's capacity, used and free slots.
func (s *Server) poolsPage(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.store.ListPools(r.Context())
	if err != nil {
		return err
	}
	d := &poolsData{page: s.newPage(w, r, "License pools", "pools")}
	for _, p := range ps {
		d.Pools = append(d.Pools, &poolRow{Pool: p, Low: p.Capacity * 75 / 100, High: p.Capacity * 90 / 100})
		d.Total.Capacity += p.Capacity
		d.Total.Used += p.Used
		d.Total.Free += p.Free
	}
	return s.render(w, r, http.StatusOK, "pools.html", d)
}
