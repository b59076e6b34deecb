package web

import (
	"fmt"
	"net/http"

	"github.com/resellerconsole/reseller"
)

type teamData struct {
	page
	Users  []*reseller.User
	Tokens []*tokenRow
	// AddRoles are the roles a new user may get (the one owner is never added).
	AddRoles []reseller.Role
}

type tokenRow struct {
	*reseller.Token
	User string // the email of the token's user
}

// secretData shows a secret once: a set-password link or an API token.
type secretData struct {
	page
	Heading string
	Intro   string
	Label   string
	Secret  string
	Note    string
	// Back and BackText lead on from the page; the team by default.
	Back, BackText string
	Key            bool // a license key: the page says where it goes
}

// teamPage lists the team and its API tokens, for those who manage them.
func (s *Server) teamPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderTeam(w, r, nil, http.StatusOK)
}

func (s *Server) renderTeam(w http.ResponseWriter, r *http.Request, f *form, status int) error {
	ctx := r.Context()
	if err := allowed(r, reseller.PermManageTeam); err != nil {
		return err
	}
	// ListTokens checks the role in the store; it runs first so that a
	// refusal comes from there too.
	ts, err := s.store.ListTokens(ctx)
	if err != nil {
		return err
	}
	us, err := s.store.ListUsers(ctx)
	if err != nil {
		return err
	}
	emails := map[int64]string{}
	for _, u := range us {
		emails[u.ID] = u.Email
	}
	d := &teamData{page: s.newPage(w, r, "Team", "team"), Users: us,
		AddRoles: []reseller.Role{reseller.RoleAdmin, reseller.RoleOperator, reseller.RoleAuditor}}
	d.Form = f
	for _, t := range ts {
		email := emails[t.UserID]
		if email == "" {
			email = fmt.Sprintf("user %d (removed)", t.UserID)
		}
		d.Tokens = append(d.Tokens, &tokenRow{Token: t, User: email})
	}
	return s.render(w, r, status, "team.html", d)
}

// teamForm shows a user error on the team page, on its form; other errors
// (a refusal, say) become error pages.
func (s *Server) teamForm(w http.ResponseWriter, r *http.Request, name string, err error) error {
	if userError(err) {
		return s.renderTeam(w, r, &form{Name: name, Values: r.PostForm, Err: reseller.ErrorMessage(err)}, statusOf(err))
	}
	return err
}

// addUserForm adds a user and shows their one-time set-password link:
// there is no mail, so the admin hands it over.
func (s *Server) addUserForm(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	u, err := s.store.AddUser(ctx, r.PostForm.Get("email"), reseller.Role(r.PostForm.Get("role")))
	if err != nil {
		return s.teamForm(w, r, "add-user", err)
	}
	secret, err := s.store.CreatePasswordLink(ctx, u.ID)
	if err != nil {
		return err
	}
	return s.showSecret(w, r, &secretData{Heading: fmt.Sprintf("%s is on the team", u.Email),
		Intro: fmt.Sprintf("%s was added as %s. Send them this link so that they can set their password and sign in.", u.Email, u.Role),
		Label: "Set-password link", Secret: s.absURL(r, "/password/"+secret),
		Note: "The link works once, for 72 hours. It is shown only now: copy it before you leave this page. If it gets lost, make a new one from the team page."})
}

// passwordLinkForm makes a new set-password link for a user who lost
// theirs or forgot their password.
func (s *Server) passwordLinkForm(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r, "User")
	if err != nil {
		return err
	}
	u, err := s.store.FindUserByID(ctx, id)
	if err != nil {
		return err
	}
	secret, err := s.store.CreatePasswordLink(ctx, id)
	if err != nil {
		return s.teamForm(w, r, "link", err)
	}
	return s.showSecret(w, r, &secretData{Heading: "New set-password link for " + u.Email,
		Intro: "Send this link to " + u.Email + ". Any earlier link of theirs no longer works; their current password keeps working until they use this one.",
		Label: "Set-password link", Secret: s.absURL(r, "/password/"+secret),
		Note: "The link works once, for 72 hours. It is shown only now."})
}

func (s *Server) showSecret(w http.ResponseWriter, r *http.Request, d *secretData) error {
	d.page = s.newPage(w, r, d.Heading, "team")
	return s.render(w, r, http.StatusOK, "secret.html", d)
}

