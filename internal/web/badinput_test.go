package web_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

// state is everything a request could change, in both accounts.
type state struct {
	Entries, OtherEntries int64
	Clients, OtherClients []*reseller.Client
	Licenses              []*reseller.License
	Pools                 []*reseller.Pool
}

func (e *env) state(t *testing.T) state {
	t.Helper()
	var s state
	own, other := e.as(owner), e.otherCtx()
	s.Entries = must(e.db.CountEntries(own, reseller.AuditFilter{}, "", nil)).Total
	s.OtherEntries = must(e.db.CountEntries(other, reseller.AuditFilter{}, "", nil)).Total
	for _, st := range []reseller.ClientStatus{reseller.ClientActive, reseller.ClientSuspended, reseller.ClientDeleted} {
		cs, _ := must2(e.db.ListClients(own, reseller.ClientFilter{Status: st, Limit: 500}))
		s.Clients = append(s.Clients, cs...)
		cs, _ = must2(e.db.ListClients(other, reseller.ClientFilter{Status: st, Limit: 500}))
		s.OtherClients = append(s.OtherClients, cs...)
	}
	s.Licenses, _ = must2(e.db.ListLicenses(own, reseller.LicenseFilter{Limit: 500}))
	ls, _ := must2(e.db.ListLicenses(other, reseller.LicenseFilter{Limit: 500}))
	s.Licenses = append(s.Licenses, ls...)
	s.Pools = must(e.db.ListPools(own))
	s.Pools = append(s.Pools, must(e.db.ListPools(other))...)
	return s
}

