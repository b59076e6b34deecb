package reseller

import (
	"context"
	"time"
)

// LicenseStatus is active while the slot is held, revoked once given back.
type LicenseStatus string

// License statuses. Revoked licenses stay as history.
const (
	LicenseActive  LicenseStatus = "active"
	LicenseRevoked LicenseStatus = "revoked"
)

// License is one slot of a pool allocated to one client.
type License struct {
	ID          int64         `json:"id"`
	AccountID   int64         `json:"-"`
	PoolID      int64         `json:"pool_id"`
	ClientID    int64         `json:"client_id"`
	Label       string        `json:"label"`
	Status      LicenseStatus `json:"status"`
	AllocatedAt time.Time     `json:"allocated_at"`
	RevokedAt   *time.Time    `json:"revoked_at"`
	// Key is the license key the plugin checks in with: set only in the
	// answer that issues it (allocation, re-issue), never stored in clear.
	Key string `json:"key,omitempty"`
}

// MaxLabelLen is the longest license label accepted.
const MaxLabelLen = 200

// LicenseFilter selects licenses of the actor's account.
type LicenseFilter struct {
	ClientID int64
	PoolID   int64
	Status   LicenseStatus
	Cursor   string
	Limit    int
}

// LicenseService allocates and revokes licenses for the actor in ctx.
type LicenseService interface {
	// AllocateLicense takes one slot of a pool for a client. EPOOLEXHAUSTED,
	// ECLIENTSUSPENDED, EINVALIDTRANSITION (deleted client), ENOTFOUND.
	AllocateLicense(ctx context.Context, clientID, poolID int64, label string) (*License, error)
	// RevokeLicense gives a slot back. Revoking a revoked license is ECONFLICT.
	RevokeLicense(ctx context.Context, id int64, reason string) (*License, error)
	// FindLicenseByID returns ENOTFOUND for unknown ids and other accounts' licenses.
	FindLicenseByID(ctx context.Context, id int64) (*License, error)
	// ListLicenses returns a page of licenses and the next cursor.
	ListLicenses(ctx context.Context, f LicenseFilter) ([]*License, string, error)
}
