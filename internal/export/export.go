// Package export writes audit log entries as files people and programs take
// away: CSV for spreadsheets, safe against formula injection, and JSON Lines
// of the canonical record bytes, which anyone can hash to check the log's
// Merkle tree. Both stream: memory stays flat however many entries pass.
package export

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/resellerconsole/reseller"
)

// TimeFormat is how CSV writes an entry's time: RFC 3339 in UTC with
// microseconds, the precision the log keeps.
const TimeFormat = "2006-01-02T15:04:05.000000Z"

// Header is the CSV header row.
var Header = []string{
	"seq", "time", "action", "target_type", "target_id", "target_email", "details",
	"actor_id", "actor_email", "actor_role", "via", "token_id", "ip", "user_agent", "request_id",
}

// CSV writes entries as CSV rows under a header row. Details are a compact
// JSON object (empty when there are none). Any cell a spreadsheet would
// evaluate as a formula gets a leading single quote, as OWASP recommends.
type CSV struct {
	w      *csv.Writer
	header bool
	row    []string
}

// NewCSV returns a CSV writer to w. Call Flush when done.
func NewCSV(w io.Writer) *CSV {
	return &CSV{w: csv.NewWriter(w), row: make([]string, len(Header))}
}

// Write writes e as one row, after the header row if it is the first.
func (c *CSV) Write(e *reseller.Entry) error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	details, err := detailsCell(e.Details)
	if err != nil {
		return fmt.Errorf("export: entry %d: %w", e.Seq, err)
	}
	r := c.row
	r[0] = strconv.FormatInt(e.Seq, 10)
	r[1] = e.Time.UTC().Format(TimeFormat)
	r[2] = string(e.Action)
	r[3] = e.Target.Type
	r[4] = strconv.FormatInt(e.Target.ID, 10)
	r[5] = e.Target.Email
	r[6] = details
	r[7] = strconv.FormatInt(e.Actor.ID, 10)
	r[8] = e.Actor.Email
	r[9] = string(e.Actor.Role)
	r[10] = e.Actor.Via
	r[11] = ""
	if e.Actor.TokenID != 0 {
		r[11] = strconv.FormatInt(e.Actor.TokenID, 10)
	}
	r[12] = e.Actor.IP
	r[13] = e.Actor.UserAgent
	r[14] = e.Actor.RequestID
	for i := range r {
		r[i] = Neutralize(r[i])
	}
	return c.w.Write(r)
}

func (c *CSV) writeHeader() error {
	if c.header {
		return nil
	}
	c.header = true
	return c.w.Write(Header)
}

// Flush writes what is buffered; an export of no entries still gets its
// header row.
func (c *CSV) Flush() error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	c.w.Flush()
	return c.w.Error()
}

// detailsCell is the details as compact JSON, "" when there are none.
func detailsCell(d reseller.Details) (string, error) {
	if d == (reseller.Details{}) {
		return "", nil
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// Neutralize prefixes a cell that starts with =, +, -, @, tab or carriage
// return with a single quote, so that a spreadsheet shows it as text instead
// of running it as a formula.
func Neutralize(cell string) string {
	if cell != "" && strings.IndexByte("=+-@\t\r", cell[0]) >= 0 {
		return "'" + cell
	}
	return cell
}

// JSONL writes each entry's canonical record bytes verbatim, one per line.
type JSONL struct {
	w *bufio.Writer
}

// NewJSONL returns a JSON Lines writer to w. Call Flush when done.
func NewJSONL(w io.Writer) *JSONL { return &JSONL{w: bufio.NewWriterSize(w, 64<<10)} }

// Write writes e.Record and a newline. An entry without record bytes is an
// error: re-encoding it could differ from what the log hashed.
func (j *JSONL) Write(e *reseller.Entry) error {
	if len(e.Record) == 0 {
		return fmt.Errorf("export: entry %d has no record bytes", e.Seq)
	}
	return j.WriteRecord(e.Record)
}

// WriteRecord writes record bytes and a newline.
func (j *JSONL) WriteRecord(rec []byte) error {
	j.w.Write(rec)
	return j.w.WriteByte('\n')
}

// Flush writes what is buffered.
func (j *JSONL) Flush() error { return j.w.Flush() }
