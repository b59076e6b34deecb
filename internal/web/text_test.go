package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

// Text is clean before it is stored, on both databases alike: what would
// hide or disguise characters is refused with a 400 that names the field,
// emails have one form each, and search input is bounded.
func TestTextIsCleanBeforeItIsStored(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		c := e.client(t, "admin@acme-client.test", "Client")
		e.client(t, "x@café.example", "Composed")
		before := e.state(t)
		clientPath := fmt.Sprintf("/api/v1/clients/%d", c.ID)
		for _, tc := range []struct {
			name, path, body string
			code             string
			detail           string
		}{
			{"NUL in a name", "/api/v1/clients", `{"email":"n@x.io","name":"a\u0000b"}`, reseller.EINVALID, "Name has a character that is not allowed"},
			{"control in a name", "/api/v1/clients", `{"email":"n@x.io","name":"a\u0007b"}`, reseller.EINVALID, "Name"},
			{"C1 control in a name", "/api/v1/clients", `{"email":"n@x.io","name":"a\u0085b"}`, reseller.EINVALID, "Name"},
			{"bidi override in a name", "/api/v1/clients", `{"email":"n@x.io","name":"evil\u202Etxt.exe"}`, reseller.EINVALID, "U+202E"},
			{"zero-width space in a name", "/api/v1/clients", `{"email":"n@x.io","name":"Acme\u200BCorp"}`, reseller.EINVALID, "U+200B"},
			{"bidi isolate in a reason", clientPath + "/suspend", `{"reason":"unpaid \u2066x\u2069"}`, reseller.EINVALID, "Reason"},
			{"control in a label", "/api/v1/licenses", fmt.Sprintf(`{"client_id":%d,"pool_id":%d,"label":"site\u0000.example"}`, c.ID, e.pool.ID), reseller.EINVALID, "Label"},
			{"Cyrillic a in an email", "/api/v1/clients", `{"email":"\u0430dmin@acme-client.test"}`, reseller.EINVALID, "ASCII"},
			{"zero-width space in an email", "/api/v1/clients", `{"email":"ad\u200Bmin@acme-client.test"}`, reseller.EINVALID, "not a valid address"},
			{"65-character local part", "/api/v1/clients", `{"email":"` + strings.Repeat("a", 65) + `@x.io"}`, reseller.EINVALID, "64"},
			{"decomposed é is the same address", "/api/v1/clients", `{"email":"x@cafe\u0301.example"}`, reseller.EEMAILTAKEN, ""},
			{"punycode is the same address", "/api/v1/clients", `{"email":"X@xn--caf-dma.example"}`, reseller.EEMAILTAKEN, ""},
			{"key differing in case", "/api/v1/clients", `{"EMAIL":"n@x.io"}`, reseller.EINVALID, `did you mean "email"`},
			{"two keys differing in case", "/api/v1/clients", `{"email":"n@x.io","Email":"m@x.io"}`, reseller.EINVALID, "case-sensitive"},
		} {
			t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
				r := e.post(t, operator, tc.path, tc.body)
				status := http.StatusBadRequest
				if tc.code == reseller.EEMAILTAKEN {
					status = http.StatusConflict
				}
				r.wantProblem(t, status, tc.code, tc.detail)
			})
		}
		r := e.get(t, auditor, "/api/v1/clients?q="+strings.Repeat("a", 50000))
		r.wantProblem(t, http.StatusBadRequest, reseller.EINVALID, "longer than")
		v := e.signedIn(t, operator)
		v.get("/clients?q="+url.QueryEscape(strings.Repeat("é", 25000))).want(http.StatusBadRequest, "longer than")
		if d := cmp.Diff(before, e.state(t)); d != "" {
			t.Fatalf("a refused request changed something (-before +after):\n%s", d)
		}
		// The stored form of an internationalised address is its ASCII one.
		cs, _ := must2(db.ListClients(e.as(auditor), reseller.ClientFilter{Search: "xn--caf-dma"}))
		if len(cs) != 1 || cs[0].Email != "x@xn--caf-dma.example" {
			t.Fatalf("stored email: %+v", cs)
		}
	})
}
