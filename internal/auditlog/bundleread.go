package auditlog

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"

	"github.com/resellerconsole/reseller/internal/auditlog/internal/jsonio"
	"golang.org/x/mod/sumdb/tlog"
)

// BundleFormat tags the bundle document; a new tag means a new format.
const BundleFormat = "reseller-audit-bundle/v1"

// bundleHeader is every field of the bundle before "entries".
type bundleHeader struct {
	Origin      string
	VerifierKey string
	Checkpoint  string
	Filter      string
	EntryCount  int64
	Consistency *consistency
}

type consistency struct {
	OldSize *int64      `json:"old_size"`
	OldRoot *hashJSON   `json:"old_root"`
	Proof   *[]hashJSON `json:"proof"`
}

// hashJSON is a hash as a JSON string of strict standard base64.
type hashJSON tlog.Hash

// UnmarshalJSON refuses non-canonical base64, which would let bytes of a
// bundle change without effect.
func (h *hashJSON) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, ok := decodeHash([]byte(s))
	if !ok {
		return fmt.Errorf("hash %q is not 32 bytes of standard base64", s)
	}
	*h = hashJSON(v)
	return nil
}

func hashes(hs []hashJSON) []tlog.Hash {
	out := make([]tlog.Hash, len(hs))
	for i, h := range hs {
		out[i] = tlog.Hash(h)
	}
	return out
}

// readBundleHeader reads the document up to the opening bracket of
// "entries". The format tag must come first, so that a file of another kind
// or version is named as such instead of failing on some later field, and
// "entries" last, so that the header is known before the first entry.
func readBundleHeader(sr *streamReader) (*bundleHeader, error) {
	if err := sr.expect('{'); err != nil {
		return nil, fmt.Errorf("not a bundle: %w", err)
	}
	var h bundleHeader
	seen := map[string]bool{}
	for n := 0; ; n++ {
		if n > 0 {
			if err := sr.expect(','); err != nil {
				return nil, err
			}
		}
		key, err := readKey(sr)
		if err != nil {
			return nil, err
		}
		if seen[key] {
			return nil, fmt.Errorf("bundle: field %q appears twice", key)
		}
		seen[key] = true
		if n == 0 && key != "format" {
			return nil, errors.New(`not a bundle: the first field must be "format"`)
		}
		if key == "entries" {
			break
		}
		raw, err := sr.rawValue(nil)
		if err != nil {
			return nil, err
		}
		var keys []string
		if key == "consistency" {
			keys = consistencyKeys
		}
		if err := checkJSON(raw, keys); err != nil {
			return nil, fmt.Errorf("bundle: field %q: %w", key, err)
		}
		var dst any
		switch key {
		case "format":
			var f string
			if err := json.Unmarshal(raw, &f); err != nil || f != BundleFormat {
				return nil, fmt.Errorf("not a bundle of format %s (format is %s)", BundleFormat, raw)
			}
			continue
		case "origin":
			dst = &h.Origin
		case "verifier_key":
			dst = &h.VerifierKey
		case "checkpoint":
			dst = &h.Checkpoint
		case "filter":
			dst = &h.Filter
		case "entry_count":
			dst = &h.EntryCount
		case "consistency":
			dst = &h.Consistency
		default:
			return nil, fmt.Errorf("bundle: unknown field %q", key)
		}
		if err := decodeStrict(raw, dst); err != nil {
			return nil, fmt.Errorf("bundle: field %q: %w", key, err)
		}
	}
	for _, k := range []string{"origin", "verifier_key", "checkpoint", "entry_count"} {
		if !seen[k] {
			return nil, fmt.Errorf("bundle: field %q is missing (it must come before \"entries\")", k)
		}
	}
	if c := h.Consistency; c != nil && (c.OldSize == nil || c.OldRoot == nil || c.Proof == nil) {
		return nil, errors.New(`bundle: "consistency" needs old_size, old_root and proof`)
	}
	if h.EntryCount < 0 {
		return nil, fmt.Errorf("bundle: entry_count %d is negative", h.EntryCount)
	}
	return &h, sr.expect('[')
}

// decodeStrict is json.Unmarshal that also refuses unknown fields.
func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the value")
	}
	return nil
}

func readKey(sr *streamReader) (string, error) {
	raw, err := sr.rawValue(nil)
	if err != nil {
		return "", err
	}
	var key string
	if err := checkJSON(raw, nil); err != nil {
		return "", fmt.Errorf("bundle: field name at byte %d: %w", sr.Offset()-int64(len(raw)), err)
	}
	if err := json.Unmarshal(raw, &key); err != nil {
		return "", fmt.Errorf("malformed JSON at byte %d: want a field name", sr.Offset())
	}
	return key, sr.expect(':')
}

