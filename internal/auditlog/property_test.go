package auditlog_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/auditlog/internal/logtest"
	"github.com/resellerconsole/reseller/internal/auditlog/logcheck"
	"pgregory.net/rapid"
)

// randomHistory plays a random sequence of actions that the domain rules
// allow, through the same simulation the other tests use. Its log may start
// with version 1 records, from before team actions were logged; when it
// does not, the platform operator may add the owner first, and then team
// actions come between the client actions.
func randomHistory(t *rapid.T) *sim {
	s := newSim(t, rapid.Int64Range(1, 1<<40).Draw(t, "account"))
	n := rapid.IntRange(1, 60).Draw(t, "actions")
	old := rapid.IntRange(0, n).Draw(t, "version 1 entries")
	if old > 0 {
		s.Version = 1
	}
	var owner *reseller.User
	if old == 0 && rapid.Bool().Draw(t, "team") {
		s.Actor = logtest.OperatorActor
		owner = s.AddUser("owner@acme.test", reseller.RoleOwner)
		s.Actor = logtest.As(owner, nil)
	}
	for i := range n {
		if i == old {
			s.Version = auditlog.RecordVersion
		}
		if owner != nil && rapid.IntRange(0, 2).Draw(t, "team action") == 0 {
			teamStep(t, s)
			continue
		}
		ids := sortedIDs(s.Clients)
		if len(ids) == 0 || rapid.IntRange(0, 5).Draw(t, "create") == 0 {
			s.Create(fmt.Sprintf("c%d@x.example", len(ids)), rapid.SampledFrom([]string{"", "Acme", "Zoë & <Co>"}).Draw(t, "name"))
			continue
		}
		c := s.Clients[rapid.SampledFrom(ids).Draw(t, "client")]
		switch rapid.IntRange(0, 4).Draw(t, "action") {
		case 0:
			s.Do(c, reseller.DoSuspend, rapid.SampledFrom([]string{"", "unpaid", "line\nbreak"}).Draw(t, "reason"))
		case 1:
			s.Do(c, reseller.DoReactivate, "")
		case 2:
			s.Do(c, reseller.DoDelete, "")
		case 3:
			s.Allocate(c, rapid.Int64Range(1, 3).Draw(t, "pool"), rapid.SampledFrom([]string{"", "site.example"}).Draw(t, "label"))
		case 4:
			for _, id := range sortedIDs(s.Licenses) {
				if l := s.Licenses[id]; l.ClientID == c.ID && l.Status == reseller.LicenseActive {
					s.Revoke(l, "")
					break
				}
			}
		}
	}
	return s
}

// teamStep plays a random team action the rules allow, by the owner or the
// platform operator (or, for a token, by its user).
func teamStep(t *rapid.T, s *sim) {
	var team, others []*reseller.User // active users; those who are not the owner
	var owner *reseller.User
	for _, id := range sortedIDs(s.Users) {
		if u := s.Users[id]; !s.RemovedUsers[id] {
			team = append(team, u)
			if u.Role == reseller.RoleOwner {
				owner = u
			} else {
				others = append(others, u)
			}
		}
	}
	var tokens []*reseller.Token
	for _, id := range sortedIDs(s.Tokens) {
		if tok := s.Tokens[id]; tok.RevokedAt == nil {
			tokens = append(tokens, tok)
		}
	}
	s.Actor = logtest.As(owner, nil)
	if rapid.Bool().Draw(t, "by the operator") {
		s.Actor = logtest.OperatorActor
	}
	roles := []reseller.Role{reseller.RoleAdmin, reseller.RoleOperator, reseller.RoleAuditor}
	switch a := rapid.IntRange(0, 6).Draw(t, "team"); {
	case a == 0 || len(others) == 0:
		s.AddUser(fmt.Sprintf("u%d@acme.test", s.NextID), rapid.SampledFrom(roles).Draw(t, "role"))
	case a == 1:
		u := rapid.SampledFrom(others).Draw(t, "user")
		if r := rapid.SampledFrom(roles).Draw(t, "to"); r != u.Role {
			s.SetRole(u, r)
		}
	case a == 2:
		s.TransferOwnership(rapid.SampledFrom(others).Draw(t, "new owner"))
	case a == 3:
		s.RemoveUser(rapid.SampledFrom(others).Draw(t, "removed"))
	case a == 4:
		u := rapid.SampledFrom(team).Draw(t, "token user")
		if rapid.Bool().Draw(t, "for themselves") {
			s.Actor = logtest.As(u, nil)
		} else {
			s.Actor = logtest.OperatorActor
		}
		s.CreateToken(u, rapid.SampledFrom([]string{"", "ci", "Zoë \"deploy\""}).Draw(t, "token name"))
	case a == 5 && len(tokens) > 0:
		s.RevokeToken(rapid.SampledFrom(tokens).Draw(t, "token"))
	default:
		s.PasswordLink(rapid.SampledFrom(team).Draw(t, "link"))
	}
	// The next client action is the owner's, whoever it is now.
	for _, u := range s.Users {
		if u.Role == reseller.RoleOwner {
			s.Actor = logtest.As(u, nil)
		}
	}
}

