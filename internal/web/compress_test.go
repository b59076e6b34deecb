package web_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

// Pages, JSON, problems, CSV and JSON Lines come gzipped to clients that
// accept it, and plain to those that do not; JSON answers under a kilobyte
// (most problems, single objects) come plain with their length.
func TestCompression(t *testing.T) {
	db := sqldbtest.MustOpen(t, "sqlite")
	e := newEnv(t, db)
	auditHistory(t, e)
	v := e.signedIn(t, auditor)
	gz := map[string]string{"Accept-Encoding": "gzip, br;q=0.5"}
	for _, tt := range []struct{ path, ctype, want string }{
		{"/api/v1/audit", "application/json", `"entries"`},
		{"/api/v1/audit/export?format=csv&order=desc", "text/csv; charset=utf-8", "seq,time_utc"},
		{"/api/v1/audit/export?format=jsonl", "application/jsonl", `"action":"client.created"`},
		{"/api/openapi.json", "application/json", `"openapi"`},
	} {
		res := e.do(t, req{method: "GET", path: tt.path, token: e.tokens[auditor], header: gz})
		if res.header.Get("Content-Encoding") != "gzip" || res.header.Get("Content-Type") != tt.ctype || !strings.Contains(res.header.Get("Vary"), "Accept-Encoding") {
			t.Fatalf("%s: %d %v", tt.path, res.status, res.header)
		}
		zr, err := gzip.NewReader(bytes.NewReader(res.body))
		if err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		body, err := io.ReadAll(zr)
		if err != nil || !strings.Contains(string(body), tt.want) {
			t.Fatalf("%s: %v %.300s", tt.path, err, body)
		}
		plain := e.do(t, req{method: "GET", path: tt.path, token: e.tokens[auditor], header: map[string]string{"Accept-Encoding": "identity"}})
		if plain.header.Get("Content-Encoding") != "" || !bytes.Equal(plain.body, body) && !strings.Contains(tt.path, "export") {
			t.Fatalf("%s without gzip: %v", tt.path, plain.header)
		}
	}
	for _, tt := range []struct{ path, ctype, want string }{
		{"/api/v1/audit?limit=0", "application/problem+json", `"code":"invalid"`},
		{"/api/v1/clients/999999", "application/problem+json", `"code":"not_found"`},
		{"/api/v1/audit/count", "application/json", `"total"`},
	} {
		res := e.do(t, req{method: "GET", path: tt.path, token: e.tokens[auditor], header: gz})
		if res.header.Get("Content-Encoding") != "" || res.header.Get("Content-Type") != tt.ctype ||
			res.header.Get("Content-Length") != fmt.Sprint(len(res.body)) || !strings.Contains(string(res.body), tt.want) {
			t.Fatalf("%s: %d %v %.300s", tt.path, res.status, res.header, res.body)
		}
	}
	p := v.get("/audit")
	if p.header.Get("Vary") == "" {
		t.Fatalf("page headers %v", p.header)
	}
	res := e.do(t, req{method: "GET", path: "/healthz", header: map[string]string{"Accept-Encoding": "gzip;q=0"}})
	if res.header.Get("Content-Encoding") != "" {
		t.Fatal("gzip;q=0 got gzip")
	}
}
