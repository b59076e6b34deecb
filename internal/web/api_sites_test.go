package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
	"github.com/resellerconsole/reseller/internal/web"
)

// onboarded is the answer to POST /api/v1/clients.
type onboarded struct {
	reseller.Client
	License *reseller.License `json:"license"`
}

// onboard creates a client with a first license from the env's big pool and
// returns it with the license's key.
func (e *env) onboard(t *testing.T, email, site string) (*reseller.Client, *reseller.License) {
	t.Helper()
	var o onboarded
	e.post(t, operator, "/api/v1/clients", fmt.Sprintf(`{"email":%q,"site_url":%q,"pool_id":%d}`, email, site, e.pool.ID)).decode(t, &o)
	if o.License == nil || !strings.HasPrefix(o.License.Key, reseller.LicenseKeyPrefix) {
		t.Fatalf("onboarding %s: no license key in %+v", email, o)
	}
	return &o.Client, o.License
}

// checkIn sends a check-in with a license key.
func (e *env) checkIn(t *testing.T, key, body string) *response {
	t.Helper()
	return e.do(t, req{method: "POST", path: "/api/plugin/v1/checkin", body: body, header: map[string]string{"Authorization": "License " + key}})
}

func checkInBody(score int) string {
	return fmt.Sprintf(`{"site_url":"https://shop.example.io","plugin_version":"4.2.0","platform_version":"6.5.1","score":%d}`, score)
}

// logSize is the number of entries and Merkle hashes of every log.
func logSize(t *testing.T, db *sqldb.DB) string {
	t.Helper()
	var entries, hashes int64
	if err := db.SQL().QueryRow("SELECT (SELECT count(*) FROM audit_entries), (SELECT count(*) FROM audit_hashes)").Scan(&entries, &hashes); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(entries, " entries, ", hashes, " hashes")
}

func TestOnboardWithPool(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		var o onboarded
		e.post(t, operator, "/api/v1/clients", fmt.Sprintf(`{"email":"ann@example.io","site_url":"HTTPS://Shop.Example.io:443/","pool_id":%d,"label":"shop"}`, e.small.ID)).
			decode(t, &o)
		if o.SiteURL != "https://shop.example.io" || o.Licenses != 1 || o.Product != "shield" || o.License == nil || o.License.Label != "shop" {
			t.Fatalf("onboarded %+v, license %+v", o.Client, o.License)
		}
		es := e.entries(t)
		if len(es) != 2 || es[0].Action != reseller.ActionClientCreated || es[1].Action != reseller.ActionLicenseAllocated ||
			es[0].Actor.RequestID == "" || es[0].Actor.RequestID != es[1].Actor.RequestID {
			t.Fatalf("entries %+v", es)
		}
		// The pool is full now: the next onboarding is refused whole.
		before := logSize(t, db)
		e.post(t, operator, "/api/v1/clients", fmt.Sprintf(`{"email":"bob@example.io","pool_id":%d}`, e.small.ID)).
			wantProblem(t, http.StatusConflict, reseller.EPOOLEXHAUSTED)
		e.get(t, auditor, "/api/v1/clients?q=bob").wantJSON(t, http.StatusOK, `{"clients":[],"next_cursor":""}`)
		if after := logSize(t, db); after != before {
			t.Fatalf("log %s after a refused onboarding, was %s", after, before)
		}
		// Another account's pool is not found, and nothing is written.
		e.post(t, operator, "/api/v1/clients", fmt.Sprintf(`{"email":"bob@example.io","pool_id":%d}`, e.otherPool.ID)).
			wantProblem(t, http.StatusNotFound, reseller.ENOTFOUND)
		e.post(t, operator, "/api/v1/clients", `{"email":"bob@example.io","site_url":"http://bob.example.io"}`).
			wantProblem(t, http.StatusBadRequest, reseller.EINVALID, "https")
		// Search finds a fragment of the site URL.
		var list struct{ Clients []*reseller.Client }
		e.get(t, auditor, "/api/v1/clients?q=shop.example").decode(t, &list)
		if len(list.Clients) != 1 || list.Clients[0].ID != o.ID {
			t.Fatalf("search by URL: %+v", list.Clients)
		}
	})
}

