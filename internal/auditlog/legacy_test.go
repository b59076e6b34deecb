package auditlog_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/auditlog/bundle"
)

// addLegacy appends an entry as versions before EncodeRecord refused invalid
// UTF-8 wrote it: encoding/json turns each invalid byte into the six
// characters \ufffd, which no canonical record holds.
func addLegacy(t *testing.T, s *sim, userAgent, email string) []byte {
	t.Helper()
	s.Now = s.Now.Add(1537 * 1e6)
	e := &reseller.Entry{AccountID: s.Account, Seq: s.Log.Size() + 1, Time: s.Now, Action: reseller.ActionClientReactivated,
		Target: reseller.Target{Type: "client", ID: 101, Email: email}, Actor: s.Actor}
	e.Actor.UserAgent = userAgent
	if _, err := auditlog.EncodeRecord(e); err == nil {
		t.Fatal("EncodeRecord accepts invalid UTF-8")
	}
	rec, err := auditlog.EncodeLegacyRecord(e)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(rec, []byte(`\ufffd`)) {
		t.Fatalf("the old encoder wrote %q, without \\ufffd", rec)
	}
	if err := s.Log.Append(rec); err != nil {
		t.Fatal(err)
	}
	e.Record = rec
	s.Entries = append(s.Entries, e)
	return rec
}

// legacyStory is the story with two records of an older version, seqs 13
// and 15, and a canonical one between and after them.
func legacyStory(t *testing.T, account int64) *sim {
	s := story(t, account)
	addLegacy(t, s, "Mozilla/5.0 \xc3", "shop@client.example")
	s.Create("after@x.example", "")
	addLegacy(t, s, "curl", "\xff\xfeowner@client.example")
	s.Create("last@x.example", "")
	return s
}

func TestCheckLegacyRecord(t *testing.T) {
	s := legacyStory(t, 42)
	for _, seq := range []int64{13, 15} {
		rec := s.Log.Record(seq)
		if _, _, err := auditlog.CheckCanonical(rec); err == nil {
			t.Fatalf("CheckCanonical accepts the legacy record %q", rec)
		}
		if acct, got, ok := auditlog.CheckLegacy(rec); !ok || acct != 42 || got != seq {
			t.Fatalf("CheckLegacy(%q) = %d, %d, %v", rec, acct, got, ok)
		}
		// Lists and CSV exports read it as encoding/json does.
		e, err := auditlog.ParseTrusted(rec)
		if err != nil || !strings.Contains(e.Actor.UserAgent+e.Target.Email, "\uFFFD") {
			t.Fatalf("ParseTrusted = %+v, %v", e, err)
		}
	}
	legacy := string(s.Log.Record(13))
	for name, rec := range map[string]string{
		"canonical":                string(s.Entries[0].Record),
		"escaped backslash":        strings.Replace(legacy, `\ufffd`, `\\ufffd`, 1),
		"uppercase escape":         strings.Replace(legacy, `\ufffd`, `\uFFFD`, 1),
		"another escape":           strings.Replace(legacy, `\ufffd`, `\u0041`, 1),
		"also a space":             strings.Replace(legacy, `"v":1,`, `"v":1, `, 1),
		"also an unknown field":    strings.Replace(legacy, `"details":{}`, `"details":{"colour":"red"}`, 1),
		"also invalid UTF-8":       strings.Replace(legacy, `Mozilla`, "Mozi\xffla", 1),
		"raw U+FFFD is canonical":  strings.ReplaceAll(legacy, `\ufffd`, "\uFFFD"),
		"escape outside a string":  strings.Replace(legacy, `{"v":1`, `{\ufffd"v":1`, 1),
		"escape in a number field": strings.Replace(legacy, `"seq":13`, `"seq":1\ufffd3`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			if rec == legacy {
				t.Fatal("the case did not change the record")
			}
			if _, _, ok := auditlog.CheckLegacy([]byte(rec)); ok {
				t.Errorf("CheckLegacy accepts %q", rec)
			}
		})
	}
}

