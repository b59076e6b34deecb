package replay_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog/internal/logtest"
	"github.com/resellerconsole/reseller/internal/auditlog/replay"
)

// TestReplayTeam: a new account's log, whose first team entry adds the
// owner, holds the team's whole history.
func TestReplayTeam(t *testing.T) {
	s := logtest.TeamStory(t, 42)
	got, err := replayLog(s.Log)
	if err != nil {
		t.Fatal(err)
	}
	checkState(t, s, got)
	if !got.TeamComplete || got.TeamSince != 1 || !got.TeamSinceTime.Equal(s.Entries[0].Time) {
		t.Errorf("TeamComplete %v, TeamSince %d at %v", got.TeamComplete, got.TeamSince, got.TeamSinceTime)
	}
	want := map[int64]replay.UserState{
		101: {Email: "olivia@acme.test", Role: reseller.RoleOperator, Added: true}, // owner, then admin by the transfer, then operator
		102: {Email: "dave@acme.test", Role: reseller.RoleOwner, Added: true},
		103: {Email: "erin@acme.test", Role: reseller.RoleAuditor, Removed: true, Added: true},
	}
	if d := cmp.Diff(want, got.Users); d != "" {
		t.Errorf("users (-want +got):\n%s", d)
	}
	wantTokens := map[int64]replay.TokenState{
		104: {UserID: 102, Name: `CI "deploy" <main>`, Revoked: true, Created: true},
		107: {UserID: 103, Name: "read-only", Revoked: true, Created: true},
	}
	if d := cmp.Diff(wantTokens, got.Tokens); d != "" {
		t.Errorf("tokens (-want +got):\n%s", d)
	}
	if got.Owner() != 102 || got.ActiveTokens(102) != 0 {
		t.Errorf("owner %d, active tokens of 102: %d", got.Owner(), got.ActiveTokens(102))
	}
}

// upgraded is the story's log of version 1 records, from before team
// actions were logged, continued in version 2 with team actions on users and
// tokens that no entry introduced.
func upgraded(t *testing.T) (*sim, map[string]*reseller.User) {
	s := story(t, 42)
	s.Version = 2
	alice := s.Existing(7, "alice@acme.test", reseller.RoleOwner)
	bob := s.Existing(8, "bob@acme.test", reseller.RoleAdmin)
	carol := s.Existing(9, "carol@acme.test", reseller.RoleOperator)
	s.ExistingToken(bob, 3, "curl")
	s.ExistingToken(carol, 5, "")
	s.Actor = logtest.WebActor // alice
	s.SetRole(carol, reseller.RoleAuditor)
	s.RevokeToken(s.Tokens[3])
	dan := s.AddUser("dan@acme.test", reseller.RoleOperator)
	s.Actor = logtest.OperatorActor
	s.PasswordLink(alice)
	s.CreateToken(dan, "deploy")
	s.TransferOwnership(dan)
	return s, map[string]*reseller.User{"alice": alice, "bob": bob, "carol": carol, "dan": dan}
}

// TestReplayUpgraded: users and tokens from before the first team entry are
// taken as the log first mentions them, with what it says of them.
func TestReplayUpgraded(t *testing.T) {
	s, _ := upgraded(t)
	got, err := replayLog(s.Log)
	if err != nil {
		t.Fatal(err)
	}
	checkState(t, s, got)
	if got.TeamComplete || got.TeamSince != 13 || !got.TeamSinceTime.Equal(s.Entries[12].Time) {
		t.Errorf("TeamComplete %v, TeamSince %d", got.TeamComplete, got.TeamSince)
	}
	want := map[int64]replay.UserState{
		7:   {Email: "alice@acme.test"},                             // mentioned by the link; her role never said
		8:   {Email: "bob@acme.test"},                               // the target of his token's revocation
		9:   {Email: "carol@acme.test", Role: reseller.RoleAuditor}, // adopted by the role change
		107: {Email: "dan@acme.test", Role: reseller.RoleOwner, Added: true},
	}
	if d := cmp.Diff(want, got.Users); d != "" {
		t.Errorf("users (-want +got):\n%s", d)
	}
	// Carol's token 5 is not mentioned.
	if tok, ok := got.Tokens[3]; !ok || tok != (replay.TokenState{UserID: 8, Name: "curl", Revoked: true}) {
		t.Errorf("token 3: %+v, %v", tok, ok)
	}
	if _, ok := got.Tokens[5]; ok {
		t.Error("token 5 is mentioned")
	}
	if got.Owner() != 107 {
		t.Errorf("owner %d", got.Owner())
	}
}

