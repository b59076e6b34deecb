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
}
