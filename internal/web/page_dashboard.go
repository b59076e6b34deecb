package web

import (
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/resellerconsole/reseller"
)

// The dashboard: the landing page after sign-in. It answers one question,
// whether anything across the account's clients needs attention now, and
// each figure links to the page that explains it.

type dashboardData struct {
	page
	D     *reseller.Dashboard
	Pools []*poolRow
	// NotSeenDays is the clients list filter behind "not seen for more than a day".
	NotSeenDays int
}

// home shows the signed-in their dashboard and sends everyone else to sign in.
func (s *Server) home(w http.ResponseWriter, r *http.Request) error {
	if viewerFrom(r.Context()) == nil {
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return nil
	}
	return s.dashboardPage(w, r)
}

func (s *Server) dashboardPage(w http.ResponseWriter, r *http.Request) error {
	dash, err := s.store.Dashboard(r.Context())
	if err != nil {
		return err
	}
	d := &dashboardData{page: s.newPage(w, r, "Dashboard", "dashboard"), D: dash, NotSeenDays: int(reseller.NotSeenAfter / (24 * time.Hour))}
	for _, p := range dash.Pools {
		d.Pools = append(d.Pools, &poolRow{Pool: p, Low: p.Capacity * 75 / 100, High: p.Capacity * 90 / 100})
	}
	return s.render(w, r, http.StatusOK, "dashboard.html", d)
}

// Ago renders an optional time as how long ago it was ("3 h ago"), with
// the exact time in the viewer's zone, and in UTC, on hover; a dash for nil.
func (p *page) Ago(t *time.Time) template.HTML {
	if t == nil || t.IsZero() {
		return `<span class="muted">never</span>`
	}
	loc := time.UTC
	if p.V != nil && p.V.Loc != nil {
		loc = p.V.Loc
	}
	u := t.UTC()
	exact := t.In(loc).Format("2 Jan 2006, 15:04:05") + " (" + loc.String() + "), " + u.Format("2006-01-02 15:04:05") + " UTC"
	return template.HTML(`<time datetime="` + u.Format(time.RFC3339Nano) + `" title="` + template.HTMLEscapeString(exact) + `">` +
		template.HTMLEscapeString(ago(p.Now.Sub(*t))) + `</time>`)
}

// ago writes a duration in the past the short way people read it.
func ago(d time.Duration) string {
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	case d < 60*24*time.Hour:
		return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
	case d < 2*365*24*time.Hour:
		return fmt.Sprintf("%d months ago", int(d/(30*24*time.Hour)))
	}
	return fmt.Sprintf("%d years ago", int(d/(365*24*time.Hour)))
}

// scoreClass is the CSS class of a security score: good, fair or poor.
func scoreClass(score *int) string {
	switch {
	case score == nil:
		return "score score-none"
	case *score >= 80:
		return "score score-good"
	case *score >= 50:
		return "score score-fair"
	}
	return "score score-poor"
}

// scoreWord says in words what the score's colour says.
func scoreWord(score *int) string {
	switch {
	case score == nil:
		return "no report"
	case *score >= 80:
		return "good"
	case *score >= 50:
		return "fair"
	}
	return "poor"
}
