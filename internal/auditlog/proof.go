package auditlog

import (
	"fmt"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog/internal/tree"
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
		if oldRoot != tree.EmptyRoot || len(proof) != 0 {
			return fmt.Errorf("an empty tree has root %v and an empty consistency proof", tree.EmptyRoot)
		}
		return nil
	}
	if err := tlog.CheckTree(proof, size, root, oldSize, oldRoot); err != nil {
		return fmt.Errorf("the tree of size %d is not a prefix of the tree of size %d (consistency proof fails): the log was rewritten or forked", oldSize, size)
	}
	return nil
}
