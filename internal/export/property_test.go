package export_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/export"
	"pgregory.net/rapid"
)

// referenceCSV is the CSV writer as first written, on encoding/csv and
// encoding/json: the CSV writer must write exactly what it writes.
type referenceCSV struct {
	w *csv.Writer
}

func newReferenceCSV(w io.Writer) (*referenceCSV, error) {
	r := &referenceCSV{w: csv.NewWriter(w)}
	return r, r.w.Write(export.Header)
}

func (c *referenceCSV) Write(e *reseller.Entry) error {
	details := ""
	if e.Details != (reseller.Details{}) {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(e.Details); err != nil {
			return err
		}
		details = strings.TrimSuffix(b.String(), "\n")
	}
	token := ""
	if e.Actor.TokenID != 0 {
		token = strconv.FormatInt(e.Actor.TokenID, 10)
	}
	license := ""
	if e.Details.LicenseID != 0 {
		license = strconv.FormatInt(e.Details.LicenseID, 10)
	}
	r := []string{
		strconv.FormatInt(e.Seq, 10), e.Time.UTC().Format(export.TimeFormat), string(e.Action), e.Target.Type,
		strconv.FormatInt(e.Target.ID, 10), e.Target.Email, details, strconv.FormatInt(e.Actor.ID, 10),
		e.Actor.Email, string(e.Actor.Role), e.Actor.Via, token, e.Actor.IP, e.Actor.UserAgent, e.Actor.RequestID,
		e.Details.PoolName, license, e.Details.Label, e.Details.Reason,
	}
	for i := range r {
		r[i] = export.Neutralize(r[i])
	}
	return c.w.Write(r)
}

func (c *referenceCSV) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

// cellString draws strings that stress CSV quoting and neutralisation.
func cellString() *rapid.Generator[string] {
	piece := rapid.OneOf(
		rapid.SampledFrom([]string{",", `"`, "\n", "\r", "\r\n", " ", "\t", "\v", "\f", "\u00a0", "\u0085", "\u2028", "\u3000",
			"=", "+", "-", "@", "'", `\.`, `\`, ".", "<", "&", "\x00", "\x7f", "é", "😀", "\xff", "\xed\xa0\x80", "a", "1"}),
		rapid.StringMatching(`[a-z0-9.@ -]{0,8}`),
		rapid.String(),
	)
	return rapid.Custom(func(t *rapid.T) string {
		var b strings.Builder
		for _, p := range rapid.SliceOfN(piece, 0, 4).Draw(t, "pieces") {
			b.WriteString(p)
		}
		return b.String()
	})
}

func anyEntry(t *rapid.T) *reseller.Entry {
	str := cellString()
	opt := rapid.OneOf(rapid.Just(""), str)
	num := rapid.OneOf(rapid.Just(int64(0)), rapid.Int64Range(-20, 20), rapid.Int64())
	zone := time.FixedZone("Z", rapid.IntRange(-14*3600, 14*3600).Draw(t, "offset"))
	return &reseller.Entry{
		Seq: num.Draw(t, "seq"),
		Time: time.Unix(rapid.Int64Range(-62135596800-2*86400*366, 253402300799+2*86400*366).Draw(t, "unix"),
			rapid.Int64Range(0, 999999999).Draw(t, "nanos")).In(zone),
		Action: reseller.Action(str.Draw(t, "action")),
		Target: reseller.Target{Type: str.Draw(t, "type"), ID: num.Draw(t, "target"), Email: str.Draw(t, "email")},
		Details: reseller.Details{Name: opt.Draw(t, "name"), PoolID: num.Draw(t, "pool"), PoolName: opt.Draw(t, "pool_name"),
			Product: opt.Draw(t, "product"), LicenseID: num.Draw(t, "license"), Label: opt.Draw(t, "label"), Reason: opt.Draw(t, "reason")},
		Actor: reseller.EntryActor{ID: num.Draw(t, "actor"), Email: str.Draw(t, "actor_email"), Role: reseller.Role(str.Draw(t, "role")),
			Via: str.Draw(t, "via"), TokenID: num.Draw(t, "token"), IP: opt.Draw(t, "ip"), UserAgent: opt.Draw(t, "ua"), RequestID: opt.Draw(t, "req")},
	}
}

// TestCSVProperties: for any entries, the CSV writer writes byte for byte
// what encoding/csv and encoding/json wrote, and the file reads back.
func TestCSVProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		es := rapid.SliceOfN(rapid.Custom(anyEntry), 0, 4).Draw(t, "entries")
		var got, want bytes.Buffer
		c := export.NewCSV(&got)
		for _, e := range es {
			if err := c.Write(e); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
		ref, err := newReferenceCSV(&want)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if err := ref.Write(e); err != nil {
				t.Fatal(err)
			}
		}
		if err := ref.Flush(); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want.String(), got.String()); d != "" {
			t.Fatalf("CSV (-encoding/csv +CSV):\n%s", d)
		}
	})
}

func BenchmarkCSV(b *testing.B) {
	e := &reseller.Entry{
		Seq: 123456, Time: time.Date(2026, 7, 1, 12, 0, 0, 123456000, time.UTC), Action: reseller.ActionLicenseAllocated,
		Target: reseller.Target{Type: "client", ID: 3001, Email: "client3001@example.test"},
		Details: reseller.Details{PoolID: 1, PoolName: "Agency 250", Product: reseller.DefaultProduct, LicenseID: 123456,
			Label: "site.example"},
		Actor: reseller.EntryActor{ID: 2, Email: "auditor0@bench.test", Role: reseller.RoleOperator, Via: reseller.ViaAPI,
			IP: "203.0.113.9", UserAgent: "bench", RequestID: "bench"},
	}
	for _, w := range []struct {
		name string
		new  func(io.Writer) (writer, error)
	}{
		{"CSV", func(w io.Writer) (writer, error) { return export.NewCSV(w), nil }},
		{"encoding-csv", func(w io.Writer) (writer, error) { return newReferenceCSV(w) }},
	} {
		b.Run(w.name, func(b *testing.B) {
			b.ReportAllocs()
			c, err := w.new(io.Discard)
			if err != nil {
				b.Fatal(err)
			}
			for range b.N {
				if err := c.Write(e); err != nil {
					b.Fatal(err)
				}
			}
			if err := c.Flush(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

type writer interface {
	Write(*reseller.Entry) error
	Flush() error
}
