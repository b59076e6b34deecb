package export

import (
	"context"

	"github.com/resellerconsole/reseller"
)

// Writer is an export being written: CSV or JSON Lines. Call Flush when
// the entries are written.
type Writer interface {
	Write(*reseller.Entry) error
	Flush() error
}

// RecordWriter is a Writer that takes an entry's record bytes alone, as
// JSON Lines does: an export to it need not decode the entries.
type RecordWriter interface {
	Writer
	WriteRecord(record []byte) error
}

var _ RecordWriter = (*JSONL)(nil)

// Source is where an export reads entries from: the store, whose
// AuditService methods these are.
type Source interface {
	ExportEntries(ctx context.Context, f reseller.AuditFilter, fn func(*reseller.Entry) error) error
	ExportRecords(ctx context.Context, f reseller.AuditFilter, fn func(record []byte) error) error
}

// Stream writes every entry of src that f selects to w, as record bytes
// when w is a RecordWriter, and returns how many it wrote. It does not
// flush w. Errors are src's and w's.
func Stream(ctx context.Context, src Source, f reseller.AuditFilter, w Writer) (int, error) {
	n := 0
	if rw, ok := w.(RecordWriter); ok {
		err := src.ExportRecords(ctx, f, func(rec []byte) error { n++; return rw.WriteRecord(rec) })
		return n, err
	}
	err := src.ExportEntries(ctx, f, func(e *reseller.Entry) error { n++; return w.Write(e) })
	return n, err
}
