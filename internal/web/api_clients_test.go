package web_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

const (
	owner    = reseller.RoleOwner
	admin    = reseller.RoleAdmin
	operator = reseller.RoleOperator
	auditor  = reseller.RoleAuditor
)

func TestClientLifecycle(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		product := func(licenses int) string {
			if licenses > 0 {
				return reseller.DefaultProduct
			}
			return ""
		}
		clientJSON := func(status string, updated string, licenses int) string {
			return fmt.Sprintf(`{"id":1,"email":"bob@example.io","name":"Bob's Bikes","status":%q,
				"created_at":"2026-07-01T10:00:00Z","updated_at":%q,"licenses":%d,
				"site_url":"","score":null,"last_seen":null,"product":%q}`, status, updated, licenses, product(licenses))
		}

		e.post(t, operator, "/api/v1/clients", `{"email":" Bob@Example.io ","name":"Bob's Bikes"}`).
			wantJSON(t, http.StatusCreated, clientJSON("active", "2026-07-01T10:00:00Z", 0))
		e.get(t, auditor, "/api/v1/clients/1").wantJSON(t, http.StatusOK, clientJSON("active", "2026-07-01T10:00:00Z", 0))

		e.clock.Add(time.Hour)
		e.post(t, operator, "/api/v1/clients/1/suspend", `{"reason":"late payment"}`).
			wantJSON(t, http.StatusOK, clientJSON("suspended", "2026-07-01T11:00:00Z", 0))
		e.clock.Add(time.Hour)
		e.post(t, operator, "/api/v1/clients/1/reactivate", "").
			wantJSON(t, http.StatusOK, clientJSON("active", "2026-07-01T12:00:00Z", 0))
		e.post(t, operator, "/api/v1/licenses", `{"client_id":1,"pool_id":1}`).wantLicense(t, http.StatusCreated,
			`{"id":1,"pool_id":1,"client_id":1,"label":"","status":"active","allocated_at":"2026-07-01T12:00:00Z","revoked_at":null}`)
		e.get(t, auditor, "/api/v1/clients/1").wantJSON(t, http.StatusOK, clientJSON("active", "2026-07-01T12:00:00Z", 1))
		e.clock.Add(time.Hour)
		e.del(t, admin, "/api/v1/clients/1").wantJSON(t, http.StatusOK, clientJSON("deleted", "2026-07-01T13:00:00Z", 0))

		// Deleting revoked the license first, then deleted the client.
		var got []string
		for _, en := range e.entries(t) {
			got = append(got, fmt.Sprintf("%d %s %s", en.Seq, en.Action, en.Details.Reason))
		}
		want := []string{"1 client.created ", "2 client.suspended late payment", "3 client.reactivated ",
			"4 license.allocated ", "5 license.revoked client deleted", "6 client.deleted "}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("entries = %q, want %q", got, want)
		}
		// {} is an empty body too.
		c := e.client(t, "carol@example.io", "")
		e.post(t, operator, fmt.Sprintf("/api/v1/clients/%d/suspend", c.ID), `{}`).wantJSON(t, http.StatusOK,
			fmt.Sprintf(`{"id":%d,"email":"carol@example.io","name":"","status":"suspended","created_at":"2026-07-01T13:00:00Z","updated_at":"2026-07-01T13:00:00Z","licenses":0,"site_url":"","score":null,"last_seen":null,"product":""}`, c.ID))
	})
}

func TestListClients(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		for i, name := range []string{"Alpha", "Beta", "Gamma"} {
			e.client(t, fmt.Sprintf("c%d@example.io", i+1), name)
		}
		must(db.SuspendClient(e.as(operator), 2, ""))
		must(db.DeleteClient(e.as(admin), 3))
		e.client(t, "other@elsewhere.test", "Delta")
		_ = must(db.CreateClient(e.otherCtx(), "c1@example.io", "Not ours"))
		c := func(id int, email, name, status string) string {
			return fmt.Sprintf(`{"id":%d,"email":%q,"name":%q,"status":%q,"created_at":"2026-07-01T10:00:00Z","updated_at":"2026-07-01T10:00:00Z","licenses":0,"site_url":"","score":null,"last_seen":null,"product":""}`,
				id, email, name, status)
		}
		tests := []struct{ query, want string }{
			{"", `{"clients":[` + c(4, "other@elsewhere.test", "Delta", "active") + `,` + c(2, "c2@example.io", "Beta", "suspended") + `,` + c(1, "c1@example.io", "Alpha", "active") + `],"next_cursor":""}`},
			{"?status=suspended", `{"clients":[` + c(2, "c2@example.io", "Beta", "suspended") + `],"next_cursor":""}`},
			{"?status=deleted", `{"clients":[` + c(3, "c3@example.io", "Gamma", "deleted") + `],"next_cursor":""}`},
			{"?q=EXAMPLE", `{"clients":[` + c(2, "c2@example.io", "Beta", "suspended") + `,` + c(1, "c1@example.io", "Alpha", "active") + `],"next_cursor":""}`},
			{"?email=elsewhere", `{"clients":[` + c(4, "other@elsewhere.test", "Delta", "active") + `],"next_cursor":""}`},
			{"?q=alp", `{"clients":[` + c(1, "c1@example.io", "Alpha", "active") + `],"next_cursor":""}`},
			{"?q=nobody", `{"clients":[],"next_cursor":""}`},
		}
		for _, tt := range tests {
			t.Run(tt.query, func(t *testing.T) {
				e.get(t, auditor, "/api/v1/clients"+tt.query).wantJSON(t, http.StatusOK, tt.want)
			})
		}

		// Paging by cursor visits each client once.
		var ids []int64
		path := "/api/v1/clients?limit=1"
		for range 10 {
			var page struct {
				Clients    []reseller.Client `json:"clients"`
				NextCursor string            `json:"next_cursor"`
			}
			e.get(t, auditor, path).decode(t, &page)
			for _, c := range page.Clients {
				ids = append(ids, c.ID)
			}
			if page.NextCursor == "" {
				break
			}
			path = "/api/v1/clients?limit=1&cursor=" + page.NextCursor
		}
		if fmt.Sprint(ids) != "[4 2 1]" {
			t.Fatalf("paged ids = %v, want [4 2 1]", ids)
		}
	})
}

func TestAPIRefusesCrossOriginBrowserWrites(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		res := e.do(t, req{method: "POST", path: "/api/v1/clients", token: e.tokens[reseller.RoleOwner],
			body: `{"email":"csrf@x.test"}`, header: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}})
		res.wantProblem(t, http.StatusForbidden, reseller.EFORBIDDEN)
		if n := len(e.entries(t)); n != 0 {
			t.Fatalf("refused cross-origin write recorded %d entries", n)
		}
		// The same request from a non-browser client goes through.
		e.post(t, reseller.RoleOwner, "/api/v1/clients", `{"email":"csrf@x.test"}`)
		if n := len(e.entries(t)); n != 1 {
			t.Fatalf("%d entries after a plain API write, want 1", n)
		}
	})
}
