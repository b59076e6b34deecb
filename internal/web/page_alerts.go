package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/resellerconsole/reseller"
)

// The alerts page: every alert the account's sites raised, across
// clients, filtered by severity, dismissal and client. Dismissing hides an
// alert from the active view and keeps it in the history.

// alertsPageSize is how many alerts the page shows at once.
const alertsPageSize = 50

type alertsData struct {
	page
	Alerts     []*reseller.Alert
	Severity   string
	Dismissed  string
	ClientID   int64
	Client     *reseller.Client // the client filtered on, if any
	Severities []reseller.Severity
	Pager      pager
	Filtered   bool
	Back       string // this page, for the dismiss forms to return to
}

func (s *Server) alertsPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	d := &alertsData{page: s.newPage(w, r, "Alerts", "alerts"), Severity: q.Get("severity"), Dismissed: q.Get("dismissed"),
		Severities: reseller.Severities, Back: r.URL.RequestURI()}
	if d.Severity == "all" {
		d.Severity = ""
	}
	if d.Severity != "" && !reseller.Severity(d.Severity).Valid() {
		return reseller.Errorf(reseller.EINVALID, "Severity %q is not one of critical, warning, info.", d.Severity)
	}
	switch d.Dismissed {
	case "", reseller.AlertsActive:
		d.Dismissed = reseller.AlertsActive
	case reseller.AlertsDismissed, reseller.AlertsAll:
	default:
		return reseller.Errorf(reseller.EINVALID, "Dismissed %q is not one of active, dismissed, all.", d.Dismissed)
	}
	if v := q.Get("client_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 1 {
			return reseller.Errorf(reseller.EINVALID, "Client id %q is not a positive integer.", v)
		}
		if d.Client, err = s.store.FindClientByID(ctx, id); err != nil {
			return err
		}
		d.ClientID = id
		d.Title = "Alerts of " + d.Client.Email
	}
	d.Filtered = d.Severity != "" || d.Dismissed != reseller.AlertsActive || d.ClientID != 0
	as, next, err := s.store.ListAlerts(ctx, reseller.AlertFilter{Severity: reseller.Severity(d.Severity), Dismissed: d.Dismissed,
		ClientID: d.ClientID, Cursor: q.Get("cursor"), Limit: alertsPageSize})
	if err != nil {
		return err
	}
	d.Alerts = as
	d.Pager = newPager("/alerts", q, next)
	return s.render(w, r, http.StatusOK, "alerts.html", d)
}

func (s *Server) dismissAlertForm(w http.ResponseWriter, r *http.Request) error {
	return s.alertForm(w, r, true)
}

func (s *Server) undismissAlertForm(w http.ResponseWriter, r *http.Request) error {
	return s.alertForm(w, r, false)
}

// alertForm dismisses or un-dismisses an alert and returns to the page
// the form was on; the store refuses roles that only read.
func (s *Server) alertForm(w http.ResponseWriter, r *http.Request, dismiss bool) error {
	id, err := pathID(r, "Alert")
	if err != nil {
		return err
	}
	do, msg := s.store.UndismissAlert, "Alert %d is active again."
	if dismiss {
		do, msg = s.store.DismissAlert, "Alert %d dismissed; it stays in the history."
	}
	a, err := do(r.Context(), id)
	if err != nil {
		return err
	}
	return redirect(w, r, alertsBack(r.PostForm.Get("back")), strings.Replace(msg, "%d", strconv.FormatInt(a.ID, 10), 1))
}

// alertsBack is where an alert form returns: the alerts page or a
// client's page it was posted from, nothing else.
func alertsBack(back string) string {
	next := safeNext(back)
	u, err := url.Parse(next)
	if err != nil || next != back || (u.Path != "/alerts" && !strings.HasPrefix(u.Path, "/clients/")) {
		return "/alerts"
	}
	return next
}
