package auditlog_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// TestFormatExample produces the worked example of docs/audit-log-format.md
// (testdata/example.txt, rewritten with -update) and checks that the
// document still quotes every value of it, so the specification and the
// code cannot drift apart.
func TestFormatExample(t *testing.T) {
	skey, vkey, err := note.GenerateKey(seedReader(7), auditlog.DefaultKeyName)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	s := newSim(t, 7)
	s.Version = 1 // the example was written in version 1, and stays valid
	s.Now = time.Date(2026, 9, 14, 8, 0, 0, 0, time.UTC)
	s.Actor = reseller.EntryActor{ID: 3, Email: "dana@agency.example", Role: reseller.RoleAdmin, Via: reseller.ViaWeb, IP: "198.51.100.4", RequestID: "r-81f2"}
	c := s.Create("shop@client.example", "Client & Co")
	s.Allocate(c, 2, "www.client.example")
	s.Do(c, reseller.DoSuspend, "invoice \"42\" unpaid")
	s.Actor = reseller.EntryActor{ID: 4, Email: "ops@agency.example", Role: reseller.RoleOperator, Via: reseller.ViaAPI, TokenID: 12, RequestID: "r-81f3"}
	s.Do(c, reseller.DoReactivate, "")
	s.Create("team@other.example", "")

	var out bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&out, format, args...) }
	p("signer key: %s\nverifier key: %s\n", skey, vkey)
	kb, _ := base64.StdEncoding.DecodeString(strings.SplitN(vkey, "+", 3)[2])
	kh := sha256.Sum256(append([]byte(auditlog.DefaultKeyName+"\n"), kb...))
	p("public key bytes (0x01 = Ed25519, then the key): %x\nkey hash = first 4 bytes of SHA-256(%q || 0x0a || those bytes) = %x\n", kb, auditlog.DefaultKeyName, kh[:4])
	var leaves []tlog.Hash
	for _, e := range s.Entries {
		l := tlog.RecordHash(e.Record)
		leaves = append(leaves, l)
		p("\nrecord seq %d (%d bytes):\n%s\nleaf hash hex: %x\nleaf hash base64: %s\n", e.Seq, len(e.Record), e.Record, l[:], l)
	}
	n01 := tlog.NodeHash(leaves[0], leaves[1])
	n23 := tlog.NodeHash(leaves[2], leaves[3])
	n03 := tlog.NodeHash(n01, n23)
	root3 := tlog.NodeHash(n01, leaves[2])
	root5 := tlog.NodeHash(n03, leaves[4])
	p("\nnode(leaf1, leaf2) hex: %x\nroot of size 3 = node(node(leaf1, leaf2), leaf3) hex: %x\nroot of size 3 base64: %s\n", n01[:], root3[:], root3)
	p("node(leaf3, leaf4) hex: %x\nnode(node(leaf1, leaf2), node(leaf3, leaf4)) hex: %x\nroot of size 5 = node(that, leaf5) hex: %x\nroot of size 5 base64: %s\n", n23[:], n03[:], root5[:], root5)
	for _, size := range []int64{3, 5} {
		if r, _ := tlog.TreeHash(size, s.Log); r != map[int64]tlog.Hash{3: root3, 5: root5}[size] {
			t.Fatalf("size %d: the worked example's root differs from tlog's", size)
		}
	}
	p("stored hashes (tlog index: hash hex):\n")
	for i := int64(0); i < tlog.StoredHashCount(5); i++ {
		h, _ := s.Log.ReadHashes([]int64{i})
		level, n := tlog.SplitStoredHashIndex(i)
		p("  %d: level %d, node %d: %x\n", i, level, n, h[0][:])
	}
	cp3 := signedAt(t, s, 3, signer)
	p("\nsigned checkpoint of size 3:\n%s", cp3)
	sig := cp3[bytes.LastIndex(cp3, []byte(" "))+1 : len(cp3)-1]
	sb, _ := base64.StdEncoding.DecodeString(string(sig))
	p("signature line decoded: key hash %x, Ed25519 signature %x\n", sb[:4], sb[4:])
	p("\nsigned checkpoint of size 5:\n%s", s.Signed(t, signer))
	p("\ninclusion proof of seq 2 in size 5:\n")
	pr, _ := auditlog.ProveInclusion(5, 2, s.Log)
	for _, h := range pr {
		p("  %s\n", h)
	}
	p("consistency proof from size 3 to size 5:\n")
	pr, _ = auditlog.ProveConsistency(3, 5, s.Log)
	for _, h := range pr {
		p("  %s\n", h)
	}
	p("\nbundle of seqs 1, 3 and 4 of size 5, since 3:\n%s", s.Bundle(t, signer, vkey, []int64{1, 3, 4}, 3))
	golden(t, "example.txt", out.Bytes())

	doc, err := os.ReadFile("../../docs/audit-log-format.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{vkey, skey, hex.EncodeToString(leaves[0][:]), leaves[0].String(), hex.EncodeToString(root3[:]), hex.EncodeToString(root5[:]),
		string(s.Entries[0].Record), string(s.Entries[2].Record), hex.EncodeToString(n01[:])} {
		if !bytes.Contains(doc, []byte(want)) {
			t.Errorf("docs/audit-log-format.md does not quote %q from testdata/example.txt", want)
		}
	}
	for _, line := range strings.Split(string(cp3), "\n") {
		if !bytes.Contains(doc, []byte(line)) {
			t.Errorf("docs/audit-log-format.md does not quote the checkpoint line %q", line)
		}
	}
}

// TestFormatExampleV2: the document quotes version 2 records of the golden
// log testdata/records-v2.jsonl as they are.
func TestFormatExampleV2(t *testing.T) {
	doc, err := os.ReadFile("../../docs/audit-log-format.md")
	if err != nil {
		t.Fatal(err)
	}
	s := teamStory(t, 42)
	for _, seq := range []int64{6, 10} {
		if rec := s.Log.Record(seq); !bytes.Contains(doc, rec) {
			t.Errorf("docs/audit-log-format.md does not quote seq %d of testdata/records-v2.jsonl: %s", seq, rec)
		}
	}
}
