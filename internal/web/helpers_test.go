package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
	"github.com/resellerconsole/reseller/internal/web"
	"golang.org/x/mod/sumdb/note"
)

// t0 is when every test's clock starts.
var t0 = time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC)

// clock is a settable clock, safe to read from the server's goroutines.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); c.now = t; c.mu.Unlock() }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// env is a real server over a real database, with an account that has one
// user and API token per role and two pools, and a second account to check
// isolation against.
type env struct {
	db      *sqldb.DB
	server  *web.Server
	srv     *httptest.Server
	clock   *clock
	logs    *syncBuffer
	account *reseller.Account
	users   map[reseller.Role]*reseller.User
	tokens  map[reseller.Role]string
	tokenID map[reseller.Role]int64
	pool    *reseller.Pool // capacity 10
	small   *reseller.Pool // capacity 1

	other      *reseller.Account
	otherToken string
	otherPool  *reseller.Pool
	otherOp    *reseller.User
	vkey       string // verifies the server's checkpoints
	signer     note.Signer
	cfg        web.Config
}

// setKey gives db a fresh checkpoint signing key and returns its verifier key.
func setKey(t *testing.T, db *sqldb.DB) string {
	t.Helper()
	_, vkey := setKeySigner(t, db)
	return vkey
}

func setKeySigner(t *testing.T, db *sqldb.DB) (note.Signer, string) {
	t.Helper()
	skey, vkey, err := auditlog.GenerateKey(auditlog.DefaultKeyName)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	db.SetSigner(signer, vkey)
	return signer, vkey
}

type envOption func(*web.Config)

func newEnv(t *testing.T, db *sqldb.DB, opts ...envOption) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{db: db, clock: &clock{now: t0}, logs: &syncBuffer{},
		users: map[reseller.Role]*reseller.User{}, tokens: map[reseller.Role]string{}, tokenID: map[reseller.Role]int64{}}
	db.Now = e.clock.Now
	e.signer, e.vkey = setKeySigner(t, db)
	e.account = must(db.CreateAccount(ctx, "Acme Hosting"))
	for _, r := range reseller.Roles {
		u := sqldbtest.Member(t, db, e.account.ID, fmt.Sprintf("%s@acme.test", r), r)
		tokID, secret := sqldbtest.MemberToken(t, db, u, string(r)+" token")
		e.users[r], e.tokens[r], e.tokenID[r] = u, secret, tokID
	}
	e.pool = must(db.CreatePool(ctx, e.account.ID, "Pro 10", "", 10))
	e.small = must(db.CreatePool(ctx, e.account.ID, "Solo", "shield", 1))
	e.other = must(db.CreateAccount(ctx, "Other Agency"))
	e.otherOp = sqldbtest.Member(t, db, e.other.ID, "op@other.test", reseller.RoleOperator)
	_, e.otherToken = sqldbtest.MemberToken(t, db, e.otherOp, "API token")
	e.otherPool = must(db.CreatePool(ctx, e.other.ID, "Other pool", "", 5))

	cfg := web.Config{Store: db, Logger: slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		RateLimit: -1, Now: e.clock.Now}
	for _, o := range opts {
		o(&cfg)
	}
	e.cfg = cfg
	e.server = web.New(cfg)
	e.srv = httptest.NewServer(validateAPI(t, e.server.Handler()))
	t.Cleanup(e.srv.Close)
	return e
}

