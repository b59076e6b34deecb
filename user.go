package reseller

import (
	"context"
	"time"
)

// Role is a user's role within an account. Every account has exactly one owner.
type Role string

// Roles, from most to least privileged.
const (
	RoleOwner    Role = "owner"
	RoleAdmin    Role = "admin"
	RoleOperator Role = "operator"
	RoleAuditor  Role = "auditor"
)

// RolePlatform is the platform operator acting through the CLI: not a role a
// user can have, but the role the log names an action of the operator with
// (actor id 0, no email, via cli). It may do anything in the account its
// actor names.
const RolePlatform Role = "platform"

// Roles lists every role, most privileged first.
var Roles = []Role{RoleOwner, RoleAdmin, RoleOperator, RoleAuditor}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleOwner, RoleAdmin, RoleOperator, RoleAuditor:
		return true
	}
	return false
}

// Permission is something a role may do.
type Permission int

// Permissions, as the role table of the design gives them.
const (
	PermViewClients   Permission = iota // see clients, pools and licenses
	PermManageClients                   // create, suspend, reactivate clients; allocate and revoke licenses
	PermDeleteClients                   // delete clients
	PermManageTeam                      // add, change and remove users; create and revoke API tokens
	PermViewAudit                       // view and export the audit log
)

var rolePerms = map[Role][]Permission{
	RoleOwner:    {PermViewClients, PermManageClients, PermDeleteClients, PermManageTeam, PermViewAudit},
	RoleAdmin:    {PermViewClients, PermManageClients, PermDeleteClients, PermManageTeam, PermViewAudit},
	RoleOperator: {PermViewClients, PermManageClients, PermViewAudit},
	RoleAuditor:  {PermViewClients, PermViewAudit},
}

// Can reports whether role r has permission p.
func (r Role) Can(p Permission) bool {
	if r == RolePlatform {
		return true
	}
	for _, q := range rolePerms[r] {
		if q == p {
			return true
		}
	}
	return false
}

// User is a member of an account's team. Email is unique across the platform.
type User struct {
	ID          int64     `json:"id"`
	AccountID   int64     `json:"account_id"`
	Email       string    `json:"email"`
	Role        Role      `json:"role"`
	HasPassword bool      `json:"has_password"`
	CreatedAt   time.Time `json:"created_at"`
}

// Channels through which an action arrives.
const (
	ViaWeb = "web"
	ViaAPI = "api"
	ViaCLI = "cli"
)

// Actor is who performs a request: the signed-in user and how they came in.
// It travels in the request context and is copied into every audit entry.
type Actor struct {
	UserID    int64
	AccountID int64
	Email     string
	Role      Role
	Via       string // ViaWeb, ViaAPI or ViaCLI
	TokenID   int64  // API token used, 0 if none
	IP        string
	UserAgent string
	RequestID string
}

// OperatorActor is the platform operator acting in an account, through
// the CLI. Entries it records name it (role platform, no user).
func OperatorActor(accountID int64) *Actor {
	return &Actor{AccountID: accountID, Role: RolePlatform, Via: ViaCLI}
}

// IsOperator reports whether the actor is the platform operator.
func (a *Actor) IsOperator() bool { return a != nil && a.Role == RolePlatform }

type actorKey struct{}

// NewContext returns a context carrying the acting user.
func NewContext(ctx context.Context, a *Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the acting user of ctx, or nil.
func ActorFrom(ctx context.Context) *Actor {
	a, _ := ctx.Value(actorKey{}).(*Actor)
	return a
}

// Authorize returns the actor of ctx if it may do p, EUNAUTHORIZED when there
// is no actor and EFORBIDDEN when its role does not allow p.
func Authorize(ctx context.Context, p Permission) (*Actor, error) {
	a := ActorFrom(ctx)
	if a == nil || a.AccountID == 0 {
		return nil, Errorf(EUNAUTHORIZED, "Sign in first.")
	}
	if !a.Role.Can(p) {
		return nil, Errorf(EFORBIDDEN, "Your role (%s) does not allow this.", a.Role)
	}
	return a, nil
}

// UserService manages the acting user's account's team. Every method takes
// the actor from ctx and scopes by its account; team changes need
// PermManageTeam (owner, admin, the platform operator) and are recorded in
// the audit log with the change. Without an actor nothing is allowed.
type UserService interface {
	// AddUser adds a user to the account and records user.added. Only the
	// platform operator adds the owner, to an account without one; else an
	// owner is ECONFLICT (transfer ownership instead). EINVALID, EEMAILTAKEN.
	AddUser(ctx context.Context, email string, role Role) (*User, error)
	// FindUserByID returns ENOTFOUND for unknown ids and other accounts' users.
	FindUserByID(ctx context.Context, id int64) (*User, error)
	// FindUserByEmail looks a user up platform-wide: for sign-in, and for the
	// operator's CLI, which then acts in that user's account.
	FindUserByEmail(ctx context.Context, email string) (*User, error)
	// ListUsers lists the account's team, owner first.
	ListUsers(ctx context.Context) ([]*User, error)
	// SetRole changes a user's role (user.role_changed). RoleOwner transfers ownership.
	SetRole(ctx context.Context, userID int64, role Role) (*User, error)
	// TransferOwnership makes a user the owner, the old owner an admin
	// (ownership.transferred). Owner or platform operator only.
	TransferOwnership(ctx context.Context, userID int64) (*User, error)
	// RemoveUser removes a user (user.removed, after token.revoked for each
	// of their tokens); the owner cannot be removed.
	RemoveUser(ctx context.Context, userID int64) error
	// SetPassword sets a user's password (hashed with argon2id): the user's
	// own, or any for the platform operator. It ends the user's sessions.
	SetPassword(ctx context.Context, userID int64, password string) error
	// CheckPassword returns the user if email and password match, EUNAUTHORIZED otherwise.
	CheckPassword(ctx context.Context, email, password string) (*User, error)
}

// Token is an API token. The secret is shown once, at creation, and stored hashed.
type Token struct {
	ID         int64      `json:"id"`
	AccountID  int64      `json:"account_id"`
	UserID     int64      `json:"user_id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// TokenService issues and checks API tokens. A token acts as the user who
// created it: users create tokens for themselves only, and only the platform
// operator issues one for someone else (CreateTokenFor).
type TokenService interface {
	// CreateToken issues a token for the acting user (token.created) and
	// returns it with its secret, shown once.
	CreateToken(ctx context.Context, name string) (*Token, string, error)
	// CreateTokenFor issues a token for a user of the account: the platform
	// operator's, recorded as its action. EFORBIDDEN for anyone else.
	CreateTokenFor(ctx context.Context, userID int64, name string) (*Token, string, error)
	// Authenticate returns the actor for a token secret, EUNAUTHORIZED if unknown or revoked.
	Authenticate(ctx context.Context, secret string) (*Actor, error)
	// ListTokens lists the account's tokens.
	ListTokens(ctx context.Context) ([]*Token, error)
	// RevokeToken revokes a token of the account (token.revoked); admins
	// cannot revoke the owner's.
	RevokeToken(ctx context.Context, tokenID int64) error
}