func TestLicenseKeys(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		c, l := e.onboard(t, "ann@example.io", "https://ann.example.io")
		// The table holds the key's hash, never the key.
		var n int
		if err := db.SQL().QueryRow(rebind(db, "SELECT count(*) FROM licenses WHERE key_hash = ?"), []byte(l.Key)).Scan(&n); err != nil || n != 0 {
			t.Fatalf("key stored in clear: %d %v", n, err)
		}
		e.checkIn(t, l.Key, checkInBody(80)).wantJSON(t, http.StatusOK,
			`{"license":{"status":"active","product":"security-plugin","pool":"Pro 10"},"next_checkin_seconds":300}`)

		e.post(t, auditor, fmt.Sprintf("/api/v1/licenses/%d/reissue-key", l.ID), "").wantProblem(t, http.StatusForbidden, reseller.EFORBIDDEN)
		e.do(t, req{method: "POST", path: fmt.Sprintf("/api/v1/licenses/%d/reissue-key", l.ID), token: e.otherToken}).
			wantProblem(t, http.StatusNotFound, reseller.ENOTFOUND)
		var nl reseller.License
		e.post(t, operator, fmt.Sprintf("/api/v1/licenses/%d/reissue-key", l.ID), "").decode(t, &nl)
		if nl.Key == l.Key || !strings.HasPrefix(nl.Key, reseller.LicenseKeyPrefix) {
			t.Fatalf("new key %q, old %q", nl.Key, l.Key)
		}
		last := e.entries(t)[len(e.entries(t))-1]
		if last.Action != reseller.ActionLicenseKeyReissued || last.Target.ID != c.ID || last.Details.LicenseID != l.ID || last.Details.PoolID != e.pool.ID {
			t.Fatalf("entry %+v", last)
		}
		e.checkIn(t, l.Key, checkInBody(80)).wantProblem(t, http.StatusUnauthorized, reseller.EUNAUTHORIZED)
		e.checkIn(t, nl.Key, checkInBody(80)).wantJSON(t, http.StatusOK,
			`{"license":{"status":"active","product":"security-plugin","pool":"Pro 10"},"next_checkin_seconds":300}`)

		// A revoked license's key is answered "revoked"; its key cannot be re-issued.
		e.post(t, operator, fmt.Sprintf("/api/v1/licenses/%d/revoke", l.ID), "")
		e.checkIn(t, nl.Key, checkInBody(80)).wantJSON(t, http.StatusOK,
			`{"license":{"status":"revoked","product":"security-plugin","pool":"Pro 10"},"next_checkin_seconds":300}`)
		e.post(t, operator, fmt.Sprintf("/api/v1/licenses/%d/reissue-key", l.ID), "").wantProblem(t, http.StatusConflict, reseller.ECONFLICT)
	})
}

func TestCheckInStatus(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		c, l := e.onboard(t, "ann@example.io", "https://ann.example.io")
		status := func(want string) {
			t.Helper()
			var res reseller.CheckInResult
			e.checkIn(t, l.Key, checkInBody(70)).decode(t, &res)
			if string(res.License.Status) != want {
				t.Fatalf("status %q, want %q", res.License.Status, want)
			}
		}
		status("active")
		e.post(t, operator, fmt.Sprintf("/api/v1/clients/%d/suspend", c.ID), "")
		status("suspended")
		e.post(t, operator, fmt.Sprintf("/api/v1/clients/%d/reactivate", c.ID), "")
		status("active")
		e.del(t, admin, fmt.Sprintf("/api/v1/clients/%d", c.ID))
		status("revoked")
		e.checkIn(t, "rlk_unknown", checkInBody(70)).wantProblem(t, http.StatusUnauthorized, reseller.EUNAUTHORIZED)
		e.do(t, req{method: "POST", path: "/api/plugin/v1/checkin", body: checkInBody(70), token: e.tokens[owner]}).
			wantProblem(t, http.StatusUnauthorized, reseller.EUNAUTHORIZED)
	})
}

