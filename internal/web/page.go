package web

import (
	"bytes"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/resellerconsole/reseller"
)

// What every console page shares: its data, how it shows times, how it is
// rendered, and how errors and one-time messages reach the viewer.

// page is what every template gets; each page's data embeds it.
type page struct {
	Title string
	Nav   string // the navigation item to mark as current
	V     *viewer
	Flash *flash
	// Form is the form that was posted and failed, to show its error and
	// values in place; nil on a plain GET.
	Form *form
	Path string // the request's path and query, for sign-in's next
	Now  time.Time
	// HideTarget leaves the target out of entry tables: on a client's own
	// timeline it would repeat the page's subject on every row.
	HideTarget bool
	// Targets are the clients of the entries shown, by id, deleted ones
	// included: an email can belong to a deleted client and to the one
	// that reused it, and the table tells them apart.
	Targets map[int64]*reseller.Client
	// LogStopped: the account's audit log failed its consistency check, so
	// changes are refused; every page says so.
	LogStopped bool
}

// T renders a time for the viewer: local time, the UTC instant in datetime
// and on hover.
func (p *page) T(t time.Time) template.HTML {
	if t.IsZero() {
		return ""
	}
	loc := time.UTC
	if p.V != nil && p.V.Loc != nil {
		loc = p.V.Loc
	}
	u := t.UTC()
	return template.HTML(`<time datetime="` + u.Format(time.RFC3339Nano) + `" title="` + u.Format("2006-01-02 15:04:05") + ` UTC">` +
		template.HTMLEscapeString(t.In(loc).Format("2 Jan 2006, 15:04:05")) + `</time>`)
}

// D renders the date of a time for the viewer, with the full UTC time on hover.
func (p *page) D(t time.Time) template.HTML {
	loc := time.UTC
	if p.V != nil && p.V.Loc != nil {
		loc = p.V.Loc
	}
	u := t.UTC()
	return template.HTML(`<time datetime="` + u.Format(time.RFC3339Nano) + `" title="` + u.Format("2006-01-02 15:04:05") + ` UTC">` +
		template.HTMLEscapeString(t.In(loc).Format("2 Jan 2006")) + `</time>`)
}

// TP renders an optional time, or a dash.
func (p *page) TP(t *time.Time) template.HTML {
	if t == nil {
		return `<span class="muted">—</span>`
	}
	return p.T(*t)
}

// Zone names the viewer's zone as the page says it.
func (p *page) Zone() string {
	if p.V == nil || p.V.Loc == nil {
		return "UTC"
	}
	return p.V.Loc.String()
}

// Offset is the viewer's zone's current offset from UTC, as UTC+09:00.
func (p *page) Offset() string {
	loc := time.UTC
	if p.V != nil && p.V.Loc != nil {
		loc = p.V.Loc
	}
	return "UTC" + p.Now.In(loc).Format("-07:00")
}

// form is a posted form that failed: which one, its values and the error.
type form struct {
	Name   string
	Values url.Values
	Err    string
}

// Is reports whether the failed form is the named one.
func (f *form) Is(name string) bool { return f != nil && f.Name == name }

// Get returns a posted value, to refill the field.
func (f *form) Get(key string) string {
	if f == nil {
		return ""
	}
	return f.Values.Get(key)
}

// ErrFor returns the error if the failed form is the named one.
func (f *form) ErrFor(name string) string {
	if f.Is(name) {
		return f.Err
	}
	return ""
}

// flash is a one-time message shown after a redirect.
type flash struct {
	Kind string // "ok" or "error"
	Msg  string
}

func (s *Server) newPage(w http.ResponseWriter, r *http.Request, title, nav string) page {
	p := page{Title: title, Nav: nav, V: viewerFrom(r.Context()), Flash: takeFlash(w, r), Path: r.URL.RequestURI(), Now: s.now()}
	if s.signer != nil && p.V != nil {
		p.LogStopped = reseller.ErrorCode(s.signer.LogHealth(r.Context())) == reseller.ELOGINCONSISTENT
	}
	return p
}

// render writes a page template with data and status. It renders into a
// buffer first, so that a template error is a clean 500.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) error {
	t, ok := s.tmpl[name]
	if !ok {
		return errors.New("web: no template " + name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return err
	}
	s.rendered.Store(name, true)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
	return nil
}

// errorPage is the data of error.html.
type errorPage struct {
	page
	Status  int
	Heading string
	Message string
}

// pageError shows err as a page with the status its code maps to: the same
// mapping as the API's problems. Internal errors are logged with the
// request id, which the page quotes.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	p := problemOf(err)
	if p.Code == reseller.EUNAUTHORIZED {
		s.toSignIn(w, r)
		return
	}
	msg := p.Detail
	if p.Status == http.StatusInternalServerError {
		info := infoFrom(r.Context())
		s.log.LogAttrs(r.Context(), slog.LevelError, "internal error",
			slog.String("request_id", info.id), slog.String("route", info.route), slog.String("error", err.Error()))
		msg += " Quote request id " + info.id + " if you report it."
	}
	heading := p.Title
	switch p.Status {
	case http.StatusForbidden:
		heading = "Not allowed"
	case http.StatusNotFound:
		heading = "Not found"
	}
	data := &errorPage{page: s.newPage(w, r, heading, ""), Status: p.Status, Heading: heading, Message: msg}
	if err := s.render(w, r, p.Status, "error.html", data); err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelError, "error page failed", slog.String("error", err.Error()))
		http.Error(w, msg, p.Status)
	}
}

// redirect ends a successful POST: see the result with a GET (so that
// reloading does not post again), with a message to show there.
func redirect(w http.ResponseWriter, r *http.Request, to, msg string) error {
	if msg != "" {
		setFlash(w, r, "ok", msg)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

func setFlash(w http.ResponseWriter, r *http.Request, kind, msg string) {
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(kind + ":" + msg), Path: "/",
		MaxAge: 60, HttpOnly: true, Secure: isTLS(r), SameSite: http.SameSiteLaxMode})
}

// takeFlash returns the message a redirect left, and clears it.
func takeFlash(w http.ResponseWriter, r *http.Request) *flash {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	clearCookie(w, r, flashCookie)
	v, err := url.QueryUnescape(c.Value)
	kind, msg, ok := strings.Cut(v, ":")
	if err != nil || !ok || (kind != "ok" && kind != "error") || msg == "" {
		return nil
	}
	return &flash{Kind: kind, Msg: truncate(msg, 500)}
}

func clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	if _, err := r.Cookie(name); err != nil {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: isTLS(r), SameSite: http.SameSiteLaxMode})
}

// isTLS reports whether the browser reached us over HTTPS, directly or
// through the trusted proxy, so that cookies are Secure there.
func isTLS(r *http.Request) bool {
	return r.TLS != nil || r.Context().Value(behindTLSKey{}) == true
}

type behindTLSKey struct{}

// userError reports whether err is the user's to fix (bad input, a
// conflict, a refusal) rather than ours: those are shown in place, on the
// form that caused them.
func userError(err error) bool {
	code := reseller.ErrorCode(err)
	return code == reseller.EINVALID || reseller.IsConflict(code) || code == reseller.ETOOLARGE
}

// statusOf is the HTTP status of a user error shown in place.
func statusOf(err error) int { return problemOf(err).Status }
