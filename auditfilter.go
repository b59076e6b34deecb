package reseller

import (
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The audit filter language lives in this package, next to the filter it
// describes: the filter and its rules here (validation, intersection, time
// bounds, zones, buckets), the query syntax in auditquery.go (parsing and
// printing). The web console, the API, the command line and the store's
// bundles all go through it, so that a filter means the same everywhere.

// Order of a listing.
const (
	OrderDesc = "desc" // newest first, the default
	OrderAsc  = "asc"  // oldest first, for timelines
)

// AuditFilter selects entries of the actor's account. Empty fields match all.
// Emails match exactly, case-insensitively. From is inclusive, To exclusive.
//
// None says that the filter matches no entry at all, whatever its other
// fields: it is what Intersect returns for two filters with nothing in
// common. A store still checks the actor's rights and the cursor for it.
type AuditFilter struct {
	Actions    []Action
	NotActions []Action
	Targets    []string
	NotTargets []string
	// TargetSearch holds parts of a client's name or email: only entries
	// about a client whose name or email contains each of them, case-
	// insensitively, match. It is how people find a client they know by
	// name ("Red Pine Garage"); Targets stays the exact, indexed way.
	TargetSearch []string
	Actors       []string
	NotActors    []string
	ClientID     int64
	From, To     time.Time
	None         bool
	Order        string
	Cursor       string
	Limit        int
}

// Validate checks a filter and normalises its emails. EINVALID names the problem.
func (f *AuditFilter) Validate() error {
	for _, as := range [][]Action{f.Actions, f.NotActions} {
		for _, a := range as {
			if !a.Valid() {
				return Errorf(EINVALID, "Unknown action %q; use one of %s.", a, actionList())
			}
		}
	}
	for _, es := range []*[]string{&f.Targets, &f.NotTargets, &f.Actors, &f.NotActors, &f.TargetSearch} {
		for i, e := range *es {
			(*es)[i] = strings.ToLower(strings.TrimSpace(e))
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return Errorf(EINVALID, "The time range is empty: from (%s) is not before to (%s).",
			f.From.UTC().Format(time.RFC3339), f.To.UTC().Format(time.RFC3339))
	}
	switch f.Order {
	case "":
		f.Order = OrderDesc
	case OrderAsc, OrderDesc:
	default:
		return Errorf(EINVALID, "Order must be %q or %q, not %q.", OrderAsc, OrderDesc, f.Order)
	}
	return CheckLimit(&f.Limit)
}

// CheckLimit defaults a zero page size and refuses one out of range (EINVALID).
func CheckLimit(limit *int) error {
	switch {
	case *limit == 0:
		*limit = DefaultPageSize
	case *limit < 1 || *limit > MaxPageSize:
		return Errorf(EINVALID, "Limit must be between 1 and %d, not %d.", MaxPageSize, *limit)
	}
	return nil
}

// Intersect returns the filter matching what both a and b match. Only b's
// selection fields count: a's order, cursor and limit stay. When the two
// have nothing in common (other actions, another client, disjoint times)
// the result is a None filter.
func Intersect(a, b AuditFilter) AuditFilter {
	if a.None || b.None {
		return a.matchNothing()
	}
	var none [4]bool
	a.Actions, none[0] = intersect(a.Actions, b.Actions)
	a.Targets, none[1] = intersect(a.Targets, b.Targets)
	a.Actors, none[2] = intersect(a.Actors, b.Actors)
	a.NotActions = append(a.NotActions, b.NotActions...)
	a.NotTargets = append(a.NotTargets, b.NotTargets...)
	a.NotActors = append(a.NotActors, b.NotActors...)
	for _, v := range b.TargetSearch {
		if !slices.Contains(a.TargetSearch, v) {
			a.TargetSearch = append(a.TargetSearch, v)
		}
	}
	if b.ClientID != 0 {
		none[3] = a.ClientID != 0 && a.ClientID != b.ClientID
		a.ClientID = b.ClientID
	}
	if b.From.After(a.From) {
		a.From = b.From
	}
	if !b.To.IsZero() && (a.To.IsZero() || b.To.Before(a.To)) {
		a.To = b.To
	}
	if !a.From.IsZero() && !a.To.IsZero() && !a.From.Before(a.To) {
		none[0] = true
	}
	if slices.Contains(none[:], true) || a.excludesAll() {
		return a.matchNothing()
	}
	return a
}

// excludesAll reports whether the actions of f leave none to match: every
// action excluded, or every required one.
func (f *AuditFilter) excludesAll() bool {
	need := f.Actions
	if len(need) == 0 {
		need = Actions
	}
	for _, a := range need {
		if !slices.Contains(f.NotActions, a) {
			return false
		}
	}
	return true
}

// matchNothing returns the None filter with f's order, cursor and limit.
func (f AuditFilter) matchNothing() AuditFilter {
	return AuditFilter{None: true, Order: f.Order, Cursor: f.Cursor, Limit: f.Limit}
}

// intersect returns the values in both lists, an empty list meaning "any";
// empty reports that the lists had nothing in common.
func intersect[T comparable](x, y []T) (both []T, empty bool) {
	if len(x) == 0 {
		return y, false
	}
	if len(y) == 0 {
		return x, false
	}
	for _, v := range x {
		if slices.Contains(y, v) && !slices.Contains(both, v) {
			both = append(both, v)
		}
	}
	return both, len(both) == 0
}

// Bucket sizes for counts per period.
const (
	BucketDay     = "day"
	BucketWeek    = "week" // weeks start on Monday
	BucketMonth   = "month"
	BucketQuarter = "quarter"
)

// Buckets lists the bucket sizes, shortest first.
var Buckets = []string{BucketDay, BucketWeek, BucketMonth, BucketQuarter}

// ValidBucket reports whether b is one of Buckets.
func ValidBucket(b string) bool { return slices.Contains(Buckets, b) }

// BucketCount is the number of entries in the period starting at Start.
type BucketCount struct {
	Start time.Time `json:"start"`
	Count int64     `json:"count"`
}

// AuditCount is the number of entries a filter matches, and optionally per period.
type AuditCount struct {
	Total int64 `json:"total"`
	// DistinctTargets is how many different clients the matching entries
	// are about: 87 suspensions may have hit 71 clients.
	DistinctTargets int64         `json:"distinct_targets"`
	Buckets         []BucketCount `json:"buckets"`
}

// MaxBuckets bounds how many periods one count may return.
const MaxBuckets = 1000

// Time bounds follow one rule wherever a filter is written (the API's from
// and to, the query language's created:, the command line's --from and
// --to): a bound is a date (2006-01-02, in the caller's zone) or an RFC 3339
// instant. A date covers its whole day: as a lower bound it starts at that
// day's midnight, as an upper bound it includes the whole day. An instant is
// taken as it is: a lower bound includes it, an upper bound excludes it. So
// from..to is always the half-open [from, to), and to=2026-09-30 is the
// same as to=2026-10-01T00:00:00 in that zone.

// ParseTimeBound parses a from/to bound by the rule above: end says it is
// an upper bound. loc is the zone of dates (nil means UTC). EINVALID names
// the field and the accepted forms.
func ParseTimeBound(field, s string, loc *time.Location, end bool) (time.Time, error) {
	start, past, date, ok := parseBound(strings.TrimSpace(s), loc)
	if !ok {
		return time.Time{}, Errorf(EINVALID, "%s %q is not a date or a time: write a date as year-month-day (2026-07-31), a time as 2026-07-31T14:30:00Z.", field, strings.TrimSpace(s))
	}
	if end && date {
		return past, nil
	}
	return start, nil
}

// parseBound reads a date in loc or an RFC 3339 instant: start is where
// what s names begins, past just after it ends (the next midnight for a
// date, the next microsecond, the store's precision, for an instant).
func parseBound(s string, loc *time.Location) (start, past time.Time, date, ok bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), t.Add(time.Microsecond).UTC(), false, true
	}
	if loc == nil {
		loc = time.UTC
	}
	d, err := time.ParseInLocation(time.DateOnly, s, loc)
	if err != nil {
		return time.Time{}, time.Time{}, false, false
	}
	return d.UTC(), d.AddDate(0, 0, 1).UTC(), true, true
}

