package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
	"github.com/resellerconsole/reseller/internal/web"
)

const goodPassword = "correct horse battery"

// setPassword gives the env's user of the role a password (argon2id: slow).
func (e *env) setPassword(t *testing.T, r reseller.Role) {
	t.Helper()
	if err := e.db.SetPassword(e.operator(), e.users[r].ID, goodPassword); err != nil {
		t.Fatal(err)
	}
}

func TestConsoleSignIn(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.setPassword(t, operator)
		v := e.visitor(t)

		v.get("/").redirects("/signin")
		v.get("/clients?status=active").redirects("/signin?next=%2Fclients%3Fstatus%3Dactive")
		v.get("/signin?next=%2Fclients%3Fstatus%3Dactive").want(200, `name="next" value="/clients?status=active"`, `autocomplete="current-password"`)

		v.post("/signin", form("email", "operator@acme.test", "password", "wrong password!", "next", "/clients")).
			want(http.StatusUnauthorized, "That email and password do not match.", `value="operator@acme.test"`)
		if v.cookie("session") != nil {
			t.Fatal("a failed sign-in set a session cookie")
		}
		v.post("/signin", form("email", "", "password", "")).want(http.StatusBadRequest, "Enter your email and your password.")

		res := v.post("/signin", form("email", "Operator@Acme.test", "password", goodPassword, "next", "/clients?status=active"))
		res.redirects("/clients?status=active")
		raw := res.header.Get("Set-Cookie")
		for _, want := range []string{"session=rss_", "Path=/", "HttpOnly", "SameSite=Lax"} {
			if !strings.Contains(raw, want) {
				t.Errorf("Set-Cookie %q lacks %s", raw, want)
			}
		}
		if strings.Contains(raw, "Secure") {
			t.Errorf("Set-Cookie %q is Secure over plain HTTP", raw)
		}
		v.get("/").want(200, "Dashboard", "Total clients", `aria-current="page">Dashboard`)
		v.get("/signin").redirects("/")
		v.get("/clients").want(200, "operator@acme.test", "Acme Hosting", `action="/signout"`)

		// The session lives in the database: a restarted server knows it.
		restarted := serve(t, web.New(web.Config{Store: db, Logger: slog.New(slog.DiscardHandler)}))
		r, _ := http.NewRequest("GET", restarted+"/clients", nil)
		r.AddCookie(&http.Cookie{Name: "session", Value: v.cookie("session").Value})
		if res, err := http.DefaultClient.Do(r); err != nil || res.StatusCode != 200 {
			t.Fatalf("restarted server: %v %v", res.StatusCode, err)
		}

		secret := v.cookie("session").Value
		v.post("/signout", nil).redirects("/signin")
		if v.cookie("session") != nil {
			t.Fatal("the session cookie survived signing out")
		}
		v.get("/signin").want(200, "You have signed out.")
		if _, err := db.SessionActor(context.Background(), secret); reseller.ErrorCode(err) != reseller.EUNAUTHORIZED {
			t.Fatalf("session after sign-out: %v", err)
		}
		// An old cookie is no way back in.
		v.setCookie("session", secret)
		v.get("/clients").redirects("/signin?next=%2Fclients")
	})
}

