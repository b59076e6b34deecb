package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/resellerconsole/reseller"
)

type signInData struct {
	page
	Email string
	Next  string
	Err   string
}

func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) error {
	next := safeNext(r.URL.Query().Get("next"))
	if viewerFrom(r.Context()) != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	d := &signInData{page: s.newPage(w, r, "Sign in", ""), Next: next, Email: r.URL.Query().Get("email")}
	return s.render(w, r, http.StatusOK, "signin.html", d)
}

// signIn checks the password, within the failed sign-in limits, and starts
// a session.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	email, password := strings.TrimSpace(r.PostForm.Get("email")), r.PostForm.Get("password")
	d := &signInData{page: s.newPage(w, r, "Sign in", ""), Email: email, Next: safeNext(r.PostForm.Get("next"))}
	fail := func(status int, msg string) error {
		d.Err = msg
		return s.render(w, r, status, "signin.html", d)
	}
	if email == "" || password == "" {
		return fail(http.StatusBadRequest, "Enter your email and your password.")
	}
	keys := loginKeys(s.clientIP(r), email)
	now := s.now()
	u, err := s.store.CheckPassword(ctx, email, password)
	if wait := s.logins.wait(now, keys...); wait > 0 {
		// Refused after the same password check as any other attempt, and
		// whatever its outcome: a locked user, a known one and an unknown
		// email all take as long and answer alike.
		n := minutes(wait)
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		return fail(http.StatusTooManyRequests, fmt.Sprintf("Too many failed sign-ins; try again in %s.", plural(n, "minute", "minutes")))
	}
	if reseller.ErrorCode(err) == reseller.EUNAUTHORIZED {
		s.logins.fail(now, keys...)
		return fail(http.StatusUnauthorized, "That email and password do not match. Check both and try again.")
	} else if err != nil {
		return err
	}
	// A session this browser had ends: a sign-in always starts a new one,
	// so that no session id set before it (fixation) outlives it.
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if err := s.store.DeleteSession(ctx, c.Value); err != nil {
			return err
		}
	}
	if err := s.startSession(w, r, u.ID); err != nil {
		return err
	}
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
	return nil
}

// startSession starts a session for the user and gives this browser its cookie.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, userID int64) error {
	secret, err := s.store.CreateSession(r.Context(), userID, s.clientIP(r), headerText(r.UserAgent(), maxUserAgentLen))
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: secret, Path: "/", MaxAge: int(sessionMaxAge.Seconds()),
		HttpOnly: true, Secure: isTLS(r), SameSite: http.SameSiteLaxMode})
	return nil
}

// loginKeys are what failed sign-ins are counted against: the client's
// address and the user (by email, whether or not such a user exists), never
// the account, so that one user's lock does not lock their team out and
// does not tell who is on it.
func loginKeys(ip, email string) []string {
	e, err := reseller.NormalizeEmail(email)
	if err != nil {
		e = strings.ToLower(truncate(email, reseller.MaxEmailLen))
	}
	return []string{"ip " + ip, "user " + e}
}

// sessionMaxAge is how long the browser keeps the cookie; the store ends
// the session itself earlier when it is idle.
const sessionMaxAge = 7 * 24 * time.Hour

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if err := s.store.DeleteSession(r.Context(), c.Value); err != nil {
			return err
		}
	}
	clearCookie(w, r, sessionCookie)
	setFlash(w, r, "ok", "You have signed out.")
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
	return nil
}

// safeNext returns where to go after signing in: a path on this site, never
// another site ("//evil.example" or "/\evil.example" would be one).
func safeNext(next string) string {
	const home = "/"
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") ||
		next == "/signin" || strings.HasPrefix(next, "/signin?") {
		return home
	}
	for _, r := range next {
		// A browser drops tabs and newlines from a URL, and some treat other
		// controls as nothing: "/\t/evil.example" would become "//evil.example".
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == ' ' {
			return home
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return home
	}
	return next
}

type passwordData struct {
	page
	User   *reseller.User
	Secret string
	Err    string
}

// passwordPage is where a set-password link lands.
func (s *Server) passwordPage(w http.ResponseWriter, r *http.Request) error {
	secret := r.PathValue("secret")
	u, err := s.store.PasswordLinkUser(r.Context(), secret)
	if err != nil {
		return err
	}
	d := &passwordData{page: s.newPage(w, r, "Set your password", ""), User: u, Secret: secret}
	return s.render(w, r, http.StatusOK, "password.html", d)
}

func (s *Server) setPassword(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	secret := r.PathValue("secret")
	u, err := s.store.PasswordLinkUser(ctx, secret)
	if err != nil {
		return err
	}
	d := &passwordData{page: s.newPage(w, r, "Set your password", ""), User: u, Secret: secret}
	pw := r.PostForm.Get("password")
	if pw != r.PostForm.Get("confirm") {
		d.Err = "The two passwords are not the same. Type the same password twice."
		return s.render(w, r, http.StatusBadRequest, "password.html", d)
	}
	if err := s.store.UsePasswordLink(ctx, secret, pw); userError(err) {
		d.Err = reseller.ErrorMessage(err)
		return s.render(w, r, statusOf(err), "password.html", d)
	} else if err != nil {
		return err
	}
	// Whoever was signed in on this browser is not necessarily this user.
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.store.DeleteSession(ctx, c.Value)
		clearCookie(w, r, sessionCookie)
	}
	setFlash(w, r, "ok", "Your password is set. Sign in with it now.")
	http.Redirect(w, r, "/signin?email="+url.QueryEscape(u.Email), http.StatusSeeOther)
	return nil
}
