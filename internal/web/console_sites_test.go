package web_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

// seedSite onboards a client with a license from the env's big pool and
// has its plugin check in through the store once a day for days days (the
// last one now), with a scan, firewall blocks and, on the last day, a
// critical and a warning alert. It returns the client and its license key.
func (e *env) seedSite(t *testing.T, email, site string, days int, score int) (*reseller.Client, string) {
	t.Helper()
	c, l, err := e.db.OnboardClient(e.as(operator), reseller.NewClient{Email: email, SiteURL: site, PoolID: e.pool.ID, Label: "main site"})
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	for i := days - 1; i >= 0; i-- {
		at := now.Add(-time.Duration(i) * 24 * time.Hour)
		s := score - i%7 // a little drift from day to day
		in := &reseller.CheckIn{SiteURL: site, PluginVersion: "4.2.0", PlatformVersion: "6.5.1", Score: &s,
			Scan:     &reseller.Scan{CompletedAt: at.Add(-time.Minute), FilesScanned: 1200 + int64(i), Findings: reseller.Findings{Warning: int64(i % 3), Info: 2}},
			Firewall: &reseller.Firewall{Blocked: int64(10 + i)}}
		if i == 0 {
			in.Alerts = []*reseller.AlertInput{
				{Key: "malware-1", Severity: reseller.SeverityCritical, Kind: "malware", Message: "Unresolved malware in wp-content/uploads/x.php", RaisedAt: at},
				{Key: "plugins-old", Severity: reseller.SeverityWarning, Kind: "outdated", Message: "Three plugins are out of date", RaisedAt: at},
			}
			_, err = e.db.CheckIn(context.Background(), l.Key, in)
		} else {
			_, err = e.db.CheckInAt(context.Background(), l.Key, in, at)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return must(e.db.FindClientByID(e.as(operator), c.ID)), l.Key
}

// alertsOf returns a client's alerts, dismissed ones too.
func (e *env) alertsOf(t *testing.T, clientID int64) []*reseller.Alert {
	t.Helper()
	as, _ := must2(e.db.ListAlerts(e.as(auditor), reseller.AlertFilter{ClientID: clientID, Dismissed: reseller.AlertsAll}))
	return as
}

// Onboarding from the clients page with a pool: one step, two entries,
// and the key shown once.
func TestConsoleOnboardWithPool(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		v := e.signedIn(t, operator)
		v.get("/clients").want(200, `name="site_url"`, `name="pool"`, "Pro 10 — 10 of 10 free")
		res := v.post("/clients", form("email", "Ann@Example.io", "site_url", "HTTPS://Shop.Example.io/", "pool", fmt.Sprint(e.pool.ID), "label", "shop")).
			want(200, "Client ann@example.io created", "https://shop.example.io", "shown only now", `data-copy="secret"`, `readonly value="rlk_`)
		key := regexp.MustCompile(`rlk_[A-Za-z0-9_-]+`).FindString(res.body)
		es := e.entries(t)
		if len(es) != 2 || es[0].Action != reseller.ActionClientCreated || es[1].Action != reseller.ActionLicenseAllocated ||
			es[0].Actor.Via != reseller.ViaWeb || es[0].Actor.RequestID == "" || es[0].Actor.RequestID != es[1].Actor.RequestID {
			t.Fatalf("entries %+v", es)
		}
		// The key works, and appears nowhere else.
		if _, err := db.CheckIn(context.Background(), key, &reseller.CheckIn{SiteURL: "https://shop.example.io", PluginVersion: "1", Score: new(90)}); err != nil {
			t.Fatalf("check-in with the shown key: %v", err)
		}
		page := v.get(fmt.Sprintf("/clients/%d", es[0].Target.ID)).want(200, "https://shop.example.io", "shop", "Re-issue key…")
		if strings.Contains(page.body, key) {
			t.Fatal("the client's page shows the key again")
		}
		v.get("/clients?q=shop.example").want(200, "ann@example.io", "security-plugin")

		// Without a pool it is onboarding alone; a full pool refuses all of it.
		v.post("/clients", form("email", "bob@example.io", "site_url", "https://bob.example.io")).redirects(fmt.Sprintf("/clients/%d", es[0].Target.ID+1))
		must(db.AllocateLicense(e.as(operator), es[0].Target.ID+1, e.small.ID, ""))
		before := len(e.entries(t))
		v.post("/clients", form("email", "cy@example.io", "pool", fmt.Sprint(e.small.ID), "name", "Cy")).
			want(http.StatusConflict, "no free slot", `value="Cy"`)
		v.post("/clients", form("email", "cy@example.io", "site_url", "http://cy.example.io")).want(http.StatusBadRequest, "https://", `value="http://cy.example.io"`)
		if len(e.entries(t)) != before {
			t.Fatal("a refused onboarding wrote to the log")
		}
	})
}

