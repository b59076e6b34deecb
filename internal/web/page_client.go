package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/resellerconsole/reseller"
)

// timelineSize is how many of a client's latest entries its page shows.
const timelineSize = 25

type clientData struct {
	page
	Client   *reseller.Client
	Licenses []*licenseRow
	Pools    []*reseller.Pool
	Entries  []*reseller.Entry
	More     bool // the timeline has earlier entries than those shown
	// TopErr is a form's error whose form the page no longer shows (the
	// client changed meanwhile): it goes at the top of the page.
	TopErr string
	// What the client's sites reported: the last 30 days (newest first in
	// Days), the score chart of the same days, and its newest alerts.
	Activity   *reseller.ClientActivity
	Days       []reseller.ActivityDay
	Chart      *scoreChart
	Alerts     []*reseller.Alert
	MoreAlerts bool
}

// clientAlerts is how many of a client's active alerts its page lists.
const clientAlerts = 10

// licenseRow is a license with its pool's name.
type licenseRow struct {
	*reseller.License
	Pool string
}

// clientPage shows a client: its status, licenses, the actions the
// viewer's role allows, and its own audit timeline.
func (s *Server) clientPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderClient(w, r, nil, http.StatusOK)
}

func (s *Server) renderClient(w http.ResponseWriter, r *http.Request, f *form, status int) error {
	ctx := r.Context()
	id, err := pathID(r, "Client")
	if err != nil {
		return err
	}
	c, err := s.store.FindClientByID(ctx, id)
	if err != nil {
		return err
	}
	d := &clientData{page: s.newPage(w, r, c.Email, "clients"), Client: c}
	d.Form, d.HideTarget = f, true
	if f != nil {
		inline := c.Status == reseller.ClientActive && (f.Name == "allocate" || f.Name == "suspend") ||
			c.Status == reseller.ClientSuspended && f.Name == "reactivate"
		if !inline {
			d.TopErr, d.Form = f.Err, nil
		}
	}
	if d.Pools, err = s.store.ListPools(ctx); err != nil {
		return err
	}
	names := map[int64]string{}
	for _, p := range d.Pools {
		names[p.ID] = p.Name
	}
	ls, err := s.allLicenses(ctx, reseller.LicenseFilter{ClientID: id})
	if err != nil {
		return err
	}
	// Active first, then the history of revoked ones.
	slices.SortStableFunc(ls, func(a, b *reseller.License) int {
		if a.Status != b.Status {
			if a.Status == reseller.LicenseActive {
				return -1
			}
			return 1
		}
		return 0
	})
	for _, l := range ls {
		d.Licenses = append(d.Licenses, &licenseRow{License: l, Pool: names[l.PoolID]})
	}
	if d.Activity, err = s.store.ClientActivity(ctx, id, time.Time{}, time.Time{}, d.V.Loc); err != nil {
		return err
	}
	d.Days = slices.Clone(d.Activity.Days)
	slices.Reverse(d.Days)
	d.Chart = newScoreChart(d.Activity.Days)
	as, next, err := s.store.ListAlerts(ctx, reseller.AlertFilter{ClientID: id, Limit: clientAlerts})
	if err != nil {
		return err
	}
	d.Alerts, d.MoreAlerts = as, next != ""
	if viewerFrom(ctx).Allowed(reseller.PermViewAudit) {
		es, next, err := s.store.ListEntries(ctx, reseller.AuditFilter{ClientID: id, Limit: timelineSize})
		if err != nil {
			return err
		}
		slices.Reverse(es) // a timeline reads oldest first
		d.Entries, d.More = es, next != ""
	}
	return s.render(w, r, status, "client.html", d)
}

// allLicenses reads every page of a license listing: a client holds few.
func (s *Server) allLicenses(ctx context.Context, f reseller.LicenseFilter) ([]*reseller.License, error) {
	var all []*reseller.License
	f.Limit = reseller.MaxPageSize
	for n := 0; n < 20; n++ {
		ls, next, err := s.store.ListLicenses(ctx, f)
		if err != nil {
			return nil, err
		}
		all = append(all, ls...)
		if next == "" {
			break
		}
		f.Cursor = next
	}
	return all, nil
}

