package web_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
	"github.com/resellerconsole/reseller/internal/web"
)

// hookStore is the real store with some methods replaced, to hold a request
// in flight or make it fail in ways the database will not.
type hookStore struct {
	*sqldb.DB
	listPools   func(ctx context.Context) ([]*reseller.Pool, error)
	findAccount func(ctx context.Context, id int64) (*reseller.Account, error)
}

func (h *hookStore) ListPools(ctx context.Context) ([]*reseller.Pool, error) {
	if h.listPools != nil {
		return h.listPools(ctx)
	}
	return h.DB.ListPools(ctx)
}

func (h *hookStore) FindAccountByID(ctx context.Context, id int64) (*reseller.Account, error) {
	if h.findAccount != nil {
		return h.findAccount(ctx, id)
	}
	return h.DB.FindAccountByID(ctx, id)
}

func TestSecurityHeaders(t *testing.T) {
	sqldbtest.SQLiteOnly(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		for _, rq := range []req{
			{method: "GET", path: "/api/v1/pools", token: e.tokens[auditor]},
			{method: "GET", path: "/api/v1/pools"},
			{method: "GET", path: "/api/v1/audit/export?format=jsonl", token: e.tokens[auditor]},
			{method: "GET", path: "/nowhere"},
			{method: "GET", path: "/healthz"},
			{method: "GET", path: "/metrics"},
			{method: "GET", path: "/api/openapi.json"},
		} {
			res := e.do(t, rq)
			for k, v := range map[string]string{
				"X-Content-Type-Options":  "nosniff",
				"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
				"Referrer-Policy":         "no-referrer",
			} {
				if got := res.header.Get(k); got != v {
					t.Errorf("%s %s: %s = %q, want %q", rq.method, rq.path, k, got, v)
				}
			}
			if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(res.header.Get("X-Request-Id")) {
				t.Errorf("%s %s: X-Request-Id = %q", rq.method, rq.path, res.header.Get("X-Request-Id"))
			}
		}
	})
}

func TestHealthz(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		res := e.do(t, req{method: "GET", path: "/healthz"})
		if res.status != 200 || string(res.body) != "ok\n" {
			t.Fatalf("healthz: %d %q", res.status, res.body)
		}
		hs := &hookStore{DB: db, findAccount: func(context.Context, int64) (*reseller.Account, error) {
			return nil, errors.New("connection refused")
		}}
		e = newEnv(t, sqldbtest.MustOpen(t, db.Dialect()), withStore(hs))
		res = e.do(t, req{method: "GET", path: "/healthz"})
		if res.status != http.StatusServiceUnavailable {
			t.Fatalf("healthz with a broken database: %d %q", res.status, res.body)
		}
	})
}

// Internal errors and panics are 500 problems with a generic detail that
// quotes the request id; the log has the error with the same id.
func TestInternalErrors(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		hs := &hookStore{DB: db}
		e := newEnv(t, db, withStore(hs))
		for _, fail := range []func(){
			func() {
				hs.listPools = func(context.Context) ([]*reseller.Pool, error) { return nil, errors.New("pq: password=s3cret") }
			},
			func() { hs.listPools = func(context.Context) ([]*reseller.Pool, error) { panic("s3cret state") } },
		} {
			fail()
			res := e.get(t, auditor, "/api/v1/pools")
			id := res.header.Get("X-Request-Id")
			p := res.wantProblem(t, 500, reseller.EINTERNAL, "Something went wrong", id)
			if strings.Contains(p.Detail, "s3cret") {
				t.Fatalf("detail leaks the error: %q", p.Detail)
			}
			found := false
			for _, l := range e.logLines(t) {
				if l["request_id"] == id && l["level"] == "ERROR" && strings.Contains(fmt.Sprint(l["error"], l["panic"]), "s3cret") {
					found = true
				}
			}
			if !found {
				t.Fatalf("no error logged with request id %s:\n%s", id, e.logs)
			}
		}
		// The server carries on.
		hs.listPools = nil
		if res := e.get(t, auditor, "/api/v1/pools"); res.status != 200 {
			t.Fatalf("after a panic: %d", res.status)
		}
	})
}

func TestRequestLog(t *testing.T) {
	sqldbtest.SQLiteOnly(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		res := e.do(t, req{method: "POST", path: "/api/v1/clients", token: e.tokens[operator],
			body: `{"email":"log@x.io"}`, header: map[string]string{"X-Request-Id": "log-1"}})
		if res.status != 201 {
			t.Fatalf("status %d", res.status)
		}
		e.do(t, req{method: "GET", path: "/api/v1/clients", token: "rsl_wrong-secret"})
		var line map[string]any
		for _, l := range e.logLines(t) {
			if l["request_id"] == "log-1" {
				line = l
			}
		}
		want := map[string]any{"msg": "request", "method": "POST", "route": "/api/v1/clients", "status": 201.0,
			"actor_id": float64(e.users[operator].ID), "request_id": "log-1"}
		for k, v := range want {
			if line[k] != v {
				t.Errorf("log %s = %v, want %v (line %v)", k, line[k], v, line)
			}
		}
		if _, ok := line["duration_ms"].(float64); !ok {
			t.Errorf("log has no duration: %v", line)
		}
		logs := e.logs.String()
		for _, secret := range []string{e.tokens[operator], "rsl_wrong-secret", "Bearer", "log@x.io"} {
			if strings.Contains(logs, secret) {
				t.Errorf("the log contains %q:\n%s", secret, logs)
			}
		}
	})
}

