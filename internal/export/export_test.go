package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/export"
)

func TestNeutralize(t *testing.T) {
	for in, want := range map[string]string{
		"":                "",
		"plain":           "plain",
		"=1+1":            "'=1+1",
		`=HYPERLINK("x")`: `'=HYPERLINK("x")`,
		"+33 1 23":        "'+33 1 23",
		"-2":              "'-2",
		"@SUM(A1)":        "'@SUM(A1)",
		"\tx":             "'\tx",
		"\rx":             "'\rx",
		"a=b":             "a=b",
		" =not at start":  " =not at start",
		"'already quoted": "'already quoted",
		"bob@x.io":        "bob@x.io",
	} {
		if got := export.Neutralize(in); got != want {
			t.Errorf("Neutralize(%q) = %q, want %q", in, got, want)
		}
	}
}

func entry(seq int64) *reseller.Entry {
	return &reseller.Entry{
		AccountID: 1, Seq: seq, Time: time.Date(2026, 7, 1, 12, 0, 0, 123000, time.FixedZone("CEST", 2*3600)),
		Action:  reseller.ActionLicenseRevoked,
		Target:  reseller.Target{Type: "client", ID: 7, Email: "=cmd@x.io"},
		Details: reseller.Details{PoolID: 2, PoolName: "Pro <10>", LicenseID: 9, Label: "-site", Reason: "said \"no\", twice"},
		Actor: reseller.EntryActor{ID: 3, Email: "op@acme.test", Role: reseller.RoleOperator, Via: reseller.ViaAPI,
			TokenID: 4, IP: "192.0.2.1", UserAgent: "@agent\nnext line", RequestID: "+req"},
		Record: []byte(`{"v":1,"seq":` + string(rune('0'+seq)) + `}`),
	}
}

func TestCSV(t *testing.T) {
	var buf bytes.Buffer
	c := export.NewCSV(&buf)
	e2 := entry(2)
	e2.Details, e2.Actor.TokenID, e2.Actor.Via = reseller.Details{}, 0, reseller.ViaCLI
	for _, e := range []*reseller.Entry{entry(1), e2} {
		if err := c.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	want := `seq,time_utc,action,target_type,target_id,target_email,details,actor_id,actor_email,actor_role,via,token_id,ip,user_agent,request_id,pool,license_id,label,reason
1,2026-07-01T10:00:00.000123Z,license.revoked,client,7,'=cmd@x.io,"{""pool_id"":2,""pool_name"":""Pro <10>"",""license_id"":9,""label"":""-site"",""reason"":""said \""no\"", twice""}",3,op@acme.test,operator,api,4,192.0.2.1,"'@agent
next line",'+req,Pro <10>,9,'-site,"said ""no"", twice"
2,2026-07-01T10:00:00.000123Z,license.revoked,client,7,'=cmd@x.io,,3,op@acme.test,operator,cli,,192.0.2.1,"'@agent
next line",'+req,,,,
`
	if d := cmp.Diff(want, buf.String()); d != "" {
		t.Fatalf("CSV (-want +got):\n%s", d)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 3 || len(rows[1]) != len(export.Header) {
		t.Fatalf("CSV does not read back: %v, %d rows", err, len(rows))
	}
}

func TestCSVEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := export.NewCSV(&buf).Flush(); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "seq,time_utc,action,target_type,target_id,target_email,details,actor_id,actor_email,actor_role,via,token_id,ip,user_agent,request_id,pool,license_id,label,reason\n" {
		t.Fatalf("empty CSV = %q", got)
	}
}

func TestJSONL(t *testing.T) {
	var buf bytes.Buffer
	j := export.NewJSONL(&buf)
	for seq := range int64(3) {
		if err := j.Write(entry(seq + 1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), "{\"v\":1,\"seq\":1}\n{\"v\":1,\"seq\":2}\n{\"v\":1,\"seq\":3}\n"; got != want {
		t.Fatalf("JSONL = %q, want %q", got, want)
	}
	e := entry(4)
	e.Record = nil
	if err := j.Write(e); err == nil {
		t.Fatal("an entry without record bytes was written")
	}
}

// errWriter fails every write, as a client gone away would.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestWriteErrors(t *testing.T) {
	c := export.NewCSV(errWriter{})
	c.Write(entry(1))
	if err := c.Flush(); err == nil {
		t.Error("CSV Flush hid a write error")
	}
	j := export.NewJSONL(errWriter{})
	j.Write(entry(1))
	if err := j.Flush(); err == nil {
		t.Error("JSONL Flush hid a write error")
	}
}

// source is a store of two entries for Stream.
type source struct{ entries, records int }

func (s *source) ExportEntries(_ context.Context, _ reseller.AuditFilter, fn func(*reseller.Entry) error) error {
	for i := range 2 {
		s.entries++
		if err := fn(&reseller.Entry{Seq: int64(i + 1), Action: reseller.ActionClientCreated, Record: []byte(`{"seq":1}`)}); err != nil {
			return err
		}
	}
	return nil
}

func (s *source) ExportRecords(_ context.Context, _ reseller.AuditFilter, fn func([]byte) error) error {
	for range 2 {
		s.records++
		if err := fn([]byte(`{"seq":1}`)); err != nil {
			return err
		}
	}
	return nil
}

// Stream gives JSON Lines the record bytes alone and CSV whole entries.
func TestStream(t *testing.T) {
	for _, tc := range []struct {
		name             string
		w                func(*bytes.Buffer) export.Writer
		entries, records int
	}{
		{"JSONL", func(b *bytes.Buffer) export.Writer { return export.NewJSONL(b) }, 0, 2},
		{"CSV", func(b *bytes.Buffer) export.Writer { return export.NewCSV(b) }, 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			src := &source{}
			w := tc.w(&b)
			n, err := export.Stream(context.Background(), src, reseller.AuditFilter{}, w)
			if err != nil || w.Flush() != nil {
				t.Fatal(err)
			}
			if n != 2 || src.entries != tc.entries || src.records != tc.records {
				t.Fatalf("wrote %d; read %d entries and %d records, want %d and %d", n, src.entries, src.records, tc.entries, tc.records)
			}
		})
	}
}
