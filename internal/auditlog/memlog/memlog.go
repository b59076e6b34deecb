// Package memlog holds a log in memory, laid out as a store keeps it, for
// tests and tools that build logs, checkpoints, proofs and bundles without
// a database.
package memlog

import (
	"fmt"

	"github.com/resellerconsole/reseller/internal/auditlog"
	"golang.org/x/mod/sumdb/tlog"
)

// Log is a log held in memory: the records and their tlog stored hashes,
// laid out exactly as a store keeps them. It is not safe for concurrent use.
type Log struct {
	records [][]byte
	hashes  []tlog.Hash
}

// Append adds record as the next entry (tree index Size(), seq Size()+1).
func (m *Log) Append(record []byte) error {
	hs, err := tlog.StoredHashes(int64(len(m.records)), record, m)
	if err != nil {
		return err
	}
	m.records = append(m.records, append([]byte(nil), record...))
	m.hashes = append(m.hashes, hs...)
	return nil
}

// Size is the number of records appended.
func (m *Log) Size() int64 { return int64(len(m.records)) }

// Root is the tree hash of all records.
func (m *Log) Root() (tlog.Hash, error) { return tlog.TreeHash(m.Size(), m) }

// Checkpoint returns the unsigned checkpoint of the whole log.
func (m *Log) Checkpoint(origin string) (auditlog.Checkpoint, error) {
	root, err := m.Root()
	return auditlog.Checkpoint{Origin: origin, Size: m.Size(), Root: root}, err
}

// ReadHashes implements tlog.HashReader.
func (m *Log) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(m.hashes)) {
			return nil, fmt.Errorf("memory log: no stored hash %d (have %d)", x, len(m.hashes))
		}
		out[i] = m.hashes[x]
	}
	return out, nil
}

// Record returns the record with the given seq (1-based), or nil.
func (m *Log) Record(seq int64) []byte {
	if seq < 1 || seq > m.Size() {
		return nil
	}
	return m.records[seq-1]
}

// Records streams every record in seq order, in the shape logcheck.Check takes.
func (m *Log) Records(fn func(seq int64, record []byte) error) error {
	for i, r := range m.records {
		if err := fn(int64(i)+1, r); err != nil {
			return err
		}
	}
	return nil
}

// Select returns a Records function for the given ascending seqs, in the
// shape bundle.Input takes.
func (m *Log) Select(seqs []int64) func(fn func(seq int64, record []byte) error) error {
	return func(fn func(seq int64, record []byte) error) error {
		for _, s := range seqs {
			r := m.Record(s)
			if r == nil {
				return fmt.Errorf("memory log: no seq %d", s)
			}
			if err := fn(s, r); err != nil {
				return err
			}
		}
		return nil
	}
}
