package web_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

func TestAuditEntryShape(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		res := e.do(t, req{method: "POST", path: "/api/v1/clients", token: e.tokens[operator],
			body: `{"email":"bob@example.io","name":"Bob"}`, header: map[string]string{"X-Request-Id": "trace-42.a_B"}})
		if res.status != http.StatusCreated || res.header.Get("X-Request-Id") != "trace-42.a_B" {
			t.Fatalf("status %d, X-Request-Id %q", res.status, res.header.Get("X-Request-Id"))
		}
		e.get(t, auditor, "/api/v1/audit").wantJSON(t, http.StatusOK, fmt.Sprintf(`{"entries":[{
			"seq":1,"time":"2026-07-01T10:00:00Z","action":"client.created",
			"target":{"type":"client","id":1,"email":"bob@example.io"},
			"details":{"name":"Bob"},
			"actor":{"id":%d,"email":"operator@acme.test","role":"operator","via":"api","token_id":%d,
				"ip":"127.0.0.1","user_agent":"web-test/1","request_id":"trace-42.a_B"}}],"next_cursor":""}`,
			e.users[operator].ID, e.tokenID[operator]))

		// An id that is not sane is replaced by one of ours, everywhere.
		for _, bad := range []string{"has space", strings.Repeat("x", 65), "semi;colon", "ünï"} {
			res := e.do(t, req{method: "POST", path: "/api/v1/clients/1/suspend", token: e.tokens[operator],
				header: map[string]string{"X-Request-Id": bad}})
			id := res.header.Get("X-Request-Id")
			if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
				t.Fatalf("X-Request-Id for %q = %q, want a generated one", bad, id)
			}
			if res.status == http.StatusOK {
				if got := e.entries(t)[1].Actor.RequestID; got != id {
					t.Fatalf("entry request_id = %q, want %q", got, id)
				}
			}
		}
	})
}

// history writes six entries in the account (and some in the other one)
// at chosen times, through the store.
//
//	seq time (UTC)          who       what
//	1   2026-06-30 23:30    operator  client.created a@x.io (client 1); 01:30 on July 1 in Paris
//	2   2026-07-01 10:00    admin     client.created b@x.io (client 3; 2 is the other account's)
//	3   2026-07-02 10:00    operator  client.suspended a@x.io
//	4   2026-07-15 10:00    operator  license.allocated to b@x.io (license 1)
//	5   2026-08-03 10:00    admin     license.revoked license 1
//	6   2026-10-01 10:00    admin     client.deleted a@x.io
func history(t *testing.T, e *env) {
	t.Helper()
	at := func(s string) { e.clock.Set(must(time.Parse(time.RFC3339, s))) }
	op, ad := e.as(operator), e.as(admin)
	at("2026-06-30T23:30:00Z")
	a := must(e.db.CreateClient(op, "a@x.io", "A"))
	must(e.db.CreateClient(e.otherCtx(), "a@x.io", "Other A"))
	at("2026-07-01T10:00:00Z")
	b := must(e.db.CreateClient(ad, "b@x.io", "B"))
	at("2026-07-02T10:00:00Z")
	must(e.db.SuspendClient(op, a.ID, "late"))
	at("2026-07-15T10:00:00Z")
	l := must(e.db.AllocateLicense(op, b.ID, e.pool.ID, ""))
	must(e.db.CreateClient(e.otherCtx(), "z@x.io", ""))
	at("2026-08-03T10:00:00Z")
	must(e.db.RevokeLicense(ad, l.ID, ""))
	at("2026-10-01T10:00:00Z")
	must(e.db.DeleteClient(ad, a.ID))
}

// seqs lists the seqs of a page of entries.
func (e *env) seqs(t *testing.T, path string) []int64 {
	t.Helper()
	res := e.get(t, auditor, path)
	if res.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, res.status, res.body)
	}
	var page struct{ Entries []reseller.Entry }
	res.decode(t, &page)
	s := []int64{}
	for _, en := range page.Entries {
		s = append(s, en.Seq)
	}
	return s
}

