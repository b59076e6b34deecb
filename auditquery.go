package reseller

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// The audit query box takes GitHub-style terms, for example
//
//	action:client.suspended actor:alice@acme.test created:2026-07-01..2026-09-30 -target:test@x.io
//
// Terms are separated by spaces and all must hold (AND). Repeating action,
// actor or target widens that field (OR), and action also takes a comma list.
// A leading "-" excludes (action, actor and target only). Values may be
// quoted with double quotes; \" and \\ escape inside quotes. Dates are taken
// in the viewer's zone. Bounds follow the one rule of ParseTimeBound: in
// created:A..B an end date includes its whole day and an end time is
// excluded; >, >=, < and <= say for themselves.
//
// PrintAuditQuery writes a filter back in this syntax, and parsing what it
// prints gives the filter back.

// MaxQueryLen bounds the query box, in bytes.
const MaxQueryLen = 2000

// QueryError is a problem in an audit query. Pos and Len locate the offending
// text (byte offsets into the query), so that a console can highlight it; Msg
// names the problem, its column, and how to fix it.
type QueryError struct {
	Pos int
	Len int
	Msg string
}

func (e *QueryError) Error() string { return e.Msg }

const queryFields = "action, actor, target, client or created"

// ParseAuditQuery turns a query-box string into a filter. loc is the zone of
// dates (nil means UTC). Only the selection fields of the filter are set;
// order, cursor and limit are left to the caller. Errors are *QueryError.
func ParseAuditQuery(q string, loc *time.Location) (AuditFilter, error) {
	if loc == nil {
		loc = time.UTC
	}
	p := &queryParser{q: q, loc: loc}
	if len(q) > MaxQueryLen {
		return AuditFilter{}, p.errorf(MaxQueryLen, len(q)-MaxQueryLen, "", "the query is longer than %d characters", MaxQueryLen)
	}
	if err := p.parse(); err != nil {
		return AuditFilter{}, err
	}
	if p.f.excludesAll() {
		return p.f.matchNothing(), nil
	}
	return p.f, nil
}

type queryParser struct {
	q   string
	loc *time.Location
	f   AuditFilter

	clientPos  int // where client: was given, for a repeat
	createdPos int // last created: term, to point at an empty range
	createdLen int
}

