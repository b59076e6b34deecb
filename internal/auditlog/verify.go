package auditlog

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/resellerconsole/reseller/internal/auditlog/internal/tree"
	"golang.org/x/mod/sumdb/tlog"
)

// VerifyOptions says what an auditor brings to a verification.
type VerifyOptions struct {
	// VerifierKey is the log's public key, obtained out of band. If "", the
	// key inside the bundle is trusted, which proves only that the bundle is
	// self-consistent; Summary.KeyFromBundle then says so.
	VerifierKey string
	// Since is an older signed checkpoint the auditor kept. If set, the
	// bundle must prove that the older tree is a prefix of its own.
	Since []byte
	// SinceVerifierKey is the key that signed Since, when the log's key was
	// replaced since then; "" means VerifierKey (or the bundle's key).
	SinceVerifierKey string
	// Origin, if not "", is the log the bundle must be for.
	Origin string
	// WitnessKeys are verifier keys of witnesses (cosignature/v1) that must
	// each have cosigned the bundle's checkpoint.
	WitnessKeys []string
	// OnEntry, if set, is called for each entry after it verified, in
	// order. Its slices are valid only during the call.
	OnEntry func(BundleEntry) error
}

// BundleEntry is a verified entry of a bundle.
type BundleEntry struct {
	Seq    int64
	Record []byte      // the record bytes
	Proof  []tlog.Hash // its complete RFC 6962 inclusion proof, leaf to root
}

// Summary is what a verified bundle proves.
type Summary struct {
	Entries         int       // entries verified
	FirstSeq        int64     // 0 when there are none
	LastSeq         int64     // 0 when there are none
	Complete        bool      // the entries are all of 1..Size: nothing was left out
	Size            int64     // the checkpoint's tree size
	Root            tlog.Hash // the checkpoint's root
	Origin          string    // the log
	AccountID       int64     // the account whose log it is
	KeyName         string    // the key that signed the checkpoint
	KeyHash         string    // its hash, 8 hex digits as in the key text
	VerifierKey     string    // the key used
	KeyFromBundle   bool      // the key came from the bundle, not from the auditor
	SinceSize       int64     // the older tree proven a prefix of this one (0: none)
	SinceRoot       tlog.Hash // its root
	SinceFromBundle bool      // that older root came from the bundle, not a kept checkpoint
	Filter          string    // the selection, as the exporter described it (not verified)
	// NonCanonical lists, up to MaxNonCanonical, the seqs of legacy records
	// (CheckLegacy): written by an older version, not in canonical
	// form, but in the log exactly as shown, which their inclusion proofs
	// prove. NonCanonicalCount counts them all.
	NonCanonical      []int64
	NonCanonicalCount int

	// Cosignatures has one verified cosignature per
	// VerifyOptions.WitnessKeys, in that order.
	Cosignatures []Cosignature
}

// Cosignature is a witness's verified cosignature of a checkpoint.
type Cosignature struct {
	Witness string    // the witness's key, name+hash
	Time    time.Time // when the witness says it cosigned
}

// MaxNonCanonical caps Summary.NonCanonical.
const MaxNonCanonical = 100

// VerifyBundle reads and verifies a bundle with flat memory: the checkpoint
// signature and origin, every record's canonical form, account and seq,
// their order, every entry's inclusion under the checkpoint root, and the
// consistency proof. It stops at the first failure, naming the entry by seq.
func VerifyBundle(r io.Reader, opts VerifyOptions) (*Summary, error) {
	sr := newStreamReader(r)
	h, err := readBundleHeader(sr)
	if err != nil {
		return nil, err
	}
	sum, cp, err := checkBundleHeader(h, opts)
	if err != nil {
		return nil, err
	}
	v := entryVerifier{sum: sum, cp: cp, onEntry: opts.OnEntry, prev: -1}
	v.node[0] = cp.Root
	if err := runEntries(sr, cp.Size, v.check); err != nil {
		return nil, err
	}
	if int64(sum.Entries) != h.EntryCount {
		return nil, fmt.Errorf("the bundle promises %d entries but holds %d: it was truncated or edited", h.EntryCount, sum.Entries)
	}
	// Entries ascend within 1..Size, so as many entries as Size are all of them.
	sum.Complete = int64(sum.Entries) == cp.Size
	return sum, nil
}

