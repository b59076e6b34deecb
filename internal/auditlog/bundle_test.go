package auditlog_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// verifyCollect verifies a bundle and collects its entries.
func verifyCollect(t tester, b []byte, opts auditlog.VerifyOptions) (*auditlog.Summary, []auditlog.BundleEntry, error) {
	var got []auditlog.BundleEntry
	opts.OnEntry = func(e auditlog.BundleEntry) error {
		got = append(got, auditlog.BundleEntry{Seq: e.Seq, Record: append([]byte(nil), e.Record...), Proof: append([]tlog.Hash(nil), e.Proof...)})
		return nil
	}
	sum, err := auditlog.VerifyBundle(bytes.NewReader(b), opts)
	return sum, got, err
}

// checkEntries asserts that the verified entries are exactly seqs, with
// their records and their standard inclusion proofs.
func checkEntries(t tester, s *sim, seqs []int64, got []auditlog.BundleEntry) {
	t.Helper()
	if len(got) != len(seqs) {
		t.Fatalf("verified %d entries, want %d", len(got), len(seqs))
	}
	for i, e := range got {
		if e.Seq != seqs[i] || !bytes.Equal(e.Record, s.Log.Record(seqs[i])) {
			t.Fatalf("entry %d is seq %d %q, want seq %d", i, e.Seq, e.Record, seqs[i])
		}
		want, err := auditlog.ProveInclusion(s.Log.Size(), e.Seq, s.Log)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(e.Proof) != fmt.Sprint(want) {
			t.Fatalf("seq %d: the bundle's proof\n%v\nis not the standard inclusion proof\n%v", e.Seq, e.Proof, want)
		}
	}
}