// After a sign-in, only paths on this site are followed.
func TestConsoleSignInNext(t *testing.T) {
	sqldbtest.SQLiteOnly(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.setPassword(t, auditor)
		// Behind a TLS-terminating proxy the cookies are Secure.
		proxied := newEnv(t, sqldbtest.MustOpen(t, db.Dialect()), func(c *web.Config) { c.TrustProxy = true })
		proxied.setPassword(t, auditor)
		pv := proxied.visitor(t)
		pv.header["X-Forwarded-Proto"] = "https"
		res := pv.post("/signin", form("email", "auditor@acme.test", "password", goodPassword)).redirects("/")
		if raw := res.header.Get("Set-Cookie"); !strings.Contains(raw, "; Secure") || !strings.Contains(raw, "HttpOnly") {
			t.Fatalf("Set-Cookie behind TLS: %q", raw)
		}
		// Signing in again replaces the session rather than adding one.
		old := regexp.MustCompile(`session=(rss_[A-Za-z0-9_-]+)`).FindStringSubmatch(res.header.Get("Set-Cookie"))[1]
		pv.setCookie("session", old)
		pv.post("/signin", form("email", "auditor@acme.test", "password", goodPassword)).redirects("/")
		if _, err := proxied.db.SessionActor(context.Background(), old); reseller.ErrorCode(err) != reseller.EUNAUTHORIZED {
			t.Fatalf("the earlier session still works: %v", err)
		}

		for next, want := range map[string]string{
			"/audit?action=client.created": "/audit?action=client.created",
			"//evil.example/x":             "/",
			"/\\evil.example":              "/",
			"https://evil.example/":        "/",
			"/\t/evil.example":             "/",
			"/\n/evil.example":             "/",
			"/a\\b":                        "/",
			"/\u0085/evil.example":         "/",
			"/%09/evil.example":            "/%09/evil.example",
			"":                             "/",
		} {
			v := e.visitor(t)
			v.post("/signin", form("email", "auditor@acme.test", "password", goodPassword, "next", next)).redirects(want)
		}
	})
}

func TestConsoleSignInRateLimit(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, func(c *web.Config) { c.TrustProxy = true })
		e.setPassword(t, operator)
		e.setPassword(t, auditor)
		from := func(ip string) *visitor {
			v := e.visitor(t)
			v.header["X-Forwarded-For"] = ip
			return v
		}
		attacker := from("203.0.113.5")
		for range 5 {
			attacker.post("/signin", form("email", "operator@acme.test", "password", "guess guess guess")).want(http.StatusUnauthorized)
		}
		// The user is locked, from anywhere, even with the right password...
		const msg = "Too many failed sign-ins; try again in 3 minutes."
		res := from("198.51.100.7").post("/signin", form("email", "operator@acme.test", "password", goodPassword)).want(http.StatusTooManyRequests, msg)
		if res.header.Get("Retry-After") == "" {
			t.Fatal("no Retry-After")
		}
		// ...but not their team: another user of the account signs in.
		from("198.51.100.7").post("/signin", form("email", "auditor@acme.test", "password", goodPassword)).redirects("/")
		// The attacker's address is locked for every email, known or not.
		attacker.post("/signin", form("email", "auditor@acme.test", "password", goodPassword)).want(http.StatusTooManyRequests, msg)
		attacker.post("/signin", form("email", "nobody@acme.test", "password", goodPassword)).want(http.StatusTooManyRequests, msg)
		// An unknown email is limited exactly like a known user: the answers
		// do not tell who is on the team.
		prober := from("192.0.2.44")
		for range 5 {
			prober.post("/signin", form("email", "ghost@acme.test", "password", "guess guess guess")).want(http.StatusUnauthorized, "do not match")
		}
		from("192.0.2.45").post("/signin", form("email", "ghost@acme.test", "password", "guess guess guess")).want(http.StatusTooManyRequests, msg)
		// A user of another account from another address is not affected.
		other := from("192.0.2.33")
		other.post("/signin", form("email", "op@other.test", "password", "wrong but allowed")).want(http.StatusUnauthorized)
		// The allowance comes back over time: one attempt per 3 minutes.
		e.clock.Add(3 * time.Minute)
		from("198.51.100.8").post("/signin", form("email", "operator@acme.test", "password", goodPassword)).redirects("/")
		from("198.51.100.8").post("/signin", form("email", "operator@acme.test", "password", goodPassword)).redirects("/")
	})
}