func TestCheckInBadInput(t *testing.T) {
	sqldbtest.SQLiteOnly(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, func(c *web.Config) { c.CheckInRate = -1 })
		_, l := e.onboard(t, "ann@example.io", "https://ann.example.io")
		site := `"site_url":"https://ann.example.io","plugin_version":"4.2.0"`
		alert := func(fields string) string {
			return `{` + site + `,"score":50,"alerts":[{` + fields + `}]}`
		}
		const okAlert = `"key":"k","severity":"critical","kind":"malware","message":"m","raised_at":"2026-07-01T09:00:00Z"`
		tests := []struct{ name, body, detail string }{
			{"no score", `{` + site + `}`, "score"},
			{"score over 100", `{` + site + `,"score":101}`, "score"},
			{"negative score", `{` + site + `,"score":-1}`, "score"},
			{"score not a number", `{` + site + `,"score":"high"}`, "score"},
			{"no plugin version", `{"site_url":"https://ann.example.io","score":5}`, "plugin_version"},
			{"no site", `{"plugin_version":"1","score":5}`, "site_url"},
			{"http site", `{"site_url":"http://ann.example.io","plugin_version":"1","score":5}`, "site_url"},
			{"unknown field", `{` + site + `,"score":5,"extra":1}`, "extra"},
			{"unknown nested field", `{` + site + `,"score":5,"firewall":{"blocked":1,"allowed":2}}`, "allowed"},
			{"negative blocks", `{` + site + `,"score":5,"firewall":{"blocked":-1}}`, "firewall.blocked"},
			{"scan without time", `{` + site + `,"score":5,"scan":{"files_scanned":3,"findings":{"critical":0,"warning":0,"info":0}}}`, "scan.completed_at"},
			{"scan bad time", `{` + site + `,"score":5,"scan":{"completed_at":"yesterday","files_scanned":3,"findings":{}}}`, "completed_at"},
			{"scan in the future", `{` + site + `,"score":5,"scan":{"completed_at":"2027-01-01T00:00:00Z","files_scanned":3,"findings":{}}}`, "future"},
			{"negative findings", `{` + site + `,"score":5,"scan":{"completed_at":"2026-07-01T09:00:00Z","files_scanned":3,"findings":{"warning":-2}}}`, "scan.findings.warning"},
			{"bad severity", alert(strings.Replace(okAlert, `"critical"`, `"urgent"`, 1)), "severity"},
			{"alert without key", alert(strings.Replace(okAlert, `"key":"k"`, `"key":""`, 1)), "key"},
			{"alert without kind", alert(strings.Replace(okAlert, `"kind":"malware"`, `"kind":""`, 1)), "kind"},
			{"alert without message", alert(strings.Replace(okAlert, `"message":"m"`, `"message":""`, 1)), "message"},
			{"alert without time", alert(strings.Replace(okAlert, `,"raised_at":"2026-07-01T09:00:00Z"`, ``, 1)), "raised_at"},
			{"NUL in a version", `{"site_url":"https://ann.example.io","plugin_version":"4.2\u0000","score":5}`, "plugin_version"},
			{"control character in a platform version", `{` + site + `,"platform_version":"6.5\u0007","score":5}`, "platform_version"},
			{"NUL in an alert message", alert(strings.Replace(okAlert, `"message":"m"`, `"message":"m\u0000"`, 1)), "message"},
			{"not an object", `[1]`, "object"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p := e.checkIn(t, l.Key, tt.body).wantProblem(t, http.StatusBadRequest, reseller.EINVALID)
				if !strings.Contains(p.Detail, tt.detail) {
					t.Errorf("detail %q does not name %q", p.Detail, tt.detail)
				}
			})
		}
		big := `{` + site + `,"score":5,"alerts":[` + strings.Repeat(`{`+okAlert+`},`, 20000) + `{` + okAlert + `}]}`
		e.checkIn(t, l.Key, big).wantProblem(t, http.StatusRequestEntityTooLarge, reseller.ETOOLARGE)
		// Nothing of it was kept.
		var n int
		if err := db.ActivitySQL().QueryRow("SELECT count(*) FROM checkins").Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d check-ins kept, err %v", n, err)
		}
	})
}

