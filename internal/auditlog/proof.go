package auditlog

import (
	"fmt"
	"math/bits"

	"github.com/resellerconsole/reseller"
	"golang.org/x/mod/sumdb/tlog"
)

// ProveInclusion returns the RFC 6962 inclusion proof (audit path, leaf to
// root) that entry seq is in the tree of the first size entries. EINVALID
// when seq is not in that tree.
func ProveInclusion(size, seq int64, hashes tlog.HashReader) ([]tlog.Hash, error) {
	if seq < 1 || seq > size {
		return nil, reseller.Errorf(reseller.EINVALID, "There is no entry seq %d in a log of %d entries.", seq, size)
	}
	return tlog.ProveRecord(size, seq-1, hashes)
}

// ProveConsistency returns the RFC 6962 consistency proof that the tree of
// size oldSize is a prefix of the tree of size size. The proof from an
// empty tree, or to the same size, is empty. EINVALID when oldSize is not
// between 0 and size.
func ProveConsistency(oldSize, size int64, hashes tlog.HashReader) ([]tlog.Hash, error) {
	if oldSize < 0 || oldSize > size {
		return nil, reseller.Errorf(reseller.EINVALID, "The older size must be between 0 and %d, not %d.", size, oldSize)
	}
	if oldSize == 0 {
		return []tlog.Hash{}, nil
	}
	return tlog.ProveTree(size, oldSize, hashes)
}

// CheckInclusion verifies that record is entry seq of the tree with the
// given size and root.
func CheckInclusion(proof []tlog.Hash, size int64, root tlog.Hash, seq int64, record []byte) error {
	if seq < 1 || seq > size {
		return fmt.Errorf("entry seq %d is not in a tree of size %d", seq, size)
	}
	if err := tlog.CheckRecord(proof, size, root, seq-1, tlog.RecordHash(record)); err != nil {
		return fmt.Errorf("entry seq %d: record does not match the tree of size %d (inclusion proof fails)", seq, size)
	}
	return nil
}

// CheckConsistency verifies that the tree (oldSize, oldRoot) is a prefix of
// the tree (size, root): nothing in the old tree was changed or removed.
func CheckConsistency(proof []tlog.Hash, oldSize int64, oldRoot tlog.Hash, size int64, root tlog.Hash) error {
	switch {
	case oldSize < 0 || oldSize > size:
		return fmt.Errorf("the older tree (size %d) is larger than the newer one (size %d): the log was truncated", oldSize, size)
	case oldSize == 0:
		if oldRoot != emptyRoot || len(proof) != 0 {
			return fmt.Errorf("an empty tree has root %v and an empty consistency proof", emptyRoot)
		}
		return nil
	}
	if err := tlog.CheckTree(proof, size, root, oldSize, oldRoot); err != nil {
		return fmt.Errorf("the tree of size %d is not a prefix of the tree of size %d (consistency proof fails): the log was rewritten or forked", oldSize, size)
	}
	return nil
}

// emptyRoot is the RFC 6962 hash of the empty tree, SHA-256("").
var emptyRoot, _ = tlog.TreeHash(0, nil)

// The tree geometry below is RFC 6962's: a node over n > 1 leaves has a left
// subtree over the largest power of two smaller than n, and the rest on the
// right. Complete subtrees are named as tlog names them, (level, index).

// split returns the number of leaves in the left subtree of a node over n > 1 leaves.
func split(n int64) int64 { return 1 << (bits.Len64(uint64(n-1)) - 1) }

// step is one level of a leaf's path from the root: the sibling subtree
// [lo, hi) that the audit path carries, and whether it lies on the left.
type step struct {
	lo, hi int64
	left   bool
}

// pathSteps appends leaf i's steps in a tree of size n, root first. Its
// audit path is the siblings' hashes in the reverse order.
func pathSteps(dst []step, i, n int64) []step {
	lo, hi := int64(0), n
	for hi-lo > 1 {
		k := split(hi - lo)
		if i < lo+k {
			dst = append(dst, step{lo + k, hi, false})
			hi = lo + k
		} else {
			dst = append(dst, step{lo, lo + k, true})
			lo += k
		}
	}
	return dst
}

// sharedDepth is how many steps the paths of leaves a and b share from the
// root: the depth of their lowest common ancestor. Above it, their audit
// paths are the same hashes, which is what lets a bundle carry them once.
func sharedDepth(a, b, n int64) int {
	lo, hi := int64(0), n
	d := 0
	for hi-lo > 1 {
		k := split(hi - lo)
		if (a < lo+k) != (b < lo+k) {
			break
		}
		if a < lo+k {
			hi = lo + k
		} else {
			lo += k
		}
		d++
	}
	return d
}

// subtreeIndexes appends the stored-hash indexes of the complete subtrees
// that make up the subtree [lo, hi) of an RFC 6962 tree, largest first. Such
// a range always starts at a multiple of its largest power of two.
func subtreeIndexes(dst []int64, lo, hi int64) []int64 {
	for lo < hi {
		level := bits.Len64(uint64(hi-lo)) - 1
		dst = append(dst, tlog.StoredHashIndex(level, lo>>level))
		lo += 1 << level
	}
	return dst
}

// foldSubtrees combines the hashes of the complete subtrees of a range
// (largest first) into the hash of the range.
func foldSubtrees(parts []tlog.Hash) tlog.Hash {
	h := parts[len(parts)-1]
	for i := len(parts) - 2; i >= 0; i-- {
		h = tlog.NodeHash(parts[i], h)
	}
	return h
}