// The dashboard, the clients list, the alerts page and a client's page
// show what the plugins reported.
func TestConsoleSitePages(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		low, _ := e.seedSite(t, "low@example.io", "https://low.example.io", 12, 41)
		high, _ := e.seedSite(t, "high@example.io", "https://high.example.io", 3, 93)
		e.seedSite(t, "stale@example.io", "https://stale.example.io", 1, 70)
		e.clock.Add(50 * time.Hour) // nobody checked in since
		v := e.signedIn(t, auditor)
		v.get("/").want(200, "Total clients", `id="stat-total"><span class="stat-value">3<`, `id="stat-score"><span class="stat-value">6`, "Average security score",
			fmt.Sprintf(`href="/clients/%d">low@example.io`, low.ID), "3 clients not seen since yesterday or earlier",
			"Unresolved malware", `href="/alerts?severity=critical"`, "Pro 10", "3 of 10 used", "<meter")
		v.get("/clients?sort=score").want(200, "https://low.example.io", "2 days ago", `title="good">93<`)
		body := v.get("/clients?sort=-score").body
		if strings.Index(body, "high@example.io") > strings.Index(body, "low@example.io") {
			t.Fatal("highest score first does not put high@ first")
		}
		v.get("/clients?not_seen_days=3").want(200, "No client matches")
		v.get("/clients?not_seen_days=abc").want(http.StatusBadRequest, "give a number of days")
		v.get("/clients?sort=sideways").want(http.StatusBadRequest, "sideways")

		page := v.get(fmt.Sprintf("/clients/%d", low.ID)).want(200, "Score and activity", `role="img"`, "score-caption",
			"4.2.0 on platform 6.5.1", "Recent scans", "Unresolved malware", fmt.Sprintf(`href="/alerts?client_id=%d&amp;dismissed=all"`, low.ID))
		if svg := page.body[strings.Index(page.body, "<svg viewBox=\"0 0 600"):]; strings.Contains(svg[:strings.Index(svg, "</svg>")], "<a") {
			t.Fatal("a link inside the score chart")
		}
		page.lacks("Dismiss<", "Re-issue key…")

		v.get("/alerts").want(200, "Unresolved malware", "Three plugins are out of date", "stale@example.io").lacks("Dismiss<")
		v.get("/alerts?severity=warning").want(200, "Three plugins").lacks("Unresolved malware")
		v.get(fmt.Sprintf("/alerts?client_id=%d", high.ID)).want(200, "Alerts of high@example.io").lacks("stale@example.io")
		v.get("/alerts?dismissed=dismissed").want(200, "No alert matches")
		v.get("/alerts?severity=loud").want(http.StatusBadRequest, "loud")
		v.get("/alerts?client_id=99999").want(http.StatusNotFound)
	})
}