// parseEntry parses one element of "entries", appending the record bytes to
// recs and the carried proof hashes to proofs. The layout bundle.Write
// writes is parsed by hand, because encoding/json would take most of the
// verification time; anything else (reindented, reordered) goes through
// encoding/json, so any valid JSON of the same meaning verifies.
func parseEntry(raw, recs []byte, proofs []tlog.Hash) (seq int64, _ []byte, _ []tlog.Hash, err error) {
	nr, np := len(recs), len(proofs)
	seq, recs, proofs, ok := parseEntryFast(raw, recs, proofs)
	if ok {
		return seq, recs, proofs, nil
	}
	recs, proofs = recs[:nr], proofs[:np]
	if err := checkJSON(raw, entryKeys); err != nil {
		return 0, recs, proofs, err
	}
	var e struct {
		Seq    *int64
		Record *string
		Proof  *[]string
	}
	if err := decodeStrict(raw, &e); err != nil {
		return 0, recs, proofs, err
	}
	if e.Seq == nil || e.Record == nil || e.Proof == nil {
		return 0, recs, proofs, errors.New("an entry needs seq, record and proof")
	}
	for _, s := range *e.Proof {
		h, ok := decodeHash([]byte(s))
		if !ok {
			return *e.Seq, recs, proofs, fmt.Errorf("proof hash %q is not 32 bytes of standard base64", s)
		}
		proofs = append(proofs, h)
	}
	return *e.Seq, append(recs, *e.Record...), proofs, nil
}

func parseEntryFast(b, recs []byte, proofs []tlog.Hash) (int64, []byte, []tlog.Hash, bool) {
	s := scanner{b: b, ok: true}
	s.lit(`{"seq":`)
	seq := s.int()
	s.lit(`,"record":`)
	if !s.ok {
		return 0, recs, proofs, false
	}
	recs, rest, ok := jsonio.Unquote(recs, b[s.i:])
	if !ok || !bytes.HasPrefix(rest, []byte(`,"proof":[`)) {
		return 0, recs, proofs, false
	}
	rest = rest[len(`,"proof":[`):]
	for i := 0; len(rest) > 0 && rest[0] != ']'; i++ {
		if i > 0 {
			if rest[0] != ',' {
				return 0, recs, proofs, false
			}
			rest = rest[1:]
		}
		if len(rest) < 46 || rest[0] != '"' || rest[45] != '"' {
			return 0, recs, proofs, false
		}
		h, ok := decodeHash(rest[1:45])
		if !ok {
			return 0, recs, proofs, false
		}
		proofs = append(proofs, h)
		rest = rest[46:]
	}
	return seq, recs, proofs, string(rest) == "]}"
}

var strictBase64 = base64.StdEncoding.Strict()

// decodeHash decodes a hash in standard base64. Strict, so that each hash
// has one spelling and no byte of a bundle can change without effect.
func decodeHash(b []byte) (tlog.Hash, bool) {
	var h tlog.Hash
	var buf [33]byte
	n, err := strictBase64.Decode(buf[:], b)
	if err != nil || n != len(h) || len(b) != 44 {
		return h, false
	}
	copy(h[:], buf[:n])
	return h, true
}

// The fields of the bundle's objects below the top level, exactly as
// spelled (encoding/json alone would also take "SEQ" for "seq").
var (
	consistencyKeys = []string{"old_size", "old_root", "proof"}
	entryKeys       = []string{"seq", "record", "proof"}
)

// checkJSON refuses what encoding/json would read without a word but an
// independent verifier, or a second reading of the same bytes, may take
// differently: invalid UTF-8 and lone surrogate escapes (which encoding/json
// turns into U+FFFD), null (which it takes as "absent"), and duplicate keys
// (of which it keeps the last) in any object. If keys is not nil, raw is
// an object whose keys must be among them, spelled exactly so. It runs on
// the header and on entries not in the writer's layout, never on the fast
// path, whose hand parser accepts none of these.
func checkJSON(raw []byte, keys []string) error {
	if !utf8.Valid(raw) {
		return errors.New("not valid UTF-8")
	}
	if err := checkSurrogates(raw); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := checkValue(dec, keys, 0); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the value")
	}
	return nil
}

// checkValue reads one value from dec for checkJSON. Bundles nest three
// levels deep at most; the limit keeps a hostile input from recursing far.
func checkValue(dec *json.Decoder, keys []string, depth int) error {
	if depth > 16 {
		return errors.New("nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case nil:
		return errors.New("null is not allowed (leave an optional field out instead)")
	case json.Delim('['):
		for dec.More() {
			if err := checkValue(dec, nil, depth+1); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := t.(string) // a key is all the decoder gives here
			switch {
			case seen[key]:
				return fmt.Errorf("field %q appears twice", key)
			case keys != nil && !slices.Contains(keys, key):
				return fmt.Errorf("unknown field %q", key)
			}
			seen[key] = true
			if err := checkValue(dec, nil, depth+1); err != nil {
				return fmt.Errorf("field %q: %w", key, err)
			}
		}
		_, err = dec.Token()
		return err
	}
	return nil
}

// checkSurrogates refuses a \u escape of a UTF-16 surrogate that is not
// half of a pair: it stands for no character. raw is a JSON value, so a
// backslash can only be in a string.
func checkSurrogates(raw []byte) error {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' || i+1 == len(raw) {
			continue
		}
		if raw[i+1] != 'u' {
			i++ // skip the escaped character, which may be a backslash
			continue
		}
		r, _ := jsonio.Hex4(raw[i+2:])
		switch {
		case r >= 0xD800 && r < 0xDC00:
			lo, ok := rune(0), len(raw) >= i+12 && raw[i+6] == '\\' && raw[i+7] == 'u'
			if ok {
				lo, _ = jsonio.Hex4(raw[i+8:])
			}
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return fmt.Errorf("%s is half a surrogate pair, not a character", raw[i:min(i+6, len(raw))])
			}
			i += 11
		case r >= 0xDC00 && r <= 0xDFFF:
			return fmt.Errorf("%s is half a surrogate pair, not a character", raw[i:min(i+6, len(raw))])
		default:
			i += 5
		}
	}
	return nil
}
