// Package replay rebuilds the clients and licenses, the team and the API
// tokens of an account from its audit log alone, applying the domain's
// rules to each entry in turn, so that `reseller audit check` can compare
// the state the log tells with the store's tables: a change without its
// entry, or an entry the rules could not have produced, shows. It reads
// entries, not record bytes, and proves nothing about them; that is
// internal/auditlog's part.
//
// # Comparing the team with the store
//
// Clients and licenses have been logged since an account's first entry, so
// every one the store holds must be in the replayed state. Team actions
// (user.added, token.created...) were logged only from record version 2
// on: an account older than that has users and tokens that no entry
// mentions, and users the log first mentions with, say, a role change.
// Replay takes such a user or token as it finds it (it "adopts" it: see
// UserState.Added), and the store compares fairly by this rule:
//
//   - every user in State.Users and every token in State.Tokens is compared
//     with the store: a user with Removed set must be gone from the team, any
//     other must be in it with the same email, and with the same role unless
//     Role is "" (the log has not said it); a token must belong to UserID,
//     be named Name unless Name is "", and be revoked exactly when Revoked
//     is set;
//   - when State.TeamComplete is set, the log holds the team's whole history
//     and every user and token of the store must be in the state;
//   - otherwise every user and token the store created at or after
//     State.TeamSinceTime (the time of the log's first team entry) must be
//     in the state; older ones that no entry mentions are not compared. With
//     no team entry at all (TeamSince 0) the log says nothing of the team,
//     and the store can only use its own record of when it began to log
//     team actions, if it keeps one.
package replay

import (
	"fmt"
	"strings"
	"time"

	"github.com/resellerconsole/reseller"
)

// State is the clients, licenses, users and tokens of an account as its log
// alone tells them. Pools are not in the log (the operator provisions them),
// so a license names its pool only by id.
type State struct {
	Clients  map[int64]ClientState
	Licenses map[int64]LicenseState

	// Users are the users that entries name as their target, by id: every
	// user the log mentions. A removed user stays, with Removed set, so
	// that "did the log ever mention user id" is whether Users has it.
	// The actors of entries are not mentions.
	Users map[int64]UserState
	// Tokens are the API tokens that token.created and token.revoked
	// entries name, by token id.
	Tokens map[int64]TokenState

	// TeamSince is the seq of the log's first team entry, and TeamSinceTime
	// its time; 0 and the zero time when the log has none.
	TeamSince     int64
	TeamSinceTime time.Time
	// TeamComplete is set when the log holds the team's whole history: its
	// first team entry added the account's owner, which only happens when
	// the account is new (an account has exactly one owner, so no owner
	// is added to an account that has one). A team action on a user or a
	// token the log never introduced is then an error.
	TeamComplete bool

	held   map[int64]int // active licenses per client, so replay stays linear
	tokens map[int64]int // active tokens the log knows of, per user
	owner  int64         // the owner the log knows of, 0 if none
}

// ClientState is a client as the log last left it.
type ClientState struct {
	Email  string
	Name   string
	Status reseller.ClientStatus
}

// LicenseState is a license as the log last left it.
type LicenseState struct {
	PoolID   int64
	ClientID int64
	Label    string
	Status   reseller.LicenseStatus
}

// UserState is a user as the log last left them.
type UserState struct {
	Email string
	// Role is the user's role, or "" while the log has not said it: a user
	// from before the log's team entries, first mentioned by an entry that
	// does not carry their role (token.created, password_link.created).
	Role    reseller.Role
	Removed bool
	// Added is set when the log holds the user's user.added, and so their
	// whole history. A user first mentioned by another action was adopted:
	// they were on the team before the log recorded team actions.
	Added bool
}

// TokenState is an API token as the log last left it.
type TokenState struct {
	UserID  int64
	Name    string // "" if the log has not said it
	Revoked bool
	// Created is set when the log holds the token's token.created. A token
	// first mentioned when it is revoked was adopted: it was created before
	// the log recorded team actions.
	Created bool
}

// Owner returns the id of the account's owner as the log tells it, 0 if the
// log has not said who it is.
func (s *State) Owner() int64 { return s.owner }

// ActiveTokens counts the tokens of the user that the log mentions and that
// are not revoked.
func (s *State) ActiveTokens(userID int64) int {
	if s.tokens != nil {
		return s.tokens[userID]
	}
	n := 0
	for _, t := range s.Tokens {
		if t.UserID == userID && !t.Revoked {
			n++
		}
	}
	return n
}