func TestConsoleHeaders(t *testing.T) {
	sqldbtest.SQLiteOnly(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		v := e.signedIn(t, owner)
		for _, path := range []string{"/signin", "/clients", "/audit", "/help", "/clients/12345"} {
			res := v.get(path)
			for k, want := range map[string]string{
				"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
				"X-Content-Type-Options":  "nosniff",
				"X-Frame-Options":         "DENY",
				"Cache-Control":           "no-store",
				"Referrer-Policy":         "no-referrer",
				"Content-Type":            "text/html; charset=utf-8",
			} {
				if got := res.header.Get(k); got != want {
					t.Errorf("%s: %s = %q, want %q", path, k, got, want)
				}
			}
			// No inline script or style: the CSP would block it anyway.
			for _, bad := range []string{"<script>", "style=", "<style", "onclick=", "onsubmit=", "javascript:"} {
				if strings.Contains(res.body, bad) {
					t.Errorf("%s has %q", path, bad)
				}
			}
		}
		// Static files: content-hashed names, cached for good.
		body := v.get("/clients").body
		for _, re := range []string{`/static/app\.[0-9a-f]{12}\.css`, `/static/app\.[0-9a-f]{12}\.js`, `/static/favicon\.[0-9a-f]{12}\.svg`} {
			u := regexp.MustCompile(re).FindString(body)
			if u == "" {
				t.Fatalf("page links no %s", re)
			}
			res := v.get(u)
			if res.status != 200 || res.header.Get("Cache-Control") != "public, max-age=31536000, immutable" || len(res.body) == 0 {
				t.Fatalf("%s: %d %q", u, res.status, res.header.Get("Cache-Control"))
			}
		}
		v.get("/static/app.css").want(http.StatusNotFound)
	})
}

// Every state change refuses a form posted from another site.
func TestConsoleCrossOrigin(t *testing.T) {
	sqldbtest.SQLiteOnly(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		v := e.signedIn(t, owner)
		c := e.client(t, "x@example.org", "")
		for _, h := range []map[string]string{
			{"Sec-Fetch-Site": "cross-site"},
			{"Sec-Fetch-Site": "same-site"},
			{"Origin": "https://evil.example", "Sec-Fetch-Site": ""},
		} {
			v.header = h
			for _, path := range []string{"/clients", fmt.Sprintf("/clients/%d/delete", c.ID), "/signout", "/team/tokens", "/settings/timezone"} {
				res := v.do("POST", path, form("email", "y@example.org", "user", "1", "mode", "pinned", "zone", "Asia/Tokyo"))
				if res.status != http.StatusForbidden || !strings.Contains(res.body, "sent from another site") {
					t.Fatalf("%v POST %s: %d", h, path, res.status)
				}
			}
		}
		if n := len(e.entries(t)); n != 1 {
			t.Fatalf("cross-origin posts wrote %d entries", n-1)
		}
		v.header = map[string]string{}
		v.get("/clients").want(200) // still signed in
	})
}

// Every page, for every role: allowed pages render, refused ones are a 403
// page, and signed-out visitors are sent to sign in.
func TestConsolePagesByRole(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		c := e.client(t, "shop@example.org", "Shop")
		l := must(db.AllocateLicense(e.as(operator), c.ID, e.pool.ID, "www.shop.example"))
		site, _ := e.seedSite(t, "site@example.org", "https://site.example.org", 5, 77)
		sl := must(e.allLicenses(t, site.ID))[0]
		all := reseller.Roles
		managers := []reseller.Role{owner, admin}
		changers := []reseller.Role{owner, admin, operator}
		for _, tt := range []struct {
			path    string
			allowed []reseller.Role
			want    string
		}{
			{"/", all, "Security posture"},
			{"/clients", all, "shop@example.org"},
			{"/clients?sort=score&not_seen_days=1", all, "shop@example.org"},
			{fmt.Sprintf("/clients/%d", site.ID), all, "Score and activity"},
			{"/alerts", all, "Unresolved malware"},
			{fmt.Sprintf("/alerts?client_id=%d&severity=critical&dismissed=all", site.ID), all, "Alerts of site@example.org"},
			{fmt.Sprintf("/licenses/%d/reissue", sl.ID), changers, "Re-issue this license"},
			{"/clients?q=shop&status=active", all, "shop@example.org"},
			{fmt.Sprintf("/clients/%d", c.ID), all, "www.shop.example"},
			{fmt.Sprintf("/clients/%d/delete", c.ID), managers, "Delete this client?"},
			{fmt.Sprintf("/licenses/%d/revoke", l.ID), changers, "Revoke this license?"},
			{"/pools", all, "Pro 10"},
			{"/team", managers, "API tokens"},
			{fmt.Sprintf("/team/%d/remove", e.users[auditor].ID), managers, "Remove auditor@acme.test from the team?"},
			{fmt.Sprintf("/team/tokens/%d/revoke", e.tokenID[auditor]), managers, "Revoke API token"},
			{"/audit", all, "License allocated"},
			{"/audit/export.csv", all, "shop@example.org"},
			{"/audit/export.jsonl", all, "shop@example.org"},
			{"/settings", all, "Time zone"},
			{"/help", all, "Writing a query"},
		} {
			for _, r := range reseller.Roles {
				t.Run(strings.TrimPrefix(tt.path, "/")+"/"+string(r), func(t *testing.T) {
					res := e.signedIn(t, r).get(tt.path)
					if contains(tt.allowed, r) {
						res.want(200, tt.want)
					} else {
						res.want(http.StatusForbidden, "Not allowed", fmt.Sprintf("Your role (%s) does not allow this.", r)).lacks(tt.want)
					}
				})
			}
			t.Run(strings.TrimPrefix(tt.path, "/")+"/signed-out", func(t *testing.T) {
				res := e.visitor(t).get(tt.path)
				if tt.path == "/help" {
					res.want(200, tt.want)
					return
				}
				if tt.path == "/" {
					res.redirects("/signin")
					return
				}
				res.redirects("/signin?next=" + url.QueryEscape(tt.path))
			})
		}
		// Another account's things do not exist.
		oc := must(db.CreateClient(e.otherCtx(), "theirs@example.org", ""))
		e.signedIn(t, owner).get(fmt.Sprintf("/clients/%d", oc.ID)).want(http.StatusNotFound, "Client")
		e.signedIn(t, owner).get("/clients/abc").want(http.StatusBadRequest, "not a positive integer")
	})
}

