// Package logcheck checks a stored log against itself and against the
// checkpoints once signed for it, as `reseller audit check` does
// (docs/audit-log-format.md, section 9). Unlike the verifier in
// internal/auditlog, which stops at the first failure of a bundle an
// auditor was handed, it reports every problem it finds, so that one run
// shows an operator everything to look at. It trusts nothing it reads: each
// record is checked with auditlog.CheckCanonical's rules and the tree is
// recomputed from the records.
package logcheck

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/auditlog/internal/tree"
	"golang.org/x/mod/sumdb/tlog"
)

// checkChunk is how many leaves' stored hashes a Checker reads at once.
const checkChunk = 4096

// HashRangeReader is a tlog.HashReader that can also read the stored hashes
// with indexes lo..hi-1 in one go, which a store answers with one range scan
// instead of a list of indexes. A Checker uses it when its reader has it.
type HashRangeReader interface {
	ReadHashRange(lo, hi int64) ([]tlog.Hash, error)
}

// Check checks a stored log against itself and against checkpoints, as
// `reseller audit check` does; see Checker. The checkpoints may come in any
// order. It returns nil, the error of records, or an *Error listing every
// problem found.
//
// Check calls hashes between records' callbacks; see bundle.Input.
func Check(size int64, records func(fn func(seq int64, record []byte) error) error, hashes tlog.HashReader, cps []auditlog.Checkpoint) error {
	var p Problems
	c := New(size, hashes, cps, p.Add)
	if err := records(func(seq int64, record []byte) error { c.Record(seq, record); return nil }); err != nil {
		return err
	}
	c.Finish()
	return p.Err()
}

// Checker checks a stored log record by record, in seq order, without
// holding more than a chunk of stored hashes: records must be seq 1..size
// without gaps, each canonical, of the seq it is stored under and of one
// account; each must hash to its stored leaf hash, and every stored hash
// (tlog layout) must equal the one recomputed from the records. Every
// checkpoint must be the root of the tree of the log's first Size records,
// so a log cut back or rewritten below a checkpoint once signed is caught.
//
// Every problem goes to report, naming the seq or stored-hash index, and
// the check goes on: the tree is recomputed from the records, so that one
// altered record is one problem and a checkpoint above it still tells
// whether the records match what was signed. Where a record is missing its
// stored leaf hash stands in. A stored hash above a leaf or node already
// reported is not reported again.
type Checker struct {
	// Account is the account whose log this is; 0 takes the first record's.
	Account int64

	size   int64
	hashes tlog.HashReader
	cps    []auditlog.Checkpoint // not reached yet, by ascending size
	report func(error)

	frontier [64]tlog.Hash // frontier[l]: the last complete left subtree at level l
	tainted  [64]bool      // whether frontier[l] covers a leaf or node already reported
	unknown  bool          // a missing record's leaf hash could not be read either
	stored   []tlog.Hash   // the stored hashes of the current chunk, nil if unreadable
	chunk    int64         // the current chunk's number, -1 for none
	base     int64         // the stored-hash index of stored[0]
	n        int64         // leaves done
	beyond   int64         // records with a seq beyond size
	first    int64         // the first seq beyond size
}

// New starts checking a log of size entries against its stored
// hashes and the checkpoints cps (in any order). A checkpoint beyond the
// log is reported at once.
func New(size int64, hashes tlog.HashReader, cps []auditlog.Checkpoint, report func(error)) *Checker {
	c := &Checker{size: size, hashes: hashes, report: report, chunk: -1}
	cps = slices.Clone(cps)
	slices.SortStableFunc(cps, func(a, b auditlog.Checkpoint) int { return cmp.Compare(a.Size, b.Size) })
	for _, cp := range cps {
		if cp.Size > size {
			report(&CheckpointMismatchError{Checkpoint: cp, LogSize: size})
			continue
		}
		c.cps = append(c.cps, cp)
	}
	c.checkRoots()
	return c
}

// Record checks the next record the store holds, stored under seq.
func (c *Checker) Record(seq int64, record []byte) {
	if !c.place(seq) {
		return
	}
	account, rseq, err := auditlog.CheckCanonical(record)
	c.leaf(seq, record, account, rseq, err)
}

// Entry is Record that also returns the entry the record holds, read as
// auditlog.ParseTrusted reads it, or nil when the record has no place in the log (its seq is
// repeated or beyond the log) or not even encoding/json can read it.
func (c *Checker) Entry(seq int64, record []byte) *reseller.Entry {
	if !c.place(seq) {
		return nil
	}
	if e, ok := auditlog.ParseCanonical(record); ok {
		c.leaf(seq, record, e.AccountID, e.Seq, nil)
		return e
	}
	_, _, err := auditlog.CheckCanonical(record) // explains why it is not canonical
	e, perr := auditlog.ParseTrusted(record)     // by encoding/json, since ParseCanonical refused
	if perr != nil {
		if err == nil {
			err = perr
		}
		c.leaf(seq, record, 0, 0, err)
		return nil
	}
	c.leaf(seq, record, e.AccountID, e.Seq, err)
	return e
}

