package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/export"
	"github.com/resellerconsole/reseller/internal/sqldb"
)

// someHistory performs a few actions in p's account, one hour apart from
// 2026-05-01 10:00 UTC, and returns the whole log, oldest first.
func someHistory(t *testing.T, p *provisioned) []*reseller.Entry {
	t.Helper()
	db := openDB(t, p.dsn)
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { now = now.Add(time.Hour); return now }
	owner := actor(t, db, "owner@acme.test")
	pool := mustInt(t, p.poolID)
	var last *reseller.Client
	for _, email := range []string{"a@shop.test", "b@shop.test", "=cmd@evil.test"} {
		c, err := db.CreateClient(owner, email, "Shop "+email)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.AllocateLicense(owner, c.ID, pool, "www."+strings.TrimPrefix(email, "=")); err != nil {
			t.Fatal(err)
		}
		last = c
	}
	if _, err := db.SuspendClient(owner, last.ID, "Invoice overdue, \"again\""); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteClient(owner, last.ID); err != nil {
		t.Fatal(err)
	}
	var es []*reseller.Entry
	err := db.ExportEntries(owner, reseller.AuditFilter{Order: reseller.OrderAsc}, func(e *reseller.Entry) error {
		es = append(es, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestAuditExport(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		p := provision(t, dsn)
		es := someHistory(t, p)
		if len(es) != 9 {
			t.Fatalf("%d entries in the history, want 9", len(es))
		}
		base := []string{"--db", dsn, "audit", "export", "--account", p.accountID}

		// JSON Lines: the stored record bytes, verbatim, one per line.
		r := mustCLI(t, "", append(base, "--format", "jsonl")...)
		var want strings.Builder
		for _, e := range es {
			want.Write(e.Record)
			want.WriteByte('\n')
		}
		if r.stdout != want.String() {
			t.Errorf("jsonl export:\n%s\nwant the stored records:\n%s", r.stdout, want.String())
		}

		// CSV: a header, then one row per entry, in log order.
		r = mustCLI(t, "", base...)
		rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
		if err != nil {
			t.Fatalf("csv export does not parse: %v\n%s", err, r.stdout)
		}
		if len(rows) != len(es)+1 || strings.Join(rows[0], ",") != strings.Join(export.Header, ",") {
			t.Fatalf("csv export has %d rows, header %v:\n%s", len(rows), rows[0], r.stdout)
		}
		for i, e := range es {
			if rows[i+1][0] != strconv.FormatInt(e.Seq, 10) || rows[i+1][2] != string(e.Action) {
				t.Errorf("csv row %d = %v, want entry %d (%s)", i+1, rows[i+1], e.Seq, e.Action)
			}
		}
		if !strings.Contains(r.stdout, "'=cmd@evil.test") {
			t.Errorf("csv export does not neutralise a formula-like email:\n%s", r.stdout)
		}

		// Filters: revocations because the client was deleted, newest first.
		r = mustCLI(t, "", append(base, "--format", "jsonl", "--action", "license.revoked", "--target", "=CMD@evil.test", "--order", "desc")...)
		if got := strings.Count(r.stdout, "\n"); got != 1 || !strings.Contains(r.stdout, sqldb.ClientDeletedReason) {
			t.Errorf("filtered export:\n%s", r.stdout)
		}
		// A date range in a time zone: May 1 in Tokyo ended at 15:00 UTC,
		// so it holds the entries of 11:00 to 14:00 UTC.
		r = mustCLI(t, "", append(base, "--format", "jsonl", "--from", "2026-05-01", "--to", "2026-05-01", "--tz", "Asia/Tokyo")...)
		if got := strings.Count(r.stdout, "\n"); got != 4 {
			t.Errorf("export of May 1 in Tokyo has %d entries, want 4:\n%s", got, r.stdout)
		}
		// The console's query syntax says the same.
		r = mustCLI(t, "", append(base, "--format", "jsonl", "--tz", "Asia/Tokyo", "-q", "created:2026-05-01..2026-05-01 -action:client.created")...)
		if got := strings.Count(r.stdout, "\n"); got != 2 || strings.Contains(r.stdout, "client.created") {
			t.Errorf("export --query of May 1 in Tokyo without creations has %d entries, want 2:\n%s", got, r.stdout)
		}
		r = mustCLI(t, "", append(base, "--format", "jsonl", "--actor", "nobody@acme.test")...)
		if r.stdout != "" {
			t.Errorf("export by an actor who did nothing: %q", r.stdout)
		}

		// --out writes the file whole, with nothing on stdout and no
		// temporary file left beside it.
		dir := t.TempDir()
		out := filepath.Join(dir, "audit.jsonl")
		r = mustCLI(t, "", append(base, "--format", "jsonl", "--out", out)...)
		if r.stdout != "" || !strings.Contains(r.stderr, "Exported 9 entries") {
			t.Errorf("export --out: stdout %q, stderr %q", r.stdout, r.stderr)
		}
		if b, err := os.ReadFile(out); err != nil || string(b) != want.String() {
			t.Errorf("export file: %v\n%s", err, b)
		}
		if names, _ := os.ReadDir(dir); len(names) != 1 {
			t.Errorf("export left files behind: %v", names)
		}
	})
}

func TestAuditExportEmptyAccount(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "x.db")
	mustCLI(t, "", "--db", dsn, "migrate")
	id := oneLine(t, idLine, mustCLI(t, "", "--db", dsn, "account", "create", "--name", "Empty").stdout)
	r := mustCLI(t, "", "--db", dsn, "audit", "export", "--account", id)
	if r.stdout != strings.Join(export.Header, ",")+"\n" {
		t.Errorf("csv export of an empty log = %q, want the header alone", r.stdout)
	}
	if r := mustCLI(t, "", "--db", dsn, "audit", "export", "--account", id, "--format", "jsonl"); r.stdout != "" {
		t.Errorf("jsonl export of an empty log = %q", r.stdout)
	}
}