func TestCheckInRateLimit(t *testing.T) {
	sqldbtest.SQLiteOnly(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, func(c *web.Config) { c.CheckInRate, c.CheckInBurst = 1, 3 })
		_, l := e.onboard(t, "ann@example.io", "https://ann.example.io")
		for range 3 {
			e.checkIn(t, l.Key, checkInBody(50)).wantJSON(t, http.StatusOK,
				`{"license":{"status":"active","product":"security-plugin","pool":"Pro 10"},"next_checkin_seconds":300}`)
		}
		r := e.checkIn(t, l.Key, checkInBody(50))
		r.wantProblem(t, http.StatusTooManyRequests, reseller.ERATELIMITED)
		if r.header.Get("Retry-After") == "" {
			t.Fatal("no Retry-After")
		}
	})
}

func TestAlerts(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		c, l := e.onboard(t, "ann@example.io", "https://ann.example.io")
		raise := func(key, severity, at string) {
			t.Helper()
			e.checkIn(t, l.Key, fmt.Sprintf(`{"site_url":"https://ann.example.io","plugin_version":"4","score":40,
				"alerts":[{"key":%q,"severity":%q,"kind":"malware","message":"Malware in %s","raised_at":%q}]}`, key, severity, key, at))
		}
		raise("mal-1", "critical", "2026-07-01T09:00:00Z")
		raise("mal-1", "critical", "2026-07-01T09:00:00Z") // the same report again
		raise("mal-1", "critical", "2026-07-01T09:30:00Z") // raised again
		raise("upd-1", "warning", "2026-07-01T09:10:00Z")
		var list struct {
			Alerts     []*reseller.Alert
			NextCursor string `json:"next_cursor"`
		}
		e.get(t, auditor, "/api/v1/alerts").decode(t, &list)
		if len(list.Alerts) != 2 || list.Alerts[0].Key != "mal-1" || list.Alerts[0].TimesRaised != 2 || list.Alerts[0].ClientEmail != c.Email {
			t.Fatalf("alerts %+v", list.Alerts)
		}
		id := list.Alerts[0].ID
		e.post(t, auditor, fmt.Sprintf("/api/v1/alerts/%d/dismiss", id), "").wantProblem(t, http.StatusForbidden, reseller.EFORBIDDEN)
		e.do(t, req{method: "POST", path: fmt.Sprintf("/api/v1/alerts/%d/dismiss", id), token: e.otherToken}).wantProblem(t, http.StatusNotFound, reseller.ENOTFOUND)
		var a reseller.Alert
		e.post(t, operator, fmt.Sprintf("/api/v1/alerts/%d/dismiss", id), "").decode(t, &a)
		if a.DismissedAt == nil || a.DismissedBy != "operator@acme.test" {
			t.Fatalf("dismissed %+v", a)
		}
		e.get(t, auditor, "/api/v1/alerts?severity=critical").decode(t, &list)
		if len(list.Alerts) != 0 {
			t.Fatalf("active critical alerts after dismissal: %+v", list.Alerts)
		}
		e.get(t, auditor, fmt.Sprintf("/api/v1/alerts?dismissed=dismissed&client_id=%d", c.ID)).decode(t, &list)
		if len(list.Alerts) != 1 || list.Alerts[0].ID != id {
			t.Fatalf("dismissed alerts %+v", list.Alerts)
		}
		e.get(t, auditor, "/api/v1/alerts?dismissed=all&limit=1").decode(t, &list)
		if len(list.Alerts) != 1 || list.NextCursor == "" {
			t.Fatalf("first page %+v", list)
		}
		e.get(t, auditor, "/api/v1/alerts?dismissed=all&limit=1&cursor="+list.NextCursor).decode(t, &list)
		if len(list.Alerts) != 1 || list.Alerts[0].Key != "upd-1" || list.NextCursor != "" {
			t.Fatalf("second page %+v", list)
		}
		e.post(t, operator, fmt.Sprintf("/api/v1/alerts/%d/undismiss", id), "").decode(t, &a)
		if a.DismissedAt != nil || a.DismissedBy != "" || a.TimesRaised != 2 {
			t.Fatalf("undismissed %+v", a)
		}
		e.get(t, auditor, "/api/v1/alerts?dismissed=bogus").wantProblem(t, http.StatusBadRequest, reseller.EINVALID)
		e.post(t, operator, "/api/v1/alerts/999/dismiss", "").wantProblem(t, http.StatusNotFound, reseller.ENOTFOUND)
		// Dismissing is not an audit log action.
		for _, en := range e.entries(t) {
			if en.Action != reseller.ActionClientCreated && en.Action != reseller.ActionLicenseAllocated {
				t.Fatalf("unexpected entry %+v", en)
			}
		}
	})
}

