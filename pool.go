package reseller

import (
	"context"
	"time"
)

// Pool is a block of license slots an account bought for one product.
type Pool struct {
	ID        int64     `json:"id"`
	AccountID int64     `json:"-"`
	Name      string    `json:"name"`
	Product   string    `json:"product"`
	Capacity  int       `json:"capacity"`
	Used      int       `json:"used"`
	Free      int       `json:"free"`
	CreatedAt time.Time `json:"-"`
}

// DefaultProduct names the product of a pool created without one.
const DefaultProduct = "security-plugin"

// MaxCapacity bounds a pool's size.
const MaxCapacity = 1_000_000

// PoolService provisions and reads pools. Create and resize are for the
// platform operator (CLI); listing is scoped to the actor's account.
type PoolService interface {
	// CreatePool creates a pool in an account. EINVALID, ENOTFOUND (account).
	CreatePool(ctx context.Context, accountID int64, name, product string, capacity int) (*Pool, error)
	// ResizePool changes capacity, never below the slots in use (ECONFLICT).
	ResizePool(ctx context.Context, poolID int64, capacity int) (*Pool, error)
	// FindPoolByID returns ENOTFOUND for unknown ids and other accounts' pools.
	FindPoolByID(ctx context.Context, id int64) (*Pool, error)
	// ListPools lists the actor's account's pools.
	ListPools(ctx context.Context) ([]*Pool, error)
}