// ActiveLicenses counts the client's licenses that are not revoked.
func (s *State) ActiveLicenses(clientID int64) int {
	if s.held != nil {
		return s.held[clientID]
	}
	n := 0
	for _, l := range s.Licenses {
		if l.ClientID == clientID && l.Status == reseller.LicenseActive {
			n++
		}
	}
	return n
}

// Log rebuilds the state of clients and licenses, users and tokens from an
// account's whole log, from seq 1 on. Comparing it with the store's tables
// (see the package documentation for the team) proves that the log tells
// the whole story: every change has its entry. A sequence that the domain
// rules could not have produced (suspending a deleted client, a license
// revoked twice, a client deleted while it still holds a license, a role
// change that does not start from the user's role, a second owner, a token
// revoked twice, a gap in seqs) is an error naming the seq.
func Log(entries func(fn func(*reseller.Entry) error) error) (*State, error) {
	s := NewState()
	var last, account int64
	err := entries(func(e *reseller.Entry) error {
		if e.Seq != last+1 {
			return fmt.Errorf("seq %d: replay needs every entry in order, but seq %d came next", last+1, e.Seq)
		}
		if last == 0 {
			account = e.AccountID
		} else if e.AccountID != account {
			return fmt.Errorf("seq %d: entry of account %d in the log of account %d", e.Seq, e.AccountID, account)
		}
		last = e.Seq
		return s.Apply(e)
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// NewState returns the state of an empty log, for Apply.
func NewState() *State {
	return &State{Clients: map[int64]ClientState{}, Licenses: map[int64]LicenseState{},
		Users: map[int64]UserState{}, Tokens: map[int64]TokenState{}, held: map[int64]int{}, tokens: map[int64]int{}}
}

// Apply applies the next entry of the log to s, as Log does, leaving s
// as it was when the entry is one the domain rules could not have produced.
// The caller sees to the order of the entries.
func (s *State) Apply(e *reseller.Entry) error {
	if err := s.apply(e); err != nil {
		return fmt.Errorf("seq %d (%s): %w", e.Seq, e.Action, err)
	}
	return nil
}

func (s *State) apply(e *reseller.Entry) error {
	switch {
	case !e.Action.Valid():
		return fmt.Errorf("unknown action %q", e.Action)
	case e.Target.Type != e.Action.TargetType():
		return fmt.Errorf("the target is of type %q, not %q", e.Target.Type, e.Action.TargetType())
	}
	if err := s.checkActor(e); err != nil {
		return err
	}
	if e.Action.Category() == reseller.CategoryTeam {
		return s.applyTeam(e)
	}
	id := e.Target.ID
	c, known := s.Clients[id]
	if e.Action == reseller.ActionClientCreated {
		if known {
			return fmt.Errorf("client %d already exists", id)
		}
		// Cloned: auditlog.ParseTrusted's strings share one allocation per entry,
		// which the state would otherwise keep whole for every client.
		s.Clients[id] = ClientState{Email: strings.Clone(e.Target.Email), Name: strings.Clone(e.Details.Name), Status: reseller.ClientActive}
		return nil
	}
	if !known {
		return fmt.Errorf("client %d was never created", id)
	}
	if c.Email != e.Target.Email {
		return fmt.Errorf("client %d has email %q, but the entry says %q", id, c.Email, e.Target.Email)
	}
	switch e.Action {
	case reseller.ActionClientSuspended, reseller.ActionClientReactivated, reseller.ActionClientDeleted:
		do := map[reseller.Action]reseller.ClientAction{
			reseller.ActionClientSuspended:   reseller.DoSuspend,
			reseller.ActionClientReactivated: reseller.DoReactivate,
			reseller.ActionClientDeleted:     reseller.DoDelete,
		}[e.Action]
		if err := c.Status.Check(do); err != nil {
			return err
		}
		// Deleting a client revokes its licenses first, each with its own
		// entry, so none may be left at this point.
		if do == reseller.DoDelete && s.ActiveLicenses(id) > 0 {
			return fmt.Errorf("client %d is deleted while it still holds %d licenses", id, s.ActiveLicenses(id))
		}
		c.Status = c.Status.Next(do)
		s.Clients[id] = c
	case reseller.ActionLicenseAllocated:
		lid := e.Details.LicenseID
		if err := c.Status.Check(reseller.DoAllocate); err != nil {
			return err
		}
		if _, dup := s.Licenses[lid]; dup || lid == 0 || e.Details.PoolID == 0 {
			return fmt.Errorf("license %d of pool %d cannot be allocated: missing or already known", lid, e.Details.PoolID)
		}
		s.Licenses[lid] = LicenseState{PoolID: e.Details.PoolID, ClientID: id, Label: strings.Clone(e.Details.Label), Status: reseller.LicenseActive}
		s.held[id]++
	case reseller.ActionLicenseRevoked:
		lid := e.Details.LicenseID
		l, err := s.activeLicense(lid, id, "already revoked")
		if err != nil {
			return err
		}
		if err := c.Status.Check(reseller.DoRevoke); err != nil {
			return err
		}
		l.Status = reseller.LicenseRevoked
		s.Licenses[lid] = l
		s.held[id]--
	case reseller.ActionLicenseKeyReissued:
		// A new key changes nothing the log replays, but only an active
		// license of this client has a key to re-issue.
		if _, err := s.activeLicense(e.Details.LicenseID, id, "revoked; its key cannot be re-issued"); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown action %q", e.Action)
	}
	return nil
}

// activeLicense returns license lid, which must have been allocated to
// client id and be active; if it is not, the error says it is notActive.
func (s *State) activeLicense(lid, id int64, notActive string) (LicenseState, error) {
	l, ok := s.Licenses[lid]
	switch {
	case !ok:
		return l, fmt.Errorf("license %d was never allocated", lid)
	case l.ClientID != id:
		return l, fmt.Errorf("license %d belongs to client %d, not %d", lid, l.ClientID, id)
	case l.Status != reseller.LicenseActive:
		return l, fmt.Errorf("license %d is %s", lid, notActive)
	}
	return l, nil
}

// checkActor refuses an entry whose actor could not have acted: the
// platform operator other than as the log names it (id 0, no email, via
// cli), a user the log says was removed, or an API token the log knows as
// revoked or as another user's.
func (s *State) checkActor(e *reseller.Entry) error {
	a := &e.Actor
	if a.Role == reseller.RolePlatform && (a.ID != 0 || a.Email != "" || a.Via != reseller.ViaCLI) {
		return fmt.Errorf("the platform operator acts as user %d (%q) via %s; it acts as id 0, with no email, via cli", a.ID, a.Email, a.Via)
	}
	if u, ok := s.Users[a.ID]; ok && u.Removed {
		return fmt.Errorf("user %d acts after they were removed", a.ID)
	}
	if a.TokenID != 0 {
		if t, ok := s.Tokens[a.TokenID]; ok {
			switch {
			case t.UserID != a.ID:
				return fmt.Errorf("token %d of user %d acts as user %d", a.TokenID, t.UserID, a.ID)
			case t.Revoked:
				return fmt.Errorf("token %d acts after it was revoked", a.TokenID)
			}
		}
	}
	return nil
}

// applyTeam applies a team action, whose target is a user.
func (s *State) applyTeam(e *reseller.Entry) error {
	id, d := e.Target.ID, &e.Details
	u, known := s.Users[id]
	switch {
	case known && e.Action == reseller.ActionUserAdded:
		return fmt.Errorf("user %d already exists", id)
	case known && u.Email != e.Target.Email:
		return fmt.Errorf("user %d has email %q, but the entry says %q", id, u.Email, e.Target.Email)
	case known && u.Removed:
		return fmt.Errorf("user %d was removed", id)
	case !known && e.Action != reseller.ActionUserAdded:
		if s.TeamComplete {
			return fmt.Errorf("user %d was never added", id)
		}
		// A user from before the log recorded team actions.
		u = UserState{Email: strings.Clone(e.Target.Email)}
	}
	if !validRole(u.Role, d) {
		return fmt.Errorf("user %d has role %s, but the entry says %s", id, u.Role, entryRole(e))
	}
	owner := s.owner
	switch e.Action {
	case reseller.ActionUserAdded:
		switch {
		case !d.Role.Valid():
			return fmt.Errorf("user %d is added with role %q, which is not a role", id, d.Role)
		case d.Role == reseller.RoleOwner && s.TeamSince != 0:
			// A new account's first user may be its owner; any other
			// account has one already.
			return fmt.Errorf("user %d is added as a second owner", id)
		}
		u = UserState{Email: strings.Clone(e.Target.Email), Role: d.Role, Added: true}
		if d.Role == reseller.RoleOwner {
			owner = id
		}
	case reseller.ActionUserRoleChanged:
		switch {
		case !d.FromRole.Valid() || !d.ToRole.Valid() || d.FromRole == d.ToRole:
			return fmt.Errorf("role change of user %d from %q to %q", id, d.FromRole, d.ToRole)
		case d.FromRole == reseller.RoleOwner || d.ToRole == reseller.RoleOwner:
			return fmt.Errorf("role change of user %d from %s to %s: ownership changes only by ownership.transferred", id, d.FromRole, d.ToRole)
		}
		u.Role = d.ToRole
	case reseller.ActionOwnershipTransferred:
		switch {
		case d.ToRole != reseller.RoleOwner || !d.FromRole.Valid() || d.FromRole == reseller.RoleOwner:
			return fmt.Errorf("ownership transferred to user %d from role %q to %q; it goes from another role to owner", id, d.FromRole, d.ToRole)
		}
		u.Role = reseller.RoleOwner
		owner = id
	case reseller.ActionUserRemoved:
		switch {
		case !d.Role.Valid():
			return fmt.Errorf("user %d is removed with role %q, which is not a role", id, d.Role)
		case d.Role == reseller.RoleOwner:
			return fmt.Errorf("user %d is removed, but they are the owner", id)
		case s.ActiveTokens(id) > 0:
			// Removing a user revokes their tokens first, each with its
			// own entry, so none may be left at this point.
			return fmt.Errorf("user %d is removed while they still hold %d API tokens", id, s.ActiveTokens(id))
		}
		u.Role, u.Removed = d.Role, true
	case reseller.ActionTokenCreated:
		if err := s.createToken(e); err != nil {
			return err
		}
	case reseller.ActionTokenRevoked:
		if err := s.revokeToken(e); err != nil {
			return err
		}
	case reseller.ActionPasswordLinkCreated:
		// Mentions the user; changes nothing the log keeps.
	default:
		return fmt.Errorf("unknown action %q", e.Action)
	}
	// Nothing below fails: the entry is applied.
	if owner != s.owner {
		if prev, ok := s.Users[s.owner]; ok && s.owner != 0 {
			prev.Role = reseller.RoleAdmin // the previous owner becomes an admin
			s.Users[s.owner] = prev
		}
		s.owner = owner
	}
	s.Users[id] = u
	if s.TeamSince == 0 {
		s.TeamSince, s.TeamSinceTime = e.Seq, e.Time
		s.TeamComplete = e.Action == reseller.ActionUserAdded && d.Role == reseller.RoleOwner
	}
	return nil
}

// validRole reports whether the role an entry says its target had before it
// is the user's role r as the log knows it ("" knows nothing).
func validRole(r reseller.Role, d *reseller.Details) bool {
	if r == "" {
		return true
	}
	switch {
	case d.FromRole != "":
		return d.FromRole == r
	case d.Role != "":
		return d.Role == r
	}
	return true
}

// entryRole is the role an entry says its target had, for messages.
func entryRole(e *reseller.Entry) reseller.Role {
	if e.Details.FromRole != "" {
		return e.Details.FromRole
	}
	return e.Details.Role
}

// createToken applies token.created: only the platform operator creates a
// token for another user.
func (s *State) createToken(e *reseller.Entry) error {
	id, tid := e.Target.ID, e.Details.TokenID
	switch _, dup := s.Tokens[tid]; {
	case tid == 0:
		return fmt.Errorf("a token of user %d is created without its id", id)
	case dup:
		return fmt.Errorf("token %d already exists", tid)
	case e.Actor.Role != reseller.RolePlatform && e.Actor.ID != id:
		return fmt.Errorf("user %d creates token %d for user %d: a token acts only as the user who created it", e.Actor.ID, tid, id)
	}
	s.Tokens[tid] = TokenState{UserID: id, Name: strings.Clone(e.Details.TokenName), Created: true}
	s.tokens[id]++
	return nil
}

// revokeToken applies token.revoked.
func (s *State) revokeToken(e *reseller.Entry) error {
	id, tid := e.Target.ID, e.Details.TokenID
	t, known := s.Tokens[tid]
	switch {
	case tid == 0:
		return fmt.Errorf("a token of user %d is revoked without its id", id)
	case !known && s.TeamComplete:
		return fmt.Errorf("token %d was never created", tid)
	case !known:
		// A token from before the log recorded team actions.
		s.Tokens[tid] = TokenState{UserID: id, Name: strings.Clone(e.Details.TokenName), Revoked: true}
		return nil
	case t.UserID != id:
		return fmt.Errorf("token %d belongs to user %d, not %d", tid, t.UserID, id)
	case t.Revoked:
		return fmt.Errorf("token %d is already revoked", tid)
	case t.Name != e.Details.TokenName:
		return fmt.Errorf("token %d is named %q, but the entry says %q", tid, t.Name, e.Details.TokenName)
	}
	t.Revoked = true
	s.Tokens[tid] = t
	s.tokens[id]--
	return nil
}