// MaxZoneLen bounds a time zone name; no IANA name comes close.
const MaxZoneLen = 64

// LoadZone loads an IANA time zone such as Europe/Berlin. "" and "Local"
// are refused: the server's own zone is no one's choice. EINVALID otherwise.
func LoadZone(name string) (*time.Location, error) {
	if name != "" && name != "Local" && len(name) <= MaxZoneLen {
		if loc, err := time.LoadLocation(name); err == nil {
			return loc, nil
		}
	}
	return nil, Errorf(EINVALID, "Time zone %q is not a known IANA zone such as Europe/Berlin.", name)
}

// EmailPattern reads a target or performed-by search: a whole email address
// matches exactly (returned normalised); anything else is a pattern, where *
// stands for any run of characters and a value without * matches anywhere in
// the address ("acme" finds bob@acme.test). Patterns come back with their *s,
// lower-cased. EINVALID for an empty, spaced or over-long value.
func EmailPattern(s string) (string, error) {
	s = strings.TrimSpace(s)
	if e, ok := wholeEmail(s); ok && !strings.Contains(s, "*") {
		return e, nil
	}
	switch {
	case s == "" || strings.Trim(s, "*") == "":
		return "", Errorf(EINVALID, "Give part of an email address to search for.")
	case len(s) > MaxEmailLen:
		return "", Errorf(EINVALID, "Search %q is longer than %d characters.", s, MaxEmailLen)
	case strings.ContainsAny(s, " \t\r\n\"<>,;"):
		return "", Errorf(EINVALID, "%q cannot be part of an email address, which has no spaces and none of \" < > , ;. Type an email address or part of one, e.g. alice or acme.test.", s)
	}
	s = strings.ToLower(s)
	if !strings.Contains(s, "*") {
		s = "*" + s + "*"
	}
	return s, nil
}

// IsTargetSearch reports whether a target value is a search by name or
// part of an email (see AuditFilter.TargetSearch) rather than an email or an
// email pattern: it has neither @ nor *.
func IsTargetSearch(s string) bool { return !strings.ContainsAny(s, "@*") }

// TargetSearchText checks a target search value (IsTargetSearch) and
// returns it trimmed and lower-cased. EINVALID says what to type instead.
func TargetSearchText(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", Errorf(EINVALID, "Type a client's name or email, or part of either.")
	case utf8.RuneCountInString(s) > MaxNameLen:
		return "", Errorf(EINVALID, "Type at most %d characters of the client's name or email.", MaxNameLen)
	}
	return strings.ToLower(s), nil
}

// IsPattern reports whether an email filter value is a pattern (see EmailPattern).
func IsPattern(s string) bool { return strings.Contains(s, "*") }

// wholeEmail reports whether s is a whole address, and returns it as
// stored: in the form NormalizeEmail gives, or lower-cased for an address
// stored before today's rules (a non-ASCII local part, say).
func wholeEmail(s string) (string, bool) {
	if e, err := NormalizeEmail(s); err == nil {
		return e, true
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return "", false
	}
	return strings.ToLower(s), true
}
