package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

// Each entry has its own page with every field, its inclusion proof and
// its neighbours; #N and seq:N in the query box go there.
func TestConsoleEntryPage(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		auditHistory(t, e)
		// One entry through the API, so that it has a token, an IP, a
		// browser and a request id.
		e.do(t, req{method: "POST", path: "/api/v1/clients", token: e.tokens[operator], body: `{"email":"delta@example.org"}`,
			header: map[string]string{"X-Request-Id": "req-entry-7"}})
		v := e.signedIn(t, auditor)

		p := v.get("/audit/7").want(200, "Entry #7", "delta@example.org", "client 4", "web-test/1", "req-entry-7",
			fmt.Sprintf("token %d", e.tokenID[operator]), "127.0.0.1", "API", `href="/audit/6"`, "Leaf hash", "Audit path",
			`&#34;action&#34;:&#34;client.created&#34;`, `href="/audit?client_id=4"`)
		p.lacks(`href="/audit/8"`, "No proof")
		v.get("/audit/1").want(200, `href="/audit/2"`, "Alpha").lacks(`href="/audit/0"`)
		v.get("/audit/8").want(http.StatusNotFound)
		v.get("/audit/x").want(http.StatusBadRequest)

		v.get("/audit?q=%231").redirects("/audit/1")
		v.get("/audit?q=+seq%3A3+").redirects("/audit/3")
		e.signedIn(t, operator).get("/audit/2").want(200)
		e.visitor(t).get("/audit/2").redirects("/signin?next=%2Faudit%2F2")
	})
}

// After a deleted client's email is reused, every table says which client
// an entry is about, and the target filter takes a client.
func TestConsoleReusedEmail(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		old := e.client(t, "reused@example.org", "Old Shop")
		must(db.DeleteClientWithReason(e.as(admin), old.ID, "Closed down"))
		e.clock.Add(time.Hour)
		cur := e.client(t, "reused@example.org", "New Shop")
		v := e.signedIn(t, auditor)

		p := v.get("/audit?target=reused%40example.org").want(200, "<strong>3 entries</strong> match", "about 2 clients",
			fmt.Sprintf("client %d · <span class=\"tomb\">deleted</span>", old.ID), "Closed down")
		if !strings.Contains(p.body, fmt.Sprintf(`client %d · <a href="/audit?client_id=%d"`, cur.ID, cur.ID)) {
			t.Fatalf("no live client %d in %s", cur.ID, excerpt(p.body))
		}
		v.get(fmt.Sprintf("/audit?target=client%%3A%d", old.ID)).want(200, "<strong>2 entries</strong> match", "about 1 client")
		v.get(fmt.Sprintf("/audit?target=client%%3A%d&client_id=%d", old.ID, cur.ID)).want(http.StatusBadRequest, "give one of them")
	})
}

// Target search takes a name or part of an email; what to type is said in
// the user's words.
func TestConsoleTargetSearch(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		auditHistory(t, e)
		e.client(t, "billing@rpg.example", "Red Pine Garage")
		v := e.signedIn(t, auditor)
		v.get("/audit?target=Red+Pine+Garage").want(200, "<strong>1 entry</strong> matches", "billing@rpg.example")
		v.get("/audit?target=pine").want(200, "<strong>1 entry</strong> matches")
		v.get("/audit?target=ALPHA").want(200, "<strong>2 entries</strong> match", "alpha@example.org")
		v.get("/audit?target=example.org").want(200, "<strong>6 entries</strong> match")
		v.get("/audit?q=target%3A%22red+pine%22").want(200, "<strong>1 entry</strong> matches")
		v.get("/audit?target=a%20b%40c").want(http.StatusBadRequest, "Type an email address or part of one").lacks("characters no email")
		v.get("/audit?from=31%2F12%2F2026&preset=custom").want(http.StatusBadRequest, "year-month-day").lacks("2006-01-02")

		// The API's target is the same search.
		var c reseller.AuditCount
		e.get(t, auditor, "/api/v1/audit/count?target=Red%20Pine").decode(t, &c)
		if c.DistinctTargets != 1 {
			t.Fatalf("count %+v", c)
		}
	})
}

// When the query box and the boxes ask for different things, the page says so.
func TestConsoleContradiction(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		auditHistory(t, e)
		v := e.signedIn(t, auditor)
		v.get("/audit?q=action%3Aclient.suspended&action=license.revoked").want(200, "<strong>0 entries</strong> match",
			`id="contradiction"`, "Your query asks for Client suspended but the boxes only allow License revoked, so nothing can match.")
		v.get("/audit?q=client%3A1&client_id=2").want(200, "Your query asks for client 1 but the page is filtered to client 2")
		v.get("/audit?q=action%3Aclient.suspended&action=client.suspended").want(200, "<strong>2 entries</strong> match").lacks(`id="contradiction"`)
		v.get("/audit?q=action%3Aclient.suspended&action=client.reactivated").want(200, `id="contradiction"`)
	})
}

// A print holds every matching entry up to a limit its header states; a
// print of the screen page says it is one page of how many.
func TestConsoleAuditPrint(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		for i := range 60 {
			e.clock.Add(time.Minute)
			e.client(t, fmt.Sprintf("p%03d@example.org", i+1), "")
		}
		v := e.signedIn(t, auditor)
		screen := v.get("/audit?action=client.created").want(200, "Only the 50 entries of one screen page, of 60",
			`href="/audit?action=client.created&amp;print=1" id="print-link"`)
		if n := strings.Count(screen.body, `title="Sequence number in the log"`); n != 50 {
			t.Fatalf("screen rows %d", n)
		}
		p := v.get("/audit?action=client.created&print=1").want(200, "All 60 matching entries.", `id="print-view"`).lacks(`id="older"`)
		if n := strings.Count(p.body, `title="Sequence number in the log"`); n != 60 {
			t.Fatalf("print rows %d", n)
		}
		if !strings.Contains(p.body, `#60</a>`) || !strings.Contains(p.body, `#1</a>`) {
			t.Fatal("print lacks the first or last entry")
		}
	})
}

// Delete takes a reason, recorded in the client.deleted entry.
func TestConsoleDeleteReason(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		c := e.client(t, "gone@example.org", "")
		v := e.signedIn(t, admin)
		v.get(fmt.Sprintf("/clients/%d/delete", c.ID)).want(200, `name="reason"`)
		v.post(fmt.Sprintf("/clients/%d/delete", c.ID), form("reason", "Asked to leave")).redirects(fmt.Sprintf("/clients/%d", c.ID))
		es := e.entries(t)
		if last := es[len(es)-1]; last.Action != reseller.ActionClientDeleted || last.Details.Reason != "Asked to leave" {
			t.Fatalf("last entry %+v", last)
		}
		d := e.client(t, "gone2@example.org", "")
		e.do(t, req{method: "DELETE", path: fmt.Sprintf("/api/v1/clients/%d", d.ID), token: e.tokens[admin], body: `{"reason":"Via the API"}`})
		es = e.entries(t)
		if last := es[len(es)-1]; last.Action != reseller.ActionClientDeleted || last.Details.Reason != "Via the API" {
			t.Fatalf("last entry %+v", last)
		}
	})
}