// place reports a record that has no place in the log, and the records
// missing before it.
func (c *Checker) place(seq int64) bool {
	switch {
	case seq <= c.n:
		c.report(fmt.Errorf("seq %d: comes after seq %d (entries out of order or repeated)", seq, c.n))
		return false
	case seq > c.size:
		if c.beyond == 0 {
			c.first = seq
		}
		c.beyond++
		return false
	case seq > c.n+1:
		if seq == c.n+2 {
			c.report(fmt.Errorf("seq %d is missing (the next entry is seq %d)", c.n+1, seq))
		} else {
			c.report(fmt.Errorf("seqs %d..%d are missing (the next entry is seq %d)", c.n+1, seq-1, seq))
		}
		c.fill(seq - 1)
	}
	return true
}

// fill stands the stored leaf hashes in for the missing records up to seq.
func (c *Checker) fill(seq int64) {
	for c.n < seq {
		x := c.n
		var h tlog.Hash
		if c.load(x) {
			h = c.stored[tlog.StoredHashIndex(0, x)-c.base]
		} else {
			c.unknown = true
		}
		c.add(x, h, true)
	}
}

// leaf checks the record of seq and adds it to the tree. account and rseq
// are what the record says; err says why it is not canonical.
func (c *Checker) leaf(seq int64, record []byte, account, rseq int64, err error) {
	bad := true
	switch {
	case err != nil:
		c.report(fmt.Errorf("seq %d: record is not canonical record bytes: %w", seq, err))
	case rseq != seq:
		c.report(fmt.Errorf("seq %d: the record stored under seq %d says seq %d (records swapped or moved)", seq, seq, rseq))
	case c.Account == 0:
		c.Account, bad = account, false
	case account != c.Account:
		c.report(fmt.Errorf("seq %d: record of account %d in the log of account %d", seq, account, c.Account))
	default:
		bad = false
	}
	c.add(seq-1, tlog.RecordHash(record), bad)
}

// add adds the leaf hash h of tree index x, compares the stored hashes it
// completes with those recomputed, and checks the checkpoints of the new
// size. bad says that the leaf was already reported.
func (c *Checker) add(x int64, h tlog.Hash, bad bool) {
	have := c.load(x)
	// Leaf x writes its hash and those of the subtrees it completes, one
	// per trailing one bit of x, at consecutive indexes.
	at := tlog.StoredHashIndex(0, x)
	if have && h != c.stored[at-c.base] && !bad {
		c.report(fmt.Errorf("seq %d: record does not match its stored leaf hash (stored hash %d): the record or the hash was altered", x+1, at))
		bad = true
	}
	l := 0
	for ; x>>l&1 == 1; l++ {
		bad = bad || c.tainted[l]
		h = tlog.NodeHash(c.frontier[l], h)
		at++
		if have && h != c.stored[at-c.base] && !bad {
			lo := (x>>(l+1))<<(l+1) + 1
			c.report(fmt.Errorf("stored hash %d (level %d, covering seq %d..%d) does not match the hash recomputed from the records", at, l+1, lo, x+1))
			bad = true
		}
	}
	// Only left children are ever needed again, as left siblings or as
	// parts of a root; this one is a left child at level l.
	c.frontier[l], c.tainted[l] = h, bad
	c.n++
	c.checkRoots()
}

// load makes sure the stored hashes that leaf x writes are at hand, and
// says whether they could be read.
func (c *Checker) load(x int64) bool {
	k := x / checkChunk
	if k == c.chunk {
		return c.stored != nil
	}
	c.chunk, c.stored = k, nil
	c.base = tlog.StoredHashIndex(0, k*checkChunk)
	end := tlog.StoredHashCount(min((k+1)*checkChunk, c.size))
	var hs []tlog.Hash
	var err error
	if r, ok := c.hashes.(HashRangeReader); ok {
		hs, err = r.ReadHashRange(c.base, end)
	} else {
		idx := make([]int64, 0, end-c.base)
		for i := c.base; i < end; i++ {
			idx = append(idx, i)
		}
		hs, err = c.hashes.ReadHashes(idx)
	}
	if err == nil && int64(len(hs)) != end-c.base {
		err = fmt.Errorf("%d hashes returned for %d indexes", len(hs), end-c.base)
	}
	if err != nil {
		c.report(fmt.Errorf("seqs %d..%d: reading stored hashes %d..%d: %w", k*checkChunk+1, min((k+1)*checkChunk, c.size), c.base, end-1, err))
		return false
	}
	c.stored = hs
	return true
}

// checkRoots checks the checkpoints of the size reached.
func (c *Checker) checkRoots() {
	for len(c.cps) > 0 && c.cps[0].Size == c.n {
		cp := c.cps[0]
		c.cps = c.cps[1:]
		if c.unknown {
			continue // the missing records and unreadable hashes are reported
		}
		if root := tree.FrontierRoot(&c.frontier, c.n); root != cp.Root {
			c.report(&CheckpointMismatchError{Checkpoint: cp, LogSize: c.size, Root: root})
		}
	}
}

// Finish reports what is missing at the end of the log, and records beyond
// it. Call it after the last record.
func (c *Checker) Finish() {
	if c.n < c.size {
		c.report(fmt.Errorf("the log's size is %d but it holds only %d entries (seq %d onward is missing)", c.size, c.n, c.n+1))
		c.fill(c.size)
	}
	if c.beyond > 0 {
		c.report(fmt.Errorf("seq %d: the log's size is %d, yet there are %d records beyond it", c.first, c.size, c.beyond))
	}
}

// Root returns the root of the tree of the records checked so far, with
// stored leaf hashes standing in for missing records: after Finish, the
// log's root as its records say.
func (c *Checker) Root() tlog.Hash { return tree.FrontierRoot(&c.frontier, c.n) }
