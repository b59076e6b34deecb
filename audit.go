package reseller

import (
	"context"
	"io"
	"strings"
	"time"
)

// Action is the kind of change an audit entry records.
type Action string

// The actions of the audit log, in two categories. Plugin activity is never
// recorded here.
const (
	// Clients and licenses; their target is a client.
	ActionClientCreated      Action = "client.created"
	ActionClientSuspended    Action = "client.suspended"
	ActionClientReactivated  Action = "client.reactivated"
	ActionClientDeleted      Action = "client.deleted"
	ActionLicenseAllocated   Action = "license.allocated"
	ActionLicenseRevoked     Action = "license.revoked"
	ActionLicenseKeyReissued Action = "license.key_reissued"

	// Team and access; their target is a user.
	ActionUserAdded            Action = "user.added"
	ActionUserRoleChanged      Action = "user.role_changed"
	ActionUserRemoved          Action = "user.removed"
	ActionOwnershipTransferred Action = "ownership.transferred"
	ActionTokenCreated         Action = "token.created"
	ActionTokenRevoked         Action = "token.revoked"
	ActionPasswordLinkCreated  Action = "password_link.created"
)

// Categories of actions, as the console groups them.
const (
	CategoryClients = "clients"
	CategoryTeam    = "team"
)

// ClientActions are the actions on clients and licenses, in the order the
// console shows them.
var ClientActions = []Action{
	ActionClientCreated, ActionClientSuspended, ActionClientReactivated,
	ActionClientDeleted, ActionLicenseAllocated, ActionLicenseRevoked,
	ActionLicenseKeyReissued,
}

// TeamActions are the actions on the team and its access.
var TeamActions = []Action{
	ActionUserAdded, ActionUserRoleChanged, ActionUserRemoved, ActionOwnershipTransferred,
	ActionTokenCreated, ActionTokenRevoked, ActionPasswordLinkCreated,
}

// Actions lists every action in the order the console shows them.
var Actions = append(append([]Action(nil), ClientActions...), TeamActions...)

var actionLabels = map[Action]string{
	ActionClientCreated:        "Client created",
	ActionClientSuspended:      "Client suspended",
	ActionClientReactivated:    "Client reactivated",
	ActionClientDeleted:        "Client deleted",
	ActionLicenseAllocated:     "License allocated",
	ActionLicenseRevoked:       "License revoked",
	ActionLicenseKeyReissued:   "License key re-issued",
	ActionUserAdded:            "User added",
	ActionUserRoleChanged:      "Role changed",
	ActionUserRemoved:          "User removed",
	ActionOwnershipTransferred: "Ownership transferred",
	ActionTokenCreated:         "API token created",
	ActionTokenRevoked:         "API token revoked",
	ActionPasswordLinkCreated:  "Set-password link created",
}

// Label is the action's name as people read it.
func (a Action) Label() string { return actionLabels[a] }

// Valid reports whether a is one of the actions.
func (a Action) Valid() bool { _, ok := actionLabels[a]; return ok }

// Category is CategoryClients or CategoryTeam.
func (a Action) Category() string {
	if strings.HasPrefix(string(a), "client.") || strings.HasPrefix(string(a), "license.") {
		return CategoryClients
	}
	return CategoryTeam
}

// TargetType is what an action's target is: TargetClient or TargetUser.
func (a Action) TargetType() string {
	if a.Category() == CategoryClients {
		return TargetClient
	}
	return TargetUser
}

// ParseAction accepts an action id ("client.suspended"); EINVALID otherwise.
func ParseAction(s string) (Action, error) {
	a := Action(strings.TrimSpace(s))
	if !a.Valid() {
		return "", Errorf(EINVALID, "Unknown action %q; use one of %s.", s, actionList())
	}
	return a, nil
}

// ActionStrings returns the ids of actions, in order: what a store, a
// metric label or a list of choices takes.
func ActionStrings(as []Action) []string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = string(a)
	}
	return s
}

// actionList names every action, for messages.
func actionList() string { return strings.Join(ActionStrings(Actions), ", ") }

// Target types.
const (
	TargetClient = "client"
	TargetUser   = "user"
)

// Target is what an entry's action applied to: a client (client and
// license actions) or a user (team actions), with its email as it was when
// the action happened.
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
	Reason    string `json:"reason,omitempty"`     // suspend, revoke and delete
	Role      Role   `json:"role,omitempty"`       // user.added, user.removed: the user's role
	FromRole  Role   `json:"from_role,omitempty"`  // user.role_changed, ownership.transferred: the role before
	ToRole    Role   `json:"to_role,omitempty"`    // user.role_changed, ownership.transferred: the role after
	TokenID   int64  `json:"token_id,omitempty"`   // token.created, token.revoked
	TokenName string `json:"token_name,omitempty"` // token.created, token.revoked
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

// AuditService reads the actor's account's audit log. Nothing in the product
// writes to the log except the actions themselves.
type AuditService interface {
	// ListEntries returns a page of entries and the next cursor ("" at the end).
	// EINVALID for a bad filter or cursor; EFORBIDDEN without PermViewAudit.
	ListEntries(ctx context.Context, f AuditFilter) ([]*Entry, string, error)
	// FindEntry returns the entry seq. ENOTFOUND, EFORBIDDEN.
	FindEntry(ctx context.Context, seq int64) (*Entry, error)
	// CountEntries counts the entries f matches (ignoring cursor and limit) and,
	// when bucket is not "", per bucket period in loc.
	CountEntries(ctx context.Context, f AuditFilter, bucket string, loc *time.Location) (*AuditCount, error)
	// ExportEntries calls fn for every entry f matches, in f.Order, with flat memory.
	ExportEntries(ctx context.Context, f AuditFilter, fn func(*Entry) error) error
	// ExportRecords is ExportEntries for the record bytes alone, without
	// decoding them: the JSON Lines export.
	ExportRecords(ctx context.Context, f AuditFilter, fn func(record []byte) error) error
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
	// It returns how many entries the bundle holds.
	WriteBundle(ctx context.Context, w io.Writer, f AuditFilter, since int64) (int, error)
}