// TestLegacyRecordBundle: a log holding records of an older version still
// exports and verifies at the Merkle level; the records are reported, and
// one that is not where it belongs still fails.
func TestLegacyRecordBundle(t *testing.T) {
	signer, vkey := testKey(t, 1)
	s := legacyStory(t, 42)
	opts := auditlog.VerifyOptions{VerifierKey: vkey}

	for name, seqs := range map[string][]int64{"Full": nil, "Subset": {2, 13, 16}, "Only legacy": {15}} {
		t.Run(name, func(t *testing.T) {
			sum, got, err := verifyCollect(t, s.Bundle(t, signer, vkey, seqs, 3), opts)
			if err != nil {
				t.Fatal(err)
			}
			if seqs == nil {
				seqs = allSeqs(16)
			}
			checkEntries(t, s, seqs, got)
			var want []int64
			for _, seq := range []int64{13, 15} {
				if slices.Contains(seqs, seq) {
					want = append(want, seq)
				}
			}
			if !slices.Equal(sum.NonCanonical, want) || sum.NonCanonicalCount != len(want) || sum.Complete != (len(seqs) == 16) {
				t.Fatalf("summary %+v, want NonCanonical %v", sum, want)
			}
		})
	}
	t.Run("Reformatted", func(t *testing.T) {
		// Indented, so the entries take the sequential parse.
		var b bytes.Buffer
		if err := json.Indent(&b, s.Bundle(t, signer, vkey, nil, 0), "", "  "); err != nil {
			t.Fatal(err)
		}
		sum, _, err := verifyCollect(t, b.Bytes(), opts)
		if err != nil || sum.NonCanonicalCount != 2 {
			t.Fatalf("summary %+v, %v", sum, err)
		}
	})

	full := s.Bundle(t, signer, vkey, nil, 0)
	other := legacyStory(t, 43)
	q := func(rec []byte) string { return string(auditlog.AppendRecordString(nil, rec)) }
	for _, tc := range []struct {
		name, old, new, errPart string
	}{
		{"legacy record byte changed", `Mozilla/5.0 \\ufffd`, `Mozilla/5.1 \\ufffd`, "entry seq 13: record does not match the checkpoint"},
		{"legacy record moved", q(s.Log.Record(14)), q(s.Log.Record(13)), "entry seq 14: record says seq 13"},
		{"legacy record of another account", q(s.Log.Record(15)), q(other.Log.Record(15)), "entry seq 15: record belongs to account 43"},
		{"legacy escape uppercased", `Mozilla/5.0 \\ufffd`, `Mozilla/5.0 \\uFFFD`, "entry seq 13: record is not canonical"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := bytes.Replace(full, []byte(tc.old), []byte(tc.new), 1)
			if bytes.Equal(b, full) {
				t.Fatal("the case did not change the bundle")
			}
			_, err := auditlog.VerifyBundle(bytes.NewReader(b), opts)
			if err == nil || !strings.Contains(err.Error(), tc.errPart) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tc.errPart)
			}
		})
	}

	t.Run("bundle.Write refuses a legacy record out of place", func(t *testing.T) {
		for name, records := range map[string]func(func(int64, []byte) error) error{
			"another account": other.Log.Select([]int64{15}),
			"another seq": func(fn func(int64, []byte) error) error {
				return fn(15, s.Log.Record(13))
			},
		} {
			err := bundle.Write(&bytes.Buffer{}, bundle.Input{Checkpoint: s.Signed(t, signer), VerifierKey: vkey,
				Origin: auditlog.Origin(signer.Name(), 42), Size: 16, Hashes: s.Log, Seqs: []int64{15}, Records: records})
			if err == nil || !strings.Contains(err.Error(), "bundle: seq 15: the record is account") {
				t.Errorf("%s: err = %v", name, err)
			}
		}
	})
}