// TestLogProperties: for any history the rules allow, the log verifies as a
// whole and as any selection, replays to the same state, and any one-byte
// change to a record or to the checkpoint is caught.
func TestLogProperties(t *testing.T) {
	signer, vkey := testKey(t, 1)
	rapid.Check(t, func(t *rapid.T) {
		s := randomHistory(t)
		size := s.Log.Size()
		opts := auditlog.VerifyOptions{VerifierKey: vkey}

		full := s.Bundle(t, signer, vkey, nil, 0)
		if sum, err := auditlog.VerifyBundle(bytes.NewReader(full), opts); err != nil || !sum.Complete {
			t.Fatalf("full bundle: %+v, %v", sum, err)
		}
		seqs := []int64{}
		for i := int64(1); i <= size; i++ {
			if rapid.Bool().Draw(t, "pick") {
				seqs = append(seqs, i)
			}
		}
		since := rapid.Int64Range(0, size).Draw(t, "since")
		sub := s.Bundle(t, signer, vkey, seqs, since)
		o := opts
		if since > 0 {
			o.Since = signedAt(t, s, since, signer)
		}
		if sum, err := auditlog.VerifyBundle(bytes.NewReader(sub), o); err != nil || sum.Entries != len(seqs) {
			t.Fatalf("bundle of %v since %d: %+v, %v", seqs, since, sum, err)
		}
		state, err := replayLog(s.Log)
		if err != nil {
			t.Fatal(err)
		}
		checkState(t, s, state)
		if state.TeamComplete {
			owners := 0
			for id, u := range state.Users {
				if u.Role == reseller.RoleOwner && !u.Removed {
					owners++
					if id != state.Owner() {
						t.Fatalf("user %d is an owner, but Owner says %d", id, state.Owner())
					}
				}
			}
			if owners != 1 {
				t.Fatalf("the replayed team has %d owners", owners)
			}
		}
		cp, _ := s.Log.Checkpoint("")
		if err := logcheck.Check(size, s.Log.Records, s.Log, []auditlog.Checkpoint{cp}); err != nil {
			t.Fatal(err)
		}

		// One byte of one record changed: the bundle and the stored log both
		// say so.
		seq := rapid.Int64Range(1, size).Draw(t, "mutate seq")
		rec := s.Log.Record(seq)
		bad := append([]byte(nil), rec...)
		at := rapid.IntRange(0, len(bad)-1).Draw(t, "at")
		bad[at] ^= byte(rapid.IntRange(1, 255).Draw(t, "xor"))
		tampered := bytes.Replace(full, auditlog.AppendJSONString(nil, rec), auditlog.AppendJSONString(nil, bad), 1)
		if _, err := auditlog.VerifyBundle(bytes.NewReader(tampered), opts); err == nil {
			t.Fatalf("a bundle with seq %d's byte %d changed verifies", seq, at)
		}
		r := rowsOf(s.Log)
		r.Records[seq-1] = bad
		if err := logcheck.Check(size, r.Stream, s.Log, []auditlog.Checkpoint{cp}); err == nil {
			t.Fatalf("a log with seq %d's byte %d changed passes logcheck.Check", seq, at)
		}

		// One byte of the signed checkpoint changed.
		signed := s.Signed(t, signer)
		badCP := append([]byte(nil), signed...)
		at = rapid.IntRange(0, len(badCP)-1).Draw(t, "cp at")
		badCP[at] ^= byte(rapid.IntRange(1, 255).Draw(t, "cp xor"))
		if c, err := auditlog.OpenCheckpoint(badCP, vkey, ""); err == nil {
			t.Fatalf("checkpoint with byte %d changed opens: %+v\n%q", at, c, badCP)
		}
		tampered = bytes.Replace(full, auditlog.AppendJSONString(nil, signed), auditlog.AppendJSONString(nil, badCP), 1)
		if _, err := auditlog.VerifyBundle(bytes.NewReader(tampered), opts); err == nil {
			t.Fatalf("a bundle with checkpoint byte %d changed verifies", at)
		}
	})
}
