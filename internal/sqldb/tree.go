package sqldb

import (
	"context"

	"golang.org/x/mod/sumdb/tlog"
)

// ViewLog calls fn with an account's log size and a reader of its stored
// Merkle hashes, over one consistent snapshot. For proofs and checks; it
// does no role check, so callers authorise first.
func (db *DB) ViewLog(ctx context.Context, accountID int64, fn func(size int64, hashes tlog.HashReader) error) error {
	return db.view(ctx, func(tx *Tx) error {
		size, err := tx.logSize(ctx, accountID)
		if err != nil {
			return err
		}
		return fn(size, tx.hashReader(ctx, accountID))
	})
}

// Head returns the size and Merkle root of an account's log.
func (db *DB) Head(ctx context.Context, accountID int64) (size int64, root tlog.Hash, err error) {
	err = db.ViewLog(ctx, accountID, func(n int64, r tlog.HashReader) error {
		size = n
		root, err = tlog.TreeHash(n, r)
		return err
	})
	return size, root, err
}

// treeEdge holds, for each level of an account's Merkle tree, the stored
// hash of the last complete subtree at that level: exactly what the next
// append reads (tlog.StoredHashes combines the new leaf with the left
// siblings it completes, and those are the last complete subtrees of their
// levels), so appends need not read stored hashes back. A level not known
// yet is read from the database once.
type treeEdge struct {
	size  int64 // the tree size the edge is for
	nodes [64]edgeNode
}

type edgeNode struct {
	idx   int64 // stored hash index (tlog.StoredHashIndex)
	hash  tlog.Hash
	known bool
}

// appended records the hashes stored for the leaf appended to a tree of
// size n: one per level from the leaf up, at consecutive stored indexes.
func (e *treeEdge) appended(n int64, hashes []tlog.Hash) {
	start := tlog.StoredHashIndex(0, n)
	for level, h := range hashes {
		if level < len(e.nodes) {
			e.nodes[level] = edgeNode{idx: start + int64(level), hash: h, known: true}
		}
	}
	e.size = n + 1
}

// cachedEdge returns the right edge of an account's tree of size n as this
// process last committed it, or an empty one (read as needed) when another
// process has appended since or there is none. The edges kept are only
// those of committed transactions, so every hash in them is stored.
func (db *DB) cachedEdge(accountID, n int64) treeEdge {
	if v, ok := db.edges.Load(accountID); ok && v.(*treeEdge).size == n {
		return *v.(*treeEdge)
	}
	return treeEdge{size: n}
}

// edgeReader is the tlog.HashReader of an append: hashes on the tree's
// right edge from the edge, any others read in the transaction (and kept).
type edgeReader struct {
	ctx       context.Context
	tx        *Tx
	accountID int64
	edge      *treeEdge
}

// ReadHashes implements tlog.HashReader.
func (r edgeReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	var missing []int64
	for i, x := range indexes {
		level, _ := tlog.SplitStoredHashIndex(x)
		if level < len(r.edge.nodes) && r.edge.nodes[level].known && r.edge.nodes[level].idx == x {
			out[i] = r.edge.nodes[level].hash
		} else {
			missing = append(missing, x)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	read, err := r.tx.hashReader(r.ctx, r.accountID).ReadHashes(missing)
	if err != nil {
		return nil, err
	}
	j := 0
	for i, x := range indexes {
		level, _ := tlog.SplitStoredHashIndex(x)
		if j < len(missing) && missing[j] == x {
			out[i] = read[j]
			if level < len(r.edge.nodes) {
				r.edge.nodes[level] = edgeNode{idx: x, hash: read[j], known: true}
			}
			j++
		}
	}
	return out, nil
}
