// Package bundle writes verification bundles (docs/audit-log-format.md,
// section 7): a signed checkpoint and the selected entries, each with its
// record bytes and the part of its inclusion proof the entry before it does
// not already give. Reading and verifying a bundle is auditlog.VerifyBundle,
// in the verifiable core an auditor reviews; writing is the server's
// concern, kept apart so that the core stays small. Both follow the same
// tree geometry (internal/auditlog/internal/tree) and JSON string codec
// (internal/auditlog/internal/jsonio).
package bundle

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/auditlog/internal/jsonio"
	"github.com/resellerconsole/reseller/internal/auditlog/internal/tree"
	"golang.org/x/mod/sumdb/tlog"
)

// Input is everything Write needs. Stored hashes below Size never change,
// so Hashes may read them on another connection than Records uses: Write
// calls Hashes between Records' callbacks.
type Input struct {
	Checkpoint  []byte          // the signed checkpoint note the bundle proves against
	VerifierKey string          // the key that signed it
	Origin      string          // the log, auditlog.Origin(keyName, accountID)
	Size        int64           // the checkpoint's tree size
	Hashes      tlog.HashReader // the log's stored hashes
	Seqs        []int64         // the selected entries, ascending, each in 1..Size
	// Records streams the records of Seqs, in the same order.
	Records func(fn func(seq int64, record []byte) error) error
	Since   int64  // an older tree size to prove consistency from; 0 for none
	Filter  string // how the entries were selected, for people reading the bundle; not verified
}

// bundleChunk is how many entries' proofs are read from Hashes at once: big
// enough to amortise a database round trip, small enough to keep memory flat.
const bundleChunk = 1024

// Write writes a verification bundle (docs/audit-log-format.md): the
// checkpoint and key, then each selected entry with its record bytes and the
// part of its inclusion proof not already given by the entry before it. It
// refuses to write a bundle that would not verify: a checkpoint that does not
// match Hashes, or a record that is not canonical (nor a legacy record, see
// auditlog.CheckLegacy), belongs to another account or does not match its
// stored leaf hash. EINVALID for a Since or a seq
// outside the checkpoint's tree; other errors mean the caller or the store is
// wrong, not the request.
func Write(w io.Writer, in Input) error {
	cp, account, err := checkBundleInput(in)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	line := make([]byte, 0, 4096)
	line = append(line, `{"format":`...)
	line = strconv.AppendQuote(line, auditlog.BundleFormat)
	line = appendField(line, "origin", in.Origin)
	line = appendField(line, "verifier_key", in.VerifierKey)
	line = appendField(line, "checkpoint", string(in.Checkpoint))
	if in.Filter != "" {
		line = appendField(line, "filter", in.Filter)
	}
	if in.Since > 0 {
		oldRoot, err := tlog.TreeHash(in.Since, in.Hashes)
		if err != nil {
			return err
		}
		proof, err := auditlog.ProveConsistency(in.Since, cp.Size, in.Hashes)
		if err != nil {
			return err
		}
		line = fmt.Appendf(line, ",\n\"consistency\":{\"old_size\":%d,\"old_root\":", in.Since)
		line = jsonio.AppendHash(line, oldRoot)
		line = appendHashes(append(line, `,"proof":`...), proof)
		line = append(line, '}')
	}
	line = fmt.Appendf(line, ",\n\"entry_count\":%d,\n\"entries\":[", len(in.Seqs))
	if _, err := bw.Write(line); err != nil {
		return err
	}

	pc := proofCursor{size: cp.Size, hashes: in.Hashes, prev: -1}
	n := 0
	err = in.Records(func(seq int64, record []byte) error {
		if n >= len(in.Seqs) || seq != in.Seqs[n] {
			return fmt.Errorf("bundle: records stream seq %d where seq %s was due", seq, due(in.Seqs, n))
		}
		if n%bundleChunk == 0 {
			if err := pc.load(in.Seqs[n:min(n+bundleChunk, len(in.Seqs))]); err != nil {
				return err
			}
		}
		leaf, proof := pc.entry(n % bundleChunk)
		if err := checkExportRecord(seq, record, account, leaf); err != nil {
			return err
		}
		line = line[:0]
		if n > 0 {
			line = append(line, ',')
		}
		line = strconv.AppendInt(append(line, "\n{\"seq\":"...), seq, 10)
		line = jsonio.AppendRecord(append(line, `,"record":`...), record)
		line = appendHashes(append(line, `,"proof":`...), proof)
		line = append(line, '}')
		n++
		_, err := bw.Write(line)
		return err
	})
	if err != nil {
		return err
	}
	if n != len(in.Seqs) {
		return fmt.Errorf("bundle: records stream ended before seq %d", in.Seqs[n])
	}
	if _, err := bw.WriteString("\n]}\n"); err != nil {
		return err
	}
	return bw.Flush()
}

func due(seqs []int64, n int) string {
	if n >= len(seqs) {
		return "none"
	}
	return strconv.FormatInt(seqs[n], 10)
}

func appendField(dst []byte, key, value string) []byte {
	dst = append(dst, ",\n\""...)
	dst = append(dst, key...)
	dst = append(dst, `":`...)
	return jsonio.AppendString(dst, []byte(value))
}

func appendHashes(dst []byte, hs []tlog.Hash) []byte {
	dst = append(dst, '[')
	for i, h := range hs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonio.AppendHash(dst, h)
	}
	return append(dst, ']')
}

