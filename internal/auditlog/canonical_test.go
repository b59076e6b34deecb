package auditlog_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"pgregory.net/rapid"
)

// The fast record check and the bundle's string codec replace encoding/json
// on the hot path; these properties hold them to it.

// anyString draws strings that stress JSON escaping: ASCII, controls,
// quotes, backslashes, HTML characters, U+2028/9, other Unicode and invalid
// UTF-8.
func anyString() *rapid.Generator[string] {
	piece := rapid.OneOf(
		rapid.SampledFrom([]string{`"`, `\`, "<", ">", "&", "\u2028", "\u2029", "\x00", "\x01", "\b", "\f", "\n", "\r", "\t", "\x7f", "\ufffd", "é", "😀", "\xff", "\xed\xa0\x80", "/", "a", " "}),
		rapid.StringMatching(`[a-z0-9.@-]{0,8}`),
		rapid.String(),
	)
	return rapid.Custom(func(t *rapid.T) string {
		var b bytes.Buffer
		for _, p := range rapid.SliceOfN(piece, 0, 6).Draw(t, "pieces") {
			b.WriteString(p)
		}
		return b.String()
	})
}

func anyEntry() *rapid.Generator[*reseller.Entry] {
	str := anyString()
	opt := rapid.OneOf(rapid.Just(""), str)
	num := rapid.OneOf(rapid.Just(int64(0)), rapid.Int64())
	return rapid.Custom(func(t *rapid.T) *reseller.Entry {
		return &reseller.Entry{
			AccountID: rapid.Int64().Draw(t, "account"),
			Seq:       rapid.Int64().Draw(t, "seq"),
			Time: time.Unix(rapid.Int64Range(-62135596800-86400, 253402300799+86400).Draw(t, "unix"),
				rapid.Int64Range(0, 999999999).Draw(t, "nanos")),
			Action: reseller.Action(str.Draw(t, "action")),
			Target: reseller.Target{Type: str.Draw(t, "type"), ID: rapid.Int64().Draw(t, "target"), Email: str.Draw(t, "email")},
			Details: reseller.Details{Name: opt.Draw(t, "name"), PoolID: num.Draw(t, "pool"), PoolName: opt.Draw(t, "pool_name"),
				Product: opt.Draw(t, "product"), LicenseID: num.Draw(t, "license"), Label: opt.Draw(t, "label"), Reason: opt.Draw(t, "reason"),
				Role: reseller.Role(opt.Draw(t, "detail_role")), FromRole: reseller.Role(opt.Draw(t, "from_role")),
				ToRole: reseller.Role(opt.Draw(t, "to_role")), TokenID: num.Draw(t, "token_id"), TokenName: opt.Draw(t, "token_name")},
			Actor: reseller.EntryActor{ID: rapid.Int64().Draw(t, "actor"), Email: str.Draw(t, "actor_email"), Role: reseller.Role(str.Draw(t, "role")),
				Via: str.Draw(t, "via"), TokenID: num.Draw(t, "token"), IP: opt.Draw(t, "ip"), UserAgent: opt.Draw(t, "ua"), RequestID: opt.Draw(t, "req")},
		}
	})
}

// mutate changes b at a drawn position: replaces, inserts or deletes a byte.
func mutate(t *rapid.T, b []byte) []byte {
	m := append([]byte(nil), b...)
	i := rapid.IntRange(0, len(m)-1).Draw(t, "at")
	c := rapid.SampledFrom([]byte(`"\{}[],:0123456789-aeuvZT. `+"\n\x00\x80\xe2")).Draw(t, "byte")
	switch rapid.IntRange(0, 2).Draw(t, "how") {
	case 0:
		m[i] = c
	case 1:
		m = append(m[:i], append([]byte{c}, m[i:]...)...)
	default:
		m = append(m[:i], m[i+1:]...)
	}
	return m
}

// anyVersion draws a record version.
func anyVersion() *rapid.Generator[int] { return rapid.IntRange(1, 2) }

func TestCheckRecordProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		// Written without EncodeRecordVersion's checks: invalid UTF-8 as
		// versions before them wrote it, and version 1 records holding what
		// only version 2 has, which no version ever wrote.
		rec, err := auditlog.EncodeUnchecked(anyEntry().Draw(t, "entry"), anyVersion().Draw(t, "version"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := auditlog.DecodeCanonical(rec); err == nil {
			if got, want := auditlog.AppendRecordString(nil, rec), auditlog.AppendJSONString(nil, rec); !bytes.Equal(got, want) {
				t.Fatalf("the record encoder writes %s, the string encoder %s", got, want)
			}
		}
		for _, b := range [][]byte{rec, mutate(t, rec)} {
			_, slowErr := auditlog.DecodeCanonical(b)
			if fast := auditlog.FastRecordOK(b); fast != (slowErr == nil) {
				t.Fatalf("fast check says %v, DecodeCanonical says %v, for %q", fast, slowErr, b)
			}
		}
	})
}

// anyBytes draws arbitrary byte strings, and the strings of anyString.
func anyBytes() *rapid.Generator[string] {
	return rapid.OneOf(anyString(), rapid.Map(rapid.SliceOfN(rapid.Byte(), 0, 12), func(b []byte) string { return string(b) }))
}

// TestEncodeRecordCanonical: whatever bytes the strings of an entry hold
// and whatever its time, EncodeRecord either refuses the entry, naming a
// field that cannot be encoded, or returns canonical record bytes that
// CheckCanonical and DecodeCanonical accept and that give the entry back.
func TestEncodeRecordCanonical(t *testing.T) {
	str := anyBytes()
	opt := rapid.OneOf(rapid.Just(""), str)
	rapid.Check(t, func(t *rapid.T) {
		in := anyEntry().Draw(t, "entry")
		for _, f := range []*string{&in.Target.Type, &in.Target.Email, &in.Actor.Email, &in.Actor.Via} {
			*f = str.Draw(t, "required")
		}
		in.Action, in.Actor.Role = reseller.Action(str.Draw(t, "action")), reseller.Role(str.Draw(t, "role"))
		for _, f := range []*string{&in.Details.Name, &in.Details.PoolName, &in.Details.Product, &in.Details.Label,
			&in.Details.Reason, (*string)(&in.Details.Role), (*string)(&in.Details.FromRole), (*string)(&in.Details.ToRole),
			&in.Details.TokenName, &in.Actor.IP, &in.Actor.UserAgent, &in.Actor.RequestID} {
			*f = opt.Draw(t, "optional")
		}
		if rapid.Bool().Draw(t, "user target") {
			in.Target.Type = reseller.TargetUser
		}
		v := anyVersion().Draw(t, "version")
		y := in.Time.UTC().Year()
		encodable := validStrings(in) && y >= 0 && y <= 9999 && (v == 2 || !hasV2(in))

		encode := auditlog.EncodeRecord
		if v == 1 {
			encode = func(e *reseller.Entry) ([]byte, error) { return auditlog.EncodeRecordVersion(e, 1) }
		}
		rec, err := encode(in)
		if err != nil {
			if encodable {
				t.Fatalf("EncodeRecord refuses an encodable entry: %v", err)
			}
			if reseller.ErrorCode(err) != reseller.EINVALID || !strings.Contains(err.Error(), "Audit record ") {
				t.Fatalf("err = %v (code %s), want EINVALID naming the field", err, reseller.ErrorCode(err))
			}
			return
		}
		if !encodable {
			t.Fatalf("EncodeRecord accepts an entry with invalid text or year %d: %q", y, rec)
		}
		if acct, seq, err := auditlog.CheckCanonical(rec); err != nil || acct != in.AccountID || seq != in.Seq || !auditlog.FastRecordOK(rec) {
			t.Fatalf("CheckCanonical(%q) = %d, %d, %v", rec, acct, seq, err)
		}
		out, err := auditlog.DecodeCanonical(rec)
		if err != nil {
			t.Fatalf("DecodeCanonical(%q): %v", rec, err)
		}
		want := *in
		want.Time = in.Time.UTC().Truncate(time.Microsecond)
		want.Record = rec
		if d := cmp.Diff(&want, out); d != "" {
			t.Fatalf("round trip (-entry +DecodeCanonical):\n%s", d)
		}
		if again, err := encode(out); err != nil || !bytes.Equal(again, rec) {
			t.Fatalf("re-encoding gives %q, %v; want %q", again, err, rec)
		}
	})
}

// TestEncodeRecordNamesTheField: the refusal says which field is wrong.
func TestEncodeRecordNamesTheField(t *testing.T) {
	base := story(t, 42).Entries[0]
	for name, edit := range map[string]func(e *reseller.Entry){
		"actor.user_agent": func(e *reseller.Entry) { e.Actor.UserAgent = "Mozilla\xc3" },
		"target.email":     func(e *reseller.Entry) { e.Target.Email = "\xff\xfe@x.example" },
		"details.reason":   func(e *reseller.Entry) { e.Details.Reason = "\xed\xa0\x80" }, // an encoded surrogate
		"actor.request_id": func(e *reseller.Entry) { e.Actor.RequestID = "r-\x80" },
		"time":             func(e *reseller.Entry) { e.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
	} {
		t.Run(name, func(t *testing.T) {
			e := *base
			edit(&e)
			_, err := auditlog.EncodeRecord(&e)
			if err == nil || !strings.Contains(err.Error(), name) || reseller.ErrorCode(err) != reseller.EINVALID {
				t.Fatalf("err = %v, want EINVALID naming %s", err, name)
			}
		})
	}
	if auditlog.ValidText("a\xc3") || !auditlog.ValidText("Zoë \u2028 \x01") {
		t.Error("ValidText is not utf8.ValidString")
	}
}

func TestBundleStringCodec(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := anyString().Draw(t, "s")
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		got := auditlog.AppendJSONString(nil, []byte(s))
		if !bytes.Equal(got, bytes.TrimSuffix(want.Bytes(), []byte("\n"))) {
			t.Fatalf("appendString(%q) = %s, encoding/json writes %s", s, got, want.Bytes())
		}
		if utf8.ValidString(s) {
			if v, ok := auditlog.Unquote(got); !ok || string(v) != s {
				t.Fatalf("Unquote(%s) = %q, %v; want %q", got, v, ok, s)
			}
		}
		// Any other spelling of a string that Unquote accepts must mean what
		// encoding/json says it means.
		q := append([]byte(`"`), []byte(rapid.StringMatching(`([a-z"/\\]|\\[u][0-9a-fA-F]{4}|\\[bfnrt/"\\x])*`).Draw(t, "q"))...)
		q = append(q, '"')
		var ref string
		if v, ok := auditlog.Unquote(q); ok && json.Unmarshal(q, &ref) == nil && string(v) != ref {
			t.Fatalf("Unquote(%s) = %q, encoding/json says %q", q, v, ref)
		}
	})
}

// FuzzCheckRecord searches for bytes the fast check accepts and
// DecodeCanonical rejects, or the reverse.
func FuzzCheckRecord(f *testing.F) {
	for _, e := range append(story(f, 42).Entries, teamStory(f, 42).Entries...) {
		f.Add(e.Record)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := auditlog.DecodeCanonical(b)
		if fast := auditlog.FastRecordOK(b); fast != (err == nil) {
			t.Fatalf("fast check says %v, DecodeCanonical says %v, for %q", fast, err, b)
		}
	})
}