// Every action, for every role: allowed ones change the state and record
// it (through the web), refused ones are a 403 page and change nothing.
func TestConsoleActionsByRole(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		n := 0
		fresh := func(t *testing.T) *reseller.Client {
			n++
			return e.client(t, fmt.Sprintf("c%d@example.org", n), "")
		}
		user := func(t *testing.T) *reseller.User {
			n++
			return must(db.AddUser(e.operator(), fmt.Sprintf("u%d@acme.test", n), reseller.RoleAuditor))
		}
		all := []reseller.Role{owner, admin, operator}
		managers := []reseller.Role{owner, admin}
		for _, tt := range []struct {
			name    string
			allowed []reseller.Role
			// do returns the path and form of the action.
			do func(t *testing.T) (string, url.Values)
			// ok is what an allowed action answers: a redirect target, or
			// text of the page it shows.
			ok     string
			action reseller.Action // the entry it records, if any
		}{
			{"create-client", all, func(t *testing.T) (string, url.Values) {
				n++
				return "/clients", form("email", fmt.Sprintf("new%d@example.org", n), "name", "New")
			}, "303", reseller.ActionClientCreated},
			{"suspend", all, func(t *testing.T) (string, url.Values) {
				return fmt.Sprintf("/clients/%d/suspend", fresh(t).ID), form("reason", "Invoice overdue")
			}, "303", reseller.ActionClientSuspended},
			{"reactivate", all, func(t *testing.T) (string, url.Values) {
				c := fresh(t)
				must(db.SuspendClient(e.as(operator), c.ID, ""))
				return fmt.Sprintf("/clients/%d/reactivate", c.ID), nil
			}, "303", reseller.ActionClientReactivated},
			{"allocate", all, func(t *testing.T) (string, url.Values) {
				return fmt.Sprintf("/clients/%d/licenses", fresh(t).ID), form("pool", fmt.Sprint(e.pool.ID), "label", "a.example")
			}, "rlk_", reseller.ActionLicenseAllocated}, // the new key, shown once
			{"revoke", all, func(t *testing.T) (string, url.Values) {
				l := must(db.AllocateLicense(e.as(operator), fresh(t).ID, e.pool.ID, ""))
				return fmt.Sprintf("/licenses/%d/revoke", l.ID), form("reason", "unused")
			}, "303", reseller.ActionLicenseRevoked},
			{"delete", managers, func(t *testing.T) (string, url.Values) {
				return fmt.Sprintf("/clients/%d/delete", fresh(t).ID), nil
			}, "303", reseller.ActionClientDeleted},
			{"add-user", managers, func(t *testing.T) (string, url.Values) {
				n++
				return "/team", form("email", fmt.Sprintf("added%d@acme.test", n), "role", "operator")
			}, "/password/rsp_", ""},
			{"set-role", managers, func(t *testing.T) (string, url.Values) {
				return fmt.Sprintf("/team/%d/role", user(t).ID), form("role", "operator")
			}, "303", ""},
			{"password-link", managers, func(t *testing.T) (string, url.Values) {
				return fmt.Sprintf("/team/%d/link", user(t).ID), nil
			}, "/password/rsp_", ""},
			{"remove-user", managers, func(t *testing.T) (string, url.Values) {
				return fmt.Sprintf("/team/%d/remove", user(t).ID), nil
			}, "303", ""},
			{"create-token", managers, func(t *testing.T) (string, url.Values) {
				return "/team/tokens", form("name", "sync") // for oneself: the only kind there is
			}, "rsl_", ""},
			{"revoke-token", managers, func(t *testing.T) (string, url.Values) {
				tok, _ := must2(db.CreateTokenFor(e.operator(), user(t).ID, ""))
				return fmt.Sprintf("/team/tokens/%d/revoke", tok.ID), nil
			}, "303", ""},
		} {
			for _, r := range reseller.Roles {
				t.Run(tt.name+"/"+string(r), func(t *testing.T) {
					path, f := tt.do(t)
					before := len(e.entries(t))
					state := teamState(t, e)
					res := e.signedIn(t, r).post(path, f)
					es := e.entries(t)
					if !contains(tt.allowed, r) {
						res.want(http.StatusForbidden, "Not allowed")
						if len(es) != before || teamState(t, e) != state {
							t.Fatal("a refused action changed something")
						}
						return
					}
					if tt.ok == "303" {
						if res.status != http.StatusSeeOther {
							t.Fatalf("status %d, want 303:\n%s", res.status, excerpt(res.body))
						}
					} else {
						res.want(200, tt.ok)
					}
					if tt.action == "" {
						if teamState(t, e) == state {
							t.Fatal("the team did not change")
						}
						return
					}
					last := es[len(es)-1]
					if last.Action != tt.action || last.Actor.Via != reseller.ViaWeb || last.Actor.ID != e.users[r].ID ||
						last.Actor.UserAgent != "console-test/1" || last.Actor.IP != "127.0.0.1" || last.Actor.RequestID == "" {
						t.Fatalf("last entry = %+v", last)
					}
				})
			}
		}
	})
}

