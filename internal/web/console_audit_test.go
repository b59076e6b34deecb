package web_test

import (
	"bytes"
	"encoding/csv"
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

// auditHistory writes six entries at known times: two in May, two on June
// 30 at 16:00 UTC (already July 1 in Tokyo), and two on July 1.
func auditHistory(t *testing.T, e *env) {
	t.Helper()
	op := e.as(operator)
	at := func(ts string) { e.clock.Set(must(time.Parse(time.RFC3339, ts))) }
	at("2026-05-04T09:00:00Z")
	a := e.client(t, "alpha@example.org", "Alpha")
	must(e.db.SuspendClient(op, a.ID, "Invoice overdue"))
	at("2026-06-30T16:00:00Z")
	b := e.client(t, "beta@example.org", "Beta")
	must(e.db.SuspendClient(e.as(admin), b.ID, ""))
	at("2026-07-01T09:30:00Z")
	g := e.client(t, "gamma@example.org", "Gamma")
	must(e.db.AllocateLicense(op, g.ID, e.pool.ID, "www.gamma.example"))
	at("2026-07-01T10:00:00Z")
}

func TestConsoleAuditFilters(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		auditHistory(t, e)
		v := e.signedIn(t, auditor)

		v.get("/audit").want(200, "<strong>6 entries</strong> match", "Times in <strong>UTC</strong>", `<svg viewBox=`)
		res := v.get("/audit?action=client.suspended").want(200, "<strong>2 entries</strong> match",
			`value="client.suspended" id="action-client-suspended" checked`, "Invoice overdue")
		if n := strings.Count(res.body, `class="action action-`); n != 2 {
			t.Fatalf("%d rows, want 2", n)
		}
		res.lacks(`<span class="action action-client-created">`)
		v.get("/audit?action=client.suspended&action=client.created").want(200, "<strong>5 entries</strong> match")
		v.get("/audit?actor=admin%40acme.test").want(200, "<strong>1 entry</strong> matches", "beta@example.org")
		v.get("/audit?target=gamma%40example.org&action=license.allocated").want(200, "<strong>1 entry</strong> matches", "www.gamma.example")
		v.get("/audit?q=action:client.suspended+-target:beta%40example.org").want(200, "<strong>1 entry</strong> matches", "alpha@example.org")
		v.get("/audit?preset=custom&from=2026-06-30&to=2026-06-30").want(200, "<strong>2 entries</strong> match", "30 Jun 2026")
		v.get("/audit?client_id=1&order=asc").want(200, "<strong>2 entries</strong> match", "Only client 1", "Oldest first")

		// A query that does not parse is shown with the bad part marked.
		v.get("/audit?q=action:client.suspendd+actor:x%40y.io").want(http.StatusBadRequest,
			`<code class="query-echo">action:<mark>client.suspendd</mark> actor:x@y.io</code>`, `unknown action &#34;client.suspendd&#34;`,
			`aria-invalid="true"`, "Fix the filter to see entries.")
		v.get("/audit?actor=no%20body").want(http.StatusBadRequest, "Parameter actor", "cannot be part of an email address", "Type an email address or part of one")
		v.get("/audit?preset=yesterday-ish").want(http.StatusBadRequest, "Unknown time range")

		// The print header says what was printed.
		v.get("/audit?action=client.suspended&preset=last-quarter").want(200, `class="print-only printhead"`,
			"Actions: Client suspended", "Time: 1 Apr 2026 – 30 Jun 2026", "log size 6, root <span class=\"mono\">")
	})
}

// Times show in the viewer's zone, named on the page, with UTC on hover;
// ranges such as "last quarter" are that zone's.
func TestConsoleTimeZones(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		auditHistory(t, e)
		v := e.signedIn(t, auditor)

		// In UTC, June 30 16:00 belongs to the second quarter.
		v.get("/audit?preset=last-quarter").want(200, "<strong>4 entries</strong> match",
			`<time datetime="2026-06-30T16:00:00Z" title="2026-06-30 16:00:00 UTC">30 Jun 2026, 16:00:00</time>`)
		v.get("/audit?preset=today").want(200, "<strong>2 entries</strong> match")

		// The browser says Tokyo: there it was already July 1.
		v.setCookie("tz", "Asia%2FTokyo")
		v.get("/audit?preset=last-quarter").want(200, "<strong>2 entries</strong> match", "Times in <strong>Asia/Tokyo</strong> (UTC&#43;09:00)")
		v.get("/audit?preset=this-quarter").want(200, "<strong>4 entries</strong> match",
			`<time datetime="2026-06-30T16:00:00Z" title="2026-06-30 16:00:00 UTC">1 Jul 2026, 01:00:00</time>`)
		v.get("/audit?preset=today").want(200, "<strong>4 entries</strong> match")
		v.get("/audit?preset=custom&from=2026-07-01&to=2026-07-01").want(200, "<strong>4 entries</strong> match")
		v.get("/clients").want(200, "Times in <strong>Asia/Tokyo</strong>", "your browser's time zone")

		// A zone pinned in settings wins over the browser's.
		v.post("/settings/timezone", form("mode", "pinned", "zone", "America/New_York")).redirects("/settings")
		v.get("/settings").want(200, "Times are now shown in America/New_York.", `value="America/New_York"`)
		v.get("/audit?preset=last-quarter").want(200, "Times in <strong>America/New_York</strong>", "as chosen in")
		v.post("/settings/timezone", form("mode", "browser")).redirects("/settings")
		v.get("/audit").want(200, "Times in <strong>Asia/Tokyo</strong>")

		// A cookie that is not a zone is ignored.
		v.setCookie("tz", "Not%2FA_Zone")
		v.get("/audit").want(200, "Times in <strong>UTC</strong>")
	})
}

