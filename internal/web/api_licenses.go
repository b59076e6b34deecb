package web

import (
	"net/http"

	"github.com/resellerconsole/reseller"
)

type allocateRequest struct {
	ClientID int64  `json:"client_id"`
	PoolID   int64  `json:"pool_id"`
	Label    string `json:"label,omitempty"`
}

type licenseList struct {
	Licenses   []*reseller.License `json:"licenses"`
	NextCursor string              `json:"next_cursor"` // "" on the last page
}

func (s *Server) listLicenses(w http.ResponseWriter, r *http.Request) error {
	p := query(r)
	f := reseller.LicenseFilter{Status: reseller.LicenseStatus(p.str("status")), Cursor: p.str("cursor")}
	var err error
	if f.ClientID, err = p.id("client_id"); err != nil {
		return err
	}
	if f.PoolID, err = p.id("pool_id"); err != nil {
		return err
	}
	if f.Limit, err = p.limit(); err != nil {
		return err
	}
	ls, next, err := s.store.ListLicenses(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, licenseList{Licenses: nonNil(ls), NextCursor: next})
}

func (s *Server) allocateLicense(w http.ResponseWriter, r *http.Request) error {
	req, err := routeBody[allocateRequest](w, r)
	if err != nil {
		return err
	}
	switch {
	case req.ClientID < 1:
		return reseller.Errorf(reseller.EINVALID, "The body's field \"client_id\" must be a positive integer: the client's id.")
	case req.PoolID < 1:
		return reseller.Errorf(reseller.EINVALID, "The body's field \"pool_id\" must be a positive integer: the pool's id.")
	}
	l, err := s.store.AllocateLicense(r.Context(), req.ClientID, req.PoolID, req.Label)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, l)
}

func (s *Server) revokeLicense(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "License")
	if err != nil {
		return err
	}
	req, err := routeBody[reasonRequest](w, r)
	if err != nil {
		return err
	}
	l, err := s.store.RevokeLicense(r.Context(), id, req.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, l)
}
