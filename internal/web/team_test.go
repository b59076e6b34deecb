package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

// An admin can no longer act as anyone but themselves: a token made for
// another user is refused in the console and cannot even be asked for in
// the API, and a token acts as the user who made it.
func TestNobodyActsAsSomeoneElse(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.setPassword(t, admin)
		before := e.state(t)
		v := e.signedIn(t, admin)
		v.post("/team/tokens", form("user", fmt.Sprint(e.users[owner].ID), "name", "mine now")).want(http.StatusForbidden, "only for yourself")
		if d := cmp.Diff(before, e.state(t)); d != "" {
			t.Fatalf("the refused token changed something:\n%s", d)
		}
		for _, tk := range must(db.ListTokens(e.operator())) {
			if tk.Name == "mine now" {
				t.Fatal("a token was created for the owner")
			}
		}
		// The API takes no user at all: the token is the caller's.
		r := e.post(t, admin, "/api/v1/tokens", fmt.Sprintf(`{"name":"x","user_id":%d}`, e.users[owner].ID))
		r.wantProblem(t, http.StatusBadRequest, reseller.EINVALID, `Unknown field "user_id"`)
		r = e.post(t, admin, "/api/v1/tokens", `{"name":"ci"}`)
		var tok struct {
			ID     int64  `json:"id"`
			UserID int64  `json:"user_id"`
			Token  string `json:"token"`
		}
		if r.status != http.StatusCreated {
			t.Fatalf("create token: %d %s", r.status, r.body)
		}
		r.decode(t, &tok)
		if tok.UserID != e.users[admin].ID || !strings.HasPrefix(tok.Token, "rsl_") {
			t.Fatalf("token %+v, want one of the admin's", tok)
		}
		// What the token does is the admin's, and so is making it.
		res := e.do(t, req{method: "POST", path: "/api/v1/clients", token: tok.Token, body: `{"email":"via-token@x.io"}`})
		if res.status != http.StatusCreated {
			t.Fatalf("create with the new token: %d %s", res.status, res.body)
		}
		es := e.entries(t)
		made, used := es[len(es)-2], es[len(es)-1]
		if made.Action != reseller.ActionTokenCreated || made.Actor.Email != "admin@acme.test" || made.Target.Email != "admin@acme.test" || made.Details.TokenID != tok.ID {
			t.Errorf("token.created entry: %+v", made)
		}
		if used.Actor.Email != "admin@acme.test" || used.Actor.TokenID != tok.ID {
			t.Errorf("the token's action is recorded as %+v", used.Actor)
		}
	})
}

// Every team change is in the log with who made it, and the role table
// holds for team operations over the API exactly as for clients.
func TestTeamChangesAreInTheLog(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		n0 := len(e.entries(t))
		// The admin adds a user, who comes with a one-time link.
		r := e.post(t, admin, "/api/v1/users", `{"email":"new@acme.test","role":"operator"}`)
		var added struct {
			ID           int64  `json:"id"`
			Role         string `json:"role"`
			PasswordLink string `json:"password_link"`
		}
		if r.status != http.StatusCreated {
			t.Fatalf("add user: %d %s", r.status, r.body)
		}
		r.decode(t, &added)
		if added.Role != "operator" || !strings.Contains(added.PasswordLink, "/password/rsp_") && !strings.Contains(added.PasswordLink, "/password/") {
			t.Fatalf("added %+v", added)
		}
		userPath := fmt.Sprintf("/api/v1/users/%d", added.ID)
		e.do(t, req{method: "PATCH", path: userPath, token: e.tokens[admin], body: `{"role":"auditor"}`}).wantStatus(t, http.StatusOK)
		e.post(t, owner, fmt.Sprintf("/api/v1/users/%d/transfer-ownership", e.users[admin].ID), "").wantStatus(t, http.StatusOK)
		// The old owner is an admin now; the new owner hands it back.
		e.post(t, admin, fmt.Sprintf("/api/v1/users/%d/transfer-ownership", e.users[owner].ID), "").wantStatus(t, http.StatusOK)
		e.do(t, req{method: "DELETE", path: userPath, token: e.tokens[admin]}).wantStatus(t, http.StatusOK)
		e.post(t, owner, fmt.Sprintf("/api/v1/tokens/%d/revoke", e.tokenID[auditor]), "").wantStatus(t, http.StatusOK)

		var got []string
		for _, en := range e.entries(t)[n0:] {
			d := en.Details
			got = append(got, fmt.Sprintf("%s %s %s by %s from=%s to=%s role=%s", en.Action, en.Target.Type, en.Target.Email, en.Actor.Email, d.FromRole, d.ToRole, d.Role))
		}
		want := []string{
			"user.added user new@acme.test by admin@acme.test from= to= role=operator",
			"password_link.created user new@acme.test by admin@acme.test from= to= role=",
			"user.role_changed user new@acme.test by admin@acme.test from=operator to=auditor role=",
			"ownership.transferred user admin@acme.test by owner@acme.test from=admin to=owner role=",
			"ownership.transferred user owner@acme.test by admin@acme.test from=admin to=owner role=",
			"user.removed user new@acme.test by admin@acme.test from= to= role=auditor",
			"token.revoked user auditor@acme.test by owner@acme.test from= to= role=",
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("team entries (-want +got):\n%s", d)
		}
		// They filter, count and export like the others.
		var page struct {
			Entries []reseller.Entry `json:"entries"`
		}
		e.get(t, operator, "/api/v1/audit?action=user.added").wantStatus(t, http.StatusOK).decode(t, &page)
		if len(page.Entries) != 1 || page.Entries[0].Target.Email != "new@acme.test" {
			t.Fatalf("action=user.added: %+v", page.Entries)
		}
		var count reseller.AuditCount
		e.get(t, operator, "/api/v1/audit/count?q=action:ownership.transferred").wantStatus(t, http.StatusOK).decode(t, &count)
		if count.Total != 2 {
			t.Fatalf("count of ownership.transferred = %d, want 2", count.Total)
		}
		if err := db.CheckAccount(e.operator(), e.account.ID); err != nil {
			t.Fatalf("audit check: %v", err)
		}
	})
}

