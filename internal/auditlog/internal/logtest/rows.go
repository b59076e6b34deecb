package logtest

import "github.com/resellerconsole/reseller/internal/auditlog/memlog"

// Rows is a log's records as a store would stream them, for tampering.
type Rows struct {
	Seqs    []int64
	Records [][]byte
}

// RowsOf is the rows of log.
func RowsOf(log *memlog.Log) *Rows {
	r := &Rows{}
	log.Records(func(seq int64, rec []byte) error {
		r.Seqs = append(r.Seqs, seq)
		r.Records = append(r.Records, append([]byte(nil), rec...))
		return nil
	})
	return r
}

// Stream streams the rows, in the shape logcheck.Check takes.
func (r *Rows) Stream(fn func(seq int64, record []byte) error) error {
	for i, s := range r.Seqs {
		if err := fn(s, r.Records[i]); err != nil {
			return err
		}
	}
	return nil
}

// Remove removes the i'th row.
func (r *Rows) Remove(i int) *Rows {
	r.Seqs = append(r.Seqs[:i], r.Seqs[i+1:]...)
	r.Records = append(r.Records[:i], r.Records[i+1:]...)
	return r
}