// Every bad request gets the right status and code, a detail naming the
// problem, and changes nothing.
func TestBadInput(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		op, ad := e.as(operator), e.as(admin)
		active := e.client(t, "a@x.io", "A")
		suspended := e.client(t, "s@x.io", "S")
		deleted := e.client(t, "d@x.io", "D")
		must(db.SuspendClient(op, suspended.ID, ""))
		must(db.DeleteClient(ad, deleted.ID))
		lic := must(db.AllocateLicense(op, active.ID, e.pool.ID, "site"))
		revoked := must(db.AllocateLicense(op, active.ID, e.pool.ID, ""))
		must(db.RevokeLicense(op, revoked.ID, ""))
		must(db.AllocateLicense(op, active.ID, e.small.ID, "")) // the small pool is full
		otherClient := must(db.CreateClient(e.otherCtx(), "a@x.io", "Theirs"))
		otherLic := must(db.AllocateLicense(e.otherCtx(), otherClient.ID, e.otherPool.ID, ""))
		tok, revokedToken := must2(db.CreateTokenFor(e.operator(), e.users[operator].ID, "old"))
		if err := db.RevokeToken(e.as(owner), tok.ID); err != nil {
			t.Fatal(err)
		}

		opTok, adTok, audTok := e.tokens[operator], e.tokens[admin], e.tokens[auditor]
		post := func(path, body string) req { return req{method: "POST", path: path, token: opTok, body: body} }
		get := func(path string) req { return req{method: "GET", path: path, token: audTok} }
		clientPath := func(id int64, action string) string { return fmt.Sprintf("/api/v1/clients/%d%s", id, action) }
		alloc := func(client, pool int64) string { return fmt.Sprintf(`{"client_id":%d,"pool_id":%d}`, client, pool) }
		q := url.QueryEscape
		const (
			invalid   = reseller.EINVALID
			notFound  = reseller.ENOTFOUND
			forbidden = reseller.EFORBIDDEN
			unauth    = reseller.EUNAUTHORIZED
		)
		withHeader := func(r req, k, v string) req { r.header = map[string]string{k: v}; return r }
		withToken := func(r req, tok string) req { r.token = tok; return r }

		tests := []struct {
			name    string
			req     req
			status  int
			code    string
			details []string
		}{
			// Bodies.
			{"MalformedJSON", post("/api/v1/clients", `{"email":`), 400, invalid, []string{"not valid JSON"}},
			{"TrailingComma", post("/api/v1/clients", `{"email":"n@x.io",}`), 400, invalid, []string{"not valid JSON", "byte"}},
			{"WrongTypeNumber", post("/api/v1/licenses", `{"client_id":"1","pool_id":1}`), 400, invalid, []string{`field "client_id" must be a number, not a string`}},
			{"WrongTypeFraction", post("/api/v1/licenses", `{"client_id":1.5,"pool_id":1}`), 400, invalid, []string{`field "client_id" must be a whole number in range, not 1.5`}},
			{"WrongTypeHuge", post("/api/v1/licenses", `{"client_id":1e30,"pool_id":1}`), 400, invalid, []string{`field "client_id" must be a whole number`}},
			{"WrongTypeArray", post("/api/v1/clients", `{"email":["n@x.io"]}`), 400, invalid, []string{`field "email" must be a string, not an array`}},
			{"WrongTypeString", post("/api/v1/clients", `{"email":42}`), 400, invalid, []string{`field "email" must be a string`}},
			{"WrongTypeReason", post(clientPath(active.ID, "/suspend"), `{"reason":true}`), 400, invalid, []string{`field "reason" must be a string`}},
			{"UnknownField", post("/api/v1/clients", `{"email":"n@x.io","nmae":"N"}`), 400, invalid, []string{`Unknown field "nmae"`, `"email", "name"`}},
			{"UnknownFieldEmptyBody", post(clientPath(suspended.ID, "/reactivate"), `{"force":true}`), 400, invalid, []string{`Unknown field "force"`}},
			{"UnknownFieldDelete", req{method: "DELETE", path: clientPath(active.ID, ""), token: adTok, body: `{"force":true}`}, 400, invalid, []string{`Unknown field "force"`}},
			{"NotAnObject", post("/api/v1/clients", `["n@x.io"]`), 400, invalid, []string{"JSON object"}},
			{"Null", post("/api/v1/clients", `null`), 400, invalid, []string{"JSON object"}},
			{"TwoValues", post("/api/v1/clients", `{"email":"n@x.io"} {"email":"m@x.io"}`), 400, invalid, []string{"exactly one JSON value"}},
			{"TextPlain", withHeader(post("/api/v1/clients", `{"email":"n@x.io"}`), "Content-Type", "text/plain"), 400, invalid, []string{"Content-Type must be application/json"}},
			{"NoContentType", withHeader(post("/api/v1/clients", `{"email":"n@x.io"}`), "Content-Type", ""), 400, invalid, []string{"Content-Type"}},
			{"FormPost", withHeader(post("/api/v1/clients", `email=n@x.io`), "Content-Type", "application/x-www-form-urlencoded"), 400, invalid, []string{"Content-Type"}},
			{"EmptyBody", post("/api/v1/clients", ""), 400, invalid, []string{"needs a JSON body"}},
			{"TooLarge", post("/api/v1/clients", `{"email":"n@x.io","name":"`+strings.Repeat("x", 2<<20)+`"}`), 413, reseller.ETOOLARGE, []string{"1 MiB"}},
			{"TooLargeOptionalBody", post(clientPath(active.ID, "/suspend"), `{"reason":"`+strings.Repeat("x", 2<<20)+`"}`), 413, reseller.ETOOLARGE, nil},

			// Values.
			{"InvalidEmail", post("/api/v1/clients", `{"email":"not-an-email"}`), 400, invalid, []string{"not-an-email"}},
			{"EmailWithName", post("/api/v1/clients", `{"email":"Bob <b@x.io>"}`), 400, invalid, []string{"not a valid address"}},
			{"EmailMissing", post("/api/v1/clients", `{"name":"Nobody"}`), 400, invalid, []string{"Email is required"}},
			{"EmailTooLong", post("/api/v1/clients", `{"email":"`+strings.Repeat("a", 245)+`@example.io"}`), 400, invalid, []string{"254"}},
			{"NameTooLong", post("/api/v1/clients", `{"email":"n@x.io","name":"`+strings.Repeat("n", 201)+`"}`), 400, invalid, []string{"200"}},
			{"ReasonTooLong", post(clientPath(active.ID, "/suspend"), `{"reason":"`+strings.Repeat("r", 1001)+`"}`), 400, invalid, []string{"1000"}},
			{"DuplicateEmail", post("/api/v1/clients", `{"email":"A@X.io"}`), 409, reseller.EEMAILTAKEN, []string{"a@x.io"}},
			{"ZeroClientID", post("/api/v1/licenses", `{"pool_id":1}`), 400, invalid, []string{`"client_id"`}},
			{"NegativePoolID", post("/api/v1/licenses", fmt.Sprintf(`{"client_id":%d,"pool_id":-1}`, active.ID)), 400, invalid, []string{`"pool_id"`}},

			// Ids.
			{"UnknownClient", get(clientPath(999, "")), 404, notFound, []string{"999"}},
			{"UnknownClientSuspend", post(clientPath(999, "/suspend"), ""), 404, notFound, nil},
			{"UnknownClientDelete", req{method: "DELETE", path: clientPath(999, ""), token: adTok}, 404, notFound, nil},
			{"UnknownLicense", post("/api/v1/licenses/999/revoke", ""), 404, notFound, nil},
			{"UnknownClientAllocate", post("/api/v1/licenses", alloc(999, e.pool.ID)), 404, notFound, nil},
			{"UnknownPoolAllocate", post("/api/v1/licenses", alloc(active.ID, 999)), 404, notFound, nil},
			{"NonNumericID", get("/api/v1/clients/abc"), 400, invalid, []string{`"abc" is not a positive integer`}},
			{"ZeroID", get("/api/v1/clients/0"), 400, invalid, nil},
			{"NegativeID", post(clientPath(-1, "/suspend"), ""), 400, invalid, nil},
			{"FractionID", get("/api/v1/clients/1.5"), 400, invalid, nil},
			{"HugeID", get("/api/v1/clients/99999999999999999999"), 400, invalid, nil},
			{"NonNumericLicenseID", post("/api/v1/licenses/x/revoke", ""), 400, invalid, []string{"License id"}},
			{"OtherAccountClient", get(clientPath(otherClient.ID, "")), 404, notFound, nil},
			{"OtherAccountSuspend", post(clientPath(otherClient.ID, "/suspend"), ""), 404, notFound, nil},
			{"OtherAccountDelete", req{method: "DELETE", path: clientPath(otherClient.ID, ""), token: adTok}, 404, notFound, nil},
			{"OtherAccountRevoke", post(fmt.Sprintf("/api/v1/licenses/%d/revoke", otherLic.ID), ""), 404, notFound, nil},
			{"OtherAccountPool", post("/api/v1/licenses", alloc(active.ID, e.otherPool.ID)), 404, notFound, nil},
			{"OtherAccountClientAllocate", post("/api/v1/licenses", alloc(otherClient.ID, e.pool.ID)), 404, notFound, nil},

			// States.
			{"SuspendSuspended", post(clientPath(suspended.ID, "/suspend"), ""), 409, reseller.EINVALIDTRANSITION, nil},
			{"ReactivateActive", post(clientPath(active.ID, "/reactivate"), ""), 409, reseller.EINVALIDTRANSITION, nil},
			{"DeleteDeleted", req{method: "DELETE", path: clientPath(deleted.ID, ""), token: adTok}, 409, reseller.EINVALIDTRANSITION, nil},
			{"AllocateSuspended", post("/api/v1/licenses", alloc(suspended.ID, e.pool.ID)), 409, reseller.ECLIENTSUSPENDED, nil},
			{"AllocateDeleted", post("/api/v1/licenses", alloc(deleted.ID, e.pool.ID)), 409, reseller.EINVALIDTRANSITION, nil},
			{"AllocateFullPool", post("/api/v1/licenses", alloc(active.ID, e.small.ID)), 409, reseller.EPOOLEXHAUSTED, nil},
			{"RevokeRevoked", post(fmt.Sprintf("/api/v1/licenses/%d/revoke", revoked.ID), ""), 409, reseller.ECONFLICT, nil},

			// Query parameters.
			{"BadDate", get("/api/v1/audit?from=2026-13-01"), 400, invalid, []string{"from", "2026-13-01"}},
			{"BadDateWord", get("/api/v1/audit/count?to=yesterday"), 400, invalid, []string{"to", "yesterday"}},
			{"BadDateFeb30", get("/api/v1/audit/export?from=2026-02-30"), 400, invalid, nil},
			{"FromAfterTo", get("/api/v1/audit?from=2026-08-01&to=2026-07-01"), 400, invalid, []string{"time range is empty"}},
			{"FromEqualsTo", get("/api/v1/audit/count?from=2026-08-01T00:00:00Z&to=2026-08-01T00:00:00Z"), 400, invalid, nil},
			{"UnknownAction", get("/api/v1/audit?action=client.exploded"), 400, invalid, []string{`"client.exploded"`, "client.created"}},
			{"UnknownActionInList", get("/api/v1/audit/export?action=client.created,nope"), 400, invalid, []string{`"nope"`}},
			{"EmptyActionInList", get("/api/v1/audit?action=client.created,"), 400, invalid, []string{"empty item"}},
			{"UnknownActionQuery", get("/api/v1/audit?q=" + q("action:nope")), 400, invalid, []string{`unknown action "nope" at column 8`}},
			{"UnknownQueryField", get("/api/v1/audit/count?q=" + q("acton:client.created")), 400, invalid, []string{`unknown field "acton" at column 1; use action, actor, target, client or created`}},
			{"QueryBareWord", get("/api/v1/audit?q=" + q("bob@x.io")), 400, invalid, []string{"bare word", "target:bob@x.io"}},
			{"QueryBadDate", get("/api/v1/audit?q=" + q("created:2026-07-01..2026-07-32")), 400, invalid, []string{`"2026-07-32" is not a date at column 21`}},
			{"BadTargetEmail", get("/api/v1/audit?target=bob%3Cx%40y.io"), 400, invalid, []string{"target", `"bob<x@y.io"`}},
			{"LongTargetSearch", get("/api/v1/audit?target=" + strings.Repeat("a", 300)), 400, invalid, []string{"target", "at most"}},
			{"BadActorEmail", get("/api/v1/audit?q=" + q("actor:***")), 400, invalid, []string{"actor"}},
			{"BadClientIDFilter", get("/api/v1/audit?client_id=abc"), 400, invalid, []string{"client_id"}},
			{"ZeroClientIDFilter", get("/api/v1/licenses?client_id=0"), 400, invalid, []string{"client_id"}},
			{"BadCursorAudit", get("/api/v1/audit?cursor=xyz"), 400, invalid, []string{"Cursor"}},
			{"BadCursorClients", get("/api/v1/clients?cursor=" + q("!!!")), 400, invalid, nil},
			{"BadCursorLicenses", get("/api/v1/licenses?cursor=abc"), 400, invalid, nil},
			{"LimitZero", get("/api/v1/audit?limit=0"), 400, invalid, []string{"limit", "1 to 500"}},
			{"Limit501", get("/api/v1/audit?limit=501"), 400, invalid, []string{"limit"}},
			{"LimitAbc", get("/api/v1/audit?limit=abc"), 400, invalid, []string{"limit"}},
			{"LimitNegativeClients", get("/api/v1/clients?limit=-1"), 400, invalid, nil},
			{"Limit501Licenses", get("/api/v1/licenses?limit=501"), 400, invalid, nil},
			{"BadTZ", get("/api/v1/audit?tz=Mars/Olympus"), 400, invalid, []string{"Mars/Olympus"}},
			{"LocalTZ", get("/api/v1/audit/count?tz=Local&bucket=day"), 400, invalid, nil},
			{"PathTZ", get("/api/v1/audit?tz=" + q("../../etc/passwd")), 400, invalid, nil},
			{"BadBucket", get("/api/v1/audit/count?bucket=year"), 400, invalid, []string{`"year"`, "day, week, month, quarter"}},
			{"BadOrder", get("/api/v1/audit?order=sideways"), 400, invalid, []string{"sideways"}},
			{"BadFormat", get("/api/v1/audit/export?format=xml"), 400, invalid, []string{"xml"}},
			{"BadClientStatus", get("/api/v1/clients?status=gone"), 400, invalid, []string{"gone"}},
			{"BadLicenseStatus", get("/api/v1/licenses?status=lost"), 400, invalid, []string{"lost"}},
			{"UnknownParam", get("/api/v1/audit?acton=client.created"), 400, invalid, []string{`"acton"`, "action"}},
			{"ParamOnPools", get("/api/v1/pools?all=1"), 400, invalid, []string{"takes none"}},
			{"LimitOnCount", get("/api/v1/audit/count?limit=5"), 400, invalid, nil},
			{"RepeatedParam", get("/api/v1/audit?limit=5&limit=6"), 400, invalid, []string{"given 2 times"}},
			{"BothSearches", get("/api/v1/clients?q=a&email=b"), 400, invalid, nil},
			{"MalformedQuery", get("/api/v1/audit?from=%zz"), 400, invalid, nil},

			// Credentials and roles.
			{"MissingToken", withToken(post("/api/v1/clients", `{"email":"n@x.io"}`), ""), 401, unauth, []string{"Bearer"}},
			{"WrongToken", withToken(post("/api/v1/clients", `{"email":"n@x.io"}`), "rsl_not-a-real-token"), 401, unauth, nil},
			{"UnprefixedToken", withToken(get("/api/v1/audit"), "hunter2"), 401, unauth, nil},
			{"BasicAuth", withHeader(withToken(get("/api/v1/clients"), ""), "Authorization", "Basic b3BlcmF0b3I6cHc="), 401, unauth, nil},
			{"RevokedToken", withToken(post("/api/v1/clients", `{"email":"n@x.io"}`), revokedToken), 401, unauth, []string{"revoked"}},
			{"RevokedTokenRead", withToken(get("/api/v1/pools"), revokedToken), 401, unauth, nil},
			{"AuditorCreates", withToken(post("/api/v1/clients", `{"email":"n@x.io"}`), audTok), 403, forbidden, []string{"auditor"}},
			{"AuditorAllocates", withToken(post("/api/v1/licenses", alloc(active.ID, e.pool.ID)), audTok), 403, forbidden, nil},
			{"AuditorSuspends", withToken(post(clientPath(active.ID, "/suspend"), ""), audTok), 403, forbidden, nil},
			{"AuditorRevokes", withToken(post(fmt.Sprintf("/api/v1/licenses/%d/revoke", lic.ID), ""), audTok), 403, forbidden, nil},
			{"OperatorDeletes", req{method: "DELETE", path: clientPath(active.ID, ""), token: opTok}, 403, forbidden, []string{"operator"}},

			// Routes.
			{"UnknownRoute", get("/api/v1/nope"), 404, notFound, []string{"/api/v1/nope"}},
			{"UnknownSubroute", get(clientPath(active.ID, "/extra")), 404, notFound, nil},
			{"UnknownRouteNoToken", withToken(get("/api/v2/clients"), ""), 404, notFound, nil},
			{"WrongMethod", req{method: "PUT", path: "/api/v1/clients", token: opTok, body: `{"email":"n@x.io"}`}, 405, "method_not_allowed", []string{"GET", "POST"}},
			{"DeletePools", req{method: "DELETE", path: "/api/v1/pools", token: adTok}, 405, "method_not_allowed", nil},
		}
		names := map[string]bool{}
		for _, tt := range tests {
			if names[tt.name] {
				t.Fatalf("two cases named %s", tt.name)
			}
			names[tt.name] = true
			t.Run(tt.name, func(t *testing.T) {
				before := e.state(t)
				res := e.do(t, tt.req)
				res.wantProblem(t, tt.status, tt.code, tt.details...)
				if d := cmp.Diff(before, e.state(t)); d != "" {
					t.Fatalf("the request changed something (-before +after):\n%s", d)
				}
				switch tt.status {
				case 401:
					if res.header.Get("WWW-Authenticate") == "" {
						t.Error("no WWW-Authenticate header")
					}
				case 405:
					if res.header.Get("Allow") == "" {
						t.Error("no Allow header")
					}
				}
			})
		}
	})
}