// The role table for team operations, over the API: owners and admins
// manage the team (admins not the owner), operators and auditors do not.
func TestTeamRoleMatrix(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		n := 0
		fresh := func() *reseller.User {
			n++
			return sqldbtest.Member(t, db, e.account.ID, fmt.Sprintf("m%d@acme.test", n), reseller.RoleOperator)
		}
		type op struct {
			name    string
			request func() req
			allowed map[reseller.Role]int // status for each role; others get 403
		}
		ok200 := func(rs ...reseller.Role) map[reseller.Role]int {
			m := map[reseller.Role]int{}
			for _, r := range rs {
				m[r] = http.StatusOK
			}
			return m
		}
		managers := []reseller.Role{owner, admin}
		for _, o := range []op{
			{"list users", func() req { return req{method: "GET", path: "/api/v1/users"} }, ok200(managers...)},
			{"get user", func() req { return req{method: "GET", path: fmt.Sprintf("/api/v1/users/%d", fresh().ID)} }, ok200(managers...)},
			{"add user", func() req {
				n++
				return req{method: "POST", path: "/api/v1/users", body: fmt.Sprintf(`{"email":"add%d@acme.test","role":"auditor"}`, n)}
			}, map[reseller.Role]int{owner: 201, admin: 201}},
			{"add an owner", func() req {
				return req{method: "POST", path: "/api/v1/users", body: `{"email":"second-owner@acme.test","role":"owner"}`}
			}, map[reseller.Role]int{owner: 409, admin: 409}},
			{"change a role", func() req {
				return req{method: "PATCH", path: fmt.Sprintf("/api/v1/users/%d", fresh().ID), body: `{"role":"auditor"}`}
			}, ok200(managers...)},
			{"change the owner's role", func() req {
				return req{method: "PATCH", path: fmt.Sprintf("/api/v1/users/%d", e.users[owner].ID), body: `{"role":"admin"}`}
			}, map[reseller.Role]int{owner: 409, admin: 409}},
			{"remove a user", func() req { return req{method: "DELETE", path: fmt.Sprintf("/api/v1/users/%d", fresh().ID)} }, ok200(managers...)},
			{"remove the owner", func() req { return req{method: "DELETE", path: fmt.Sprintf("/api/v1/users/%d", e.users[owner].ID)} },
				map[reseller.Role]int{owner: 409, admin: 409}},
			{"transfer ownership", func() req {
				return req{method: "POST", path: fmt.Sprintf("/api/v1/users/%d/transfer-ownership", e.users[owner].ID)}
			}, map[reseller.Role]int{owner: 409}}, // to oneself: already the owner
			{"list tokens", func() req { return req{method: "GET", path: "/api/v1/tokens"} }, ok200(managers...)},
			{"create a token", func() req { return req{method: "POST", path: "/api/v1/tokens", body: `{"name":"t"}`} },
				map[reseller.Role]int{owner: 201, admin: 201}},
			{"revoke a token", func() req {
				u := fresh()
				id, _ := sqldbtest.MemberToken(t, db, u, "t")
				return req{method: "POST", path: fmt.Sprintf("/api/v1/tokens/%d/revoke", id)}
			}, ok200(managers...)},
			{"revoke the owner's token", func() req {
				id, _ := sqldbtest.MemberToken(t, db, e.users[owner], "t")
				return req{method: "POST", path: fmt.Sprintf("/api/v1/tokens/%d/revoke", id)}
			}, map[reseller.Role]int{owner: 200}},
			{"another account's user", func() req { return req{method: "GET", path: fmt.Sprintf("/api/v1/users/%d", e.otherOp.ID)} },
				map[reseller.Role]int{owner: 404, admin: 404}},
		} {
			for _, r := range reseller.Roles {
				t.Run(strings.ReplaceAll(o.name, " ", "_")+"/"+string(r), func(t *testing.T) {
					rq := o.request()
					rq.token = e.tokens[r]
					want, ok := o.allowed[r]
					if !ok {
						want = http.StatusForbidden
					}
					res := e.do(t, rq)
					if res.status != want {
						t.Fatalf("%s %s as %s: %d, want %d: %s", rq.method, rq.path, r, res.status, want, res.body)
					}
				})
			}
		}
	})
}

// wantStatus fails unless the response has the status.
func (r *response) wantStatus(t *testing.T, status int) *response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.status, status, r.body)
	}
	return r
}