// signedAt signs the checkpoint of the log's first size entries.
func signedAt(t tester, s *sim, size int64, signer interface {
	Name() string
	KeyHash() uint32
	Sign([]byte) ([]byte, error)
}) []byte {
	t.Helper()
	root, err := tlog.TreeHash(size, s.Log)
	if err != nil {
		t.Fatal(err)
	}
	b, err := auditlog.SignCheckpoint(auditlog.Checkpoint{Origin: auditlog.Origin(signer.Name(), s.Account), Size: size, Root: root}, signer)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBundleRoundTrip(t *testing.T) {
	signer, vkey := testKey(t, 1)
	s := story(t, 42)
	opts := auditlog.VerifyOptions{VerifierKey: vkey}

	t.Run("Full", func(t *testing.T) {
		sum, got, err := verifyCollect(t, s.Bundle(t, signer, vkey, nil, 0), opts)
		if err != nil {
			t.Fatal(err)
		}
		checkEntries(t, s, allSeqs(12), got)
		root, _ := s.Log.Root()
		want := auditlog.Summary{Entries: 12, FirstSeq: 1, LastSeq: 12, Complete: true, Size: 12, Root: root,
			Origin: "reseller-console/account/42", AccountID: 42, KeyName: "reseller-console", KeyHash: vkey[17:25], VerifierKey: vkey}
		if diff := cmp.Diff(want, *sum); diff != "" {
			t.Errorf("summary (-want +got):\n%s", diff)
		}
	})
	t.Run("Subset", func(t *testing.T) {
		seqs := []int64{2, 5, 9, 12}
		sum, got, err := verifyCollect(t, s.Bundle(t, signer, vkey, seqs, 0), opts)
		if err != nil {
			t.Fatal(err)
		}
		checkEntries(t, s, seqs, got)
		if sum.Complete || sum.Entries != 4 || sum.FirstSeq != 2 || sum.LastSeq != 12 {
			t.Errorf("summary %+v", sum)
		}
	})
	t.Run("Empty selection", func(t *testing.T) {
		sum, _, err := verifyCollect(t, s.Bundle(t, signer, vkey, []int64{}, 0), opts)
		if err != nil || sum.Entries != 0 || sum.Complete {
			t.Fatalf("summary %+v, %v", sum, err)
		}
	})
	t.Run("Empty log", func(t *testing.T) {
		empty := newSim(t, 42)
		sum, _, err := verifyCollect(t, empty.Bundle(t, signer, vkey, nil, 0), opts)
		if err != nil || sum.Entries != 0 || !sum.Complete || sum.Size != 0 {
			t.Fatalf("summary %+v, %v", sum, err)
		}
	})
	t.Run("SinceFromBundle", func(t *testing.T) {
		sum, _, err := verifyCollect(t, s.Bundle(t, signer, vkey, []int64{7}, 3), opts)
		if err != nil || sum.SinceSize != 3 || !sum.SinceFromBundle {
			t.Fatalf("summary %+v, %v", sum, err)
		}
	})
	t.Run("SinceKept", func(t *testing.T) {
		for _, since := range []int64{1, 3, 8, 11, 12} {
			o := opts
			o.Since = signedAt(t, s, since, signer)
			bundleSince := since
			if since == 12 {
				bundleSince = 0 // the same tree needs no proof
			}
			sum, _, err := verifyCollect(t, s.Bundle(t, signer, vkey, []int64{4}, bundleSince), o)
			if err != nil || sum.SinceSize != since || sum.SinceFromBundle {
				t.Fatalf("since %d: summary %+v, %v", since, sum, err)
			}
		}
	})
	t.Run("SinceAcrossKeyChange", func(t *testing.T) {
		newSigner, newKey := testKey(t, 3)
		o := auditlog.VerifyOptions{VerifierKey: newKey, Since: signedAt(t, s, 5, signer), SinceVerifierKey: vkey}
		sum, _, err := verifyCollect(t, s.Bundle(t, newSigner, newKey, []int64{6}, 5), o)
		if err != nil || sum.SinceSize != 5 || sum.KeyHash != newKey[17:25] {
			t.Fatalf("summary %+v, %v", sum, err)
		}
	})
	t.Run("CosignedCheckpoint", func(t *testing.T) {
		// A witness's cosignature line on the checkpoint is left alone.
		signed := s.Signed(t, signer)
		cp, _ := s.Log.Checkpoint(auditlog.Origin(signer.Name(), 42))
		cosigned, err := note.Sign(&note.Note{Text: string(cp.Marshal())}, signer, signerOf(t, 9, "witness.example"))
		if err != nil {
			t.Fatal(err)
		}
		b := bytes.Replace(s.Bundle(t, signer, vkey, nil, 0), jsonText(signed), jsonText(cosigned), 1)
		if sum, _, err := verifyCollect(t, b, opts); err != nil || !sum.Complete {
			t.Fatalf("summary %+v, %v", sum, err)
		}
	})
	t.Run("KeyFromBundle", func(t *testing.T) {
		sum, _, err := verifyCollect(t, s.Bundle(t, signer, vkey, nil, 0), auditlog.VerifyOptions{})
		if err != nil || !sum.KeyFromBundle || sum.VerifierKey != vkey {
			t.Fatalf("summary %+v, %v", sum, err)
		}
	})
	t.Run("Reformatted", func(t *testing.T) {
		// Any JSON layout of the same document verifies, not only ours.
		b := s.Bundle(t, signer, vkey, []int64{1, 2, 3, 10}, 2)
		var indented, compact bytes.Buffer
		if err := json.Indent(&indented, b, "", "\t"); err != nil {
			t.Fatal(err)
		}
		if err := json.Compact(&compact, b); err != nil {
			t.Fatal(err)
		}
		for _, r := range [][]byte{indented.Bytes(), compact.Bytes(), bytes.ReplaceAll(b, []byte(`\"`), []byte(`\u0022`))} {
			_, got, err := verifyCollect(t, r, opts)
			if err != nil {
				t.Fatalf("%v in\n%s", err, r)
			}
			checkEntries(t, s, []int64{1, 2, 3, 10}, got)
		}
	})
}

// TestBundleLayouts checks the slow path on inputs the line-cutting fast
// path cannot take: a minified bundle longer than the longest line it cuts,
// and a reader that fails.
func TestBundleLayouts(t *testing.T) {
	signer, vkey := testKey(t, 1)
	s := newSim(t, 42).More(2500)
	var compact bytes.Buffer
	if err := json.Compact(&compact, s.Bundle(t, signer, vkey, nil, 0)); err != nil {
		t.Fatal(err)
	}
	if compact.Len() < 1<<20 || bytes.Count(compact.Bytes(), []byte("\n")) > 1 {
		t.Fatalf("the minified bundle has %d bytes; the test needs one line over 1 MiB", compact.Len())
	}
	sum, err := auditlog.VerifyBundle(bytes.NewReader(compact.Bytes()), auditlog.VerifyOptions{VerifierKey: vkey})
	if err != nil || sum.Entries != 2500 || !sum.Complete {
		t.Fatalf("summary %+v, %v", sum, err)
	}

	full := s.Bundle(t, signer, vkey, nil, 0)
	for _, at := range []int{100, len(full) / 2, len(full) - 2} {
		r := io.MultiReader(bytes.NewReader(full[:at]), iotest.ErrReader(errors.New("disk on fire")))
		if _, err := auditlog.VerifyBundle(r, auditlog.VerifyOptions{VerifierKey: vkey}); err == nil || !strings.Contains(err.Error(), "disk on fire") {
			t.Errorf("read error at byte %d: err = %v", at, err)
		}
	}
}

// TestBundleEverySubset checks the shared-proof encoding against standard
// proofs for every tree size up to 33 and many selections, where the
// shapes of RFC 6962 trees (ragged right edges) hide their off-by-ones.
func TestBundleEverySubset(t *testing.T) {
	signer, vkey := testKey(t, 1)
	s := newSim(t, 42)
	c := s.Create("a@b.example", "")
	for size := 1; size <= 33; size++ {
		if size > 1 {
			s.Allocate(c, 1, fmt.Sprint(size))
		}
		n := int64(size)
		selections := [][]int64{allSeqs(n), {1}, {n}}
		for mask := 1; mask < 1<<min(n, 9); mask += 7 {
			var sel []int64
			for i := range min(n, 9) {
				if mask>>i&1 == 1 {
					sel = append(sel, n-int64(i))
				}
			}
			for i, j := 0, len(sel)-1; i < j; i, j = i+1, j-1 {
				sel[i], sel[j] = sel[j], sel[i]
			}
			selections = append(selections, sel)
		}
		for _, sel := range selections {
			_, got, err := verifyCollect(t, s.Bundle(t, signer, vkey, sel, n/2), auditlog.VerifyOptions{VerifierKey: vkey})
			if err != nil {
				t.Fatalf("size %d, seqs %v: %v", n, sel, err)
			}
			checkEntries(t, s, sel, got)
		}
	}
}

// entryLine returns the index of the line holding seq in a bundle.
func entryLine(t tester, lines []string, seq int64) int {
	for i, l := range lines {
		if strings.HasPrefix(l, fmt.Sprintf(`{"seq":%d,`, seq)) {
			return i
		}
	}
	t.Fatalf("no line for seq %d", seq)
	return -1
}

// editLines applies fn to the bundle's lines.
func editLines(b []byte, fn func(lines []string) []string) []byte {
	return []byte(strings.Join(fn(strings.Split(string(b), "\n")), "\n"))
}

// TestBundleTamper is the catalogue of edits an auditor must see.
func TestBundleTamper(t *testing.T) {
	signer, vkey := testKey(t, 1)
	mallory, malloryKey := testKey(t, 2)
	s := story(t, 42)
	other := story(t, 43)
	full := s.Bundle(t, signer, vkey, nil, 3)
	subset := s.Bundle(t, signer, vkey, []int64{2, 6, 9}, 0)
	root, _ := s.Log.Root()
	signed := s.Signed(t, signer)
	withNote := func(note []byte) []byte { return bytes.Replace(full, jsonText(signed), jsonText(note), 1) }
	// A second signature line of the log's key, which note.Open skips
	// without checking: a bad one, and an exact copy of the good one.
	sigLine := signed[bytes.LastIndex(signed, []byte("\n\n"))+2:]
	badSig := sigLine[: len(sigLine)-10 : len(sigLine)-10]
	badSig = append(badSig, "AAAAAAAA=\n"...)
	// A record holding U+FFFD as itself (canonical), which the bundle then
	// spells as a lone surrogate escape: encoding/json reads that as U+FFFD.
	fffd := story(t, 42)
	fffd.Create("x@y.example", "A \uFFFD B")
	fffdBundle := fffd.Bundle(t, signer, vkey, []int64{13}, 0)
	// A checkpoint whose origin holds a control character, signed by the
	// real key (SignCheckpoint refuses to).
	ctlOrigin := func(c string) []byte {
		o := "reseller-console" + c + "/account/42"
		n, err := note.Sign(&note.Note{Text: o + "\n12\n" + root.String() + "\n"}, signer)
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Replace(withNote(n), []byte(`"origin":"reseller-console/account/42"`), []byte(`"origin":"`+strings.Trim(string(jsonText([]byte(o))), `"`)+`"`), 1)
	}

	cases := []struct {
		name    string
		bundle  []byte
		opts    auditlog.VerifyOptions
		errPart string
	}{
		{"record byte changed", bytes.Replace(full, []byte(`\"reason\":\"unpaid`), []byte(`\"reason\":\"Unpaid`), 1), auditlog.VerifyOptions{},
			"entry seq 5: record does not match the checkpoint (inclusion proof fails)"},
		{"record byte changed in a subset", bytes.Replace(subset, []byte(`\"license_id\":104}`), []byte(`\"license_id\":105}`), 1), auditlog.VerifyOptions{},
			"entry seq 6: record does not match the checkpoint"},
		{"record made non-canonical", bytes.Replace(full, []byte(`{\"v\":1,\"account\":42,\"seq\":7,`), []byte(`{\"v\":1, \"account\":42,\"seq\":7,`), 1), auditlog.VerifyOptions{},
			"entry seq 7: record is not canonical"},
		{"entries swapped", editLines(full, func(l []string) []string {
			i, j := entryLine(t, l, 6), entryLine(t, l, 7)
			l[i], l[j] = l[j], l[i]
			return l
		}), auditlog.VerifyOptions{}, "entry seq 6: comes after seq 7"},
		{"entry duplicated", editLines(subset, func(l []string) []string {
			i := entryLine(t, l, 6)
			return append(l[:i+1], l[i:]...)
		}), auditlog.VerifyOptions{}, "entry seq 6: comes after seq 6"},
		{"entry from another account", editLines(subset, func(l []string) []string {
			l[entryLine(t, l, 6)] = strings.Split(string(other.Bundle(t, signer, vkey, []int64{2, 6, 9}, 0)), "\n")[entryLine(t, l, 6)]
			return l
		}), auditlog.VerifyOptions{}, "entry seq 6: record belongs to account 43, not to account 42 of this log"},
		{"entry renumbered", bytes.Replace(subset, []byte(`{"seq":9,`), []byte(`{"seq":10,`), 1), auditlog.VerifyOptions{},
			"entry seq 10: record says seq 9"},
		{"proof hash dropped", editLines(full, func(l []string) []string {
			i := entryLine(t, l, 8)
			l[i] = l[i][:strings.Index(l[i], `"proof":[`)+len(`"proof":[`)] + "]},"
			return l
		}), auditlog.VerifyOptions{}, "entry seq 8: proof has 0 hashes where 1 are due"},
		{"proof hash altered", editLines(subset, func(l []string) []string {
			i := entryLine(t, l, 9)
			j := strings.Index(l[i], `"proof":["`) + len(`"proof":["`)
			l[i] = l[i][:j] + flipBase64(l[i][j:j+4]) + l[i][j+4:]
			return l
		}), auditlog.VerifyOptions{}, "entry seq 9: record does not match the checkpoint"},
		{"checkpoint re-signed with another key", bytes.Replace(full, jsonText(s.Signed(t, signer)), jsonText(s.Signed(t, mallory)), 1), auditlog.VerifyOptions{},
			"checkpoint is not signed by key reseller-console+" + vkey[17:25]},
		{"bundle key and checkpoint replaced", bytes.Replace(bytes.Replace(full, jsonText(s.Signed(t, signer)), jsonText(s.Signed(t, mallory)), 1), []byte(vkey), []byte(malloryKey), 1),
			auditlog.VerifyOptions{}, "checkpoint is not signed by key reseller-console+" + vkey[17:25]},
		{"checkpoint size altered", bytes.Replace(full, []byte(`account/42\n12\n`), []byte(`account/42\n11\n`), 1), auditlog.VerifyOptions{},
			"does not verify: the checkpoint text was altered"},
		{"checkpoint root altered", bytes.Replace(full, []byte(root.String()[:8]), []byte("AAAAAAAA"), 1), auditlog.VerifyOptions{},
			"does not verify"},
		{"origin altered", bytes.Replace(full, []byte(`"origin":"reseller-console/account/42"`), []byte(`"origin":"reseller-console/account/43"`), 1), auditlog.VerifyOptions{},
			`checkpoint is for log "reseller-console/account/42", not "reseller-console/account/43"`},
		{"consistency proof altered", editLines(full, func(l []string) []string {
			for i := range l {
				if j := strings.Index(l[i], `"proof":["`); strings.HasPrefix(l[i], `"consistency"`) && j >= 0 {
					j += len(`"proof":["`)
					l[i] = l[i][:j] + flipBase64(l[i][j:j+4]) + l[i][j+4:]
				}
			}
			return l
		}), auditlog.VerifyOptions{}, "consistency proof fails"},
		{"truncated mid-entry", full[:len(full)/2], auditlog.VerifyOptions{}, "truncated"},
		{"truncated at an entry", editLines(full, func(l []string) []string {
			i := entryLine(t, l, 12)
			l[i-1] = strings.TrimSuffix(l[i-1], ",")
			return append(l[:i], "]}", "")
		}), auditlog.VerifyOptions{}, "the bundle promises 12 entries but holds 11"},
		{"truncated after the entries", bytes.TrimSuffix(full, []byte("]}\n")), auditlog.VerifyOptions{}, "truncated"},
		{"data after the end", append(append([]byte(nil), full...), `{"more":1}`...), auditlog.VerifyOptions{}, "unexpected data after the bundle"},
		{"unknown field", bytes.Replace(full, []byte(`"entry_count"`), []byte(`"note":"trust me","entry_count"`), 1), auditlog.VerifyOptions{}, `unknown field "note"`},
		{"field after entries", bytes.Replace(full, []byte("\n]}\n"), []byte("\n],\"x\":1}\n"), 1), auditlog.VerifyOptions{}, `"entries" must be the last field`},
		{"not a bundle", []byte(`{"format":"something/v2"}`), auditlog.VerifyOptions{}, "not a bundle of format reseller-audit-bundle/v1"},
		{"wrong log expected", full, auditlog.VerifyOptions{Origin: "reseller-console/account/43"}, `is for log "reseller-console/account/42", not "reseller-console/account/43"`},
		{"kept checkpoint of another key", full, auditlog.VerifyOptions{Since: signedAt(t, s, 3, mallory)}, "older checkpoint: checkpoint is not signed by key"},
		{"kept checkpoint of another size", full, auditlog.VerifyOptions{Since: signedAt(t, s, 4, signer)}, "proves consistency from size 3, not from the older checkpoint's size 4; export it with since=4"},
		{"kept checkpoint, bundle without proof", subset, auditlog.VerifyOptions{Since: signedAt(t, s, 4, signer)}, "carries no consistency proof"},
		{"kept checkpoint larger", subset, auditlog.VerifyOptions{Since: signedAt(t, story(t, 42).More(13), 13, signer)}, "the log was truncated"},
		{"kept checkpoint of a forked log", full, auditlog.VerifyOptions{Since: signedAt(t, forked(t, 42), 3, signer)}, "the log was rewritten or forked"},

		// What an independent verifier written from docs/audit-log-format.md
		// refused, and ours must too.
		{"second, bad signature line of the log's key", withNote(append(append([]byte(nil), signed...), badSig...)), auditlog.VerifyOptions{},
			"has a second signature line"},
		{"signature line of the log's key repeated", withNote(append(append([]byte(nil), signed...), sigLine...)), auditlog.VerifyOptions{},
			"has a second signature line"},
		{"invalid UTF-8 in the filter", bytes.Replace(full, []byte(`"entry_count"`), []byte("\"filter\":\"action:\xff\",\n\"entry_count\""), 1), auditlog.VerifyOptions{},
			`field "filter": not valid UTF-8`},
		{"lone surrogate in the filter", bytes.Replace(full, []byte(`"entry_count"`), []byte(`"filter":"action:\ud800x","entry_count"`), 1), auditlog.VerifyOptions{},
			`field "filter": \ud800 is half a surrogate pair`},
		{"lone surrogate in a field name", bytes.Replace(full, []byte(`"entry_count"`), []byte(`"entry_count\udc00"`), 1), auditlog.VerifyOptions{},
			`\udc00 is half a surrogate pair`},
		{"lone surrogate for U+FFFD in a record", bytes.Replace(fffdBundle, []byte("A \uFFFD B"), []byte(`A \udfff B`), 1), auditlog.VerifyOptions{},
			`\udfff is half a surrogate pair`},
		{"high surrogate without its pair in a record", bytes.Replace(fffdBundle, []byte("A \uFFFD B"), []byte(`A \ud800\u0041 B`), 1), auditlog.VerifyOptions{},
			`\ud800 is half a surrogate pair`},
		{"invalid UTF-8 in a record", bytes.Replace(fffdBundle, []byte("A \uFFFD B"), []byte("A \xef\xbf B"), 1), auditlog.VerifyOptions{},
			"entry seq 13: record is not canonical"},
		{"garbage verifier_key next to the auditor's key", bytes.Replace(full, []byte(vkey), []byte("garbage"), 1), auditlog.VerifyOptions{},
			`bundle: field "verifier_key": verifier key "garbage"`},
		{"verifier_key with an uppercase key hash", bytes.Replace(full, []byte(vkey), []byte(vkey[:17]+strings.ToUpper(vkey[17:25])+vkey[25:]), 1), auditlog.VerifyOptions{},
			`not 8 lowercase hex digits`},
		{"verifier_key with a line break in its base64", bytes.Replace(full, []byte(vkey), []byte(vkey[:30]+`\n`+vkey[30:]), 1), auditlog.VerifyOptions{},
			`not canonical standard base64`},
		{"DEL in the origin", ctlOrigin("\x7f"), auditlog.VerifyOptions{}, "does not start with a valid key name"},
		{"C1 control in the origin", ctlOrigin("\u0085"), auditlog.VerifyOptions{}, "does not start with a valid key name"},
		{"C0 control in the origin", ctlOrigin("\x01"), auditlog.VerifyOptions{}, "does not start with a valid key name"},
		{"null filter", bytes.Replace(full, []byte(`"entry_count"`), []byte(`"filter":null,"entry_count"`), 1), auditlog.VerifyOptions{},
			`field "filter": null is not allowed`},
		{"null consistency", bytes.Replace(subset, []byte(`"entry_count"`), []byte(`"consistency":null,"entry_count"`), 1), auditlog.VerifyOptions{},
			`field "consistency": null is not allowed`},
		{"null in an entry", editLines(subset, func(l []string) []string {
			i := entryLine(t, l, 6)
			l[i] = strings.Replace(l[i], `,"proof":[`, `,"proof":null,"proof":[`, 1)
			return l
		}), auditlog.VerifyOptions{},
			`null is not allowed`},
		{"duplicate key in consistency", bytes.Replace(full, []byte(`"consistency":{"old_size":3,`), []byte(`"consistency":{"old_size":3,"old_size":3,`), 1), auditlog.VerifyOptions{},
			`field "old_size" appears twice`},
		{"duplicate key in an entry", bytes.Replace(subset, []byte(`{"seq":6,`), []byte(`{"seq":9,"seq":6,`), 1), auditlog.VerifyOptions{},
			`field "seq" appears twice`},
		{"key in another case in an entry", bytes.Replace(subset, []byte(`{"seq":6,`), []byte(`{"SEQ":6,`), 1), auditlog.VerifyOptions{},
			`unknown field "SEQ"`},
		{"key in another case in consistency", bytes.Replace(full, []byte(`"consistency":{"old_size":3,`), []byte(`"consistency":{"Old_Size":3,`), 1), auditlog.VerifyOptions{},
			`unknown field "Old_Size"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.opts.VerifierKey == "" {
				tc.opts.VerifierKey = vkey
			}
			if bytes.Equal(tc.bundle, full) && tc.opts.Since == nil && tc.opts.Origin == "" {
				t.Fatal("the case did not change the bundle")
			}
			_, err := auditlog.VerifyBundle(bytes.NewReader(tc.bundle), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.errPart) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tc.errPart)
			}
		})
	}

	t.Run("attacker's key, trusted from the bundle, is flagged", func(t *testing.T) {
		b := bytes.Replace(bytes.Replace(full, jsonText(s.Signed(t, signer)), jsonText(s.Signed(t, mallory)), 1), []byte(vkey), []byte(malloryKey), 1)
		sum, err := auditlog.VerifyBundle(bytes.NewReader(b), auditlog.VerifyOptions{})
		if err != nil || !sum.KeyFromBundle || sum.VerifierKey != malloryKey {
			t.Fatalf("summary %+v, %v", sum, err)
		}
	})
}

// jsonText is b as it appears inside a JSON string of a bundle.
func jsonText(b []byte) []byte {
	q, _ := json.Marshal(string(b))
	return q[1 : len(q)-1]
}

// flipBase64 changes four base64 characters into others.
func flipBase64(s string) string {
	if s == "AAAA" {
		return "BBBB"
	}
	return "AAAA"
}