func TestAuditFilters(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		history(t, e)
		q := url.QueryEscape
		tests := []struct {
			query string
			want  []int64
		}{
			{"", []int64{6, 5, 4, 3, 2, 1}},
			{"order=asc", []int64{1, 2, 3, 4, 5, 6}},
			{"order=desc&limit=2", []int64{6, 5}},
			{"action=client.created", []int64{2, 1}},
			{"action=client.created&action=client.deleted", []int64{6, 2, 1}},
			{"action=client.created,client.suspended", []int64{3, 2, 1}},
			{"action=client.created,client.suspended&action=license.revoked", []int64{5, 3, 2, 1}},
			{"target=A@X.io", []int64{6, 3, 1}},
			{"actor=admin@acme.test", []int64{6, 5, 2}},
			{"client_id=3", []int64{5, 4, 2}},
			{"from=2026-07-01", []int64{6, 5, 4, 3, 2}},
			{"from=2026-07-01&tz=Europe/Paris", []int64{6, 5, 4, 3, 2, 1}},
			{"to=2026-06-30", []int64{1}},
			{"to=2026-06-30&tz=Europe/Paris", []int64{}},
			{"to=2026-07-01", []int64{2, 1}},
			{"from=2026-07-02T10:00:00Z&to=2026-08-03T10:00:00Z", []int64{4, 3}},
			{"from=" + q("2026-07-02T12:00:00+02:00") + "&to=" + q("2026-08-03T12:00:00.000001+02:00"), []int64{5, 4, 3}},
			{"q=" + q("action:client.suspended"), []int64{3}},
			{"q=" + q("-action:client.created"), []int64{6, 5, 4, 3}},
			{"q=" + q("created:2026-07-01..2026-07-31"), []int64{4, 3, 2}},
			{"q=" + q("created:2026-07-01..2026-07-31") + "&tz=Europe/Paris", []int64{4, 3, 2, 1}},
			{"q=" + q("created:>=2026-08-01"), []int64{6, 5}},
			// One rule for bounds: an end time is excluded in q as in to=.
			{"q=" + q("created:2026-07-02T10:00:00Z..2026-08-03T10:00:00Z"), []int64{4, 3}},
			{"q=" + q("created:2026-07-02T10:00:00Z..2026-08-03T10:00:00.000001Z"), []int64{5, 4, 3}},
			{"q=" + q("created:<=2026-08-03T10:00:00Z created:>2026-07-02T10:00:00Z"), []int64{5, 4}},
			{"q=" + q("created:2026-07-02"), []int64{3}},
			{"q=" + q("-target:a@x.io"), []int64{5, 4, 2}},
			{"q=" + q(`client:1 actor:"operator@acme.test"`), []int64{3, 1}},
			{"q=" + q("action:client.created action:license.revoked -actor:admin@acme.test"), []int64{1}},
			// Explicit parameters and q combine with AND.
			{"action=client.created&q=" + q("action:client.created,client.deleted"), []int64{2, 1}},
			{"action=client.created&q=" + q("action:client.deleted"), []int64{}},
			{"client_id=1&q=" + q("client:2"), []int64{}},
			{"client_id=1&q=" + q("client:1"), []int64{6, 3, 1}},
			{"target=a@x.io&q=" + q("actor:admin@acme.test"), []int64{6}},
			{"target=a@x.io&q=" + q("target:b@x.io"), []int64{}},
			{"from=2026-08-01&q=" + q("created:<2026-08-01"), []int64{}},
			{"from=2026-07-01&q=" + q("created:..2026-07-02"), []int64{3, 2}},
		}
		for _, tt := range tests {
			t.Run(tt.query, func(t *testing.T) {
				if d := cmp.Diff(tt.want, e.seqs(t, "/api/v1/audit?"+tt.query)); d != "" {
					t.Fatalf("seqs (-want +got):\n%s", d)
				}
			})
		}
	})
}

