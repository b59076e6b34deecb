package web

import (
	"net/http"
	"time"

	"github.com/resellerconsole/reseller"
)

// The team and its API tokens, for integrations that need no console. The
// store checks the role table and records each change in the audit log.

type userList struct {
	Users []*reseller.User `json:"users"`
}

type addUserRequest struct {
	Email string        `json:"email"`
	Role  reseller.Role `json:"role"`
}

// addedUser is a new user with the one-time link that sets their password.
type addedUser struct {
	ID           int64         `json:"id"`
	AccountID    int64         `json:"account_id"`
	Email        string        `json:"email"`
	Role         reseller.Role `json:"role"`
	HasPassword  bool          `json:"has_password"`
	CreatedAt    time.Time     `json:"created_at"`
	PasswordLink string        `json:"password_link"` // works once, for 72 hours; shown only now
}

type setRoleRequest struct {
	Role reseller.Role `json:"role"`
}

type tokenList struct {
	Tokens []*reseller.Token `json:"tokens"`
}

type createTokenRequest struct {
	Name string `json:"name,omitempty"`
}

// createdToken is a new token with its secret, shown only now.
type createdToken struct {
	ID        int64     `json:"id"`
	AccountID int64     `json:"account_id"`
	UserID    int64     `json:"user_id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	Token     string    `json:"token"` // send as Authorization: Bearer <token>; shown only now
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	us, err := s.store.ListUsers(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, userList{Users: nonNil(us)})
}

func (s *Server) addUser(w http.ResponseWriter, r *http.Request) error {
	req, err := routeBody[addUserRequest](w, r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	u, err := s.store.AddUser(ctx, req.Email, req.Role)
	if err != nil {
		return err
	}
	secret, err := s.store.CreatePasswordLink(ctx, u.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, addedUser{ID: u.ID, AccountID: u.AccountID, Email: u.Email, Role: u.Role, HasPassword: u.HasPassword,
		CreatedAt: u.CreatedAt, PasswordLink: s.absURL(r, "/password/"+secret)})
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "User")
	if err != nil {
		return err
	}
	u, err := s.store.FindUserByID(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, u)
}

func (s *Server) setUserRole(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "User")
	if err != nil {
		return err
	}
	req, err := routeBody[setRoleRequest](w, r)
	if err != nil {
		return err
	}
	if req.Role == reseller.RoleOwner {
		return reseller.Errorf(reseller.EINVALID, "Role owner is given by transferring ownership: POST /api/v1/users/%d/transfer-ownership.", id)
	}
	u, err := s.store.SetRole(r.Context(), id, req.Role)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, u)
}

func (s *Server) removeUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "User")
	if err != nil {
		return err
	}
	if _, err := routeBody[emptyRequest](w, r); err != nil {
		return err
	}
	ctx := r.Context()
	u, err := s.store.FindUserByID(ctx, id)
	if err != nil {
		return err
	}
	if err := s.store.RemoveUser(ctx, id); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, u)
}

func (s *Server) transferOwnership(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "User")
	if err != nil {
		return err
	}
	if _, err := routeBody[emptyRequest](w, r); err != nil {
		return err
	}
	u, err := s.store.TransferOwnership(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, u)
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.store.ListTokens(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, tokenList{Tokens: nonNil(ts)})
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	req, err := routeBody[createTokenRequest](w, r)
	if err != nil {
		return err
	}
	t, secret, err := s.store.CreateToken(r.Context(), req.Name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, createdToken{ID: t.ID, AccountID: t.AccountID, UserID: t.UserID, Name: t.Name, CreatedAt: t.CreatedAt, Token: secret})
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Token")
	if err != nil {
		return err
	}
	if _, err := routeBody[emptyRequest](w, r); err != nil {
		return err
	}
	if err := s.store.RevokeToken(r.Context(), id); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, revokedToken{ID: id, Revoked: true})
}

type revokedToken struct {
	ID      int64 `json:"id"`
	Revoked bool  `json:"revoked"`
}