// Dismissing and un-dismissing through the console: operators and up do,
// auditors read; neither enters the audit log.
func TestConsoleDismissAlerts(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		c, _ := e.seedSite(t, "ann@example.io", "https://ann.example.io", 2, 60)
		as := e.alertsOf(t, c.ID)
		var crit *reseller.Alert
		for _, a := range as {
			if a.Severity == reseller.SeverityCritical {
				crit = a
			}
		}
		logBefore := len(e.entries(t))
		aud := e.signedIn(t, auditor)
		aud.post(fmt.Sprintf("/alerts/%d/dismiss", crit.ID), form("back", "/alerts")).want(http.StatusForbidden, "Not allowed")
		if e.alertsOf(t, c.ID)[0].DismissedAt != nil || e.alertsOf(t, c.ID)[1].DismissedAt != nil {
			t.Fatal("an auditor dismissed an alert")
		}
		op := e.signedIn(t, operator)
		op.get("/alerts").want(200, fmt.Sprintf(`action="/alerts/%d/dismiss"`, crit.ID))
		op.post(fmt.Sprintf("/alerts/%d/dismiss", crit.ID), form("back", "/alerts?severity=critical")).redirects("/alerts?severity=critical")
		op.get("/alerts?severity=critical").want(200, "dismissed; it stays in the history", "No alert matches")
		op.get("/alerts?severity=critical&dismissed=dismissed").want(200, "Unresolved malware", "Dismissed", "by operator@acme.test",
			fmt.Sprintf(`action="/alerts/%d/undismiss"`, crit.ID))
		op.get("/").want(200, "No active critical alert")
		aud.post(fmt.Sprintf("/alerts/%d/undismiss", crit.ID), nil).want(http.StatusForbidden, "Not allowed")
		// From the client's page it returns there; a foreign back goes to the alerts.
		op.post(fmt.Sprintf("/alerts/%d/undismiss", crit.ID), form("back", fmt.Sprintf("/clients/%d", c.ID))).redirects(fmt.Sprintf("/clients/%d", c.ID))
		op.post(fmt.Sprintf("/alerts/%d/dismiss", crit.ID), form("back", "//evil.example/alerts")).redirects("/alerts")
		op.post(fmt.Sprintf("/alerts/%d/undismiss", crit.ID), form("back", "/settings")).redirects("/alerts")
		if a := e.alertsOf(t, c.ID); a[0].DismissedAt != nil && a[1].DismissedAt != nil {
			t.Fatal("un-dismiss did not bring the alert back")
		}
		op.post("/alerts/99999/dismiss", nil).want(http.StatusNotFound)
		// Another account's operator cannot touch it.
		if _, err := db.DismissAlert(e.otherCtx(), crit.ID); reseller.ErrorCode(err) != reseller.ENOTFOUND {
			t.Fatalf("other account dismissing: %v", err)
		}
		if n := len(e.entries(t)); n != logBefore {
			t.Fatalf("dismissing wrote %d audit entries", n-logBefore)
		}
	})
}

// Re-issuing a key from the client's page: confirm, then the new key once.
func TestConsoleReissueKey(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		c, old := e.seedSite(t, "ann@example.io", "https://ann.example.io", 1, 80)
		l := must(e.allLicenses(t, c.ID))[0]
		path := fmt.Sprintf("/licenses/%d/reissue", l.ID)
		for _, r := range []reseller.Role{auditor} {
			e.signedIn(t, r).get(path).want(http.StatusForbidden, "Not allowed")
			e.signedIn(t, r).post(path, nil).want(http.StatusForbidden, "Not allowed")
		}
		op := e.signedIn(t, operator)
		op.get(fmt.Sprintf("/clients/%d", c.ID)).want(200, fmt.Sprintf(`href="%s"`, path))
		op.get(path).want(200, "Re-issue this license&#39;s key?", "stops working at once", `action="`+path+`"`)
		res := op.post(path, nil).want(200, fmt.Sprintf("New key for license %d", l.ID), "shown only now", `readonly value="rlk_`)
		key := regexp.MustCompile(`rlk_[A-Za-z0-9_-]+`).FindString(res.body)
		if key == old || key == "" {
			t.Fatalf("new key %q, old %q", key, old)
		}
		in := &reseller.CheckIn{SiteURL: "https://ann.example.io", PluginVersion: "1", Score: new(80)}
		if _, err := db.CheckIn(context.Background(), old, in); reseller.ErrorCode(err) != reseller.EUNAUTHORIZED {
			t.Fatalf("old key: %v", err)
		}
		if _, err := db.CheckIn(context.Background(), key, in); err != nil {
			t.Fatalf("new key: %v", err)
		}
		es := e.entries(t)
		if last := es[len(es)-1]; last.Action != reseller.ActionLicenseKeyReissued || last.Actor.Via != reseller.ViaWeb || last.Target.ID != c.ID {
			t.Fatalf("last entry %+v", last)
		}
		must(db.RevokeLicense(e.as(operator), l.ID, ""))
		op.get(path).want(http.StatusConflict, "revoked")
		op.post(path, nil).want(http.StatusConflict)
	})
}

// allLicenses is a client's licenses.
func (e *env) allLicenses(t *testing.T, clientID int64) ([]*reseller.License, error) {
	t.Helper()
	ls, _, err := e.db.ListLicenses(e.as(auditor), reseller.LicenseFilter{ClientID: clientID})
	return ls, err
}
