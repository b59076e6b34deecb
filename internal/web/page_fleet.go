package web

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/resellerconsole/reseller"
)

// fleetPageSize is how many clients the fleet shows per page.
const fleetPageSize = 50

type fleetData struct {
	page
	Clients  []*reseller.Client
	Search   string
	Status   string
	Statuses []reseller.ClientStatus
	Pager    pager
	Filtered bool
}

// fleetPage lists the account's clients: search, status filter, paging,
// and the form to add one.
func (s *Server) fleetPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderFleet(w, r, nil, http.StatusOK)
}

func (s *Server) renderFleet(w http.ResponseWriter, r *http.Request, f *form, status int) error {
	q := r.URL.Query()
	d := &fleetData{page: s.newPage(w, r, "Clients", "clients"), Search: q.Get("q"), Status: q.Get("status"),
		Statuses: []reseller.ClientStatus{reseller.ClientActive, reseller.ClientSuspended, reseller.ClientDeleted}}
	d.Form = f
	d.Filtered = d.Search != "" || d.Status != ""
	cs, next, err := s.store.ListClients(r.Context(), reseller.ClientFilter{
		Status: reseller.ClientStatus(d.Status), Search: d.Search, Cursor: q.Get("cursor"), Limit: fleetPageSize,
	})
	if err != nil {
		return err
	}
	d.Clients = cs
	d.Pager = newPager("/clients", q, next)
	return s.render(w, r, status, "fleet.html", d)
}

// createClientForm onboards a client and opens its page.
func (s *Server) createClientForm(w http.ResponseWriter, r *http.Request) error {
	c, err := s.store.CreateClient(r.Context(), r.PostForm.Get("email"), r.PostForm.Get("name"))
	if userError(err) {
		return s.renderFleet(w, r, &form{Name: "create-client", Values: r.PostForm, Err: reseller.ErrorMessage(err)}, statusOf(err))
	} else if err != nil {
		return err
	}
	return redirect(w, r, clientURL(c.ID), fmt.Sprintf("Client %s created.", c.Email))
}

func clientURL(id int64) string { return "/clients/" + url.PathEscape(fmt.Sprint(id)) }
