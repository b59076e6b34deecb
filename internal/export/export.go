// Package export writes audit log entries as files people and programs take
// away: CSV for spreadsheets, safe against formula injection, and JSON Lines
// of the canonical record bytes, which anyone can hash to check the log's
// Merkle tree. Both stream: memory stays flat however many entries pass.
package export

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
)

// TimeFormat is how CSV writes an entry's time: RFC 3339 in UTC with
// microseconds, the precision the log keeps.
const TimeFormat = "2006-01-02T15:04:05.000000Z"

// Header is the CSV header row. The time column is UTC and says so. The
// last four columns repeat the common details (pool name, license id,
// label, reason) for spreadsheets; the details column keeps all of them
// as JSON.
var Header = []string{
	"seq", "time_utc", "action", "target_type", "target_id", "target_email", "details",
	"actor_id", "actor_email", "actor_role", "via", "token_id", "ip", "user_agent", "request_id",
	"pool", "license_id", "label", "reason",
}

// CSV writes entries as CSV rows under a header row. Details are a compact
// JSON object (empty when there are none), and the common ones have a
// column each too. Any cell a spreadsheet would
// evaluate as a formula gets a leading single quote, as OWASP recommends.
// Cells are quoted exactly as encoding/csv quotes them (its Writer with the
// default settings), but a row is built in one buffer without converting
// each value to a string first: an export runs through millions of rows.
type CSV struct {
	w      *bufio.Writer
	header bool
	row    []byte // the row being written
	cell   []byte // the details cell, unquoted
}

// NewCSV returns a CSV writer to w. Call Flush when done.
func NewCSV(w io.Writer) *CSV {
	return &CSV{w: bufio.NewWriterSize(w, 64<<10)}
}

// Write writes e as one row, after the header row if it is the first.
func (c *CSV) Write(e *reseller.Entry) error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	r := appendInt(c.row[:0], e.Seq)
	r = appendTime(append(r, ','), e.Time)
	r = appendCell(append(r, ','), string(e.Action))
	r = appendCell(append(r, ','), e.Target.Type)
	r = appendInt(append(r, ','), e.Target.ID)
	r = appendCell(append(r, ','), e.Target.Email)
	r = append(r, ',')
	if e.Details != (reseller.Details{}) {
		c.cell = auditlog.AppendDetails(c.cell[:0], &e.Details)
		r = appendQuoted(r, c.cell)
	}
	r = appendInt(append(r, ','), e.Actor.ID)
	r = appendCell(append(r, ','), e.Actor.Email)
	r = appendCell(append(r, ','), string(e.Actor.Role))
	r = appendCell(append(r, ','), e.Actor.Via)
	r = append(r, ',')
	if e.Actor.TokenID != 0 {
		r = appendInt(r, e.Actor.TokenID)
	}
	r = appendCell(append(r, ','), e.Actor.IP)
	r = appendCell(append(r, ','), e.Actor.UserAgent)
	r = appendCell(append(r, ','), e.Actor.RequestID)
	r = appendCell(append(r, ','), e.Details.PoolName)
	r = append(r, ',')
	if e.Details.LicenseID != 0 {
		r = appendInt(r, e.Details.LicenseID)
	}
	r = appendCell(append(r, ','), e.Details.Label)
	r = appendCell(append(r, ','), e.Details.Reason)
	c.row = append(r, '\n')
	_, err := c.w.Write(c.row)
	return err
}

func (c *CSV) writeHeader() error {
	if c.header {
		return nil
	}
	c.header = true
	r := c.row[:0]
	for i, h := range Header {
		if i > 0 {
			r = append(r, ',')
		}
		r = appendCell(r, h)
	}
	c.row = append(r, '\n')
	_, err := c.w.Write(c.row)
	return err
}

// Flush writes what is buffered; an export of no entries still gets its
// header row.
func (c *CSV) Flush() error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	return c.w.Flush()
}

// appendCell appends v as a CSV cell: neutralised (see Neutralize), then
// quoted if encoding/csv's Writer would quote it, which is when it holds a
// comma, a quote, CR or LF, starts with a space (unicode.IsSpace), or is
// \. alone; inside quotes, quotes are doubled.
func appendCell(dst []byte, v string) []byte {
	if v == "" {
		return dst
	}
	formula := formulaStart[v[0]]
	quote := false
	if !formula {
		if c := v[0]; c < utf8.RuneSelf {
			quote = c == ' ' || c >= '\t' && c <= '\r'
		} else {
			r, _ := utf8.DecodeRuneInString(v)
			quote = unicode.IsSpace(r)
		}
		quote = quote || v == `\.`
	}
	i := 0
	for i < len(v) && !csvSpecial[v[i]] {
		i++
	}
	if !quote && i == len(v) {
		if formula {
			dst = append(dst, '\'')
		}
		return append(dst, v...)
	}
	dst = append(dst, '"')
	if formula {
		dst = append(dst, '\'')
	}
	dst = append(dst, v[:i]...)
	for ; i < len(v); i++ {
		if v[i] == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, v[i])
	}
	return append(dst, '"')
}

var (
	// formulaStart flags the first bytes that make a cell a formula.
	formulaStart = [256]bool{'=': true, '+': true, '-': true, '@': true, '\t': true, '\r': true}
	// csvSpecial flags the bytes that make encoding/csv quote a cell.
	csvSpecial = [256]bool{',': true, '"': true, '\n': true, '\r': true}
)

// appendInt appends the cell of an integer: a minus sign makes it a
// formula, which appendCell would neutralise.
func appendInt(dst []byte, v int64) []byte {
	if v < 0 {
		dst = append(dst, '\'')
	}
	return strconv.AppendInt(dst, v, 10)
}

// appendQuoted appends v quoted, with its quotes doubled. It is appendCell
// for the details cell: JSON of an object with at least one field starts
// with {, so is no formula, and holds quotes, so is quoted.
func appendQuoted(dst, v []byte) []byte {
	n := len(dst)
	dst = slices.Grow(dst, 2*len(v)+2)[:n+2*len(v)+2]
	out := dst[n+1:]
	j := 0
	for _, c := range v {
		out[j] = c
		out[j+1] = '"' // kept only after a quote
		j++
		if c == '"' {
			j++
		}
	}
	dst[n] = '"'
	out[j] = '"'
	return dst[:n+1+j+1]
}

// appendTime appends the cell of a time: TimeFormat in UTC, which starts
// with a digit and needs no quotes for years 0 to 9999.
func appendTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return appendCell(dst, t.Format(TimeFormat))
	}
	h, mi, s := t.Clock()
	us := t.Nanosecond() / 1000
	b := [len(TimeFormat)]byte{4: '-', 7: '-', 10: 'T', 13: ':', 16: ':', 19: '.', 26: 'Z'}
	two := func(at, v int) { b[at], b[at+1] = pairs[2*v], pairs[2*v+1] }
	two(0, y/100)
	two(2, y%100)
	two(5, int(mo))
	two(8, d)
	two(11, h)
	two(14, mi)
	two(17, s)
	two(20, us/10000)
	two(22, us/100%100)
	two(24, us%100)
	return append(dst, b[:]...)
}

// pairs holds the two-digit numbers 00 to 99, one after the other.
const pairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// Neutralize prefixes a cell that starts with =, +, -, @, tab or carriage
// return with a single quote, so that a spreadsheet shows it as text instead
// of running it as a formula.
func Neutralize(cell string) string {
	if cell != "" && formulaStart[cell[0]] {
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