// clientFormAction runs an action posted from the client page: a user error
// shows on the form it came from; success returns to the page with a message.
func (s *Server) clientFormAction(w http.ResponseWriter, r *http.Request, formName string, do func(ctx context.Context, id int64) (string, error)) error {
	id, err := pathID(r, "Client")
	if err != nil {
		return err
	}
	msg, err := do(r.Context(), id)
	if userError(err) {
		return s.renderClient(w, r, &form{Name: formName, Values: r.PostForm, Err: reseller.ErrorMessage(err)}, statusOf(err))
	} else if err != nil {
		return err
	}
	return redirect(w, r, clientURL(id), msg)
}

func (s *Server) suspendClientForm(w http.ResponseWriter, r *http.Request) error {
	return s.clientFormAction(w, r, "suspend", func(ctx context.Context, id int64) (string, error) {
		c, err := s.store.SuspendClient(ctx, id, r.PostForm.Get("reason"))
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s is suspended.", c.Email), nil
	})
}

func (s *Server) reactivateClientForm(w http.ResponseWriter, r *http.Request) error {
	return s.clientFormAction(w, r, "reactivate", func(ctx context.Context, id int64) (string, error) {
		c, err := s.store.ReactivateClient(ctx, id)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s is active again.", c.Email), nil
	})
}

func (s *Server) allocateLicenseForm(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Client")
	if err != nil {
		return err
	}
	ctx := r.Context()
	l, err := func() (*reseller.License, error) {
		poolID, err := formID(r, "pool", "Pool")
		if err != nil {
			return nil, err
		}
		return s.store.AllocateLicense(ctx, id, poolID, r.PostForm.Get("label"))
	}()
	if userError(err) {
		return s.renderClient(w, r, &form{Name: "allocate", Values: r.PostForm, Err: reseller.ErrorMessage(err)}, statusOf(err))
	} else if err != nil {
		return err
	}
	if l.Key == "" {
		return redirect(w, r, clientURL(id), fmt.Sprintf("License %d allocated.", l.ID))
	}
	// The key exists in clear only in this answer: show it once.
	return s.showKey(w, r, &secretData{Heading: fmt.Sprintf("License %d allocated", l.ID),
		Intro: fmt.Sprintf("Enter this license key in the plugin's settings on the client's site (license %d); the plugin checks in with it.", l.ID),
		Label: "License key", Secret: l.Key,
		Note: "The key is shown only now: it is kept hashed, so nobody can read it again. If it is lost, re-issue it from the client's page.",
		Back: clientURL(id), BackText: "Back to the client"})
}

// confirmData is the page that asks before an action that cannot be undone.
type confirmData struct {
	page
	Heading string
	Message string
	Action  string // where the form posts
	Button  string
	Cancel  string // where "Cancel" goes
	Reason  bool   // ask for an optional reason
	Danger  bool
	Hidden  map[string]string // extra form fields
}

func (s *Server) deleteClientPage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Client")
	if err != nil {
		return err
	}
	c, err := s.store.FindClientByID(r.Context(), id)
	if err != nil {
		return err
	}
	if err := allowed(r, reseller.PermDeleteClients); err != nil {
		return err
	}
	if err := c.Status.Check(reseller.DoDelete); err != nil {
		return err
	}
	msg := fmt.Sprintf("%s will be deleted. ", c.Email)
	if c.Licenses > 0 {
		msg += fmt.Sprintf("Its %s will be revoked first, each recorded in the audit log. ", plural(c.Licenses, "active license", "active licenses"))
	}
	msg += "The client stays in the audit log, and its email can be used for a new client. This cannot be undone."
	d := &confirmData{page: s.newPage(w, r, "Delete "+c.Email, "clients"), Heading: "Delete this client?", Message: msg,
		Action: clientURL(id) + "/delete", Button: "Delete client", Cancel: clientURL(id), Reason: true, Danger: true}
	return s.render(w, r, http.StatusOK, "confirm.html", d)
}

func (s *Server) deleteClientForm(w http.ResponseWriter, r *http.Request) error {
	return s.clientFormAction(w, r, "delete", func(ctx context.Context, id int64) (string, error) {
		c, err := s.store.DeleteClientWithReason(ctx, id, r.PostForm.Get("reason"))
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s is deleted.", c.Email), nil
	})
}