// teamState sums up the team and its tokens, to see whether an action changed them.
func teamState(t *testing.T, e *env) string {
	t.Helper()
	var b strings.Builder
	for _, u := range must(e.db.ListUsers(e.operator())) {
		fmt.Fprintf(&b, "%d:%s ", u.ID, u.Role)
	}
	for _, tok := range must(e.db.ListTokens(e.operator())) {
		fmt.Fprintf(&b, "t%d:%v ", tok.ID, tok.RevokedAt != nil)
	}
	var links int
	e.db.SQL().QueryRow("SELECT count(*) FROM password_links").Scan(&links)
	fmt.Fprintf(&b, "links:%d", links)
	return b.String()
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Errors of a form show on the form, with what was typed.
func TestConsoleFormErrors(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		v := e.signedIn(t, owner)
		v.post("/clients", form("email", "not-an-email", "name", "Typed name")).
			want(http.StatusBadRequest, `Email &#34;not-an-email&#34; is not a valid address.`, `value="Typed name"`)
		c := e.client(t, "taken@example.org", "")
		v.post("/clients", form("email", "taken@example.org")).want(http.StatusConflict, "A client with email taken@example.org already exists.")
		must(db.AllocateLicense(e.as(operator), c.ID, e.small.ID, ""))
		c2 := e.client(t, "second@example.org", "")
		v.post(fmt.Sprintf("/clients/%d/licenses", c2.ID), form("pool", fmt.Sprint(e.small.ID), "label", "site.example")).
			want(http.StatusConflict, "has no free slot", `value="site.example"`)
		v.post(fmt.Sprintf("/clients/%d/licenses", c2.ID), form("label", "x")).want(http.StatusBadRequest, "Choose a pool.")
		v.post(fmt.Sprintf("/clients/%d/reactivate", c2.ID), nil).want(http.StatusConflict, "Cannot reactivate a client that is active.")
		v.post("/team", form("email", "owner@acme.test", "role", "admin")).want(http.StatusConflict, "already exists")
		v.post("/settings/timezone", form("mode", "pinned", "zone", "Mars/Olympus")).
			want(http.StatusBadRequest, "is not a known IANA zone", `value="Mars/Olympus"`)
		if got := len(e.entries(t)); got != 3 {
			t.Fatalf("%d entries, want 3 (two clients, one license)", got)
		}
	})
}

