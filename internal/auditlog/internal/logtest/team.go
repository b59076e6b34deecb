package logtest

import (
	"github.com/resellerconsole/reseller"
)

// OperatorActor is the platform operator acting through the CLI, as
// entries name it.
var OperatorActor = reseller.EntryActor{ID: 0, Email: "", Role: reseller.RolePlatform, Via: reseller.ViaCLI}

// userTarget is the target of a team action on u.
func userTarget(u *reseller.User) reseller.Target {
	return reseller.Target{Type: reseller.TargetUser, ID: u.ID, Email: u.Email}
}

// Existing puts a user on the team without an entry: one from before the
// log recorded team actions.
func (s *Sim) Existing(id int64, email string, role reseller.Role) *reseller.User {
	u := &reseller.User{ID: id, AccountID: s.Account, Email: email, Role: role}
	s.Users[id] = u
	if s.Earlier == nil {
		s.Earlier = map[int64]bool{}
	}
	s.Earlier[id] = true
	return u
}

// ExistingToken gives u a token without an entry: one from before the log
// recorded team actions.
func (s *Sim) ExistingToken(u *reseller.User, id int64, name string) *reseller.Token {
	t := &reseller.Token{ID: id, AccountID: s.Account, UserID: u.ID, Name: name}
	s.Tokens[id] = t
	if s.EarlierTokens == nil {
		s.EarlierTokens = map[int64]bool{}
	}
	s.EarlierTokens[id] = true
	return t
}

// AddUser adds a user with role.
func (s *Sim) AddUser(email string, role reseller.Role) *reseller.User {
	s.NextID++
	u := &reseller.User{ID: s.NextID, AccountID: s.Account, Email: email, Role: role}
	s.Users[u.ID] = u
	s.AddEntry(reseller.ActionUserAdded, userTarget(u), reseller.Details{Role: role})
	return u
}

// SetRole changes u's role to one other than owner.
func (s *Sim) SetRole(u *reseller.User, role reseller.Role) {
	from := u.Role
	u.Role = role
	s.AddEntry(reseller.ActionUserRoleChanged, userTarget(u), reseller.Details{FromRole: from, ToRole: role})
}

// TransferOwnership makes u the owner; the previous owner becomes an admin.
func (s *Sim) TransferOwnership(u *reseller.User) {
	for _, id := range SortedIDs(s.Users) {
		if o := s.Users[id]; o.Role == reseller.RoleOwner && !s.RemovedUsers[id] {
			o.Role = reseller.RoleAdmin
		}
	}
	from := u.Role
	u.Role = reseller.RoleOwner
	s.AddEntry(reseller.ActionOwnershipTransferred, userTarget(u), reseller.Details{FromRole: from, ToRole: reseller.RoleOwner})
}

// RemoveUser revokes u's tokens, each with its entry, then removes u.
func (s *Sim) RemoveUser(u *reseller.User) {
	for _, id := range SortedIDs(s.Tokens) {
		if t := s.Tokens[id]; t.UserID == u.ID && t.RevokedAt == nil {
			s.RevokeToken(t)
		}
	}
	if s.RemovedUsers == nil {
		s.RemovedUsers = map[int64]bool{}
	}
	s.RemovedUsers[u.ID] = true
	s.AddEntry(reseller.ActionUserRemoved, userTarget(u), reseller.Details{Role: u.Role})
}

// CreateToken creates an API token for u.
func (s *Sim) CreateToken(u *reseller.User, name string) *reseller.Token {
	s.NextID++
	t := &reseller.Token{ID: s.NextID, AccountID: s.Account, UserID: u.ID, Name: name}
	s.Tokens[t.ID] = t
	s.AddEntry(reseller.ActionTokenCreated, userTarget(u), reseller.Details{TokenID: t.ID, TokenName: name})
	return t
}

// RevokeToken revokes t.
func (s *Sim) RevokeToken(t *reseller.Token) {
	now := s.Now
	t.RevokedAt = &now
	s.AddEntry(reseller.ActionTokenRevoked, userTarget(s.Users[t.UserID]), reseller.Details{TokenID: t.ID, TokenName: t.Name})
}

// PasswordLink creates a set-password link for u.
func (s *Sim) PasswordLink(u *reseller.User) {
	s.AddEntry(reseller.ActionPasswordLinkCreated, userTarget(u), reseller.Details{})
}

// As returns the actor of u acting through the console, or through the API
// with token t when t is not nil.
func As(u *reseller.User, t *reseller.Token) reseller.EntryActor {
	if t == nil {
		return reseller.EntryActor{ID: u.ID, Email: u.Email, Role: u.Role, Via: reseller.ViaWeb, IP: "203.0.113.9", RequestID: "req-0003"}
	}
	return reseller.EntryActor{ID: u.ID, Email: u.Email, Role: u.Role, Via: reseller.ViaAPI, TokenID: t.ID, IP: "2001:db8::7", RequestID: "req-0004"}
}

// TeamStory plays a new account's history in record version 2: the platform
// operator adds the owner, and then every team action happens, by the
// operator, by the owner and by users acting for themselves, with client
// actions between them.
func TeamStory(tb Tester, account int64) *Sim {
	s := NewSim(tb, account)
	s.Actor = OperatorActor
	olivia := s.AddUser("olivia@acme.test", reseller.RoleOwner)
	s.PasswordLink(olivia)
	s.Actor = As(olivia, nil)
	dave := s.AddUser("dave@acme.test", reseller.RoleOperator)
	erin := s.AddUser("erin@acme.test", reseller.RoleAuditor)
	s.SetRole(dave, reseller.RoleAdmin)
	s.Actor = As(dave, nil)
	tok := s.CreateToken(dave, "CI \"deploy\" <main>")
	s.Actor = As(dave, tok)
	c := s.Create("ops@bakery.example", "Bakery")
	s.Allocate(c, 3, "www.bakery.example")
	s.Actor = OperatorActor
	other := s.CreateToken(erin, "read-only")
	s.TransferOwnership(dave)
	s.Actor = As(dave, nil)
	s.RevokeToken(tok)
	s.RemoveUser(erin) // revokes the token "other" first
	_ = other
	s.SetRole(olivia, reseller.RoleOperator)
	s.Do(c, reseller.DoSuspend, "unpaid")
	return s
}