// absURL makes a link to this server as the browser reached it.
func (s *Server) absURL(r *http.Request, path string) string {
	scheme := "http"
	if isTLS(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
}

// setRoleForm changes a user's role. Making someone the owner transfers
// ownership, which is asked for once more.
func (s *Server) setRoleForm(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r, "User")
	if err != nil {
		return err
	}
	role := reseller.Role(r.PostForm.Get("role"))
	if role == reseller.RoleOwner && r.PostForm.Get("confirm") != "yes" {
		u, err := s.store.FindUserByID(ctx, id)
		if err != nil {
			return err
		}
		d := &confirmData{page: s.newPage(w, r, "Transfer ownership", "team"), Heading: "Make " + u.Email + " the owner?",
			Message: "The account has one owner. " + u.Email + " becomes the owner and you become an admin. Only the new owner can undo this.",
			Action:  fmt.Sprintf("/team/%d/role", id), Button: "Transfer ownership", Cancel: "/team", Danger: true,
			Hidden: map[string]string{"role": string(reseller.RoleOwner), "confirm": "yes"}}
		return s.render(w, r, http.StatusOK, "confirm.html", d)
	}
	u, err := s.store.SetRole(ctx, id, role)
	if err != nil {
		return s.teamForm(w, r, fmt.Sprintf("role-%d", id), err)
	}
	return redirect(w, r, "/team", fmt.Sprintf("%s is now %s.", u.Email, article(string(u.Role))))
}

func article(role string) string {
	switch role {
	case "owner":
		return "the owner"
	case "admin", "operator", "auditor":
		return "an " + role
	}
	return role
}

func (s *Server) removeUserPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r, "User")
	if err != nil {
		return err
	}
	if err := allowed(r, reseller.PermManageTeam); err != nil {
		return err
	}
	u, err := s.store.FindUserByID(ctx, id)
	if err != nil {
		return err
	}
	d := &confirmData{page: s.newPage(w, r, "Remove "+u.Email, "team"), Heading: "Remove " + u.Email + " from the team?",
		Message: "They are signed out at once, and their API tokens stop working. The audit log keeps the entries they made, under their email.",
		Action:  fmt.Sprintf("/team/%d/remove", id), Button: "Remove user", Cancel: "/team", Danger: true}
	return s.render(w, r, http.StatusOK, "confirm.html", d)
}

func (s *Server) removeUserForm(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r, "User")
	if err != nil {
		return err
	}
	u, err := s.store.FindUserByID(ctx, id)
	if err != nil {
		return err
	}
	if err := s.store.RemoveUser(ctx, id); err != nil {
		return s.teamForm(w, r, "remove", err)
	}
	return redirect(w, r, "/team", u.Email+" is no longer on the team.")
}

// createTokenForm issues an API token for the viewer and shows it once. A
// token acts as the user who creates it: a form naming another user (an
// older page, or a crafted post) is refused.
func (s *Server) createTokenForm(w http.ResponseWriter, r *http.Request) error {
	v := viewerFrom(r.Context())
	if r.PostForm.Has("user") {
		userID, err := formID(r, "user", "User")
		if err != nil {
			return s.teamForm(w, r, "token", err)
		}
		if userID != v.Actor.UserID {
			return reseller.Errorf(reseller.EFORBIDDEN, "A token acts as the user who creates it: you can create one only for yourself.")
		}
	}
	t, secret, err := s.store.CreateToken(r.Context(), r.PostForm.Get("name"))
	if err != nil {
		return s.teamForm(w, r, "token", err)
	}
	return s.showSecret(w, r, &secretData{Heading: "API token " + t.Name,
		Intro: "Use it as: Authorization: Bearer <token>. It acts as you, with your role, and its actions are recorded under your name.",
		Label: "API token", Secret: secret,
		Note: "The token is shown only now and is stored only as a hash: copy it before you leave this page."})
}

func (s *Server) revokeTokenPage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Token")
	if err != nil {
		return err
	}
	if err := allowed(r, reseller.PermManageTeam); err != nil {
		return err
	}
	d := &confirmData{page: s.newPage(w, r, "Revoke API token", "team"), Heading: fmt.Sprintf("Revoke API token %d?", id),
		Message: "Programs using this token get 401 Unauthorized from their next request. This cannot be undone; make a new token if needed.",
		Action:  fmt.Sprintf("/team/tokens/%d/revoke", id), Button: "Revoke token", Cancel: "/team", Danger: true}
	return s.render(w, r, http.StatusOK, "confirm.html", d)
}

func (s *Server) revokeTokenForm(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Token")
	if err != nil {
		return err
	}
	if err := s.store.RevokeToken(r.Context(), id); err != nil {
		return s.teamForm(w, r, "revoke-token", err)
	}
	return redirect(w, r, "/team", fmt.Sprintf("API token %d is revoked.", id))
}
