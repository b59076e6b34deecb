package reseller

import (
	"context"
	"io"
	"net/mail"
	"strings"
	"time"
)

// Action is the kind of change an audit entry records.
type Action string

// The six actions of the audit log. Plugin activity is never recorded here.
const (
	ActionClientCreated     Action = "client.created"
	ActionClientSuspended   Action = "client.suspended"
	ActionClientReactivated Action = "client.reactivated"
	ActionClientDeleted     Action = "client.deleted"
	ActionLicenseAllocated  Action = "license.allocated"
	ActionLicenseRevoked    Action = "license.revoked"
)

// Actions lists every action in the order the console shows them.
var Actions = []Action{
	ActionClientCreated, ActionClientSuspended, ActionClientReactivated,
	ActionClientDeleted, ActionLicenseAllocated, ActionLicenseRevoked,
}

var actionLabels = map[Action]string{
	ActionClientCreated:     "Client created",
	ActionClientSuspended:   "Client suspended",
	ActionClientReactivated: "Client reactivated",
	ActionClientDeleted:     "Client deleted",
	ActionLicenseAllocated:  "License allocated",
	ActionLicenseRevoked:    "License revoked",
}

// Label is the action's name as people read it.
func (a Action) Label() string { return actionLabels[a] }

// Valid reports whether a is one of the six actions.
func (a Action) Valid() bool { _, ok := actionLabels[a]; return ok }

// ParseAction accepts an action id ("client.suspended"); EINVALID otherwise.
func ParseAction(s string) (Action, error) {
	a := Action(strings.TrimSpace(s))
	if !a.Valid() {
		return "", Errorf(EINVALID, "Unknown action %q; use one of %s.", s, actionList())
	}
	return a, nil
}