func checkBundleHeader(h *bundleHeader, opts VerifyOptions) (*Summary, Checkpoint, error) {
	// The bundle's key must be a key even when the auditor brings theirs:
	// a bundle that another verifier would refuse must not pass here.
	if _, err := ParseVerifierKey(h.VerifierKey); err != nil {
		return nil, Checkpoint{}, fmt.Errorf("bundle: field \"verifier_key\": %w", err)
	}
	sum := &Summary{Origin: h.Origin, Filter: h.Filter, VerifierKey: strings.TrimSpace(opts.VerifierKey)}
	if sum.VerifierKey == "" {
		sum.VerifierKey, sum.KeyFromBundle = h.VerifierKey, true
	}
	if opts.Origin != "" && opts.Origin != h.Origin {
		return nil, Checkpoint{}, fmt.Errorf("the bundle is for log %q, not %q", h.Origin, opts.Origin)
	}
	var err error
	if _, sum.AccountID, err = ParseOrigin(h.Origin); err != nil {
		return nil, Checkpoint{}, err
	}
	verifier, err := ParseVerifierKey(sum.VerifierKey)
	if err != nil {
		return nil, Checkpoint{}, err
	}
	sum.KeyName, sum.KeyHash = verifier.Name(), fmt.Sprintf("%08x", verifier.KeyHash())
	cp, err := OpenCheckpoint([]byte(h.Checkpoint), sum.VerifierKey, h.Origin)
	if err != nil {
		return nil, Checkpoint{}, err
	}
	sum.Size, sum.Root = cp.Size, cp.Root
	for _, k := range opts.WitnessKeys {
		v, err := NewCosignatureVerifier(k)
		if err != nil {
			return nil, Checkpoint{}, err
		}
		_, t, err := OpenCosignatures([]byte(h.Checkpoint), v)
		if err != nil {
			return nil, Checkpoint{}, err
		}
		sum.Cosignatures = append(sum.Cosignatures, Cosignature{Witness: keyID(v.Name(), v.KeyHash()), Time: t})
	}
	if c := h.Consistency; c != nil {
		if err := CheckConsistency(hashes(*c.Proof), *c.OldSize, tlog.Hash(*c.OldRoot), cp.Size, cp.Root); err != nil {
			return nil, Checkpoint{}, fmt.Errorf("bundle consistency proof: %w", err)
		}
		sum.SinceSize, sum.SinceRoot, sum.SinceFromBundle = *c.OldSize, tlog.Hash(*c.OldRoot), true
	}
	if opts.Since != nil {
		key := strings.TrimSpace(opts.SinceVerifierKey)
		if key == "" {
			key = sum.VerifierKey
		}
		if err := checkSince(sum, h, cp, opts.Since, key); err != nil {
			return nil, Checkpoint{}, err
		}
	}
	return sum, cp, nil
}

// checkSince proves that the auditor's older checkpoint is a prefix of the
// bundle's: signed by the log's key (or the one it replaced), for the same
// log, and linked by a consistency proof.
func checkSince(sum *Summary, h *bundleHeader, cp Checkpoint, since []byte, key string) error {
	old, err := OpenCheckpoint(since, key, h.Origin)
	if err != nil {
		return fmt.Errorf("older checkpoint: %w", err)
	}
	switch c := h.Consistency; {
	case old.Size > cp.Size:
		return fmt.Errorf("the older checkpoint has %d entries but the bundle's has only %d: the log was truncated", old.Size, cp.Size)
	case old.Size == cp.Size || old.Size == 0:
		if err := CheckConsistency(nil, old.Size, old.Root, cp.Size, cp.Root); err != nil {
			return err
		}
	case c == nil:
		return fmt.Errorf("the bundle carries no consistency proof; export it with since=%d to check the older checkpoint", old.Size)
	case *c.OldSize != old.Size:
		return fmt.Errorf("the bundle proves consistency from size %d, not from the older checkpoint's size %d; export it with since=%d", *c.OldSize, old.Size, old.Size)
	case tlog.Hash(*c.OldRoot) != old.Root:
		return fmt.Errorf("the log's tree of size %d has root %v but the older checkpoint says %v: the log was rewritten or forked", old.Size, tlog.Hash(*c.OldRoot), old.Root)
	}
	sum.SinceSize, sum.SinceRoot, sum.SinceFromBundle = old.Size, old.Root, false
	return nil
}

