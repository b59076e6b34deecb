package auditlog_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"golang.org/x/mod/sumdb/tlog"
	"pgregory.net/rapid"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; the encoding changed, which breaks every existing log.\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// mth is RFC 6962's Merkle Tree Hash, written from the RFC and not from
// tlog, as an independent check of the hashes we store and sign.
func mth(records [][]byte) [32]byte {
	switch n := len(records); n {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return sha256.Sum256(append([]byte{0}, records[0]...))
	default:
		k := 1
		for k*2 < n {
			k *= 2
		}
		l, r := mth(records[:k]), mth(records[k:])
		return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
	}
}

type hashVector struct {
	Seq        int64  `json:"seq,omitempty"`
	Size       int64  `json:"size,omitempty"`
	HashHex    string `json:"hash_hex"`
	HashBase64 string `json:"hash_base64"`
}

func vector(h [32]byte) hashVector {
	return hashVector{HashHex: hex.EncodeToString(h[:]), HashBase64: base64.StdEncoding.EncodeToString(h[:])}
}

// TestGoldenRecords pins the record bytes of every action, their leaf
// hashes and the tree heads, in both record versions: changing any of them
// would invalidate every log already written. records.jsonl is a log of
// version 1 records (the client actions); records-v2.jsonl one of version
// 2, with every action, the team's among them, and the platform operator as
// an actor.
func TestGoldenRecords(t *testing.T) {
	for _, tc := range []struct {
		name, records, hashes string
		version               int
		s                     *sim
	}{
		{"v1", "records.jsonl", "hashes.json", 1, story(t, 42)},
		{"v2", "records-v2.jsonl", "hashes-v2.json", 2, teamStory(t, 42)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			goldenLog(t, tc.s, tc.records, tc.hashes, tc.version)
		})
	}
}

func goldenLog(t *testing.T, s *sim, recordsFile, hashesFile string, version int) {
	var lines bytes.Buffer
	var records [][]byte
	var v struct {
		Leaves []hashVector `json:"leaves"`
		Roots  []hashVector `json:"roots"`
	}
	for _, e := range s.Entries {
		lines.Write(e.Record)
		lines.WriteByte('\n')
		records = append(records, e.Record)
		leaf := vector(sha256.Sum256(append([]byte{0}, e.Record...)))
		leaf.Seq = e.Seq
		v.Leaves = append(v.Leaves, leaf)
		if got := tlog.RecordHash(e.Record); hex.EncodeToString(got[:]) != leaf.HashHex {
			t.Errorf("seq %d: tlog.RecordHash differs from SHA-256(0x00||record)", e.Seq)
		}
		root := vector(mth(records))
		root.Size = int64(len(records))
		v.Roots = append(v.Roots, root)
		got, err := tlog.TreeHash(root.Size, s.Log)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got[:]) != root.HashHex {
			t.Errorf("size %d: the stored hashes give another root than RFC 6962's MTH", root.Size)
		}
	}
	golden(t, recordsFile, lines.Bytes())
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, hashesFile, append(b, '\n'))

	prefix := []byte(fmt.Sprintf(`{"v":%d,`, version))
	for i, line := range bytes.Split(bytes.TrimSuffix(lines.Bytes(), []byte("\n")), []byte("\n")) {
		if !bytes.HasPrefix(line, prefix) {
			t.Errorf("line %d is not of version %d", i+1, version)
		}
		e, err := auditlog.DecodeCanonical(line)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if again, _ := auditlog.EncodeRecordVersion(e, version); !bytes.Equal(again, line) {
			t.Errorf("line %d does not re-encode to itself", i+1)
		}
		if _, _, err := auditlog.CheckCanonical(line); err != nil || !auditlog.FastRecordOK(line) {
			t.Errorf("line %d: CheckCanonical: %v", i+1, err)
		}
		if p, ok := auditlog.ParseCanonical(line); !ok || !cmp.Equal(p, e) {
			t.Errorf("line %d: ParseCanonical gives %+v, %v; DecodeCanonical %+v", i+1, p, ok, e)
		}
	}
}

