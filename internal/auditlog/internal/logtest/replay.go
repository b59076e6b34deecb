package logtest

import (
	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/auditlog/memlog"
	"github.com/resellerconsole/reseller/internal/auditlog/replay"
)

// ReplayLog replays a log from its record bytes alone.
func ReplayLog(log *memlog.Log) (*replay.State, error) {
	return replay.Log(func(fn func(*reseller.Entry) error) error {
		return log.Records(func(seq int64, rec []byte) error {
			e, err := auditlog.DecodeCanonical(rec)
			if err != nil {
				return err
			}
			return fn(e)
		})
	})
}

// CheckState asserts that a replayed state is the simulation's.
func CheckState(t Tester, s *Sim, got *replay.State) {
	t.Helper()
	if len(got.Clients) != len(s.Clients) || len(got.Licenses) != len(s.Licenses) {
		t.Fatalf("replay has %d clients and %d licenses, want %d and %d", len(got.Clients), len(got.Licenses), len(s.Clients), len(s.Licenses))
	}
	for id, c := range s.Clients {
		want := replay.ClientState{Email: c.Email, Name: c.Name, Status: c.Status}
		if got.Clients[id] != want {
			t.Fatalf("client %d: replay %+v, want %+v", id, got.Clients[id], want)
		}
	}
	for id, l := range s.Licenses {
		want := replay.LicenseState{PoolID: l.PoolID, ClientID: l.ClientID, Label: l.Label, Status: l.Status}
		if got.Licenses[id] != want {
			t.Fatalf("license %d: replay %+v, want %+v", id, got.Licenses[id], want)
		}
	}
	CheckTeam(t, s, got)
}

// CheckTeam asserts that a replayed state has the simulation's team and
// tokens, by the rule the store compares them with (package replay): every
// user and token the log mentions is as the simulation has it (a role or
// name the log has not said excepted), and every other one was there before
// the log recorded team actions.
func CheckTeam(t Tester, s *Sim, got *replay.State) {
	t.Helper()
	for id, g := range got.Users {
		u, ok := s.Users[id]
		if !ok {
			t.Fatalf("replay has user %d, which the simulation never had", id)
		}
		if g.Email != u.Email || g.Removed != s.RemovedUsers[id] || g.Added == s.Earlier[id] || (g.Role != "" || g.Added) && g.Role != u.Role {
			t.Fatalf("user %d: replay %+v, want %+v (removed %v, earlier %v)", id, g, *u, s.RemovedUsers[id], s.Earlier[id])
		}
	}
	for id := range s.Users {
		if _, ok := got.Users[id]; !ok && (!s.Earlier[id] || got.TeamComplete) {
			t.Fatalf("user %d is not in the replay", id)
		}
	}
	for id, g := range got.Tokens {
		tok, ok := s.Tokens[id]
		if !ok {
			t.Fatalf("replay has token %d, which the simulation never had", id)
		}
		if g.UserID != tok.UserID || g.Revoked != (tok.RevokedAt != nil) || g.Name != "" && g.Name != tok.Name || g.Created && g.Name != tok.Name {
			t.Fatalf("token %d: replay %+v, want %+v", id, g, *tok)
		}
	}
	for id := range s.Tokens {
		if _, ok := got.Tokens[id]; !ok && (!s.EarlierTokens[id] || got.TeamComplete) {
			t.Fatalf("token %d is not in the replay", id)
		}
	}
	if o := got.Owner(); o != 0 && s.Users[o].Role != reseller.RoleOwner {
		t.Fatalf("replay says user %d is the owner; they are %s", o, s.Users[o].Role)
	}
}