// errorf returns a *QueryError at q[pos:pos+n], its message being the
// problem, " at column N", and the hint if any.
func (p *queryParser) errorf(pos, n int, hint, format string, args ...any) *QueryError {
	msg := fmt.Sprintf(format, args...) + fmt.Sprintf(" at column %d", utf8.RuneCountInString(p.q[:pos])+1)
	if hint != "" {
		msg += "; " + hint
	}
	return &QueryError{Pos: pos, Len: n, Msg: msg}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// term is one field:value of the query.
type term struct {
	neg        bool
	field      string
	value      string
	start, end int // the whole term
	vpos, vend int // the value as written (with quotes if quoted)
}

func (p *queryParser) parse() error {
	q := p.q
	for i := 0; ; {
		for i < len(q) && isSpace(q[i]) {
			i++
		}
		if i == len(q) {
			break
		}
		t, err := p.scanTerm(i)
		if err != nil {
			return err
		}
		if err := p.apply(t); err != nil {
			return err
		}
		i = t.end
	}
	if !p.f.From.IsZero() && !p.f.To.IsZero() && !p.f.From.Before(p.f.To) {
		return p.errorf(p.createdPos, p.createdLen, "the start must be before the end",
			"the created range is empty (from %s to %s)", p.f.From.In(p.loc).Format(time.RFC3339), p.f.To.In(p.loc).Format(time.RFC3339))
	}
	return nil
}

// scanTerm reads the term starting at q[i], which is not a space.
func (p *queryParser) scanTerm(i int) (term, error) {
	q := p.q
	t := term{start: i}
	if q[i] == '-' {
		t.neg = true
		i++
		if i == len(q) || isSpace(q[i]) {
			return t, p.errorf(t.start, 1, "write -field:value to exclude, e.g. -action:client.created", "a lone \"-\"")
		}
	}
	j := i
	for j < len(q) && !isSpace(q[j]) && q[j] != ':' && q[j] != '"' {
		j++
	}
	switch {
	case j < len(q) && q[j] == '"' && j == i:
		// A quoted bare word: read it whole to report it.
		s, end, err := p.scanQuoted(j)
		if err != nil {
			return t, err
		}
		return t, p.bareWord(t.start, end, s)
	case j < len(q) && q[j] == '"':
		return t, p.errorf(j, 1, "quote the value only, as field:\"value\"", "unexpected quote in a field name")
	case j == len(q) || isSpace(q[j]):
		return t, p.bareWord(t.start, j, q[t.start:j])
	case j == i:
		return t, p.errorf(t.start, 1, "use "+queryFields, "missing field name before \":\"")
	}
	t.field = strings.ToLower(q[i:j])
	t.vpos = j + 1
	if t.vpos < len(q) && q[t.vpos] == '"' {
		s, end, err := p.scanQuoted(t.vpos)
		if err != nil {
			return t, err
		}
		if end < len(q) && !isSpace(q[end]) {
			return t, p.errorf(end, 1, "put a space between terms", "unexpected text after a closing quote")
		}
		t.value, t.vend, t.end = s, end, end
		return t, nil
	}
	k := t.vpos
	for k < len(q) && !isSpace(q[k]) {
		if q[k] == '"' {
			return t, p.errorf(k, 1, "quote the whole value, as field:\"value\"", "unexpected quote inside a value")
		}
		k++
	}
	t.value, t.vend, t.end = q[t.vpos:k], k, k
	return t, nil
}

// scanQuoted reads a double-quoted string starting at q[i] == '"' and returns
// its unescaped text and the offset just past the closing quote.
func (p *queryParser) scanQuoted(i int) (string, int, error) {
	var b strings.Builder
	for k := i + 1; k < len(p.q); k++ {
		switch c := p.q[k]; c {
		case '"':
			return b.String(), k + 1, nil
		case '\\':
			if k+1 < len(p.q) && (p.q[k+1] == '"' || p.q[k+1] == '\\') {
				k++
				b.WriteByte(p.q[k])
				continue
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, p.errorf(i, len(p.q)-i, "close it with another \"", "unterminated quote")
}

// bareWord refuses a word that is not field:value, suggesting what was meant.
func (p *queryParser) bareWord(start, end int, word string) error {
	hint := "search terms are field:value, e.g. action:client.suspended or target:bob@example.com"
	if a, err := ParseAction(word); err == nil {
		hint = fmt.Sprintf("to filter by action write action:%s", a)
	} else if strings.Contains(word, "@") {
		hint = fmt.Sprintf("to filter by email write target:%s (the client) or actor:%s (who did it)", word, word)
	}
	return p.errorf(start, end-start, hint, "bare word %q", word)
}

func (p *queryParser) apply(t term) error {
	switch t.field {
	case "action", "actor", "target", "client", "created":
	default:
		fpos := t.start
		if t.neg {
			fpos++
		}
		return p.errorf(fpos, t.vpos-1-fpos, "use "+queryFields, "unknown field %q", p.q[fpos:t.vpos-1])
	}
	if t.value == "" {
		return p.errorf(t.start, t.end-t.start, "give a value, e.g. "+t.field+":...", "empty value for %s", t.field)
	}
	if t.neg && (t.field == "client" || t.field == "created") {
		return p.errorf(t.start, t.end-t.start, "only action, actor and target can be excluded", "%s cannot be excluded", t.field)
	}
	switch t.field {
	case "action":
		return p.actions(t)
	case "actor", "target":
		if t.field == "target" && !t.neg && IsTargetSearch(t.value) {
			v, err := TargetSearchText(t.value)
			if err != nil {
				return p.errorf(t.vpos, t.vend-t.vpos, "type a client's name or email, or part of either", "target %q is too long", t.value)
			}
			p.f.TargetSearch = append(p.f.TargetSearch, v)
			return nil
		}
		e, err := EmailPattern(t.value)
		if err != nil {
			return p.errorf(t.vpos, t.vend-t.vpos, "give an email address, or part of one (* for any characters)", "%s %q is not an email address or a search", t.field, t.value)
		}
		list := map[string]*[]string{"actor": &p.f.Actors, "-actor": &p.f.NotActors, "target": &p.f.Targets, "-target": &p.f.NotTargets}
		key := t.field
		if t.neg {
			key = "-" + key
		}
		*list[key] = append(*list[key], e)
		return nil
	case "client":
		id, ok := ParseID(t.value)
		if !ok {
			return p.errorf(t.vpos, t.vend-t.vpos, "use the client's numeric id, e.g. client:42", "client %q is not a positive integer", t.value)
		}
		if p.f.ClientID != 0 && p.f.ClientID != id {
			return p.errorf(t.start, t.end-t.start, fmt.Sprintf("an entry has one client; the first client: is at column %d", utf8.RuneCountInString(p.q[:p.clientPos])+1),
				"a second client (%d)", id)
		}
		p.f.ClientID, p.clientPos = id, t.start
		return nil
	default: // created
		return p.created(t)
	}
}

func (p *queryParser) actions(t term) error {
	off := t.vpos
	if p.q[t.vpos] == '"' {
		off++ // offsets are approximate inside quotes with escapes; actions have none
	}
	for _, s := range strings.Split(t.value, ",") {
		if s == "" {
			return p.errorf(t.vpos, t.vend-t.vpos, "separate actions with single commas, e.g. action:client.created,client.deleted", "empty action in a list")
		}
		a := Action(s)
		if !a.Valid() {
			return p.errorf(off, len(s), "use one of "+actionList(), "unknown action %q", s)
		}
		if t.neg {
			p.f.NotActions = append(p.f.NotActions, a)
		} else {
			p.f.Actions = append(p.f.Actions, a)
		}
		off += len(s) + 1
	}
	return nil
}

// created narrows the time range: A..B, A.., ..B, >=A, >A, <=B, <B or a
// single date or time. Several created terms intersect.
func (p *queryParser) created(t term) error {
	v, pos := t.value, t.vpos
	if p.q[t.vpos] == '"' {
		pos++
	}
	var from, to time.Time
	var err error
	// bound reads the bound s at q[at:]; which picks from its start, just
	// past its end, or the end of a range (by the one rule for bounds).
	bound := func(s string, at int, which int) time.Time {
		if err != nil {
			return time.Time{}
		}
		start, past, date, ok := parseBound(s, p.loc)
		switch {
		case !ok:
			err = p.errorf(at, max(len(s), 1), "write dates as year-month-day, e.g. 2026-07-31", "%q is not a date", s)
		case which == boundPast, which == boundEnd && date:
			return past
		}
		return start
	}
	switch {
	case strings.HasPrefix(v, ">="):
		from = bound(v[2:], pos+2, boundStart)
	case strings.HasPrefix(v, ">"):
		from = bound(v[1:], pos+1, boundPast)
	case strings.HasPrefix(v, "<="):
		to = bound(v[2:], pos+2, boundPast)
	case strings.HasPrefix(v, "<"):
		to = bound(v[1:], pos+1, boundStart)
	case strings.Contains(v, ".."):
		lo, hi, _ := strings.Cut(v, "..")
		if lo == "" && hi == "" {
			return p.errorf(t.vpos, t.vend-t.vpos, "write created:2026-07-01..2026-09-30, created:2026-07-01.. or created:..2026-09-30", "a range needs at least one date")
		}
		if lo != "" {
			from = bound(lo, pos, boundStart)
		}
		if hi != "" {
			to = bound(hi, pos+len(lo)+2, boundEnd)
		}
	default:
		from, to = bound(v, pos, boundStart), bound(v, pos, boundPast)
	}
	if err != nil {
		return err
	}
	if !from.IsZero() && (p.f.From.IsZero() || from.After(p.f.From)) {
		p.f.From = from
	}
	if !to.IsZero() && (p.f.To.IsZero() || to.Before(p.f.To)) {
		p.f.To = to
	}
	p.createdPos, p.createdLen = t.start, t.end-t.start
	return nil
}

// Which instant of a bound created takes.
const (
	boundStart = iota // where the date or time begins
	boundPast         // just past its end
	boundEnd          // the end of a range: past a date, at a time
)
