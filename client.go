package reseller

import (
	"context"
	"time"
)

// ClientStatus is where a client is in its life cycle.
type ClientStatus string

// Client statuses. A deleted client stays as a tombstone so that old audit
// entries still resolve.
const (
	ClientActive    ClientStatus = "active"
	ClientSuspended ClientStatus = "suspended"
	ClientDeleted   ClientStatus = "deleted"
)

// Valid reports whether s is a known status.
func (s ClientStatus) Valid() bool {
	return s == ClientActive || s == ClientSuspended || s == ClientDeleted
}

// Client is one of a reseller's own customers, identified by email.
type Client struct {
	ID        int64        `json:"id"`
	AccountID int64        `json:"-"`
	Email     string       `json:"email"`
	Name      string       `json:"name"`
	Status    ClientStatus `json:"status"`
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`
	Licenses  int          `json:"licenses"` // active licenses held
	SiteURL   string       `json:"site_url"` // the site its license is for, "" if not given

	// What its sites' plugins last reported (nil before the first
	// check-in), and the product of its newest active license.
	Score    *int       `json:"score"`
	LastSeen *time.Time `json:"last_seen"`
	Product  string     `json:"product"`
}

// NewClient is what onboarding a client takes. With a PoolID, the client's
// first license is allocated from that pool in the same transaction.
type NewClient struct {
	Email   string
	Name    string
	SiteURL string // an https URL; see NormalizeSiteURL
	PoolID  int64  // 0 for no license yet
	Label   string // the first license's label
}

// MaxEmailLen is the longest email address accepted (RFC 5321 path limit).
const MaxEmailLen = 254

// MaxNameLen is the longest client or pool name accepted.
const MaxNameLen = 200

// MaxReasonLen is the longest free-text reason accepted.
const MaxReasonLen = 1000

// ClientAction is something done to a client; see ClientStatus.Check.
type ClientAction string

// The actions that change a client or its licenses.
const (
	DoSuspend    ClientAction = "suspend"
	DoReactivate ClientAction = "reactivate"
	DoDelete     ClientAction = "delete"
	DoAllocate   ClientAction = "allocate"
	DoRevoke     ClientAction = "revoke"
)

// Check returns nil if action a is allowed on a client in status s, and an
// EINVALIDTRANSITION (or ECLIENTSUSPENDED) error otherwise. It is the one place
// where the client state machine is written down.
func (s ClientStatus) Check(a ClientAction) error {
	ok := false
	switch s {
	case ClientActive:
		ok = a != DoReactivate
	case ClientSuspended:
		if a == DoAllocate {
			return Errorf(ECLIENTSUSPENDED, "The client is suspended; reactivate it before allocating a license.")
		}
		ok = a != DoSuspend
	case ClientDeleted:
		ok = false
	}
	if !ok {
		return Errorf(EINVALIDTRANSITION, "Cannot %s a client that is %s.", a, s)
	}
	return nil
}

// Next returns the status a client in s has after action a.
func (s ClientStatus) Next(a ClientAction) ClientStatus {
	switch a {
	case DoSuspend:
		return ClientSuspended
	case DoReactivate:
		return ClientActive
	case DoDelete:
		return ClientDeleted
	}
	return s
}

// ClientFilter selects clients of the actor's account.
type ClientFilter struct {
	Status ClientStatus // "" for all but deleted ones; ClientDeleted to see tombstones
	Search string       // substring of email, name or site URL, case-insensitive
	Cursor string       // from a previous page's NextCursor
	Limit  int          // 1..MaxPageSize, 0 for DefaultPageSize
	// NotSeenDays keeps clients whose plugins have not checked in for more
	// than that many days (never seen included); 0 for no such filter.
	NotSeenDays int
	// Sort is the order: SortNewest (""), SortScore, SortScoreDesc,
	// SortLastSeen or SortLastSeenDesc. A cursor belongs to one order.
	Sort string
}

// ClientService changes and reads clients. Every method acts for the actor in
// ctx and is scoped to its account; another account's ids are ENOTFOUND.
type ClientService interface {
	// CreateClient onboards a client. EINVALID, EEMAILTAKEN, EFORBIDDEN.
	CreateClient(ctx context.Context, email, name string) (*Client, error)
	// OnboardClient creates a client and, with nc.PoolID, allocates its
	// first license, all in one transaction (client.created then
	// license.allocated): refused whole if the pool is full. The license,
	// with its key, is returned when one was allocated. EINVALID,
	// EEMAILTAKEN, EPOOLEXHAUSTED, ENOTFOUND (pool), EFORBIDDEN.
	OnboardClient(ctx context.Context, nc NewClient) (*Client, *License, error)
	// FindClientByID returns ENOTFOUND for unknown ids and other accounts' clients.
	FindClientByID(ctx context.Context, id int64) (*Client, error)
	// ListClients returns a page of clients and the cursor of the next one ("" at the end).
	ListClients(ctx context.Context, f ClientFilter) ([]*Client, string, error)
	// SuspendClient suspends an active client; reason is optional. EINVALIDTRANSITION.
	SuspendClient(ctx context.Context, id int64, reason string) (*Client, error)
	// ReactivateClient returns a suspended client to active. EINVALIDTRANSITION.
	ReactivateClient(ctx context.Context, id int64) (*Client, error)
	// DeleteClient revokes the client's licenses and deletes it. EINVALIDTRANSITION.
	DeleteClient(ctx context.Context, id int64) (*Client, error)
	// DeleteClientWithReason is DeleteClient with an optional reason for the
	// audit entry. EINVALID, EINVALIDTRANSITION.
	DeleteClientWithReason(ctx context.Context, id int64, reason string) (*Client, error)
	// FindClients returns the clients with these ids, deleted ones included,
	// by id; unknown ids and other accounts' clients are left out.
	FindClients(ctx context.Context, ids []int64) (map[int64]*Client, error)
}