func TestConsoleAuditPaging(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		for i := range 120 {
			e.clock.Add(time.Minute)
			e.client(t, fmt.Sprintf("p%03d@example.org", i+1), "")
		}
		v := e.signedIn(t, auditor)
		seqs := func(p *page) []string {
			var out []string
			for _, m := range regexp.MustCompile(`title="Sequence number in the log">#(\d+)<`).FindAllStringSubmatch(p.body, -1) {
				out = append(out, m[1])
			}
			return out
		}
		link := func(p *page, id string) string {
			m := regexp.MustCompile(`href="([^"]+)" id="` + id + `"`).FindStringSubmatch(p.body)
			if m == nil {
				return ""
			}
			return strings.ReplaceAll(m[1], "&amp;", "&")
		}
		p1 := v.get("/audit").want(200, "<strong>120 entries</strong> match")
		if s := seqs(p1); len(s) != 50 || s[0] != "120" || s[49] != "71" || link(p1, "newer") != "" {
			t.Fatalf("page 1: %v", s)
		}
		p2 := v.get(link(p1, "older")).want(200)
		if s := seqs(p2); len(s) != 50 || s[0] != "70" || s[49] != "21" {
			t.Fatalf("page 2: %v", s)
		}
		p3 := v.get(link(p2, "older")).want(200)
		if s := seqs(p3); len(s) != 20 || s[0] != "20" || s[19] != "1" || link(p3, "older") != "" {
			t.Fatalf("page 3: %v", s)
		}
		back := v.get(link(p3, "newer")).want(200)
		if s := seqs(back); s[0] != "70" {
			t.Fatalf("newer from page 3: %v", s)
		}
		first := v.get(link(back, "newer")).want(200)
		if s := seqs(first); s[0] != "120" || link(first, "newer") != "" {
			t.Fatalf("newer from page 2: %v", s)
		}
		// Oldest first: "newer" is the way forward.
		a1 := v.get("/audit?order=asc").want(200)
		if s := seqs(a1); s[0] != "1" || link(a1, "older") != "" {
			t.Fatalf("asc page 1: %v", s)
		}
		a2 := v.get(link(a1, "newer")).want(200)
		if s := seqs(a2); s[0] != "51" || !strings.Contains(link(a2, "older"), "order=asc") {
			t.Fatalf("asc page 2: %v", s)
		}
	})
}

func TestConsoleAuditExports(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		auditHistory(t, e)
		v := e.signedIn(t, auditor)
		p := v.get("/audit?action=client.suspended&preset=last-quarter&cursor=&q=")
		for _, want := range []string{
			`href="/audit/export.csv?action=client.suspended&amp;preset=last-quarter"`,
			`href="/audit/export.jsonl?action=client.suspended&amp;preset=last-quarter"`,
			`href="/audit/export.bundle?action=client.suspended&amp;preset=last-quarter"`,
		} {
			if !strings.Contains(p.body, want) {
				t.Fatalf("no %s", want)
			}
		}
		res := v.get("/audit/export.csv?action=client.suspended&preset=last-quarter").want(200)
		if cd := res.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment; filename=audit-log-account-") || !strings.HasSuffix(cd, ".csv") {
			t.Fatalf("Content-Disposition %q", cd)
		}
		rows := must(csv.NewReader(strings.NewReader(res.body)).ReadAll())
		// Newest first, as the page shows them; the time column says UTC.
		if len(rows) != 3 || rows[0][0] != "seq" || rows[0][1] != "time_utc" || rows[1][2] != "client.suspended" || rows[1][5] != "beta@example.org" || rows[2][5] != "alpha@example.org" || rows[2][18] != "Invoice overdue" {
			t.Fatalf("csv rows %q", rows)
		}
		res = v.get("/audit/export.jsonl?q=action:license.allocated").want(200, `"action":"license.allocated"`)
		if n := strings.Count(res.body, "\n"); n != 1 {
			t.Fatalf("jsonl has %d lines", n)
		}
		res = v.get("/audit/export.bundle?action=client.suspended").want(200)
		if !bytes.Contains([]byte(res.body), []byte("alpha@example.org")) || !strings.HasSuffix(res.header.Get("Content-Disposition"), ".json") {
			t.Fatalf("bundle %q: %.200s", res.header.Get("Content-Disposition"), res.body)
		}
		v.get("/audit/export.csv?actor=a%3Cb").want(http.StatusBadRequest, "cannot be part of an email address")
		e.visitor(t).get("/audit/export.csv").redirects("/signin?next=%2Faudit%2Fexport.csv")
	})
}

// The store is the one judge of roles: a console that showed a button by
// mistake would still be refused. Here the viewer's role changes between
// showing the page and posting its form.
func TestConsoleRoleChecksAtPost(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		c := e.client(t, "x@example.org", "")
		u := must(db.AddUser(e.operator(), "demoted@acme.test", reseller.RoleAdmin))
		v := e.visitor(t)
		v.session(u.ID)
		v.get(fmt.Sprintf("/clients/%d", c.ID)).want(200, "Delete client…")
		must(db.SetRole(e.as(owner), u.ID, reseller.RoleAuditor))
		v.post(fmt.Sprintf("/clients/%d/delete", c.ID), nil).want(http.StatusForbidden, "Your role (auditor) does not allow this.")
		v.get(fmt.Sprintf("/clients/%d", c.ID)).want(200, "Read only").lacks("Delete client…", "Allocate a license")
		if got := must(db.FindClientByID(e.as(owner), c.ID)); got.Status != reseller.ClientActive {
			t.Fatal("the client was deleted")
		}
	})
}
