package auditlog

import (
	"fmt"
	"math/bits"

	"golang.org/x/mod/sumdb/tlog"
)

// checkChunk is how many leaves' stored hashes CheckLog reads at once.
const checkChunk = 4096

// CheckLog checks a stored log against itself, as `reseller audit check`
// does: records must be seq 1..size without gaps, each canonical and of the
// seq it is stored under, each hashing to its stored leaf hash, and every
// stored hash (tlog layout) must equal the one recomputed from the records.
// With cp, the log's first cp.Size records must have cp's root, so a log
// cut back below a checkpoint once published is caught. It returns the first
// discrepancy, naming the seq or stored-hash index.
//
// CheckLog calls hashes between records' callbacks; see BundleInput.
func CheckLog(size int64, records func(fn func(seq int64, record []byte) error) error, hashes tlog.HashReader, cp *Checkpoint) error {
	if cp != nil && cp.Size > size {
		return fmt.Errorf("the checkpoint covers %d entries but the log has only %d: entries were removed from its end", cp.Size, size)
	}
	var (
		frontier [64]tlog.Hash // frontier[l]: the last complete left subtree at level l
		stored   []tlog.Hash   // the stored hashes of the current chunk
		base     int64         // the stored-hash index of stored[0]
		account  int64
		n        int64 // records checked
	)
	checkRoot := func() error {
		if cp == nil || cp.Size != n {
			return nil
		}
		if root := frontierRoot(&frontier, n); root != cp.Root {
			return fmt.Errorf("the log's first %d entries have root %v but the checkpoint says %v: the log was rewritten", n, root, cp.Root)
		}
		return nil
	}
	if err := checkRoot(); err != nil {
		return err
	}
	err := records(func(seq int64, record []byte) error {
		if seq != n+1 {
			if seq <= n {
				return fmt.Errorf("seq %d: comes after seq %d (entries out of order or repeated)", seq, n)
			}
			return fmt.Errorf("seq %d is missing (the next entry is seq %d)", n+1, seq)
		}
		if seq > size {
			return fmt.Errorf("seq %d: the log's size is %d, yet there is a record beyond it", seq, size)
		}
		acct, rseq, err := CheckRecord(record)
		switch {
		case err != nil:
			return fmt.Errorf("seq %d: record is not canonical record bytes: %w", seq, err)
		case rseq != seq:
			return fmt.Errorf("seq %d: the record stored under seq %d says seq %d (records swapped or moved)", seq, seq, rseq)
		case n == 0:
			account = acct
		case acct != account:
			return fmt.Errorf("seq %d: record of account %d in the log of account %d", seq, acct, account)
		}
		x := seq - 1
		if x%checkChunk == 0 {
			base = tlog.StoredHashIndex(0, x)
			end := tlog.StoredHashCount(min(x+checkChunk, size))
			idx := make([]int64, 0, end-base)
			for i := base; i < end; i++ {
				idx = append(idx, i)
			}
			if stored, err = hashes.ReadHashes(idx); err != nil {
				return fmt.Errorf("seq %d: reading stored hashes: %w", seq, err)
			}
			if len(stored) != len(idx) {
				return fmt.Errorf("seq %d: ReadHashes returned %d hashes for %d indexes", seq, len(stored), len(idx))
			}
		}
		// Leaf x writes its hash and those of the subtrees it completes, one
		// per trailing one bit of x, at consecutive indexes.
		at := tlog.StoredHashIndex(0, x)
		h := tlog.RecordHash(record)
		if h != stored[at-base] {
			return fmt.Errorf("seq %d: record does not match its stored leaf hash (stored hash %d): the record or the hash was altered", seq, at)
		}
		l := 0
		for ; x>>l&1 == 1; l++ {
			h = tlog.NodeHash(frontier[l], h)
			at++
			if h != stored[at-base] {
				lo := (x>>(l+1))<<(l+1) + 1
				return fmt.Errorf("stored hash %d (level %d, covering seq %d..%d) does not match the hash recomputed from the records", at, l+1, lo, seq)
			}
		}
		// Only left children are ever needed again, as left siblings or as
		// parts of a root; this one is a left child at level l.
		frontier[l] = h
		n++
		return checkRoot()
	})
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("the log's size is %d but it holds only %d entries (seq %d onward is missing)", size, n, n+1)
	}
	return nil
}

// frontierRoot is the root of the tree of the first n leaves, given the last
// complete subtree of each level: one per one bit of n, combined from the
// smallest (rightmost) up.
func frontierRoot(frontier *[64]tlog.Hash, n int64) tlog.Hash {
	if n == 0 {
		return emptyRoot
	}
	l := bits.TrailingZeros64(uint64(n))
	h := frontier[l]
	for l++; l < 64; l++ {
		if n>>l&1 == 1 {
			h = tlog.NodeHash(frontier[l], h)
		}
	}
	return h
}