func actionList() string {
	s := make([]string, len(Actions))
	for i, a := range Actions {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

// Target is what an entry's action applied to: always a client, with its
// email as it was when the action happened.
type Target struct {
	Type  string `json:"type"`
	ID    int64  `json:"id"`
	Email string `json:"email"`
}

// Details is the context of an action. Empty fields are left out.
type Details struct {
	Name      string `json:"name,omitempty"`       // client name, on creation
	PoolID    int64  `json:"pool_id,omitempty"`    // license actions
	PoolName  string `json:"pool_name,omitempty"`  // license actions
	Product   string `json:"product,omitempty"`    // license actions
	LicenseID int64  `json:"license_id,omitempty"` // license actions
	Label     string `json:"label,omitempty"`      // license label
	Reason    string `json:"reason,omitempty"`     // suspend and revoke
}

// EntryActor is who performed an entry's action, as it was at the time.
type EntryActor struct {
	ID        int64  `json:"id"`
	Email     string `json:"email"`
	Role      Role   `json:"role"`
	Via       string `json:"via"`
	TokenID   int64  `json:"token_id,omitempty"`
	IP        string `json:"ip,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// Entry is one record of the audit log. Seq numbers an account's entries
// 1, 2, 3... without gaps; it is the log's order. Record holds the canonical
// record bytes the entry is stored and hashed as (see internal/auditlog).
type Entry struct {
	AccountID int64      `json:"-"`
	Seq       int64      `json:"seq"`
	Time      time.Time  `json:"time"`
	Action    Action     `json:"action"`
	Target    Target     `json:"target"`
	Details   Details    `json:"details"`
	Actor     EntryActor `json:"actor"`
	Record    []byte     `json:"-"`
}

// Order of a listing.
const (
	OrderDesc = "desc" // newest first, the default
	OrderAsc  = "asc"  // oldest first, for timelines
)

// AuditFilter selects entries of the actor's account. Empty fields match all.
// Emails match exactly, case-insensitively. From is inclusive, To exclusive.
type AuditFilter struct {
	Actions    []Action
	NotActions []Action
	Targets    []string
	NotTargets []string
	Actors     []string
	NotActors  []string
	ClientID   int64
	From, To   time.Time
	Order      string
	Cursor     string
	Limit      int
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
	for _, es := range []*[]string{&f.Targets, &f.NotTargets, &f.Actors, &f.NotActors} {
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

// Bucket sizes for counts per period.
const (
	BucketDay     = "day"
	BucketWeek    = "week" // weeks start on Monday
	BucketMonth   = "month"
	BucketQuarter = "quarter"
)

// BucketCount is the number of entries in the period starting at Start.
type BucketCount struct {
	Start time.Time `json:"start"`
	Count int64     `json:"count"`
}

// AuditCount is the number of entries a filter matches, and optionally per period.
type AuditCount struct {
	Total   int64         `json:"total"`
	Buckets []BucketCount `json:"buckets"`
}

// MaxBuckets bounds how many periods one count may return.
const MaxBuckets = 1000

// AuditService reads the actor's account's audit log. Nothing in the product
// writes to the log except the actions themselves.
type AuditService interface {
	// ListEntries returns a page of entries and the next cursor ("" at the end).
	// EINVALID for a bad filter or cursor; EFORBIDDEN without PermViewAudit.
	ListEntries(ctx context.Context, f AuditFilter) ([]*Entry, string, error)
	// CountEntries counts the entries f matches (ignoring cursor and limit) and,
	// when bucket is not "", per bucket period in loc.
	CountEntries(ctx context.Context, f AuditFilter, bucket string, loc *time.Location) (*AuditCount, error)
	// ExportEntries calls fn for every entry f matches, in f.Order, with flat memory.
	ExportEntries(ctx context.Context, f AuditFilter, fn func(*Entry) error) error
	// ExportRecords is ExportEntries for the record bytes alone, without
	// decoding them: the JSON Lines export.
	ExportRecords(ctx context.Context, f AuditFilter, fn func(record []byte) error) error
}

// ParseTimeBound parses a from/to bound: an RFC 3339 time, or a date
// (2006-01-02) taken in loc. A date as an upper bound (end) means the end of
// that day, so "to=2026-09-30" includes all of September 30. EINVALID names
// the field and the accepted forms.
func ParseTimeBound(field, s string, loc *time.Location, end bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if loc == nil {
		loc = time.UTC
	}
	d, err := time.ParseInLocation(time.DateOnly, s, loc)
	if err != nil {
		return time.Time{}, Errorf(EINVALID, "%s %q is not a date (2006-01-02) or an RFC 3339 time (2006-01-02T15:04:05Z).", field, s)
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return d.UTC(), nil
}

// Checkpoint is a signed statement of an account's log: its size and Merkle
// root, as a note (docs/audit-log-format.md) signed by the server's key.
type Checkpoint struct {
	Origin      string `json:"origin"`
	Size        int64  `json:"size"`
	Root        []byte `json:"root"`       // base64 in JSON, as in the note
	Note        string `json:"checkpoint"` // the signed checkpoint text
	VerifierKey string `json:"verifier_key"`
}

// InclusionProof proves that the entry with Seq is in the tree of Size.
type InclusionProof struct {
	Seq        int64       `json:"seq"`
	Size       int64       `json:"size"`
	Record     string      `json:"record"`    // the entry's record bytes
	LeafHash   []byte      `json:"leaf_hash"` // SHA-256(0x00 || record)
	Proof      [][]byte    `json:"proof"`     // RFC 6962 audit path, leaf to root
	Checkpoint *Checkpoint `json:"checkpoint"`
}

// ConsistencyProof proves that the tree of size From is a prefix of the tree of size To.
type ConsistencyProof struct {
	From       int64       `json:"from"`
	To         int64       `json:"to"`
	Proof      [][]byte    `json:"proof"`
	Old        *Checkpoint `json:"old_checkpoint"`
	Checkpoint *Checkpoint `json:"checkpoint"`
}

// LogService proves the actor's account's log. Each method needs
// PermViewAudit; sizes beyond the log are EINVALID.
type LogService interface {
	// Checkpoint returns the signed checkpoint of the log as it is now,
	// signing one if the log grew since the last.
	Checkpoint(ctx context.Context) (*Checkpoint, error)
	// ProveInclusion proves entry seq against the checkpoint of size (0 = now).
	ProveInclusion(ctx context.Context, seq, size int64) (*InclusionProof, error)
	// ProveConsistency proves the tree of size from is a prefix of that of size to (0 = now).
	ProveConsistency(ctx context.Context, from, to int64) (*ConsistencyProof, error)
	// WriteBundle writes a verification bundle of the entries f selects,
	// with a consistency proof from size since when it is not 0.
	WriteBundle(ctx context.Context, w io.Writer, f AuditFilter, since int64) error
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
		return "", Errorf(EINVALID, "Search %q has characters no email address has.", s)
	}
	s = strings.ToLower(s)
	if !strings.Contains(s, "*") {
		s = "*" + s + "*"
	}
	return s, nil
}

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

// IsPattern reports whether an email filter value is a pattern (see EmailPattern).
func IsPattern(s string) bool { return strings.Contains(s, "*") }
