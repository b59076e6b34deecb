package reseller

import (
	"strconv"
	"strings"
	"time"
)

// PrintAuditQuery writes the selection fields of f in the query syntax of
// ParseAuditQuery, one term per value, in a fixed order; "" for a filter
// that selects everything. Times are written as RFC 3339 instants in UTC,
// so the text means the same in every zone, and parsing it (in any zone)
// gives f back. A None filter is written as the exclusion of every action.
func PrintAuditQuery(f AuditFilter) string {
	if f.None {
		f = AuditFilter{NotActions: Actions}
	}
	var b strings.Builder
	term := func(field, v string) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(field)
		b.WriteByte(':')
		b.WriteString(quoteValue(v))
	}
	for _, a := range f.Actions {
		term("action", string(a))
	}
	for _, a := range f.NotActions {
		term("-action", string(a))
	}
	for _, fv := range []struct {
		field string
		vs    []string
	}{{"target", f.Targets}, {"target", f.TargetSearch}, {"-target", f.NotTargets}, {"actor", f.Actors}, {"-actor", f.NotActors}} {
		for _, v := range fv.vs {
			term(fv.field, v)
		}
	}
	if f.ClientID != 0 {
		term("client", strconv.FormatInt(f.ClientID, 10))
	}
	if !f.From.IsZero() || !f.To.IsZero() {
		var r string
		if !f.From.IsZero() {
			r = f.From.UTC().Format(time.RFC3339Nano)
		}
		r += ".."
		if !f.To.IsZero() {
			r += f.To.UTC().Format(time.RFC3339Nano)
		}
		term("created", r)
	}
	return b.String()
}

// DescribeFilter says which entries f selects, as a bundle records it: the
// query of PrintAuditQuery, or "all entries".
func DescribeFilter(f AuditFilter) string {
	if q := PrintAuditQuery(f); q != "" {
		return q
	}
	return "all entries"
}

// quoteValue quotes a term's value when the parser would otherwise read it
// differently: empty, or holding a space or a quote.
func quoteValue(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\r\n\"") {
		return v
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		if v[i] == '"' || v[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	b.WriteByte('"')
	return b.String()
}
