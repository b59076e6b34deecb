package auditlog_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"pgregory.net/rapid"
)

// ParseTrusted must read exactly what encoding/json reads. viaJSON is that
// reference, written here without the package's code: the entry's fields
// as encoding/json fills them, the account from the "account" field.
func viaJSON(b []byte) (*reseller.Entry, error) {
	e := &reseller.Entry{}
	if err := json.Unmarshal(b, e); err != nil {
		return nil, err
	}
	var a struct {
		Account int64 `json:"account"`
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, err
	}
	e.AccountID, e.Record = a.Account, b
	return e, nil
}

// sameAsJSON fails unless ParseTrusted and encoding/json agree on b: both
// refuse it, or both read the same entry. Times must be identical, location
// included, not merely the same instant.
func sameAsJSON(t tester, b []byte) *reseller.Entry {
	t.Helper()
	got, err := auditlog.ParseTrusted(b)
	want, wantErr := viaJSON(b)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("ParseTrusted(%q): error %v, encoding/json: error %v", b, err, wantErr)
	}
	if err != nil {
		return nil
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("ParseTrusted(%q) (-encoding/json +ParseTrusted):\n%s", b, d)
	}
	if got.Time != want.Time {
		t.Fatalf("ParseTrusted(%q): time %#v, encoding/json: %#v", b, got.Time, want.Time)
	}
	if fast, ok := auditlog.ParseCanonical(b); ok {
		if d := cmp.Diff(want, fast); d != "" || fast.Time != want.Time {
			t.Fatalf("fast path on %q (-encoding/json +fast):\n%s", b, d)
		}
	}
	return got
}

// TestParseRecordGolden reads testdata/parse.jsonl, one record (or not
// quite a record) a line: canonical records with every field, escape and
// extreme value, then bytes that are not canonical, which encoding/json
// reads, then bytes it refuses. testdata/parse.golden pins what each line
// reads as, and by which path.
func TestParseRecordGolden(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("testdata", "parse.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	for i, line := range strings.Split(strings.TrimSuffix(string(in), "\n"), "\n") {
		b := []byte(line)
		e := sameAsJSON(t, b)
		_, fast := auditlog.ParseCanonical(b)
		if _, err := auditlog.DecodeCanonical(b); fast != (err == nil) {
			t.Errorf("line %d: fast path %v, but DecodeCanonical says %v", i+1, fast, err)
		}
		r := struct {
			Line    int             `json:"line"`
			Path    string          `json:"path"`
			Account int64           `json:"account"`
			Entry   *reseller.Entry `json:"entry,omitempty"`
		}{Line: i + 1, Path: "fast", Entry: e}
		switch {
		case e == nil:
			r.Path = "error"
		case !fast:
			r.Path = "encoding/json"
		}
		if e != nil {
			r.Account = e.AccountID
			if !bytes.Equal(e.Record, b) {
				t.Errorf("line %d: Record is not the input", i+1)
			}
		}
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	golden(t, "parse.golden", out.Bytes())
}

// TestParseRecordRoundTrip: for any entry, ParseTrusted reads its record as
// encoding/json does, by the fast path whenever the record is canonical,
// and gives the entry back (to the microsecond, in UTC) when its strings
// are valid UTF-8 and its year is one a record can hold.
func TestParseRecordRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := anyEntry().Draw(t, "entry")
		v := anyVersion().Draw(t, "version")
		// The records of older versions too, which EncodeRecord now refuses
		// to write, and version 1 records with what only version 2 has,
		// which none wrote: ParseTrusted reads whatever a log holds.
		rec, err := auditlog.EncodeUnchecked(in, v)
		if err != nil {
			t.Fatal(err)
		}
		got := sameAsJSON(t, rec)
		_, fast := auditlog.ParseCanonical(rec)
		if _, err := auditlog.DecodeCanonical(rec); fast != (err == nil) {
			t.Fatalf("fast path %v, but DecodeCanonical says %v, for %q", fast, err, rec)
		}
		if y := in.Time.UTC().Year(); y >= 0 && y <= 9999 && validStrings(in) && (v == 2 || !hasV2(in)) {
			if !fast {
				t.Fatalf("the fast path refuses %q", rec)
			}
			want := *in
			want.Time = in.Time.UTC().Truncate(time.Microsecond)
			want.Record = rec
			if d := cmp.Diff(&want, got); d != "" {
				t.Fatalf("round trip (-entry +ParseTrusted):\n%s", d)
			}
		}
		sameAsJSON(t, mutate(t, rec))
	})
}

// validStrings reports whether every string of e is valid UTF-8, which is
// when its record gives it back unchanged.
func validStrings(e *reseller.Entry) bool {
	for _, s := range []string{string(e.Action), e.Target.Type, e.Target.Email, e.Details.Name, e.Details.PoolName,
		e.Details.Product, e.Details.Label, e.Details.Reason, string(e.Details.Role), string(e.Details.FromRole),
		string(e.Details.ToRole), e.Details.TokenName, e.Actor.Email, string(e.Actor.Role), e.Actor.Via,
		e.Actor.IP, e.Actor.UserAgent, e.Actor.RequestID} {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

// hasV2 reports whether e holds what only records of version 2 may: a user
// target or a detail of team actions.
func hasV2(e *reseller.Entry) bool {
	d := &e.Details
	return e.Target.Type == reseller.TargetUser || d.Role != "" || d.FromRole != "" || d.ToRole != "" || d.TokenID != 0 || d.TokenName != ""
}

// FuzzParseRecord searches for bytes on which ParseTrusted and encoding/json
// disagree.
func FuzzParseRecord(f *testing.F) {
	for _, e := range append(story(f, 42).Entries, teamStory(f, 42).Entries...) {
		f.Add(e.Record)
	}
	in, err := os.ReadFile(filepath.Join("testdata", "parse.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range bytes.Split(in, []byte("\n")) {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sameAsJSON(t, b)
	})
}

// TestParseRecordAllocs: an entry and one string for all its strings.
func TestParseRecordAllocs(t *testing.T) {
	for _, e := range story(t, 42).Entries {
		n := testing.AllocsPerRun(100, func() {
			if _, err := auditlog.ParseTrusted(e.Record); err != nil {
				t.Fatal(err)
			}
		})
		if n > 2 {
			t.Errorf("seq %d: ParseTrusted allocates %v times", e.Seq, n)
		}
		if n := testing.AllocsPerRun(100, func() { auditlog.CheckCanonical(e.Record) }); n != 0 {
			t.Errorf("seq %d: CheckCanonical allocates %v times", e.Seq, n)
		}
	}
}

func BenchmarkParseRecord(b *testing.B) {
	rec := benchLog(b, 42, 1).Record(1)
	b.Run("ParseRecord", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := auditlog.ParseTrusted(rec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := viaJSON(rec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("CheckRecord", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, _, err := auditlog.CheckCanonical(rec); err != nil {
				b.Fatal(err)
			}
		}
	})
	// A version 2 team record (token.created, with token_id and token_name).
	team := teamStory(b, 42).Log.Record(6)
	b.Run("CheckRecord-team", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, _, err := auditlog.CheckCanonical(team); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ParseRecord-team", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := auditlog.ParseTrusted(team); err != nil {
				b.Fatal(err)
			}
		}
	})
}