// activeLicense finds the license of the path for a confirm page: an
// active one, with its client, for a viewer who manages clients; revoked is
// the conflict msg (with the license id).
func (s *Server) activeLicense(r *http.Request, revoked string) (*reseller.License, *reseller.Client, error) {
	ctx := r.Context()
	id, err := pathID(r, "License")
	if err != nil {
		return nil, nil, err
	}
	l, err := s.store.FindLicenseByID(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if err := allowed(r, reseller.PermManageClients); err != nil {
		return nil, nil, err
	}
	if l.Status != reseller.LicenseActive {
		return nil, nil, reseller.Errorf(reseller.ECONFLICT, revoked, id)
	}
	c, err := s.store.FindClientByID(ctx, l.ClientID)
	return l, c, err
}

func (s *Server) revokeLicensePage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	l, c, err := s.activeLicense(r, "License %d is already revoked.")
	if err != nil {
		return err
	}
	p, err := s.store.FindPoolByID(ctx, l.PoolID)
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("License %d of %s (pool %s", l.ID, c.Email, p.Name)
	if l.Label != "" {
		msg += ", " + l.Label
	}
	msg += ") will be revoked and its slot returned to the pool. A revoked license stays in the client's history."
	d := &confirmData{page: s.newPage(w, r, "Revoke license", "clients"), Heading: "Revoke this license?", Message: msg,
		Action: fmt.Sprintf("/licenses/%d/revoke", l.ID), Button: "Revoke license", Cancel: clientURL(c.ID), Reason: true, Danger: true}
	return s.render(w, r, http.StatusOK, "confirm.html", d)
}

func (s *Server) revokeLicenseForm(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r, "License")
	if err != nil {
		return err
	}
	l, err := s.store.RevokeLicense(ctx, id, r.PostForm.Get("reason"))
	if err != nil {
		return err
	}
	return redirect(w, r, clientURL(l.ClientID), fmt.Sprintf("License %d revoked; its slot is free again.", l.ID))
}

// allowed refuses early, with the store's words, what the viewer's role
// cannot do: for the pages that only ask for confirmation. The store
// checks again when the form is posted.
func allowed(r *http.Request, p reseller.Permission) error {
	v := viewerFrom(r.Context())
	if !v.Allowed(p) {
		return reseller.Errorf(reseller.EFORBIDDEN, "Your role (%s) does not allow this.", v.Actor.Role)
	}
	return nil
}

// formID reads a positive integer form field.
func formID(r *http.Request, field, what string) (int64, error) {
	var id int64
	v := r.PostForm.Get(field)
	if _, err := fmt.Sscan(v, &id); err != nil || id < 1 || fmt.Sprint(id) != v {
		if v == "" {
			return 0, reseller.Errorf(reseller.EINVALID, "Choose a %s.", strings.ToLower(what))
		}
		return 0, reseller.Errorf(reseller.EINVALID, "%s %q is not a valid id.", what, v)
	}
	return id, nil
}

// reissueKeyPage asks before giving a license a new key: the plugin
// configured with the old one stops checking in.
func (s *Server) reissueKeyPage(w http.ResponseWriter, r *http.Request) error {
	l, c, err := s.activeLicense(r, "License %d is revoked; only an active license gets a new key.")
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("License %d of %s gets a new key, shown once on the next page. The current key stops working at once: "+
		"the plugin on the site checks in again only after the new key is entered in its settings. This is recorded in the audit log.", l.ID, c.Email)
	d := &confirmData{page: s.newPage(w, r, "Re-issue license key", "clients"), Heading: "Re-issue this license's key?", Message: msg,
		Action: fmt.Sprintf("/licenses/%d/reissue", l.ID), Button: "Re-issue key", Cancel: clientURL(c.ID)}
	return s.render(w, r, http.StatusOK, "confirm.html", d)
}

// reissueKeyForm gives the license its new key and shows it, this once.
func (s *Server) reissueKeyForm(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r, "License")
	if err != nil {
		return err
	}
	l, err := s.store.ReissueLicenseKey(ctx, id)
	if err != nil {
		return err
	}
	c, err := s.store.FindClientByID(ctx, l.ClientID)
	if err != nil {
		return err
	}
	return s.showKey(w, r, &secretData{Heading: fmt.Sprintf("New key for license %d", l.ID),
		Intro: fmt.Sprintf("The old key of license %d (%s) no longer works. Enter this one in the plugin's settings on the client's site.", l.ID, c.Email),
		Label: "License key", Secret: l.Key,
		Note: "The key is shown only now: it is kept hashed, so nobody can read it again. If it is lost, re-issue it once more.",
		Back: clientURL(c.ID), BackText: "Back to the client"})
}