// restart returns the env served by a new server over db, another handle on
// the same database with the same signing key: the server after a restart.
func (e *env) restart(t *testing.T, db *sqldb.DB) *env {
	t.Helper()
	e2 := *e
	e2.db, e2.logs = db, &syncBuffer{}
	db.SetSigner(e.signer, e.vkey)
	cfg := e.cfg
	cfg.Store = db
	cfg.Logger = slog.New(slog.NewJSONHandler(e2.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e2.cfg = cfg
	e2.server = web.New(cfg)
	e2.srv = httptest.NewServer(validateAPI(t, e2.server.Handler()))
	t.Cleanup(e2.srv.Close)
	return &e2
}

// withStore serves through s instead of the database itself.
func withStore(s web.Store) envOption { return func(c *web.Config) { c.Store = s } }

// as is a store context acting as the env's user with that role.
func (e *env) as(r reseller.Role) context.Context {
	u := e.users[r]
	return reseller.NewContext(context.Background(), &reseller.Actor{
		UserID: u.ID, AccountID: u.AccountID, Email: u.Email, Role: u.Role, Via: reseller.ViaCLI,
	})
}

// operator acts as the platform operator in the env's account.
func (e *env) operator() context.Context {
	return reseller.NewContext(context.Background(), reseller.OperatorActor(e.account.ID))
}

// otherCtx acts as the other account's operator.
func (e *env) otherCtx() context.Context {
	u := e.otherOp
	return reseller.NewContext(context.Background(), &reseller.Actor{
		UserID: u.ID, AccountID: u.AccountID, Email: u.Email, Role: u.Role, Via: reseller.ViaCLI,
	})
}

// client creates a client through the store.
func (e *env) client(t *testing.T, email, name string) *reseller.Client {
	t.Helper()
	c, err := e.db.CreateClient(e.as(reseller.RoleOperator), email, name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// entries is the account's whole log, oldest first.
func (e *env) entries(t *testing.T) []*reseller.Entry {
	t.Helper()
	var es []*reseller.Entry
	err := e.db.ExportEntries(e.as(reseller.RoleAuditor), reseller.AuditFilter{Order: reseller.OrderAsc}, func(en *reseller.Entry) error {
		es = append(es, en)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// response is what a request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

// req is a request to send; body is sent as is, with Content-Type
// application/json unless header says otherwise.
type req struct {
	method, path, token string
	body                string
	header              map[string]string
}

func (e *env) do(t *testing.T, rq req) *response {
	t.Helper()
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	hr, err := http.NewRequest(rq.method, e.srv.URL+rq.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if rq.body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	if rq.token != "" {
		hr.Header.Set("Authorization", "Bearer "+rq.token)
	}
	hr.Header.Set("User-Agent", "web-test/1")
	for k, v := range rq.header {
		hr.Header.Set(k, v)
	}
	res, err := e.srv.Client().Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", rq.method, rq.path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", rq.method, rq.path, err)
	}
	return &response{status: res.StatusCode, header: res.Header, body: b}
}

// get, post and del send as the role's token.
func (e *env) get(t *testing.T, role reseller.Role, path string) *response {
	t.Helper()
	return e.do(t, req{method: "GET", path: path, token: e.tokens[role]})
}

func (e *env) post(t *testing.T, role reseller.Role, path, body string) *response {
	t.Helper()
	return e.do(t, req{method: "POST", path: path, token: e.tokens[role], body: body})
}

func (e *env) del(t *testing.T, role reseller.Role, path string) *response {
	t.Helper()
	return e.do(t, req{method: "DELETE", path: path, token: e.tokens[role]})
}

// wantJSON fails unless the response has the status and its JSON body
// equals want.
func (r *response) wantJSON(t *testing.T, status int, want string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if d := cmp.Diff(parseJSON(t, []byte(want)), parseJSON(t, r.body)); d != "" {
		t.Fatalf("body mismatch (-want +got):\n%s", d)
	}
}

// wantProblem fails unless the response is a problem with the status and
// code, whose detail contains each of details.
// wantLicense is wantJSON for a response holding a newly issued license
// key (field "key", random): it checks the key's form, then compares the
// rest with want.
func (r *response) wantLicense(t *testing.T, status int, want string) string {
	t.Helper()
	var m map[string]any
	r.decode(t, &m)
	key, _ := m["key"].(string)
	if !strings.HasPrefix(key, reseller.LicenseKeyPrefix) || len(key) != len(reseller.LicenseKeyPrefix)+43 {
		t.Fatalf("key = %q, want rlk_ and 43 base64url characters; body: %s", key, r.body)
	}
	delete(m, "key")
	rest, _ := json.Marshal(m)
	(&response{status: r.status, header: r.header, body: rest}).wantJSON(t, status, want)
	return key
}

func (r *response) wantProblem(t *testing.T, status int, code string, details ...string) web.Problem {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json; body: %s", ct, r.body)
	}
	var p web.Problem
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("problem body %s: %v", r.body, err)
	}
	if p.Code != code || p.Status != status || p.Title == "" || p.Detail == "" || p.Type != "urn:reseller:problem:"+code {
		t.Fatalf("problem = %+v, want status %d code %s", p, status, code)
	}
	for _, d := range details {
		if !strings.Contains(p.Detail, d) {
			t.Fatalf("detail %q does not contain %q", p.Detail, d)
		}
	}
	return p
}

// decode unmarshals the body into v.
func (r *response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
}

func parseJSON(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	return v
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func must2[T, U any](v T, u U, err error) (T, U) {
	if err != nil {
		panic(err)
	}
	return v, u
}

// syncBuffer is a log sink the server's goroutines can write to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// logLines returns the JSON log records written so far.
func (e *env) logLines(t *testing.T) []map[string]any {
	t.Helper()
	var ls []map[string]any
	for line := range strings.Lines(e.logs.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		ls = append(ls, m)
	}
	return ls
}