func TestDashboardAndActivity(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		a, la := e.onboard(t, "ann@example.io", "https://ann.example.io")
		b, lb := e.onboard(t, "bob@example.io", "https://bob.example.io")
		e.client(t, "cid@example.io", "never seen")
		e.checkIn(t, la.Key, `{"site_url":"https://ann.example.io","plugin_version":"4","score":90,"firewall":{"blocked":7},
			"scan":{"completed_at":"2026-07-01T09:00:00Z","files_scanned":1200,"findings":{"critical":1,"warning":2,"info":3}}}`)
		e.checkIn(t, la.Key, checkInBody(70))
		e.checkIn(t, lb.Key, `{"site_url":"https://bob.example.io","plugin_version":"4","score":30,
			"alerts":[{"key":"k","severity":"critical","kind":"login","message":"Brute force","raised_at":"2026-07-01T09:00:00Z"}]}`)
		e.clock.Add(30 * time.Hour)
		e.checkIn(t, lb.Key, checkInBody(40))

		var d reseller.Dashboard
		e.get(t, auditor, "/api/v1/dashboard").decode(t, &d)
		if d.TotalClients != 3 || d.ActiveClients != 3 || d.AverageScore == nil || *d.AverageScore != 55 ||
			len(d.LowestScores) != 2 || d.LowestScores[0].ClientID != b.ID || d.NotSeenCount != 1 || d.NotSeen[0].ClientID != a.ID ||
			len(d.CriticalAlerts) != 1 || len(d.Pools) != 2 {
			t.Fatalf("dashboard %+v", d)
		}

		var ca reseller.ClientActivity
		e.get(t, auditor, fmt.Sprintf("/api/v1/clients/%d/activity?from=2026-06-30&to=2026-07-02&tz=Europe/Paris", a.ID)).decode(t, &ca)
		if len(ca.Days) != 3 || ca.Days[1].Day != "2026-07-01" || ca.Days[1].CheckIns != 2 || *ca.Days[1].ScoreMin != 70 ||
			*ca.Days[1].ScoreAvg != 80 || *ca.Days[1].ScoreLast != 70 || ca.Days[1].Blocked != 7 || ca.Days[1].Scans != 1 ||
			ca.Days[1].Critical != 1 || ca.Days[0].ScoreAvg != nil || len(ca.Sites) != 1 || len(ca.Scans) != 1 {
			t.Fatalf("activity %+v", ca)
		}
		e.get(t, auditor, fmt.Sprintf("/api/v1/clients/%d/activity?from=2026-07-02&to=2026-07-01", a.ID)).wantProblem(t, http.StatusBadRequest, reseller.EINVALID)
		e.do(t, req{method: "GET", path: fmt.Sprintf("/api/v1/clients/%d/activity", a.ID), token: e.otherToken}).wantProblem(t, http.StatusNotFound, reseller.ENOTFOUND)

		// The clients list: sorted by score, clients never seen last; not seen for a day.
		ids := func(path string) string {
			var list struct{ Clients []*reseller.Client }
			e.get(t, auditor, path).decode(t, &list)
			var s []string
			for _, c := range list.Clients {
				s = append(s, c.Email)
			}
			return strings.Join(s, " ")
		}
		for path, want := range map[string]string{
			"/api/v1/clients?sort=score":           "bob@example.io ann@example.io cid@example.io",
			"/api/v1/clients?sort=-score":          "ann@example.io bob@example.io cid@example.io",
			"/api/v1/clients?sort=last_seen":       "ann@example.io bob@example.io cid@example.io",
			"/api/v1/clients?sort=-last_seen":      "bob@example.io ann@example.io cid@example.io",
			"/api/v1/clients?not_seen_days=1":      "cid@example.io ann@example.io",
			"/api/v1/clients?sort=score&limit=1":   "bob@example.io",
			"/api/v1/clients?sort=score&q=example": "bob@example.io ann@example.io cid@example.io",
		} {
			if got := ids(path); got != want {
				t.Errorf("%s: %s, want %s", path, got, want)
			}
		}
		// Paging through a sorted list crosses from the reported clients to the others.
		var seen []string
		cursor := ""
		for range 5 {
			var list struct {
				Clients    []*reseller.Client
				NextCursor string `json:"next_cursor"`
			}
			e.get(t, auditor, "/api/v1/clients?sort=score&limit=1&cursor="+cursor).decode(t, &list)
			for _, c := range list.Clients {
				seen = append(seen, c.Email)
			}
			if cursor = list.NextCursor; cursor == "" {
				break
			}
		}
		if got := strings.Join(seen, " "); got != "bob@example.io ann@example.io cid@example.io" {
			t.Fatalf("pages: %s", got)
		}
		e.get(t, auditor, "/api/v1/clients?sort=worst").wantProblem(t, http.StatusBadRequest, reseller.EINVALID)
	})
}

