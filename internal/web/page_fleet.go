package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

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
	NotSeen  string // "not seen for more than N days", as typed
	Sort     string
	Sorts    []sortChoice
	Pools    []*reseller.Pool // for the onboarding form
}

// sortChoice is an order of the clients list as its select offers it.
type sortChoice struct {
	Value, Label string
}

var fleetSorts = []sortChoice{
	{"", "Newest first"},
	{reseller.SortScore, "Lowest score first"},
	{reseller.SortScoreDesc, "Highest score first"},
	{reseller.SortLastSeen, "Longest unseen first"},
	{reseller.SortLastSeenDesc, "Most recently seen first"},
}

// fleetPage lists the account's clients: search, filters, sorting, paging,
// and the form to add one.
func (s *Server) fleetPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderFleet(w, r, nil, http.StatusOK)
}

func (s *Server) renderFleet(w http.ResponseWriter, r *http.Request, f *form, status int) error {
	ctx := r.Context()
	q := r.URL.Query()
	d := &fleetData{page: s.newPage(w, r, "Clients", "clients"), Search: q.Get("q"), Status: q.Get("status"),
		Statuses: []reseller.ClientStatus{reseller.ClientActive, reseller.ClientSuspended, reseller.ClientDeleted},
		NotSeen:  strings.TrimSpace(q.Get("not_seen_days")), Sort: q.Get("sort"), Sorts: fleetSorts}
	if d.Sort == "newest" {
		d.Sort = ""
	}
	d.Form = f
	d.Filtered = d.Search != "" || d.Status != "" || d.NotSeen != ""
	filter := reseller.ClientFilter{Status: reseller.ClientStatus(d.Status), Search: d.Search, Cursor: q.Get("cursor"),
		Limit: fleetPageSize, Sort: d.Sort}
	if d.NotSeen != "" {
		n, err := strconv.Atoi(d.NotSeen)
		if err != nil || n < 1 {
			return reseller.Errorf(reseller.EINVALID, "Not seen for %q days: give a number of days, 1 or more.", d.NotSeen)
		}
		filter.NotSeenDays = n
	}
	cs, next, err := s.store.ListClients(ctx, filter)
	if err != nil {
		return err
	}
	d.Clients = cs
	d.Pager = newPager("/clients", q, next)
	if viewerFrom(ctx).Allowed(reseller.PermManageClients) {
		if d.Pools, err = s.store.ListPools(ctx); err != nil {
			return err
		}
	}
	return s.render(w, r, status, "fleet.html", d)
}

// createClientForm onboards a client. With a pool chosen, its first
// license is allocated in the same step and its key shown, this once;
// without one, the client's page opens.
func (s *Server) createClientForm(w http.ResponseWriter, r *http.Request) error {
	nc := reseller.NewClient{Email: r.PostForm.Get("email"), Name: r.PostForm.Get("name"),
		SiteURL: r.PostForm.Get("site_url"), Label: r.PostForm.Get("label")}
	var err error
	if v := r.PostForm.Get("pool"); v != "" {
		nc.PoolID, err = formID(r, "pool", "Pool")
	}
	var c *reseller.Client
	var l *reseller.License
	if err == nil {
		c, l, err = s.store.OnboardClient(r.Context(), nc)
	}
	if userError(err) {
		return s.renderFleet(w, r, &form{Name: "create-client", Values: r.PostForm, Err: reseller.ErrorMessage(err)}, statusOf(err))
	} else if err != nil {
		return err
	}
	if l == nil {
		return redirect(w, r, clientURL(c.ID), fmt.Sprintf("Client %s created.", c.Email))
	}
	site := c.SiteURL
	if site == "" {
		site = "the client's site"
	}
	return s.showKey(w, r, &secretData{Heading: "Client " + c.Email + " created",
		Intro: fmt.Sprintf("License %d is allocated to %s. Enter this license key in the plugin's settings on %s; the plugin checks in with it.", l.ID, c.Email, site),
		Label: "License key", Secret: l.Key,
		Note: "The key is shown only now: it is kept hashed, so nobody can read it again. If it is lost, re-issue it from the client's page.",
		Back: clientURL(c.ID), BackText: "Open the client's page"})
}

// showKey shows a new license key, once, with the clients navigation.
func (s *Server) showKey(w http.ResponseWriter, r *http.Request, d *secretData) error {
	d.page = s.newPage(w, r, d.Heading, "clients")
	d.Key = true
	return s.render(w, r, http.StatusOK, "secret.html", d)
}

func clientURL(id int64) string { return "/clients/" + url.PathEscape(fmt.Sprint(id)) }