func TestRateLimit(t *testing.T) {
	sqldbtest.SQLiteOnly(t, func(t *testing.T, db *sqldb.DB) {
		// One request per 1000 s after a burst of two: the third is refused.
		e := newEnv(t, db, func(c *web.Config) { c.RateLimit, c.RateBurst = 0.001, 2 })
		for i := range 2 {
			if res := e.get(t, operator, "/api/v1/pools"); res.status != 200 {
				t.Fatalf("request %d: %d", i, res.status)
			}
		}
		before := e.state(t)
		res := e.post(t, operator, "/api/v1/clients", `{"email":"late@x.io"}`)
		res.wantProblem(t, http.StatusTooManyRequests, reseller.ERATELIMITED)
		if secs, err := strconv.Atoi(res.header.Get("Retry-After")); err != nil || secs < 1 || secs > 1000 {
			t.Fatalf("Retry-After = %q", res.header.Get("Retry-After"))
		}
		if d := cmp.Diff(before, e.state(t)); d != "" {
			t.Fatalf("a refused request changed something:\n%s", d)
		}
		// Another token has its own bucket.
		if res := e.get(t, auditor, "/api/v1/pools"); res.status != 200 {
			t.Fatalf("another token: %d", res.status)
		}
		// Requests without a valid token count against their address.
		for _, want := range []int{401, 401, 429} {
			res := e.do(t, req{method: "GET", path: "/api/v1/pools", token: "rsl_guess"})
			if res.status != want {
				t.Fatalf("unauthenticated: %d, want %d", res.status, want)
			}
			if want == 429 && res.header.Get("Retry-After") == "" {
				t.Fatal("no Retry-After")
			}
		}
	})
}

func TestTrustProxy(t *testing.T) {
	sqldbtest.SQLiteOnly(t, func(t *testing.T, db *sqldb.DB) {
		for _, trust := range []bool{false, true} {
			e := newEnv(t, sqldbtest.MustOpen(t, db.Dialect()), func(c *web.Config) { c.TrustProxy = trust })
			e.do(t, req{method: "POST", path: "/api/v1/clients", token: e.tokens[operator], body: `{"email":"p@x.io"}`,
				header: map[string]string{"X-Forwarded-For": "203.0.113.9, 198.51.100.2"}})
			want := "127.0.0.1"
			if trust {
				want = "198.51.100.2"
			}
			if got := e.entries(t)[0].Actor.IP; got != want {
				t.Errorf("TrustProxy %v: ip = %q, want %q", trust, got, want)
			}
		}
	})
}

func TestMetrics(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.post(t, operator, "/api/v1/clients", `{"email":"m@x.io"}`)
		e.post(t, operator, "/api/v1/clients", `{"email":"m@x.io"}`) // 409: no action
		e.post(t, operator, "/api/v1/clients/1/suspend", "")
		e.get(t, auditor, "/api/v1/pools")
		e.get(t, auditor, "/api/v1/nowhere")
		res := e.do(t, req{method: "GET", path: "/metrics"})
		if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "text/plain") {
			t.Fatalf("metrics: %d %s", res.status, res.header.Get("Content-Type"))
		}
		for _, want := range []string{
			`reseller_http_requests_total{method="POST",route="/api/v1/clients",status="201"} 1`,
			`reseller_http_requests_total{method="POST",route="/api/v1/clients",status="409"} 1`,
			`reseller_http_requests_total{method="POST",route="/api/v1/clients/{id}/suspend",status="200"} 1`,
			`reseller_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
			`reseller_http_request_duration_seconds_count{method="GET",route="/api/v1/pools"} 1`,
			`reseller_actions_recorded_total{action="client.created"} 1`,
			`reseller_actions_recorded_total{action="client.suspended"} 1`,
			`reseller_actions_recorded_total{action="license.allocated"} 0`,
			`go_goroutines `,
		} {
			if !strings.Contains(string(res.body), want+"") {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
}

// Cancelling Serve's context lets an in-flight request finish, then Serve
// returns nil.
func TestGracefulShutdown(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		entered, release := make(chan struct{}), make(chan struct{})
		hs := &hookStore{DB: db}
		e := newEnv(t, db)
		hs.listPools = func(ctx context.Context) ([]*reseller.Pool, error) {
			close(entered)
			<-release
			return db.ListPools(ctx)
		}
		srv := web.New(web.Config{Store: hs, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ctx, ln) }()

		type result struct {
			status int
			body   string
			err    error
		}
		done := make(chan result, 1)
		go func() {
			r, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/api/v1/pools", nil)
			r.Header.Set("Authorization", "Bearer "+e.tokens[auditor])
			res, err := http.DefaultClient.Do(r)
			if err != nil {
				done <- result{err: err}
				return
			}
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			done <- result{res.StatusCode, string(b), err}
		}()
		<-entered
		cancel()
		// Once the listener is closed, shutdown is under way.
		for {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				break
			}
			c.Close()
		}
		select {
		case err := <-served:
			t.Fatalf("Serve returned (%v) with a request in flight", err)
		default:
		}
		close(release)
		r := <-done
		if r.err != nil || r.status != 200 || !strings.Contains(r.body, `"name":"Pro 10"`) {
			t.Fatalf("in-flight request: %+v", r)
		}
		if err := <-served; err != nil {
			t.Fatalf("Serve: %v", err)
		}
	})
}