func TestReplayTeamImpossible(t *testing.T) {
	target := func(u *reseller.User) reseller.Target {
		return reseller.Target{Type: reseller.TargetUser, ID: u.ID, Email: u.Email}
	}
	// newTeam starts a new account: the operator adds the owner; then the
	// owner acts.
	newTeam := func(s *sim) (owner *reseller.User) {
		s.Actor = logtest.OperatorActor
		owner = s.AddUser("owner@acme.test", reseller.RoleOwner)
		s.Actor = logtest.As(owner, nil)
		return owner
	}
	cases := map[string]struct {
		build   func(s *sim)
		errPart string
	}{
		"role change of an unknown user": {func(s *sim) {
			newTeam(s)
			s.SetRole(&reseller.User{ID: 55, Email: "ghost@acme.test", Role: reseller.RoleAdmin}, reseller.RoleOperator)
		}, "seq 2 (user.role_changed): user 55 was never added"},
		"a second owner": {func(s *sim) {
			newTeam(s)
			s.AddUser("other@acme.test", reseller.RoleOwner)
		}, "seq 2 (user.added): user 102 is added as a second owner"},
		"an owner added to an older account": {func(s *sim) {
			s.Existing(7, "alice@acme.test", reseller.RoleOwner)
			s.PasswordLink(s.Users[7])
			s.AddUser("other@acme.test", reseller.RoleOwner)
		}, "seq 2 (user.added): user 101 is added as a second owner"},
		"revoke a revoked token": {func(s *sim) {
			o := newTeam(s)
			tok := s.CreateToken(o, "ci")
			s.RevokeToken(tok)
			s.RevokeToken(tok)
		}, "seq 4 (token.revoked): token 102 is already revoked"},
		"revoke a token never created": {func(s *sim) {
			o := newTeam(s)
			s.AddEntry(reseller.ActionTokenRevoked, target(o), reseller.Details{TokenID: 9})
		}, "seq 2 (token.revoked): token 9 was never created"},
		"revoke another user's token": {func(s *sim) {
			o := newTeam(s)
			u := s.AddUser("u@acme.test", reseller.RoleAdmin)
			tok := s.CreateToken(o, "ci")
			s.AddEntry(reseller.ActionTokenRevoked, target(u), reseller.Details{TokenID: tok.ID, TokenName: "ci"})
		}, "token 103 belongs to user 101, not 102"},
		"revoke under another name": {func(s *sim) {
			o := newTeam(s)
			tok := s.CreateToken(o, "ci")
			tok.Name = "cd"
			s.RevokeToken(tok)
		}, `token 102 is named "ci", but the entry says "cd"`},
		"a token created twice": {func(s *sim) {
			o := newTeam(s)
			tok := s.CreateToken(o, "ci")
			s.AddEntry(reseller.ActionTokenCreated, target(o), reseller.Details{TokenID: tok.ID})
		}, "token 102 already exists"},
		"a token without its id": {func(s *sim) {
			o := newTeam(s)
			s.AddEntry(reseller.ActionTokenCreated, target(o), reseller.Details{TokenName: "x"})
		}, "a token of user 101 is created without its id"},
		"a token created for someone else": {func(s *sim) {
			o := newTeam(s)
			admin := s.AddUser("admin@acme.test", reseller.RoleAdmin)
			s.Actor = logtest.As(admin, nil)
			s.CreateToken(o, "as the owner")
		}, "user 102 creates token 103 for user 101: a token acts only as the user who created it"},
		"a token acting as another user": {func(s *sim) {
			o := newTeam(s)
			admin := s.AddUser("admin@acme.test", reseller.RoleAdmin)
			s.Actor = logtest.As(admin, nil)
			tok := s.CreateToken(admin, "mine")
			s.Actor = logtest.As(o, tok)
			s.Create("c@x.example", "")
		}, "seq 4 (client.created): token 103 of user 102 acts as user 101"},
		"a revoked token acts": {func(s *sim) {
			o := newTeam(s)
			tok := s.CreateToken(o, "ci")
			s.RevokeToken(tok)
			s.Actor = logtest.As(o, tok)
			s.Create("c@x.example", "")
		}, "seq 4 (client.created): token 102 acts after it was revoked"},
		"a removed user acts": {func(s *sim) {
			newTeam(s)
			u := s.AddUser("u@acme.test", reseller.RoleAdmin)
			s.RemoveUser(u)
			s.Actor = logtest.As(u, nil)
			s.Create("c@x.example", "")
		}, "seq 4 (client.created): user 102 acts after they were removed"},
		"a removed user's role changes": {func(s *sim) {
			newTeam(s)
			u := s.AddUser("u@acme.test", reseller.RoleAdmin)
			s.RemoveUser(u)
			s.SetRole(u, reseller.RoleOperator)
		}, "seq 4 (user.role_changed): user 102 was removed"},
		"a user removed with a token": {func(s *sim) {
			newTeam(s)
			u := s.AddUser("u@acme.test", reseller.RoleAdmin)
			s.Actor = logtest.As(u, nil)
			s.CreateToken(u, "ci")
			s.AddEntry(reseller.ActionUserRemoved, target(u), reseller.Details{Role: reseller.RoleAdmin})
		}, "user 102 is removed while they still hold 1 API tokens"},
		"the owner removed": {func(s *sim) {
			o := newTeam(s)
			s.RemoveUser(o)
		}, "user 101 is removed, but they are the owner"},
		"a role change from the wrong role": {func(s *sim) {
			newTeam(s)
			u := s.AddUser("u@acme.test", reseller.RoleAdmin)
			u.Role = reseller.RoleAuditor
			s.SetRole(u, reseller.RoleOperator)
		}, "user 102 has role admin, but the entry says auditor"},
		"a role change to owner": {func(s *sim) {
			newTeam(s)
			u := s.AddUser("u@acme.test", reseller.RoleAdmin)
			s.SetRole(u, reseller.RoleOwner)
		}, "ownership changes only by ownership.transferred"},
		"a role change to the same role": {func(s *sim) {
			newTeam(s)
			u := s.AddUser("u@acme.test", reseller.RoleAdmin)
			s.SetRole(u, reseller.RoleAdmin)
		}, `role change of user 102 from "admin" to "admin"`},
		"an unknown role": {func(s *sim) {
			newTeam(s)
			s.AddUser("u@acme.test", "superuser")
		}, `user 102 is added with role "superuser", which is not a role`},
		"ownership to the owner": {func(s *sim) {
			o := newTeam(s)
			s.TransferOwnership(o) // the simulation demotes them first
		}, "seq 2 (ownership.transferred): user 101 has role owner, but the entry says admin"},
		"ownership from owner to owner": {func(s *sim) {
			o := newTeam(s)
			s.AddEntry(reseller.ActionOwnershipTransferred, target(o), reseller.Details{FromRole: reseller.RoleOwner, ToRole: reseller.RoleOwner})
		}, `ownership transferred to user 101 from role "owner" to "owner"`},
		"added twice": {func(s *sim) {
			o := newTeam(s)
			s.AddEntry(reseller.ActionUserAdded, target(o), reseller.Details{Role: reseller.RoleAdmin})
		}, "user 101 already exists"},
		"email changed": {func(s *sim) {
			newTeam(s)
			u := s.AddUser("u@acme.test", reseller.RoleAdmin)
			u.Email = "v@acme.test"
			s.PasswordLink(u)
		}, `user 102 has email "u@acme.test", but the entry says "v@acme.test"`},
		"a team action on a client": {func(s *sim) {
			newTeam(s)
			s.AddEntry(reseller.ActionUserAdded, reseller.Target{Type: reseller.TargetClient, ID: 5, Email: "c@x.example"}, reseller.Details{Role: reseller.RoleAdmin})
		}, `seq 2 (user.added): the target is of type "client", not "user"`},
		"a client action on a user": {func(s *sim) {
			o := newTeam(s)
			s.AddEntry(reseller.ActionClientCreated, target(o), reseller.Details{})
		}, `seq 2 (client.created): the target is of type "user", not "client"`},
		"the operator with an id": {func(s *sim) {
			newTeam(s)
			s.Actor = reseller.EntryActor{ID: 7, Email: "alice@acme.test", Role: reseller.RolePlatform, Via: reseller.ViaCLI}
			s.Create("c@x.example", "")
		}, `the platform operator acts as user 7 ("alice@acme.test") via cli`},
		"an unknown team action": {func(s *sim) {
			o := newTeam(s)
			s.AddEntry("user.renamed", target(o), reseller.Details{})
		}, `unknown action "user.renamed"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := newSim(t, 42)
			tc.build(s)
			_, err := replayLog(s.Log)
			if err == nil || !strings.Contains(err.Error(), tc.errPart) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tc.errPart)
			}
		})
	}
}

// TestApplyLeavesStateOnError: an entry the rules refuse changes nothing.
func TestApplyLeavesStateOnError(t *testing.T) {
	s := logtest.TeamStory(t, 42)
	st := replay.NewState()
	for _, e := range s.Entries {
		if err := st.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	dave := s.Users[102]
	bad := []*reseller.Entry{
		{Seq: 99, Action: reseller.ActionOwnershipTransferred, Target: reseller.Target{Type: "user", ID: 101, Email: "olivia@acme.test"},
			Details: reseller.Details{FromRole: reseller.RoleAdmin, ToRole: reseller.RoleOwner}}, // olivia is an operator
		{Seq: 99, Action: reseller.ActionTokenRevoked, Target: reseller.Target{Type: "user", ID: 102, Email: dave.Email},
			Details: reseller.Details{TokenID: 104, TokenName: `CI "deploy" <main>`}},
		{Seq: 99, Action: reseller.ActionUserAdded, Target: reseller.Target{Type: "user", ID: 200, Email: "x@acme.test"},
			Details: reseller.Details{Role: reseller.RoleOwner}},
	}
	opts := []cmp.Option{cmp.AllowUnexported(replay.State{}), cmpopts.EquateEmpty()}
	for _, e := range bad {
		before := replay.NewState()
		for _, e := range s.Entries {
			before.Apply(e)
		}
		if err := st.Apply(e); err == nil {
			t.Fatalf("%s applies", e.Action)
		}
		if d := cmp.Diff(before, st, opts...); d != "" {
			t.Fatalf("%s changed the state (-before +after):\n%s", e.Action, d)
		}
	}
}
