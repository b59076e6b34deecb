package auditlog_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/resellerconsole/reseller/internal/auditlog"
	"golang.org/x/mod/sumdb/tlog"
)

// rows is a log's records as a store would stream them, for tampering.
type rows struct {
	seqs    []int64
	records [][]byte
}

func rowsOf(log *auditlog.MemoryLog) *rows {
	r := &rows{}
	log.Records(func(seq int64, rec []byte) error {
		r.seqs = append(r.seqs, seq)
		r.records = append(r.records, append([]byte(nil), rec...))
		return nil
	})
	return r
}

func (r *rows) stream(fn func(seq int64, record []byte) error) error {
	for i, s := range r.seqs {
		if err := fn(s, r.records[i]); err != nil {
			return err
		}
	}
	return nil
}

func (r *rows) remove(i int) *rows {
	r.seqs = append(r.seqs[:i], r.seqs[i+1:]...)
	r.records = append(r.records[:i], r.records[i+1:]...)
	return r
}

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
	s := story(t, 42).more(40)
	size := s.log.Size()
	cp, err := s.log.Checkpoint("x")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("OK", func(t *testing.T) {
		if err := auditlog.CheckLog(size, s.log.Records, s.log, &cp); err != nil {
			t.Fatal(err)
		}
		if err := auditlog.CheckLog(size, s.log.Records, s.log, nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("OlderCheckpoint", func(t *testing.T) {
		root, _ := tlog.TreeHash(13, s.log)
		if err := auditlog.CheckLog(size, s.log.Records, s.log, &auditlog.Checkpoint{Size: 13, Root: root}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("EmptyLog", func(t *testing.T) {
		empty := &auditlog.MemoryLog{}
		ecp, _ := empty.Checkpoint("x")
		if err := auditlog.CheckLog(0, empty.Records, empty, &ecp); err != nil {
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
		cp      *auditlog.Checkpoint
		errPart string
	}{
		{"record byte changed", size, func() *rows {
			r := rowsOf(s.log)
			r.records[8] = bytes.Replace(r.records[8], []byte("client deleted"), []byte("client deleteD"), 1)
			return r
		}(), s.log, &cp, "seq 9: record does not match its stored leaf hash"},
		{"record not canonical", size, func() *rows {
			r := rowsOf(s.log)
			r.records[2] = bytes.Replace(r.records[2], []byte(`"v":1,`), []byte(`"v":1 ,`), 1)
			return r
		}(), s.log, &cp, "seq 3: record is not canonical"},
		{"row missing", size, rowsOf(s.log).remove(9), s.log, &cp, "seq 10 is missing (the next entry is seq 11)"},
		{"rows swapped", size, func() *rows {
			r := rowsOf(s.log)
			r.records[3], r.records[4] = r.records[4], r.records[3]
			return r
		}(), s.log, &cp, "seq 4: the record stored under seq 4 says seq 5"},
		{"rows out of order", size, func() *rows {
			r := rowsOf(s.log)
			r.seqs[3], r.seqs[4] = r.seqs[4], r.seqs[3]
			r.records[3], r.records[4] = r.records[4], r.records[3]
			return r
		}(), s.log, &cp, "seq 4 is missing (the next entry is seq 5)"},
		{"tail truncated below the checkpoint", size - 2, rowsOf(s.log).remove(int(size - 1)).remove(int(size - 2)), s.log, &cp,
			"the checkpoint covers 40 entries but the log has only 38"},
		{"tail missing", size, rowsOf(s.log).remove(int(size - 1)), s.log, &cp, "holds only 39 entries"},
		{"record beyond the size", size - 1, rowsOf(s.log), s.log, nil, "seq 40: the log's size is 39"},
		{"stored leaf hash altered", size, rowsOf(s.log), alteredHash(s.log, leafIndex), &cp, "seq 7: record does not match its stored leaf hash"},
		{"stored node hash altered", size, rowsOf(s.log), alteredHash(s.log, nodeIndex), &cp,
			"stored hash 13 (level 2, covering seq 5..8) does not match the hash recomputed from the records"},
		{"log rewritten under the checkpoint", size, rowsOf(forkedTo(t, 40).log), forkedTo(t, 40).log, &cp, "have root"},
		{"record of another account", size, func() *rows {
			r := rowsOf(s.log)
			r.records[5] = story(t, 43).log.Record(6)
			return r
		}(), s.log, nil, "seq 6: record of account 43 in the log of account 42"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := auditlog.CheckLog(tc.size, tc.rows.stream, tc.hashes, tc.cp)
			if err == nil || !strings.Contains(err.Error(), tc.errPart) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tc.errPart)
			}
		})
	}
}

// forkedTo is a different, internally consistent log of account 42 with n entries.
func forkedTo(t tester, n int64) *sim {
	return forked(t, 42).more(n)
}
