package logcheck_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/auditlog/logcheck"
	"github.com/resellerconsole/reseller/internal/auditlog/memlog"
	"golang.org/x/mod/sumdb/tlog"
)

// alteredHash is a HashReader that returns a wrong hash at one index.
func alteredHash(hr tlog.HashReader, at int64) tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		hs, err := hr.ReadHashes(idx)
		for i, x := range idx {
			if x == at {
				hs[i][0] ^= 1
			}
		}
		return hs, err
	})
}

func TestCheckLog(t *testing.T) {
	s := story(t, 42).More(40)
	size := s.Log.Size()
	cp, err := s.Log.Checkpoint("x")
	if err != nil {
		t.Fatal(err)
	}
	cps := []auditlog.Checkpoint{cp}
	t.Run("OK", func(t *testing.T) {
		if err := logcheck.Check(size, s.Log.Records, s.Log, []auditlog.Checkpoint{cp}); err != nil {
			t.Fatal(err)
		}
		if err := logcheck.Check(size, s.Log.Records, s.Log, nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("OlderCheckpoint", func(t *testing.T) {
		root, _ := tlog.TreeHash(13, s.Log)
		if err := logcheck.Check(size, s.Log.Records, s.Log, []auditlog.Checkpoint{{Size: 13, Root: root}}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("EmptyLog", func(t *testing.T) {
		empty := &memlog.Log{}
		ecp, _ := empty.Checkpoint("x")
		if err := logcheck.Check(0, empty.Records, empty, []auditlog.Checkpoint{ecp}); err != nil {
			t.Fatal(err)
		}
	})

	leafIndex := tlog.StoredHashIndex(0, 6) // seq 7's leaf
	nodeIndex := tlog.StoredHashIndex(2, 1) // seqs 5..8
	cases := []struct {
		name    string
		size    int64
		rows    *rows
		hashes  tlog.HashReader
		cp      []auditlog.Checkpoint
		errPart string
	}{
		{"record byte changed", size, func() *rows {
			r := rowsOf(s.Log)
			r.Records[8] = bytes.Replace(r.Records[8], []byte("client deleted"), []byte("client deleteD"), 1)
			return r
		}(), s.Log, cps, "seq 9: record does not match its stored leaf hash"},
		{"record not canonical", size, func() *rows {
			r := rowsOf(s.Log)
			r.Records[2] = bytes.Replace(r.Records[2], []byte(`"v":1,`), []byte(`"v":1 ,`), 1)
			return r
		}(), s.Log, cps, "seq 3: record is not canonical"},
		{"row missing", size, rowsOf(s.Log).Remove(9), s.Log, cps, "seq 10 is missing (the next entry is seq 11)"},
		{"rows swapped", size, func() *rows {
			r := rowsOf(s.Log)
			r.Records[3], r.Records[4] = r.Records[4], r.Records[3]
			return r
		}(), s.Log, cps, "seq 4: the record stored under seq 4 says seq 5"},
		{"rows out of order", size, func() *rows {
			r := rowsOf(s.Log)
			r.Seqs[3], r.Seqs[4] = r.Seqs[4], r.Seqs[3]
			r.Records[3], r.Records[4] = r.Records[4], r.Records[3]
			return r
		}(), s.Log, cps, "seq 4 is missing (the next entry is seq 5)"},
		{"tail truncated below the checkpoint", size - 2, rowsOf(s.Log).Remove(int(size - 1)).Remove(int(size - 2)), s.Log, cps,
			"the checkpoint covers 40 entries but the log has only 38"},
		{"tail missing", size, rowsOf(s.Log).Remove(int(size - 1)), s.Log, cps, "holds only 39 entries"},
		{"record beyond the size", size - 1, rowsOf(s.Log), s.Log, nil, "seq 40: the log's size is 39"},
		{"stored leaf hash altered", size, rowsOf(s.Log), alteredHash(s.Log, leafIndex), cps, "seq 7: record does not match its stored leaf hash"},
		{"stored node hash altered", size, rowsOf(s.Log), alteredHash(s.Log, nodeIndex), cps,
			"stored hash 13 (level 2, covering seq 5..8) does not match the hash recomputed from the records"},
		{"log rewritten under the checkpoint", size, rowsOf(forkedTo(t, 40).Log), forkedTo(t, 40).Log, cps, "have root"},
		{"record of another account", size, func() *rows {
			r := rowsOf(s.Log)
			r.Records[5] = story(t, 43).Log.Record(6)
			return r
		}(), s.Log, nil, "seq 6: record of account 43 in the log of account 42"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := logcheck.Check(tc.size, tc.rows.Stream, tc.hashes, tc.cp)
			if err == nil || !strings.Contains(err.Error(), tc.errPart) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tc.errPart)
			}
		})
	}
}

// forkedTo is a different, internally consistent log of account 42 with n entries.
func forkedTo(t tester, n int64) *sim {
	return forked(t, 42).More(n)
}

// TestCheckLogReportsEveryProblem: the check goes on after a problem, each
// problem is reported once, and every checkpoint is held against the tree.
func TestCheckLogReportsEveryProblem(t *testing.T) {
	s := story(t, 42).More(100)
	size := s.Log.Size()
	at := func(n int64) auditlog.Checkpoint {
		root, err := tlog.TreeHash(n, s.Log)
		if err != nil {
			t.Fatal(err)
		}
		return auditlog.Checkpoint{Size: n, Root: root}
	}
	good := []auditlog.Checkpoint{at(size), at(1), at(37), at(64), at(0)} // in any order
	problems := func(t *testing.T, r *rows, cps []auditlog.Checkpoint) []string {
		t.Helper()
		err := logcheck.Check(size, r.Stream, s.Log, cps)
		if err == nil {
			return nil
		}
		var ce *logcheck.Error
		if !errors.As(err, &ce) {
			t.Fatalf("err = %v, want a *logcheck.Error", err)
		}
		var out []string
		for _, p := range ce.Problems {
			out = append(out, p.Error())
		}
		return out
	}
	want := func(t *testing.T, got []string, parts ...string) {
		t.Helper()
		if len(got) != len(parts) {
			t.Fatalf("%d problems, want %d:\n%s", len(got), len(parts), strings.Join(got, "\n"))
		}
		for i, p := range parts {
			if !strings.Contains(got[i], p) {
				t.Errorf("problem %d = %q, want it to contain %q", i, got[i], p)
			}
		}
	}
	t.Run("OK", func(t *testing.T) { want(t, problems(t, rowsOf(s.Log), good)) })
	t.Run("TwoRecordsAltered", func(t *testing.T) {
		r := rowsOf(s.Log)
		r.Records[9] = bytes.Replace(r.Records[9], []byte(`"seq":10`), []byte(`"seq":11`), 1)
		r.Records[80][len(r.Records[80])-3] ^= 1
		// Each is one problem (no stored node above it is blamed), and every
		// checkpoint above the first is reported as rewritten.
		want(t, problems(t, r, good),
			"seq 10: the record stored under seq 10 says seq 11",
			"the log's first 37 entries have root",
			"the log's first 64 entries have root",
			"seq 81: record",
			"the log's first 100 entries have root")
	})
	t.Run("RecordMissing", func(t *testing.T) {
		// The stored leaf hash stands in: the checkpoints still match.
		want(t, problems(t, rowsOf(s.Log).Remove(20).Remove(20), good), "seqs 21..22 are missing (the next entry is seq 23)")
	})
	t.Run("CheckpointsWrongAndBeyond", func(t *testing.T) {
		wrong := at(50)
		wrong.Root[0] ^= 1
		want(t, problems(t, rowsOf(s.Log), append(good, wrong, auditlog.Checkpoint{Size: size + 1})),
			"the checkpoint covers 101 entries but the log has only 100",
			"the log's first 50 entries have root")
	})
	t.Run("Capped", func(t *testing.T) {
		r := rowsOf(s.Log)
		for i := range r.Records {
			r.Records[i] = bytes.Replace(r.Records[i], []byte(`"v":1,`), []byte(`"v":1 ,`), 1)
		}
		p := logcheck.Problems{Max: 20}
		c := logcheck.New(size, s.Log, nil, p.Add)
		r.Stream(func(seq int64, rec []byte) error { c.Record(seq, rec); return nil })
		c.Finish()
		if len(p.List) != 20 || p.More != 80 || !strings.HasSuffix(p.Err().Error(), "; and 80 more problems") {
			t.Fatalf("%d listed, %d more: %v", len(p.List), p.More, p.Err())
		}
	})
}