// checkBundleInput checks the input against itself before anything is
// written, so that a bad request fails with an error instead of a bundle
// that an auditor would reject.
func checkBundleInput(in Input) (auditlog.Checkpoint, int64, error) {
	if in.Hashes == nil || in.Records == nil {
		return auditlog.Checkpoint{}, 0, errors.New("bundle: Hashes and Records are required")
	}
	_, account, err := auditlog.ParseOrigin(in.Origin)
	if err != nil {
		return auditlog.Checkpoint{}, 0, err
	}
	cp, err := auditlog.OpenCheckpoint(in.Checkpoint, in.VerifierKey, in.Origin)
	if err != nil {
		return auditlog.Checkpoint{}, 0, err
	}
	if cp.Size != in.Size {
		return auditlog.Checkpoint{}, 0, fmt.Errorf("bundle: the checkpoint has size %d, not %d", cp.Size, in.Size)
	}
	root, err := tlog.TreeHash(cp.Size, in.Hashes)
	if err != nil {
		return auditlog.Checkpoint{}, 0, err
	}
	if root != cp.Root {
		return auditlog.Checkpoint{}, 0, fmt.Errorf("bundle: the stored hashes give root %v for size %d, the checkpoint says %v", root, cp.Size, cp.Root)
	}
	if in.Since < 0 || in.Since > cp.Size {
		return auditlog.Checkpoint{}, 0, reseller.Errorf(reseller.EINVALID, "Since must be between 0 and the log's size %d, not %d.", cp.Size, in.Since)
	}
	for i, s := range in.Seqs {
		if s < 1 || s > cp.Size {
			return auditlog.Checkpoint{}, 0, reseller.Errorf(reseller.EINVALID, "Seq %d is not in the checkpoint's log of %d entries.", s, cp.Size)
		}
		if i > 0 && s <= in.Seqs[i-1] {
			return auditlog.Checkpoint{}, 0, fmt.Errorf("bundle: seqs must ascend, but %d follows %d", s, in.Seqs[i-1])
		}
	}
	return cp, account, nil
}

// checkExportRecord checks a record before it goes into a bundle. A legacy
// record (auditlog.CheckLegacy) goes in as it is: it is in the log, the
// verifier reports it, and refusing it would make every bundle of the log
// fail for ever.
func checkExportRecord(seq int64, record []byte, account int64, leaf tlog.Hash) error {
	acct, rseq, err := auditlog.CheckCanonical(record)
	if err != nil {
		if a, s, ok := auditlog.CheckLegacy(record); ok {
			acct, rseq, err = a, s, nil
		}
	}
	switch {
	case err != nil:
		return fmt.Errorf("bundle: seq %d: %w", seq, err)
	case acct != account || rseq != seq:
		return fmt.Errorf("bundle: seq %d: the record is account %d seq %d", seq, acct, rseq)
	case tlog.RecordHash(record) != leaf:
		return fmt.Errorf("bundle: seq %d: the record does not match its stored leaf hash", seq)
	}
	return nil
}

// proofCursor computes, a chunk of entries at a time, each entry's stored
// leaf hash and the part of its audit path that the previous entry's path
// does not share (see tree.SharedDepth).
type proofCursor struct {
	size   int64
	hashes tlog.HashReader
	prev   int64 // tree index of the previous entry, -1 before the first

	idx     []int64     // stored-hash indexes to read, in plan order
	nparts  []int       // per carried sibling: how many complete subtrees form it
	nsteps  []int       // per entry: how many siblings it carries
	leaves  []tlog.Hash // per entry
	proofs  []tlog.Hash // carried siblings of all entries, leaf to root
	offsets []int       // per entry: start in proofs
	steps   []tree.Step
}

func (c *proofCursor) load(seqs []int64) error {
	c.idx, c.nparts, c.nsteps = c.idx[:0], c.nparts[:0], c.nsteps[:0]
	for _, s := range seqs {
		x := s - 1
		d := 0
		if c.prev >= 0 {
			d = tree.SharedDepth(c.prev, x, c.size)
		}
		c.steps = tree.PathSteps(c.steps[:0], x, c.size)
		c.idx = append(c.idx, tlog.StoredHashIndex(0, x))
		for t := len(c.steps) - 1; t >= d; t-- {
			before := len(c.idx)
			c.idx = tree.SubtreeIndexes(c.idx, c.steps[t].Lo, c.steps[t].Hi)
			c.nparts = append(c.nparts, len(c.idx)-before)
		}
		c.nsteps = append(c.nsteps, len(c.steps)-d)
		c.prev = x
	}
	hs, err := c.hashes.ReadHashes(c.idx)
	if err != nil {
		return err
	}
	if len(hs) != len(c.idx) {
		return fmt.Errorf("bundle: ReadHashes returned %d hashes for %d indexes", len(hs), len(c.idx))
	}
	c.leaves, c.proofs, c.offsets = c.leaves[:0], c.proofs[:0], c.offsets[:0]
	p := 0
	for _, k := range c.nsteps {
		c.leaves = append(c.leaves, hs[0])
		hs = hs[1:]
		c.offsets = append(c.offsets, len(c.proofs))
		for range k {
			c.proofs = append(c.proofs, tree.FoldSubtrees(hs[:c.nparts[p]]))
			hs = hs[c.nparts[p]:]
			p++
		}
	}
	c.offsets = append(c.offsets, len(c.proofs))
	return nil
}

// entry returns the i'th entry of the loaded chunk.
func (c *proofCursor) entry(i int) (leaf tlog.Hash, proof []tlog.Hash) {
	return c.leaves[i], c.proofs[c.offsets[i]:c.offsets[i+1]]
}