func TestConsoleDeleteAndRevokeAskFirst(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		v := e.signedIn(t, admin)
		c := e.client(t, "bye@example.org", "")
		l := must(db.AllocateLicense(e.as(operator), c.ID, e.pool.ID, "www.bye.example"))
		v.get(fmt.Sprintf("/clients/%d", c.ID)).want(200, fmt.Sprintf(`href="/clients/%d/delete"`, c.ID), fmt.Sprintf(`href="/licenses/%d/revoke"`, l.ID))
		v.get(fmt.Sprintf("/licenses/%d/revoke", l.ID)).want(200, "Revoke this license?", "www.bye.example", `name="reason"`)
		v.get(fmt.Sprintf("/clients/%d/delete", c.ID)).want(200, "Delete this client?", "Its 1 active license will be revoked first")
		if len(e.entries(t)) != 2 {
			t.Fatal("asking changed something")
		}
		v.post(fmt.Sprintf("/licenses/%d/revoke", l.ID), form("reason", "moved")).redirects(fmt.Sprintf("/clients/%d", c.ID))
		v.get(fmt.Sprintf("/clients/%d", c.ID)).want(200, "License "+fmt.Sprint(l.ID)+" revoked; its slot is free again.", "moved")
		v.get(fmt.Sprintf("/licenses/%d/revoke", l.ID)).want(http.StatusConflict, "already revoked")
		v.post(fmt.Sprintf("/clients/%d/delete", c.ID), nil).redirects(fmt.Sprintf("/clients/%d", c.ID))
		v.get(fmt.Sprintf("/clients/%d", c.ID)).want(200, "bye@example.org is deleted.", "This client was deleted.").lacks("Allocate a license")
		v.get(fmt.Sprintf("/clients/%d/delete", c.ID)).want(http.StatusConflict, "Cannot delete a client that is deleted.")
	})
}

// The team's one-time links: add a user, hand over the link, set a
// password, sign in; the link works once.
func TestConsolePasswordLink(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		admin := e.signedIn(t, admin)
		res := admin.post("/team", form("email", "newbie@acme.test", "role", "operator")).want(200, "newbie@acme.test is on the team")
		link := regexp.MustCompile(`http://[^"]+/password/rsp_[A-Za-z0-9_-]+`).FindString(res.body)
		if link == "" {
			t.Fatalf("no link in:\n%s", excerpt(res.body))
		}
		path := strings.TrimPrefix(link, e.srv.URL)
		v := e.visitor(t)
		v.get(path).want(200, "Set your password", "newbie@acme.test")
		v.post(path, form("password", "long enough password", "confirm", "another password")).want(http.StatusBadRequest, "not the same")
		v.post(path, form("password", "short", "confirm", "short")).want(http.StatusBadRequest, "at least 10 characters")
		v.post(path, form("password", "long enough password", "confirm", "long enough password")).redirects("/signin?email=newbie%40acme.test")
		v.get("/signin?email=newbie%40acme.test").want(200, "Your password is set.", `value="newbie@acme.test"`)
		v.get(path).want(http.StatusNotFound, "not valid")
		v.post(path, form("password", "long enough password", "confirm", "long enough password")).want(http.StatusNotFound)
		v.post("/signin", form("email", "newbie@acme.test", "password", "long enough password")).redirects("/")
		v.get("/team").want(http.StatusForbidden)

		// An admin cannot make a link for the owner; nor see the button.
		admin.get("/team").lacks(fmt.Sprintf(`action="/team/%d/link"`, e.users[owner].ID))
		admin.post(fmt.Sprintf("/team/%d/link", e.users[owner].ID), nil).want(http.StatusForbidden, "Only the owner")
	})
}

