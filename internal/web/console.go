package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/resellerconsole/reseller"
)

// The web console: server-rendered pages over the same Store as the API,
// signed in with a session cookie. Every page works without JavaScript;
// static/app.js only adds conveniences. Roles are checked by the store for
// every action; pages merely hide what the viewer's role cannot do.

// ConsoleStore is what the console needs of the store beyond the API's needs:
// sessions, set-password links and the viewer's pinned time zone.
type ConsoleStore interface {
	// CreateSession stores a session for a user and returns its secret.
	CreateSession(ctx context.Context, userID int64, ip, userAgent string) (string, error)
	// SessionActor returns the actor of a session secret; EUNAUTHORIZED if it has ended.
	SessionActor(ctx context.Context, secret string) (*reseller.Actor, error)
	// DeleteSession ends a session.
	DeleteSession(ctx context.Context, secret string) error
	// DeleteUserSessions ends every session of a user.
	DeleteUserSessions(ctx context.Context, userID int64) error
	// CreatePasswordLink returns the secret of a one-time set-password link.
	CreatePasswordLink(ctx context.Context, userID int64) (string, error)
	// PasswordLinkUser returns the user a live link is for; ENOTFOUND otherwise.
	PasswordLinkUser(ctx context.Context, secret string) (*reseller.User, error)
	// UsePasswordLink sets the password and spends the link.
	UsePasswordLink(ctx context.Context, secret, password string) error
	// SetTimeZone pins the zone the console shows a user's times in ("" follows the browser).
	SetTimeZone(ctx context.Context, userID int64, tz string) error
	// TimeZone returns a user's pinned zone, "" if none.
	TimeZone(ctx context.Context, userID int64) (string, error)
}

// Cookies of the console.
const (
	sessionCookie = "session"
	flashCookie   = "flash"
	tzCookie      = "tz" // the browser's IANA zone, set by static/app.js
)

// consoleCSP allows the console's own scripts, styles and images only: no
// inline script or style, no framing, forms posting only to us.
const consoleCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// viewer is who looks at a page, and how they see times.
type viewer struct {
	Actor       *reseller.Actor
	Account     *reseller.Account
	Loc         *time.Location
	Pinned      bool   // the zone is the one set in settings
	BrowserZone string // the zone the browser reported, "" if none
	session     string // names the session (a hash of its secret) for rate limits
}

// Allowed reports whether the viewer's role has permission p.
func (v *viewer) Allowed(p reseller.Permission) bool {
	return v != nil && v.Actor != nil && v.Actor.Role.Can(p)
}

// Can is Allowed for templates, which cannot name Go constants: perm is
// one of "view-clients", "manage-clients", "delete-clients", "manage-team",
// "view-audit". Go code uses Allowed.
func (v *viewer) Can(perm string) bool {
	p, ok := permNames[perm]
	if !ok {
		panic("web: unknown permission name " + perm)
	}
	return v.Allowed(p)
}

// permNames are the templates' names of the permissions.
var permNames = map[string]reseller.Permission{
	"view-clients":   reseller.PermViewClients,
	"manage-clients": reseller.PermManageClients,
	"delete-clients": reseller.PermDeleteClients,
	"manage-team":    reseller.PermManageTeam,
	"view-audit":     reseller.PermViewAudit,
}

type viewerKey struct{}

func viewerFrom(ctx context.Context) *viewer {
	v, _ := ctx.Value(viewerKey{}).(*viewer)
	return v
}

// consoleFunc is a console handler. It returns an error for the wrapper to
// show as a page; domain errors keep their message.
type consoleFunc func(w http.ResponseWriter, r *http.Request) error

// Route kinds of the console.
const (
	signedIn = iota // needs a session
	public          // anyone; the viewer is set if there is a session
)

