// Package tree is the RFC 6962 tree geometry that the verifier in
// internal/auditlog and the writer in internal/auditlog/bundle must agree
// on: which subtrees a leaf's audit path passes, which of them two leaves
// share, and how a range of leaves is made of the complete subtrees that a
// store keeps hashes of (golang.org/x/mod/sumdb/tlog's stored-hash layout).
package tree

import (
	"math/bits"

	"golang.org/x/mod/sumdb/tlog"
)

// EmptyRoot is the RFC 6962 hash of the empty tree, SHA-256("").
var EmptyRoot, _ = tlog.TreeHash(0, nil)

// The tree geometry below is RFC 6962's: a node over n > 1 leaves has a left
// subtree over the largest power of two smaller than n, and the rest on the
// right. Complete subtrees are named as tlog names them, (level, index).

// split returns the number of leaves in the left subtree of a node over n > 1 leaves.
func split(n int64) int64 { return 1 << (bits.Len64(uint64(n-1)) - 1) }

// Step is one level of a leaf's path from the root: the sibling subtree
// [lo, hi) that the audit path carries, and whether it lies on the left.
type Step struct {
	Lo, Hi int64
	Left   bool
}

// PathSteps appends leaf i's steps in a tree of size n, root first. Its
// audit path is the siblings' hashes in the reverse order.
func PathSteps(dst []Step, i, n int64) []Step {
	lo, hi := int64(0), n
	for hi-lo > 1 {
		k := split(hi - lo)
		if i < lo+k {
			dst = append(dst, Step{lo + k, hi, false})
			hi = lo + k
		} else {
			dst = append(dst, Step{lo, lo + k, true})
			lo += k
		}
	}
	return dst
}

// SharedDepth is how many steps the paths of leaves a and b share from the
// root: the depth of their lowest common ancestor. Above it, their audit
// paths are the same hashes, which is what lets a bundle carry them once.
func SharedDepth(a, b, n int64) int {
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

// SubtreeIndexes appends the stored-hash indexes of the complete subtrees
// that make up the subtree [lo, hi) of an RFC 6962 tree, largest first. Such
// a range always starts at a multiple of its largest power of two.
func SubtreeIndexes(dst []int64, lo, hi int64) []int64 {
	for lo < hi {
		level := bits.Len64(uint64(hi-lo)) - 1
		dst = append(dst, tlog.StoredHashIndex(level, lo>>level))
		lo += 1 << level
	}
	return dst
}

// FoldSubtrees combines the hashes of the complete subtrees of a range
// (largest first) into the hash of the range.
func FoldSubtrees(parts []tlog.Hash) tlog.Hash {
	h := parts[len(parts)-1]
	for i := len(parts) - 2; i >= 0; i-- {
		h = tlog.NodeHash(parts[i], h)
	}
	return h
}

// FrontierRoot is the root of the tree of the first n leaves, given the last
// complete subtree of each level: one per one bit of n, combined from the
// smallest (rightmost) up.
func FrontierRoot(frontier *[64]tlog.Hash, n int64) tlog.Hash {
	if n == 0 {
		return EmptyRoot
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
