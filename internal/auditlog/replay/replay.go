// Package replay rebuilds the clients and licenses of an account from its
// audit log alone, applying the domain's rules to each entry in turn, so
// that `reseller audit check` can compare the state the log tells with the
// store's tables: a change without its entry, or an entry the rules could
// not have produced, shows. It reads entries, not record bytes, and proves
// nothing about them; that is internal/auditlog's part.
package replay

import (
	"fmt"
	"strings"

	"github.com/resellerconsole/reseller"
)

// State is the clients and licenses of an account as its log alone tells
// them. Pools are not in the log (the operator provisions them), so a
// license names its pool only by id.
type State struct {
	Clients  map[int64]ClientState
	Licenses map[int64]LicenseState
	held     map[int64]int // active licenses per client, so replay stays linear
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

// Log rebuilds the state of clients and licenses from an account's whole
// log, from seq 1 on. Comparing it with the store's tables proves that the
// log tells the whole story: every change has its entry. A sequence that the
// domain rules could not have produced (suspending a deleted client, a
// license revoked twice, a client deleted while it still holds a license,
// a gap in seqs) is an error naming the seq.
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
	return &State{Clients: map[int64]ClientState{}, Licenses: map[int64]LicenseState{}, held: map[int64]int{}}
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
		l, ok := s.Licenses[lid]
		switch {
		case !ok:
			return fmt.Errorf("license %d was never allocated", lid)
		case l.ClientID != id:
			return fmt.Errorf("license %d belongs to client %d, not %d", lid, l.ClientID, id)
		case l.Status != reseller.LicenseActive:
			return fmt.Errorf("license %d is already revoked", lid)
		}
		if err := c.Status.Check(reseller.DoRevoke); err != nil {
			return err
		}
		l.Status = reseller.LicenseRevoked
		s.Licenses[lid] = l
		s.held[id]--
	default:
		return fmt.Errorf("unknown action %q", e.Action)
	}
	return nil
}
