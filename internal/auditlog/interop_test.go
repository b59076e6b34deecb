package auditlog_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Our proofs and checkpoints must mean the same to other implementations
// of RFC 6962 and C2SP tlog-checkpoint as to us: an auditor may use theirs.

func byteSlices(hs []tlog.Hash) [][]byte {
	out := make([][]byte, len(hs))
	for i := range hs {
		out[i] = hs[i][:]
	}
	return out
}

func TestInteropProofs(t *testing.T) {
	s := newSim(t, 42).More(70)
	for size := int64(1); size <= s.Log.Size(); size++ {
		root, err := tlog.TreeHash(size, s.Log)
		if err != nil {
			t.Fatal(err)
		}
		for seq := int64(1); seq <= size; seq++ {
			p, err := auditlog.ProveInclusion(size, seq, s.Log)
			if err != nil {
				t.Fatal(err)
			}
			leaf := rfc6962.DefaultHasher.HashLeaf(s.Log.Record(seq))
			if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(seq-1), uint64(size), leaf, byteSlices(p), root[:]); err != nil {
				t.Fatalf("size %d seq %d: transparency-dev rejects our inclusion proof: %v", size, seq, err)
			}
			if err := auditlog.CheckInclusion(p, size, root, seq, s.Log.Record(seq)); err != nil {
				t.Fatal(err)
			}
			if seq > 1 {
				if err := auditlog.CheckInclusion(p, size, root, seq, s.Log.Record(seq-1)); err == nil {
					t.Fatalf("size %d: seq %d's proof accepts seq %d's record", size, seq, seq-1)
				}
			}
		}
		for old := int64(0); old <= size; old++ {
			p, err := auditlog.ProveConsistency(old, size, s.Log)
			if err != nil {
				t.Fatal(err)
			}
			oldRoot, _ := tlog.TreeHash(old, s.Log)
			if err := proof.VerifyConsistency(rfc6962.DefaultHasher, uint64(old), uint64(size), byteSlices(p), oldRoot[:], root[:]); err != nil {
				t.Fatalf("%d -> %d: transparency-dev rejects our consistency proof: %v", old, size, err)
			}
			if err := auditlog.CheckConsistency(p, old, oldRoot, size, root); err != nil {
				t.Fatal(err)
			}
			if old > 0 && old < size {
				if err := auditlog.CheckConsistency(p, old, root, size, root); err == nil {
					t.Fatalf("%d -> %d: the proof accepts a wrong old root", old, size)
				}
			}
		}
	}
	if _, err := auditlog.ProveInclusion(3, 4, s.Log); err == nil {
		t.Error("ProveInclusion of seq 4 in a tree of 3 succeeds")
	}
	if err := auditlog.CheckConsistency(nil, 5, tlog.Hash{}, 4, tlog.Hash{}); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("a shrinking log: %v", err)
	}
}

// TestInteropBundleProofs feeds the proofs a bundle carries, completed by
// the verifier, to transparency-dev.
func TestInteropBundleProofs(t *testing.T) {
	signer, vkey := testKey(t, 1)
	s := newSim(t, 42).More(37)
	root, _ := s.Log.Root()
	for _, seqs := range [][]int64{nil, {1, 2, 3, 17, 33, 37}, {36}} {
		_, got, err := verifyCollect(t, s.Bundle(t, signer, vkey, seqs, 0), auditlog.VerifyOptions{VerifierKey: vkey})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range got {
			leaf := rfc6962.DefaultHasher.HashLeaf(e.Record)
			if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(e.Seq-1), 37, leaf, byteSlices(e.Proof), root[:]); err != nil {
				t.Fatalf("seq %d: %v", e.Seq, err)
			}
		}
	}
}

func TestInteropCheckpoint(t *testing.T) {
	signer, vkey := testKey(t, 1)
	s := story(t, 42)
	signed := s.Signed(t, signer)
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	origin := auditlog.Origin(signer.Name(), 42)
	cp, _, _, err := log.ParseCheckpoint(signed, origin, v)
	if err != nil {
		t.Fatalf("transparency-dev rejects our checkpoint: %v", err)
	}
	root, _ := s.Log.Root()
	if cp.Origin != origin || cp.Size != 12 || !bytes.Equal(cp.Hash, root[:]) {
		t.Fatalf("transparency-dev reads %+v", cp)
	}
	// And theirs is ours.
	theirs, err := note.Sign(&note.Note{Text: string(log.Checkpoint{Origin: origin, Size: 12, Hash: root[:]}.Marshal())}, signer)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(theirs, signed) {
		t.Fatalf("transparency-dev's checkpoint\n%s\ndiffers from ours\n%s", theirs, signed)
	}
}
