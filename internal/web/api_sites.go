package web

import (
	"net/http"
	"time"

	"github.com/resellerconsole/reseller"
)

type alertList struct {
	Alerts     []*reseller.Alert `json:"alerts"`
	NextCursor string            `json:"next_cursor"` // "" on the last page
}

func (s *Server) getDashboard(w http.ResponseWriter, r *http.Request) error {
	d, err := s.store.Dashboard(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) error {
	p := query(r)
	f := reseller.AlertFilter{Severity: reseller.Severity(p.str("severity")), Dismissed: p.str("dismissed"), Cursor: p.str("cursor")}
	var err error
	if f.ClientID, err = p.id("client_id"); err != nil {
		return err
	}
	if f.Limit, err = p.limit(); err != nil {
		return err
	}
	as, next, err := s.store.ListAlerts(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, alertList{Alerts: nonNil(as), NextCursor: next})
}

func (s *Server) dismissAlert(w http.ResponseWriter, r *http.Request) error {
	return s.alertAction(w, r, true)
}

func (s *Server) undismissAlert(w http.ResponseWriter, r *http.Request) error {
	return s.alertAction(w, r, false)
}

func (s *Server) alertAction(w http.ResponseWriter, r *http.Request, dismiss bool) error {
	id, err := pathID(r, "Alert")
	if err != nil {
		return err
	}
	if _, err := routeBody[emptyRequest](w, r); err != nil {
		return err
	}
	do := s.store.UndismissAlert
	if dismiss {
		do = s.store.DismissAlert
	}
	a, err := do(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, a)
}

func (s *Server) clientActivity(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Client")
	if err != nil {
		return err
	}
	p := query(r)
	loc := time.UTC
	if tz := p.str("tz"); tz != "" {
		if loc, err = time.LoadLocation(tz); err != nil || tz == "Local" {
			return reseller.Errorf(reseller.EINVALID, "Time zone %q is not an IANA zone name such as Europe/Paris.", tz)
		}
	}
	date := func(name string) (time.Time, error) {
		v := p.str(name)
		if v == "" {
			return time.Time{}, nil
		}
		t, err := time.ParseInLocation(time.DateOnly, v, loc)
		if err != nil {
			return t, reseller.Errorf(reseller.EINVALID, "Parameter %q is %q; give a date as 2006-01-02.", name, v)
		}
		return t, nil
	}
	from, err := date("from")
	if err != nil {
		return err
	}
	to, err := date("to")
	if err != nil {
		return err
	}
	if to.IsZero() && !from.IsZero() {
		to = s.now().In(loc)
	}
	ca, err := s.store.ClientActivity(r.Context(), id, from, to, loc)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ca)
}

func (s *Server) reissueLicenseKey(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "License")
	if err != nil {
		return err
	}
	if _, err := routeBody[emptyRequest](w, r); err != nil {
		return err
	}
	l, err := s.store.ReissueLicenseKey(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, l)
}
