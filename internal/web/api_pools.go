package web

import (
	"net/http"

	"github.com/resellerconsole/reseller"
)

type poolList struct {
	Pools []*reseller.Pool `json:"pools"`
}

func (s *Server) listPools(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.store.ListPools(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, poolList{Pools: nonNil(ps)})
}