func TestConsoleTransferOwnership(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		v := e.signedIn(t, owner)
		path := fmt.Sprintf("/team/%d/role", e.users[admin].ID)
		v.post(path, form("role", "owner")).want(200, "Make admin@acme.test the owner?", `name="confirm" value="yes"`)
		if u := must(db.FindUserByID(e.operator(), e.users[admin].ID)); u.Role != reseller.RoleAdmin {
			t.Fatal("ownership moved before the confirmation")
		}
		v.post(path, form("role", "owner", "confirm", "yes")).redirects("/team")
		v.get("/team").want(200, "admin@acme.test is now the owner.")
		if u := must(db.FindUserByID(e.operator(), e.users[owner].ID)); u.Role != reseller.RoleAdmin {
			t.Fatalf("the old owner is %s, want admin", u.Role)
		}
	})
}

func TestEveryTemplateRendered(t *testing.T) {
	db := sqldbtest.MustOpen(t, "sqlite")
	e := newEnv(t, db)
	c := e.client(t, "tour@example.org", "Tour")
	v := e.signedIn(t, owner)
	e.visitor(t).get("/signin").want(200)
	for _, p := range []string{"/", "/clients", fmt.Sprintf("/clients/%d", c.ID), fmt.Sprintf("/clients/%d/delete", c.ID), "/alerts",
		"/pools", "/team", "/audit", "/audit/1", "/settings", "/help", "/clients/99999"} {
		v.get(p)
	}
	res := v.post("/team", form("email", "tour@acme.test", "role", "auditor")).want(200)
	link := regexp.MustCompile(`/password/rsp_[A-Za-z0-9_-]+`).FindString(res.body)
	e.visitor(t).get(link).want(200)

	all, rendered := e.server.Templates()
	if len(all) < 12 {
		t.Fatalf("only %d templates: %v", len(all), all)
	}
	if d := cmp.Diff(all, rendered); d != "" {
		t.Fatalf("templates never rendered (-all +rendered):\n%s", d)
	}
}

// serve serves s on a test server and returns its URL.
func serve(t *testing.T, s *web.Server) string {
	t.Helper()
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts.URL
}

// Someone browsing to a page that does not exist gets a page; programs
// keep getting a problem.
func TestConsoleNotFound(t *testing.T) {
	db := sqldbtest.MustOpen(t, "sqlite")
	e := newEnv(t, db)
	v := e.signedIn(t, auditor)
	v.header["Accept"] = "text/html,application/xhtml+xml"
	v.get("/no-such-page").want(http.StatusNotFound, "There is no page /no-such-page here.", "auditor@acme.test", `href="/audit"`)
	v.get("/api/v1/nothing").want(http.StatusNotFound, `"code":"not_found"`)
	v.get("/signout").want(http.StatusMethodNotAllowed, "/signout does not take GET; it takes POST.")
	v.header["Accept"] = "*/*"
	v.get("/no-such-page").want(http.StatusNotFound, `"code":"not_found"`)
}

func TestConsoleSettings(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.setPassword(t, auditor)
		v := e.signedIn(t, auditor)
		other := e.signedIn(t, auditor) // the same user on another device
		v.get("/settings").want(200, "My browser's time zone", "not known yet")

		v.post("/settings/password", form("current", "wrong password", "new", "a brand new password", "confirm", "a brand new password")).
			want(http.StatusUnauthorized, "Your current password is not right.")
		v.post("/settings/password", form("current", goodPassword, "new", "a brand new password", "confirm", "a different one")).
			want(http.StatusBadRequest, "not the same")
		v.post("/settings/password", form("current", goodPassword, "new", "short", "confirm", "short")).
			want(http.StatusBadRequest, "at least 10 characters")
		v.post("/settings/password", form("current", goodPassword, "new", "a brand new password", "confirm", "a brand new password")).redirects("/settings")
		v.get("/settings").want(200, "Your password is changed.")
		if _, err := db.CheckPassword(context.Background(), "auditor@acme.test", "a brand new password"); err != nil {
			t.Fatal(err)
		}

		v.post("/settings/signout-all", nil).redirects("/signin")
		v.get("/settings").redirects("/signin?next=%2Fsettings")
		other.get("/settings").redirects("/signin?next=%2Fsettings")
	})
}