// entryVerifier checks entries in bundle order. It keeps the path of the
// last verified entry, so that each entry is checked against the hash of its
// lowest common ancestor with that entry, which was proven to lead to the
// root: a full export costs about two SHA-256 per entry instead of log2(n),
// and a bad entry is blamed on itself, not on its neighbours.
type entryVerifier struct {
	sum     *Summary
	cp      Checkpoint
	onEntry func(BundleEntry) error
	prev    int64         // tree index of the last verified entry, -1 before the first
	node    [65]tlog.Hash // hashes of the nodes on its path, by depth; node[0] is the root
	sib     [64]tlog.Hash // the siblings on its path, by depth
	steps   []tree.Step   // scratch
	full    []tlog.Hash   // scratch for OnEntry
	n       int           // entries seen
}

func (v *entryVerifier) check(it *entryItem, rec []byte, carried, nodes []tlog.Hash) error {
	v.n++
	if it.err != nil {
		if it.seq != 0 {
			return fmt.Errorf("entry seq %d (entry %d of the bundle, at byte %d): %w", it.seq, v.n, it.offset, it.err)
		}
		return fmt.Errorf("entry %d of the bundle (at byte %d): %w", v.n, it.offset, it.err)
	}
	seq, x := it.seq, it.seq-1
	switch {
	case it.recErr != nil:
		return fmt.Errorf("entry seq %d: record is not canonical record bytes: %w", seq, it.recErr)
	case it.account != v.sum.AccountID:
		return fmt.Errorf("entry seq %d: record belongs to account %d, not to account %d of this log", seq, it.account, v.sum.AccountID)
	case it.recSeq != seq:
		return fmt.Errorf("entry seq %d: record says seq %d", seq, it.recSeq)
	case v.prev >= 0 && x <= v.prev:
		return fmt.Errorf("entry seq %d: comes after seq %d, but entries must be in ascending seq order", seq, v.prev+1)
	case seq < 1 || seq > v.cp.Size:
		return fmt.Errorf("entry seq %d: not in the checkpoint's tree of size %d", seq, v.cp.Size)
	}
	l, d := it.pathLen, 0
	if v.prev >= 0 {
		d = tree.SharedDepth(v.prev, x, v.cp.Size)
	}
	if len(carried) != l-d {
		return fmt.Errorf("entry seq %d: proof has %d hashes where %d are due (inclusion proof fails)", seq, len(carried), l-d)
	}
	// nodes[k] is the hash at depth l-k on the entry's path, as computed
	// from its record and the siblings it carries; nodes[l-d] must be the
	// common ancestor's hash, which the previous entry proved.
	if nodes[l-d] != v.node[d] {
		return fmt.Errorf("entry seq %d: record does not match the checkpoint (inclusion proof fails)", seq)
	}
	for k, h := range nodes {
		v.node[l-k] = h
	}
	for k, h := range carried {
		v.sib[l-1-k] = h
	}
	v.prev = x
	if it.legacy {
		if v.sum.NonCanonicalCount < MaxNonCanonical {
			v.sum.NonCanonical = append(v.sum.NonCanonical, seq)
		}
		v.sum.NonCanonicalCount++
	}
	if v.sum.Entries == 0 {
		v.sum.FirstSeq = seq
	}
	v.sum.Entries++
	v.sum.LastSeq = seq
	if v.onEntry == nil {
		return nil
	}
	v.full = v.full[:0]
	for t := it.pathLen - 1; t >= 0; t-- {
		v.full = append(v.full, v.sib[t])
	}
	return v.onEntry(BundleEntry{Seq: seq, Record: rec, Proof: v.full})
}