// TestCheckRecord holds the fast canonical-form check to DecodeCanonical on
// hand-picked near misses.
func TestCheckRecord(t *testing.T) {
	rec := story(t, 42).Entries[4].Record // has an escaped newline and quotes
	if acct, seq, err := auditlog.CheckCanonical(rec); err != nil || acct != 42 || seq != 5 {
		t.Fatalf("CheckCanonical = %d, %d, %v", acct, seq, err)
	}
	if !auditlog.FastRecordOK(rec) {
		t.Error("the fast path rejects a canonical record")
	}
	cases := map[string]string{
		"space":          `"v":1,` + "\u0020",
		"uppercase key":  `"V":1`,
		"leading zero":   `"seq":05`,
		"time zone":      `+00:00"`,
		"short fraction": `.12345Z`,
		"escaped slash":  `\/`,
		"unicode escape": `\u0062`,
		"empty detail":   `"details":{"name":""}`,
		"zero detail":    `"details":{"pool_id":0}`,
		"field order":    `"details":{"reason":"x","name":"y"}`,
		"unknown field":  `"details":{"colour":"red"}`,
		"version 0":      `{"v":0,`,
		"version 3":      `{"v":3,`,
		"version 12":     `{"v":12,`,
		"v1 user target": `"type":"user"`,
		"v1 role":        `"details":{"reason":"unpaid invoice\n\"March\"","role":"admin"}`,
		"v1 token":       `"details":{"token_id":3,"token_name":"x"}`,
		"trailing":       `}}` + "\n",
		"feb 30":         `2026-02-30T`,
		"hour 24":        `T24:`,
	}
	base := string(rec)
	for name, bad := range cases {
		t.Run(name, func(t *testing.T) {
			var b []byte
			switch name {
			case "space":
				b = []byte(replaceOnce(base, `"v":1,`, bad))
			case "uppercase key":
				b = []byte(replaceOnce(base, `"v":1`, bad))
			case "leading zero":
				b = []byte(replaceOnce(base, `"seq":5`, bad))
			case "time zone":
				b = []byte(replaceOnce(base, `Z"`, bad))
			case "short fraction":
				b = []byte(replaceOnce(base, `.808456Z`, bad))
			case "escaped slash":
				b = []byte(replaceOnce(base, `curl/8.5.0`, `curl`+bad+`8.5.0`))
			case "unicode escape":
				b = []byte(replaceOnce(base, `bob@`, bad+`ob@`))
			case "empty detail", "zero detail", "field order", "unknown field":
				b = []byte(replaceOnce(base, `"details":{"reason":"unpaid invoice\n\"March\""}`, bad))
			case "version 0", "version 3", "version 12":
				b = []byte(replaceOnce(base, `{"v":1,`, bad))
			case "v1 user target":
				b = []byte(replaceOnce(base, `"type":"client"`, bad))
			case "v1 role", "v1 token":
				b = []byte(replaceOnce(base, `"details":{"reason":"unpaid invoice\n\"March\""}`, bad))
			case "trailing":
				b = []byte(base + "\n")
			case "feb 30":
				b = []byte(replaceOnce(base, `2026-07-01T`, bad))
			case "hour 24":
				b = []byte(replaceOnce(base, `T09:`, bad))
			}
			if bytes.Equal(b, rec) {
				t.Fatal("the case did not change the record")
			}
			if _, _, err := auditlog.CheckCanonical(b); err == nil {
				t.Errorf("CheckCanonical accepts %s", b)
			}
			if auditlog.FastRecordOK(b) {
				t.Errorf("the fast path accepts %s", b)
			}
		})
	}
}

func replaceOnce(s, old, new string) string {
	i := bytes.Index([]byte(s), []byte(old))
	if i < 0 {
		panic("replaceOnce: " + old + " not in " + s)
	}
	return s[:i] + new + s[i+len(old):]
}

// TestAppendDetails holds the details encoder of the CSV export to what
// the record encoding (encoding/json) writes.
func TestAppendDetails(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := anyEntry().Draw(t, "entry").Details
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(d); err != nil {
			t.Fatal(err)
		}
		prefix := []byte("x")
		if got := auditlog.AppendDetails(prefix, &d); !bytes.Equal(got[1:], bytes.TrimSuffix(want.Bytes(), []byte("\n"))) || got[0] != 'x' {
			t.Fatalf("AppendDetails(%+v) = %s, encoding/json writes %s", d, got, want.Bytes())
		}
	})
}
