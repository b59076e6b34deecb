package auditlog

import (
	"fmt"

	"github.com/resellerconsole/reseller/internal/auditlog/internal/tree"
	"golang.org/x/mod/sumdb/tlog"
)

// TreeBuilder computes the root of a log as it grows, from a prefix whose
// root is known and the records appended after it. It is how a signer proves
// that the tree it is about to sign extends the last checkpoint it trusts:
// the prefix is taken from stored hashes and checked against that
// checkpoint's root, and the new part is hashed from the record bytes
// themselves, not from stored hashes that a database writer could have
// recomputed over altered records.
type TreeBuilder struct {
	// frontier[l] is the hash of the complete subtree at level l in the
	// decomposition of n, for each one bit l of n.
	frontier [64]tlog.Hash
	n        int64
}

// NewTreeBuilder starts from the tree of size n, reading the hashes of the
// complete subtrees that make it up (at most one per bit of n) from hashes.
// If root is not nil, those must fold to *root, or the prefix is not the
// tree that root names and NewTreeBuilder fails.
func NewTreeBuilder(n int64, hashes tlog.HashReader, root *tlog.Hash) (*TreeBuilder, error) {
	if n < 0 {
		return nil, fmt.Errorf("tree size %d is negative", n)
	}
	b := &TreeBuilder{n: n}
	var idx []int64
	var levels []int
	for l := 0; l < 63; l++ {
		if n>>l&1 == 1 {
			idx = append(idx, tlog.StoredHashIndex(l, n>>l-1))
			levels = append(levels, l)
		}
	}
	if len(idx) > 0 {
		hs, err := hashes.ReadHashes(idx)
		if err != nil {
			return nil, err
		}
		if len(hs) != len(idx) {
			return nil, fmt.Errorf("ReadHashes returned %d hashes for %d indexes", len(hs), len(idx))
		}
		for i, l := range levels {
			b.frontier[l] = hs[i]
		}
	}
	if root != nil && b.Root() != *root {
		return nil, fmt.Errorf("the stored hashes of the tree of size %d give root %v, not %v", n, b.Root(), *root)
	}
	return b, nil
}

// Size is the number of records in the tree so far.
func (b *TreeBuilder) Size() int64 { return b.n }

// Append adds the record with seq Size()+1.
func (b *TreeBuilder) Append(record []byte) {
	h := tlog.RecordHash(record)
	l := 0
	for ; b.n>>l&1 == 1; l++ {
		h = tlog.NodeHash(b.frontier[l], h)
	}
	b.frontier[l] = h
	b.n++
}

// Root is the RFC 6962 root of the tree so far.
func (b *TreeBuilder) Root() tlog.Hash { return tree.FrontierRoot(&b.frontier, b.n) }