// Paging with cursors neither drops nor repeats entries, also when they all
// share one timestamp, in both orders.
func TestAuditPaging(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db) // the clock stands still
		for i := range 7 {
			e.client(t, fmt.Sprintf("c%d@example.io", i), "")
		}
		must(db.SuspendClient(e.as(operator), 3, ""))
		all := e.entries(t)
		for _, en := range all {
			if !en.Time.Equal(t0) {
				t.Fatalf("entry %d at %s, want all at %s", en.Seq, en.Time, t0)
			}
		}
		for _, tt := range []struct {
			query string
			want  []int64
		}{
			{"order=asc", []int64{1, 2, 3, 4, 5, 6, 7, 8}},
			{"order=desc", []int64{8, 7, 6, 5, 4, 3, 2, 1}},
			{"", []int64{8, 7, 6, 5, 4, 3, 2, 1}},
			{"action=client.created&order=asc", []int64{1, 2, 3, 4, 5, 6, 7}},
			{"q=-target:c3@example.io", []int64{8, 7, 6, 5, 3, 2, 1}},
		} {
			for _, limit := range []int{1, 2, 3, 500} {
				t.Run(fmt.Sprintf("%s/limit=%d", tt.query, limit), func(t *testing.T) {
					got := []int64{}
					path := fmt.Sprintf("/api/v1/audit?%s&limit=%d", tt.query, limit)
					for pages := 0; ; pages++ {
						if pages > len(all) {
							t.Fatal("paging does not end")
						}
						var page struct {
							Entries    []reseller.Entry
							NextCursor string `json:"next_cursor"`
						}
						e.get(t, auditor, path).decode(t, &page)
						if len(page.Entries) > limit {
							t.Fatalf("page of %d entries, limit %d", len(page.Entries), limit)
						}
						for _, en := range page.Entries {
							got = append(got, en.Seq)
						}
						if page.NextCursor == "" {
							break
						}
						path = fmt.Sprintf("/api/v1/audit?%s&limit=%d&cursor=%s", tt.query, limit, page.NextCursor)
					}
					if d := cmp.Diff(tt.want, got); d != "" {
						t.Fatalf("seqs (-want +got):\n%s", d)
					}
				})
			}
		}
	})
}

func TestAuditCount(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		history(t, e)
		tests := []struct{ query, want string }{
			{"", `{"total":6,"distinct_targets":2,"buckets":[]}`},
			{"action=client.created", `{"total":2,"distinct_targets":2,"buckets":[]}`},
			{"q=" + url.QueryEscape("-actor:admin@acme.test"), `{"total":3,"distinct_targets":2,"buckets":[]}`},
			{"bucket=month", `{"total":6,"distinct_targets":2,"buckets":[
				{"start":"2026-06-01T00:00:00Z","count":1},{"start":"2026-07-01T00:00:00Z","count":3},
				{"start":"2026-08-01T00:00:00Z","count":1},{"start":"2026-09-01T00:00:00Z","count":0},
				{"start":"2026-10-01T00:00:00Z","count":1}]}`},
			{"bucket=month&tz=Europe/Paris", `{"total":6,"distinct_targets":2,"buckets":[
				{"start":"2026-07-01T00:00:00+02:00","count":4},{"start":"2026-08-01T00:00:00+02:00","count":1},
				{"start":"2026-09-01T00:00:00+02:00","count":0},{"start":"2026-10-01T00:00:00+02:00","count":1}]}`},
			{"bucket=quarter&action=client.suspended,license.revoked", `{"total":2,"distinct_targets":2,"buckets":[
				{"start":"2026-07-01T00:00:00Z","count":2}]}`},
			{"bucket=day&from=2026-07-01&to=2026-07-03&tz=America/New_York", `{"total":2,"distinct_targets":2,"buckets":[
				{"start":"2026-07-01T00:00:00-04:00","count":1},{"start":"2026-07-02T00:00:00-04:00","count":1},
				{"start":"2026-07-03T00:00:00-04:00","count":0}]}`},
			{"bucket=week&from=2026-06-29&to=2026-07-12", `{"total":3,"distinct_targets":2,"buckets":[
				{"start":"2026-06-29T00:00:00Z","count":3},{"start":"2026-07-06T00:00:00Z","count":0}]}`},
			{"bucket=day&target=nobody@x.io", `{"total":0,"distinct_targets":0,"buckets":[]}`},
		}
		for _, tt := range tests {
			t.Run(tt.query, func(t *testing.T) {
				e.get(t, auditor, "/api/v1/audit/count?"+tt.query).wantJSON(t, http.StatusOK, tt.want)
			})
		}
	})
}

