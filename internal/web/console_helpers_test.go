package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/resellerconsole/reseller"
)

// visitor is a browser without JavaScript: a cookie jar, no automatic
// redirects (tests look at them), and a fixed address.
type visitor struct {
	t      *testing.T
	e      *env
	client *http.Client
	header map[string]string
}

func (e *env) visitor(t *testing.T) *visitor {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &visitor{t: t, e: e, header: map[string]string{}, client: &http.Client{
		Jar:           jar,
		Transport:     e.srv.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// signedIn returns a visitor signed in as the env's user with that role, through
// a session made in the store (signing in through the form costs an
// argon2id hash, which the sign-in tests pay for).
func (e *env) signedIn(t *testing.T, r reseller.Role) *visitor {
	t.Helper()
	v := e.visitor(t)
	v.session(e.users[r].ID)
	return v
}

// session signs the visitor in as the user, straight through the store.
func (v *visitor) session(userID int64) {
	v.t.Helper()
	secret, err := v.e.db.CreateSession(context.Background(), userID, "", "")
	if err != nil {
		v.t.Fatal(err)
	}
	v.setCookie("session", secret)
}

func (v *visitor) setCookie(name, value string) {
	u, _ := url.Parse(v.e.srv.URL)
	v.client.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

func (v *visitor) cookie(name string) *http.Cookie {
	u, _ := url.Parse(v.e.srv.URL)
	for _, c := range v.client.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (v *visitor) get(path string) *page {
	v.t.Helper()
	return v.do("GET", path, nil)
}

// post sends a form, as a browser on the console's own origin would.
func (v *visitor) post(path string, form url.Values) *page {
	v.t.Helper()
	return v.do("POST", path, form)
}

func (v *visitor) do(method, path string, form url.Values) *page {
	v.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r, err := http.NewRequest(method, v.e.srv.URL+path, body)
	if err != nil {
		v.t.Fatal(err)
	}
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	r.Header.Set("User-Agent", "console-test/1")
	if method == "POST" {
		r.Header.Set("Sec-Fetch-Site", "same-origin")
		r.Header.Set("Origin", v.e.srv.URL)
	}
	for k, val := range v.header {
		if val == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, val)
		}
	}
	res, err := v.client.Do(r)
	if err != nil {
		v.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		v.t.Fatal(err)
	}
	return &page{t: v.t, method: method, path: path, status: res.StatusCode, header: res.Header, body: string(b)}
}

// page is a response of the console.
type page struct {
	t            *testing.T
	method, path string
	status       int
	header       http.Header
	body         string
}

// want fails unless the status is as given and the body contains each of
// the strings.
func (p *page) want(status int, contains ...string) *page {
	p.t.Helper()
	if p.status != status {
		p.t.Fatalf("%s %s: status %d, want %d; body:\n%s", p.method, p.path, p.status, status, excerpt(p.body))
	}
	for _, s := range contains {
		if !strings.Contains(p.body, s) {
			p.t.Fatalf("%s %s: body lacks %q:\n%s", p.method, p.path, s, excerpt(p.body))
		}
	}
	return p
}

// lacks fails if the body contains any of the strings.
func (p *page) lacks(strs ...string) *page {
	p.t.Helper()
	for _, s := range strs {
		if strings.Contains(p.body, s) {
			p.t.Fatalf("%s %s: body has %q", p.method, p.path, s)
		}
	}
	return p
}

// redirects fails unless the response is a 303 to the location.
func (p *page) redirects(location string) *page {
	p.t.Helper()
	if p.status != http.StatusSeeOther || p.header.Get("Location") != location {
		p.t.Fatalf("%s %s: %d to %q, want 303 to %q; body:\n%s", p.method, p.path, p.status, p.header.Get("Location"), location, excerpt(p.body))
	}
	return p
}

// excerpt keeps failure output readable: the main part of a page.
func excerpt(body string) string {
	if i := strings.Index(body, `<main`); i >= 0 {
		body = body[i:]
	}
	if len(body) > 3000 {
		body = body[:3000] + "…"
	}
	return body
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}
