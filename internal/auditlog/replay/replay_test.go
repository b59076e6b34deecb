package replay_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog/replay"
)

func TestReplay(t *testing.T) {
	s := story(t, 42)
	got, err := replayLog(s.Log)
	if err != nil {
		t.Fatal(err)
	}
	checkState(t, s, got)
	if n := got.ActiveLicenses(102); n != 0 {
		t.Errorf("client 102 holds %d licenses, want 0", n)
	}
}

func TestReplayImpossible(t *testing.T) {
	// Each case builds a valid prefix and then one entry the rules forbid,
	// bypassing the simulation's checks.
	cases := map[string]struct {
		build   func(s *sim)
		errPart string
	}{
		"suspend a deleted client": {func(s *sim) {
			c := s.Create("a@x.example", "")
			s.Do(c, reseller.DoDelete, "")
			s.Add(reseller.ActionClientSuspended, c, reseller.Details{})
		}, "seq 3 (client.suspended): invalid_transition: Cannot suspend a client that is deleted."},
		"reactivate an active client": {func(s *sim) {
			c := s.Create("a@x.example", "")
			s.Add(reseller.ActionClientReactivated, c, reseller.Details{})
		}, "Cannot reactivate a client that is active."},
		"allocate to a suspended client": {func(s *sim) {
			c := s.Create("a@x.example", "")
			s.Do(c, reseller.DoSuspend, "")
			s.Add(reseller.ActionLicenseAllocated, c, reseller.Details{PoolID: 1, LicenseID: 9})
		}, "client is suspended"},
		"revoke twice": {func(s *sim) {
			c := s.Create("a@x.example", "")
			l := s.Allocate(c, 1, "")
			s.Revoke(l, "")
			s.Revoke(l, "")
		}, "license 102 is already revoked"},
		"delete while holding a license": {func(s *sim) {
			c := s.Create("a@x.example", "")
			s.Allocate(c, 1, "")
			s.Add(reseller.ActionClientDeleted, c, reseller.Details{})
		}, "still holds 1 licenses"},
		"action on an unknown client": {func(s *sim) {
			s.Add(reseller.ActionClientSuspended, &reseller.Client{ID: 5, Email: "ghost@x.example"}, reseller.Details{})
		}, "client 5 was never created"},
		"created twice": {func(s *sim) {
			c := s.Create("a@x.example", "")
			s.Add(reseller.ActionClientCreated, c, reseller.Details{})
		}, "client 101 already exists"},
		"revoke another client's license": {func(s *sim) {
			a := s.Create("a@x.example", "")
			b := s.Create("b@x.example", "")
			l := s.Allocate(a, 1, "")
			l.ClientID = b.ID
			s.Revoke(l, "")
		}, "license 103 belongs to client 101, not 102"},
		"email changed": {func(s *sim) {
			c := s.Create("a@x.example", "")
			c.Email = "b@x.example"
			s.Do(c, reseller.DoSuspend, "")
		}, `client 101 has email "a@x.example", but the entry says "b@x.example"`},
		"unknown action": {func(s *sim) {
			c := s.Create("a@x.example", "")
			s.Add("client.renamed", c, reseller.Details{})
		}, `unknown action "client.renamed"`},
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

	t.Run("gap in seqs", func(t *testing.T) {
		s := story(t, 42)
		_, err := replay.Log(func(fn func(*reseller.Entry) error) error {
			for _, e := range s.Entries {
				if e.Seq != 4 {
					if err := fn(e); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err == nil || !strings.Contains(err.Error(), "seq 4: replay needs every entry in order, but seq 5 came next") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("another account", func(t *testing.T) {
		a, b := story(t, 42), story(t, 43)
		_, err := replay.Log(func(fn func(*reseller.Entry) error) error {
			fn(a.Entries[0])
			return fn(b.Entries[1])
		})
		if err == nil || !strings.Contains(err.Error(), fmt.Sprint("seq 2: entry of account 43 in the log of account 42")) {
			t.Fatalf("err = %v", err)
		}
	})
}
