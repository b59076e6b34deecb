package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/resellerconsole/reseller"
)

type createClientRequest struct {
	Email   string `json:"email"`
	Name    string `json:"name,omitempty"`
	SiteURL string `json:"site_url,omitempty"` // https://...
	PoolID  int64  `json:"pool_id,omitempty"`  // allocate the first license from this pool
	Label   string `json:"label,omitempty"`    // the first license's label
}

// onboardedClient is a new client, with its first license and that
// license's key when one was allocated.
type onboardedClient struct {
	reseller.Client
	License *reseller.License `json:"license,omitempty"`
}

// reasonRequest is the optional body of suspend and revoke.
type reasonRequest struct {
	Reason string `json:"reason,omitempty"`
}

// emptyRequest is the body of actions that take no input: empty, or {}.
type emptyRequest struct{}

type clientList struct {
	Clients    []*reseller.Client `json:"clients"`
	NextCursor string             `json:"next_cursor"` // "" on the last page
}

func (s *Server) listClients(w http.ResponseWriter, r *http.Request) error {
	p := query(r)
	f := reseller.ClientFilter{Status: reseller.ClientStatus(p.str("status")), Search: p.str("q"), Cursor: p.str("cursor")}
	if e := p.str("email"); e != "" {
		if f.Search != "" && f.Search != e {
			return reseller.Errorf(reseller.EINVALID, "Give q or email, not both: they are the same search.")
		}
		f.Search = e
	}
	f.Sort = p.str("sort")
	var err error
	if f.Limit, err = p.limit(); err != nil {
		return err
	}
	if v := p.str("not_seen_days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return reseller.Errorf(reseller.EINVALID, "Parameter \"not_seen_days\" is %q; give a number of days, 1 or more.", v)
		}
		f.NotSeenDays = n
	}
	cs, next, err := s.store.ListClients(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, clientList{Clients: nonNil(cs), NextCursor: next})
}

func (s *Server) createClient(w http.ResponseWriter, r *http.Request) error {
	req, err := routeBody[createClientRequest](w, r)
	if err != nil {
		return err
	}
	if req.PoolID < 0 {
		return reseller.Errorf(reseller.EINVALID, "The body's field \"pool_id\" must be a positive integer: the pool's id.")
	}
	c, l, err := s.store.OnboardClient(r.Context(), reseller.NewClient{Email: req.Email, Name: req.Name, SiteURL: req.SiteURL, PoolID: req.PoolID, Label: req.Label})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, onboardedClient{Client: *c, License: l})
}

func (s *Server) getClient(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Client")
	if err != nil {
		return err
	}
	c, err := s.store.FindClientByID(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (s *Server) suspendClient(w http.ResponseWriter, r *http.Request) error {
	return s.clientReasonAction(w, r, s.store.SuspendClient)
}

// clientReasonAction serves an action on a client whose optional body
// gives a reason for the entry.
func (s *Server) clientReasonAction(w http.ResponseWriter, r *http.Request, do func(context.Context, int64, string) (*reseller.Client, error)) error {
	id, err := pathID(r, "Client")
	if err != nil {
		return err
	}
	req, err := routeBody[reasonRequest](w, r)
	if err != nil {
		return err
	}
	c, err := do(r.Context(), id, req.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (s *Server) reactivateClient(w http.ResponseWriter, r *http.Request) error {
	return s.clientAction(w, r, s.store.ReactivateClient)
}

func (s *Server) deleteClient(w http.ResponseWriter, r *http.Request) error {
	return s.clientReasonAction(w, r, s.store.DeleteClientWithReason)
}

// clientAction serves an action on a client that takes no input.
func (s *Server) clientAction(w http.ResponseWriter, r *http.Request, do func(ctx context.Context, id int64) (*reseller.Client, error)) error {
	id, err := pathID(r, "Client")
	if err != nil {
		return err
	}
	if _, err := routeBody[emptyRequest](w, r); err != nil {
		return err
	}
	c, err := do(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