// TestCheckInsLeaveTheLogAlone sends thousands of check-ins with alerts,
// many at once, and finds the audit log exactly as it was.
func TestCheckInsLeaveTheLogAlone(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		var keys []string
		for i := range 4 {
			_, l := e.onboard(t, fmt.Sprintf("c%d@example.io", i), fmt.Sprintf("https://c%d.example.io", i))
			keys = append(keys, l.Key)
		}
		before := logSize(t, db)
		ctx := context.Background()
		const n = 2000
		errs := make(chan error, 16)
		for w := range 16 {
			go func() {
				var err error
				for i := w; i < n; i += 16 {
					score := i % 101
					in := &reseller.CheckIn{SiteURL: "https://c.example.io", PluginVersion: "4", Score: &score,
						Firewall: &reseller.Firewall{Blocked: 3},
						Alerts: []*reseller.AlertInput{{Key: fmt.Sprint("k", i%50), Severity: reseller.SeverityWarning, Kind: "update",
							Message: "Out of date", RaisedAt: t0.Add(time.Duration(i) * time.Second)}}}
					if _, err = db.CheckInAt(ctx, keys[i%len(keys)], in, t0.Add(time.Duration(i)*time.Second)); err != nil {
						break
					}
				}
				errs <- err
			}()
		}
		for range 16 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if after := logSize(t, db); after != before {
			t.Fatalf("log %s after %d check-ins, was %s", after, n, before)
		}
		var checkins, alerts, blocked int64
		if err := db.ActivitySQL().QueryRow("SELECT (SELECT count(*) FROM checkins), (SELECT count(*) FROM alerts), (SELECT sum(blocked) FROM activity_days)").
			Scan(&checkins, &alerts, &blocked); err != nil {
			t.Fatal(err)
		}
		if checkins != n || alerts != 100 || blocked != 3*n {
			t.Fatalf("%d check-ins, %d alerts, %d blocked", checkins, alerts, blocked)
		}
	})
}

func TestPruneCheckIns(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		c, l := e.onboard(t, "ann@example.io", "https://ann.example.io")
		ctx := context.Background()
		for d := range 10 {
			score := 50 + d
			in := &reseller.CheckIn{SiteURL: "https://ann.example.io", PluginVersion: "4", Score: &score}
			if _, err := db.CheckInAt(ctx, l.Key, in, t0.AddDate(0, 0, -d)); err != nil {
				t.Fatal(err)
			}
		}
		n, err := db.PruneCheckIns(ctx, t0.AddDate(0, 0, -4))
		if err != nil || n != 5 {
			t.Fatalf("pruned %d, %v; want 5", n, err)
		}
		// The daily roll-ups stay.
		ca, err := db.ClientActivity(e.as(auditor), c.ID, t0.AddDate(0, 0, -9), t0, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ca.Days {
			if d.CheckIns != 1 {
				t.Fatalf("day %+v after pruning", d)
			}
		}
	})
}

// rebind numbers placeholders for PostgreSQL.
func rebind(db *sqldb.DB, q string) string {
	if db.Dialect() != "postgres" {
		return q
	}
	return strings.Replace(q, "?", "$1", 1)
}