// console wraps a page handler: it names the route, sets the console's
// headers, finds the viewer from the session cookie (sending the signed-out
// to sign in), refuses cross-origin POSTs, and shows errors as pages.
func (s *Server) console(pattern string, kind int, h consoleFunc) http.Handler {
	method, path, _ := strings.Cut(pattern, " ")
	var handler http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.trustProxy && r.Header.Get("X-Forwarded-Proto") == "https" {
			r = r.WithContext(context.WithValue(r.Context(), behindTLSKey{}, true))
		}
		v, err := s.viewerOf(r)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		if v == nil && kind == signedIn {
			s.toSignIn(w, r)
			return
		}
		if v != nil {
			r = r.WithContext(context.WithValue(reseller.NewContext(r.Context(), v.Actor), viewerKey{}, v))
		}
		// Console requests are limited like the API's: per session, or per
		// address for the signed-out (sign-in, set-password links).
		key := "console ip " + s.clientIP(r)
		if v != nil {
			key = "console session " + v.session
		}
		if wait := s.limits.take(key, time.Now()); wait > 0 {
			secs := int(math.Ceil(wait.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			s.pageError(w, r, reseller.Errorf(reseller.ERATELIMITED, "Too many requests; wait %d s and try again.", secs))
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
			if err := r.ParseForm(); err != nil {
				s.pageError(w, r, reseller.Errorf(reseller.EINVALID, "The form could not be read."))
				return
			}
			if err := checkFormText(r.PostForm); err != nil {
				s.pageError(w, r, err)
				return
			}
		}
		if err := h(w, r); err != nil {
			s.pageError(w, r, err)
		}
	})
	if method == http.MethodPost {
		handler = s.cop.Handler(handler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		infoFrom(r.Context()).route = path
		consoleHeaders(w)
		handler.ServeHTTP(w, r)
	})
}

// consoleHeaders sets the headers of every console page. Pages show an
// account's data, so no cache keeps them.
func consoleHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", consoleCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Cookie")
}

// viewerOf returns the viewer of a request's session, nil without one. A
// session that has ended loses its cookie.
func (s *Server) viewerOf(r *http.Request) (*viewer, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	ctx := r.Context()
	a, err := s.store.SessionActor(ctx, c.Value)
	if reseller.ErrorCode(err) == reseller.EUNAUTHORIZED {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	info := infoFrom(ctx)
	a.IP, a.UserAgent, a.RequestID = s.clientIP(r), headerText(r.UserAgent(), maxUserAgentLen), info.id
	info.actorID = a.UserID
	sum := sha256.Sum256([]byte(c.Value))
	v := &viewer{Actor: a, Loc: time.UTC, session: hex.EncodeToString(sum[:8])}
	if v.Account, err = s.store.FindAccountByID(ctx, a.AccountID); err != nil {
		return nil, err
	}
	pinned, err := s.store.TimeZone(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	if c, err := r.Cookie(tzCookie); err == nil {
		if loc := loadZone(c.Value); loc != nil {
			v.BrowserZone, v.Loc = loc.String(), loc
		}
	}
	if loc := loadZone(pinned); loc != nil {
		v.Loc, v.Pinned = loc, true
	}
	return v, nil
}

// loadZone loads an IANA zone name, nil if it is not one.
func loadZone(name string) *time.Location {
	name, _ = url.QueryUnescape(name)
	loc, err := reseller.LoadZone(name)
	if err != nil {
		return nil
	}
	return loc
}

// toSignIn sends a signed-out visitor to the sign-in page, to come back
// where they were going (for GETs; a form they posted is lost).
func (s *Server) toSignIn(w http.ResponseWriter, r *http.Request) {
	clearCookie(w, r, sessionCookie)
	target := "/signin"
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// newPage returns the page data common to every template.
// initConsole loads the templates and static files and registers the
// console's routes. An error is a broken build: New panics with it.
func (s *Server) initConsole() error {
	var err error
	if s.assets, s.assetURLs, err = loadAssets(); err != nil {
		return err
	}
	if s.tmpl, err = parseTemplates(s.assetURLs); err != nil {
		return err
	}
	s.logins = newLoginLimiter()
	s.cop = http.NewCrossOriginProtection()
	s.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.pageError(w, r, reseller.Errorf(reseller.EFORBIDDEN,
			"This form was sent from another site, so it was refused. Open the console and try again from there."))
	}))
	s.mux.HandleFunc("GET /static/{name}", s.serveStatic)
	for _, rt := range s.consoleRoutes() {
		s.mux.Handle(rt.pattern, s.console(rt.pattern, rt.kind, rt.run))
	}
	return nil
}

// browsing reports whether a request that matched no route comes from
// someone browsing the console (who gets a page) rather than a program
// (which gets a problem).
func browsing(r *http.Request) bool {
	return r.Method == http.MethodGet && !strings.HasPrefix(r.URL.Path, "/api/") &&
		strings.Contains(r.Header.Get("Accept"), "text/html")
}

// consolePageError shows err as a console page outside any console route,
// with the viewer's navigation if they are signed in.
func (s *Server) consolePageError(w http.ResponseWriter, r *http.Request, err error) {
	consoleHeaders(w)
	if v, verr := s.viewerOf(r); verr == nil && v != nil {
		r = r.WithContext(context.WithValue(reseller.NewContext(r.Context(), v.Actor), viewerKey{}, v))
	}
	s.pageError(w, r, err)
}
