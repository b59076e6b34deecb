// Package reseller holds the domain of Reseller Console: accounts, their team,
// clients, license pools and licenses, and the audit log that records every
// change to them. It defines the types, the rules (roles, client transitions,
// validation) and the service interfaces; storage and transport live in
// internal/sqldb and internal/web.
package reseller

import (
	"context"
	"strconv"
	"time"
)

// Account is one reseller's tenancy. Everything else belongs to exactly one account.
type Account struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// AccountService provisions accounts. It is used by the platform operator (CLI).
type AccountService interface {
	// CreateAccount creates an account. Returns EINVALID for an empty name.
	CreateAccount(ctx context.Context, name string) (*Account, error)
	// FindAccountByID returns ENOTFOUND when there is no such account.
	FindAccountByID(ctx context.Context, id int64) (*Account, error)
}

// Clock returns the current time. Stores take one so that demo data and tests
// can write history at chosen times through the ordinary code path.
type Clock func() time.Time

// Micro truncates t to the microsecond precision that the store keeps, in UTC.
func Micro(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// MaxPageSize is the largest page any list returns.
const MaxPageSize = 500

// DefaultPageSize is used when a list request gives no limit.
const DefaultPageSize = 50

// ParseID reads the id of a stored thing (client, license, user...): a
// positive decimal integer. Callers say in their own words what was wrong.
func ParseID(s string) (int64, bool) {
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}