func TestAuditExportCSV(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.do(t, req{method: "POST", path: "/api/v1/clients", token: e.tokens[operator],
			body:   `{"email":"=cmd@x.io","name":"=HYPERLINK(\"x\")"}`,
			header: map[string]string{"User-Agent": "@evil agent", "X-Request-Id": "-req"}})
		e.clock.Add(1500 * time.Microsecond)
		must(db.SuspendClient(e.as(operator), 1, "+1 overdue"))

		res := e.get(t, auditor, "/api/v1/audit/export?format=csv")
		if res.status != http.StatusOK {
			t.Fatalf("status %d: %s", res.status, res.body)
		}
		if ct := res.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Errorf("Content-Type = %q", ct)
		}
		if cd := res.header.Get("Content-Disposition"); !regexp.MustCompile(`^attachment; filename=audit-log-account-1-\d{8}T\d{6}Z\.csv$`).MatchString(cd) {
			t.Errorf("Content-Disposition = %q", cd)
		}
		rows, err := csv.NewReader(bytes.NewReader(res.body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		op, tok := fmt.Sprint(e.users[operator].ID), fmt.Sprint(e.tokenID[operator])
		want := [][]string{
			{"seq", "time_utc", "action", "target_type", "target_id", "target_email", "details", "actor_id", "actor_email", "actor_role", "via", "token_id", "ip", "user_agent", "request_id", "pool", "license_id", "label", "reason"},
			{"1", "2026-07-01T10:00:00.000000Z", "client.created", "client", "1", "'=cmd@x.io", `{"name":"=HYPERLINK(\"x\")"}`, op, "operator@acme.test", "operator", "api", tok, "127.0.0.1", "'@evil agent", "'-req", "", "", "", ""},
			{"2", "2026-07-01T10:00:00.001500Z", "client.suspended", "client", "1", "'=cmd@x.io", `{"reason":"+1 overdue"}`, op, "operator@acme.test", "operator", "cli", "", "", "", "", "", "", "", "'+1 overdue"},
		}
		if d := cmp.Diff(want, rows); d != "" {
			t.Fatalf("CSV (-want +got):\n%s", d)
		}
		for _, row := range rows {
			for _, cell := range row {
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
					t.Errorf("cell %q would run as a formula", cell)
				}
			}
		}
		// An export of nothing is just the header; format defaults to CSV.
		res = e.get(t, auditor, "/api/v1/audit/export?action=license.revoked")
		if got := string(res.body); res.status != http.StatusOK || got != strings.Join(want[0], ",")+"\n" {
			t.Fatalf("empty export: %d %q", res.status, got)
		}
	})
}

func TestAuditExportJSONL(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		history(t, e)
		all := e.entries(t)
		records := func(seqs ...int64) string {
			var b strings.Builder
			for _, s := range seqs {
				b.Write(all[s-1].Record)
				b.WriteByte('\n')
			}
			return b.String()
		}
		for _, tt := range []struct {
			query string
			want  string
		}{
			{"format=jsonl", records(1, 2, 3, 4, 5, 6)},
			{"format=jsonl&order=desc", records(6, 5, 4, 3, 2, 1)},
			{"format=jsonl&action=client.created&q=" + url.QueryEscape("created:2026-07-01"), records(2)},
			{"format=jsonl&target=nobody@x.io", ""},
		} {
			t.Run(tt.query, func(t *testing.T) {
				res := e.get(t, auditor, "/api/v1/audit/export?"+tt.query)
				if res.status != http.StatusOK {
					t.Fatalf("status %d: %s", res.status, res.body)
				}
				if ct := res.header.Get("Content-Type"); ct != "application/jsonl" {
					t.Errorf("Content-Type = %q", ct)
				}
				if cd := res.header.Get("Content-Disposition"); !strings.HasSuffix(cd, ".jsonl") {
					t.Errorf("Content-Disposition = %q", cd)
				}
				if string(res.body) != tt.want {
					t.Fatalf("export:\n%s\nwant:\n%s", res.body, tt.want)
				}
			})
		}
		// The records are the log's, byte for byte.
		for _, en := range all {
			if !bytes.HasPrefix(en.Record, fmt.Appendf(nil, `{"v":%d,"account":`, auditlog.RecordVersion)) {
				t.Fatalf("record %s", en.Record)
			}
		}
	})
}
