package web_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

// No input can put bytes into the log that its canonical record encoding
// cannot hold: bad text in a body or a form is refused and changes
// nothing; bad bytes in headers that entries record are made valid.
func TestBadBytesNeverReachTheLog(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.setPassword(t, operator)
		before := e.state(t)

		// JSON bodies: a lone 0xC3, and 0xFF 0xFE, in string fields.
		for _, body := range []string{
			"{\"email\":\"n@x.io\",\"name\":\"Caf\xc3\"}",
			"{\"email\":\"n\xff\xfe@x.io\"}",
		} {
			r := e.post(t, operator, "/api/v1/clients", body)
			r.wantProblem(t, http.StatusBadRequest, reseller.EINVALID, "UTF-8")
		}
		r := e.post(t, operator, "/api/v1/clients", "{\"email\":\"n@x.io\",\"name\":\"Caf\xc3\"}")
		r.wantProblem(t, http.StatusBadRequest, reseller.EINVALID, `"name"`)
		// A console form field with %FF%FE.
		v := e.signedIn(t, operator)
		v.post("/clients", form("email", "f@x.io", "name", "\xff\xfe")).want(http.StatusBadRequest, "not valid UTF-8")
		if d := cmp.Diff(before, e.state(t)); d != "" {
			t.Fatalf("a refused request changed something (-before +after):\n%s", d)
		}

		// Headers that land in entries are made valid, and the action goes through.
		r = e.do(t, req{method: "POST", path: "/api/v1/clients", token: e.tokens[operator], body: `{"email":"ua@x.io"}`,
			header: map[string]string{"User-Agent": "agent/1 \xc3 \xff\xfe" + strings.Repeat("x", 2000), "X-Request-Id": "req\xc3\x28"}})
		if r.status != http.StatusCreated {
			t.Fatalf("create with a bad User-Agent: %d %s", r.status, r.body)
		}
		v.header = map[string]string{"User-Agent": "browser \xc3"}
		v.post("/clients", form("email", "console@x.io", "name", "Console")).want(http.StatusSeeOther)
		for _, en := range e.entries(t) {
			ua, id := en.Actor.UserAgent, en.Actor.RequestID
			if !utf8.ValidString(ua) || len(ua) > 256 || !utf8.ValidString(id) {
				t.Errorf("entry %d records user agent %q, request id %q", en.Seq, ua, id)
			}
			if _, _, err := auditlog.CheckCanonical(en.Record); err != nil {
				t.Errorf("entry %d: %v", en.Seq, err)
			}
		}
		if err := db.CheckAccount(context.Background(), e.account.ID); err != nil {
			t.Fatalf("audit check: %v", err)
		}
		b := e.get(t, auditor, "/api/v1/audit/bundle")
		if b.status != http.StatusOK {
			t.Fatalf("bundle: %d %s", b.status, b.body)
		}
		if _, err := auditlog.VerifyBundle(bytes.NewReader(b.body), auditlog.VerifyOptions{VerifierKey: e.vkey}); err != nil {
			t.Fatalf("bundle: %v", err)
		}
	})
}

// A log found inconsistent stops: 503 log_inconsistent for changes and for
// signing, reads go on, the console says so on every page, an ERROR line
// is logged and the metric counts it.
func TestInconsistentLogStops(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.setPassword(t, auditor)
		e.client(t, "one@x.io", "One")
		e.get(t, auditor, "/api/v1/audit/checkpoint")
		e.client(t, "two@x.io", "Two")
		e.get(t, auditor, "/api/v1/audit/checkpoint")

		// While the server is down, someone puts the first checkpoint's
		// (validly signed) note into the newest checkpoint's row.
		drop := []string{"DROP TRIGGER audit_checkpoints_no_update"}
		if db.Dialect() == "postgres" {
			drop = []string{"ALTER TABLE audit_checkpoints DISABLE TRIGGER USER"}
		}
		for _, q := range append(drop, `UPDATE audit_checkpoints SET note = (SELECT note FROM audit_checkpoints c WHERE c.account_id = audit_checkpoints.account_id AND c.size = 1) WHERE size = 2`) {
			if _, err := db.SQL().Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		restarted, err := sqldb.Open(context.Background(), db.DSN())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { restarted.Close() })
		restarted.Now = e.clock.Now
		e2 := e.restart(t, restarted)

		e2.get(t, auditor, "/api/v1/audit/checkpoint").wantProblem(t, http.StatusServiceUnavailable, reseller.ELOGINCONSISTENT)
		e2.post(t, operator, "/api/v1/clients", `{"email":"three@x.io"}`).wantProblem(t, http.StatusServiceUnavailable, reseller.ELOGINCONSISTENT)
		if r := e2.get(t, auditor, "/api/v1/audit"); r.status != http.StatusOK {
			t.Fatalf("reading the log: %d %s", r.status, r.body)
		}
		e2.signedIn(t, auditor).get("/clients").want(http.StatusOK, "Changes are stopped")
		e2.signedIn(t, auditor).get("/audit").want(http.StatusOK, "Changes are stopped")
		if !strings.Contains(e2.logs.String(), `"level":"ERROR","msg":"audit log inconsistent`) {
			t.Errorf("no ERROR line logged:\n%s", e2.logs.String())
		}
		if m := e2.do(t, req{method: "GET", path: "/metrics"}); !strings.Contains(string(m.body), "reseller_audit_logs_inconsistent_total 1") {
			t.Error("the metric does not count the inconsistent log")
		}
		// The other account goes on.
		if r := e2.do(t, req{method: "POST", path: "/api/v1/clients", token: e.otherToken, body: `{"email":"fine@x.io"}`}); r.status != http.StatusCreated {
			t.Fatalf("another account: %d %s", r.status, r.body)
		}
	})
}
