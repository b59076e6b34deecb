package web

import (
	"net/http"
	"strings"

	"github.com/resellerconsole/reseller"
)

type settingsData struct {
	page
	Zones []string // suggestions for the zone field
}

// commonZones are offered as suggestions; any IANA zone is accepted.
var commonZones = []string{
	"UTC", "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Paris", "Europe/Berlin", "Europe/Amsterdam",
	"Europe/Madrid", "Europe/Rome", "Europe/Zurich", "Europe/Stockholm", "Europe/Warsaw", "Europe/Athens",
	"Europe/Helsinki", "Europe/Istanbul", "Europe/Kyiv", "Africa/Lagos", "Africa/Johannesburg", "Africa/Nairobi",
	"Asia/Dubai", "Asia/Kolkata", "Asia/Singapore", "Asia/Hong_Kong", "Asia/Shanghai", "Asia/Tokyo", "Asia/Seoul",
	"Australia/Perth", "Australia/Sydney", "Pacific/Auckland", "America/St_Johns", "America/Halifax",
	"America/New_York", "America/Toronto", "America/Chicago", "America/Denver", "America/Phoenix",
	"America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu", "America/Mexico_City", "America/Bogota",
	"America/Lima", "America/Santiago", "America/Sao_Paulo", "America/Argentina/Buenos_Aires",
}

func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderSettings(w, r, nil, http.StatusOK)
}

func (s *Server) renderSettings(w http.ResponseWriter, r *http.Request, f *form, status int) error {
	d := &settingsData{page: s.newPage(w, r, "Settings", "settings"), Zones: commonZones}
	d.Form = f
	return s.render(w, r, status, "settings.html", d)
}

// setTimeZoneForm pins a zone, or goes back to following the browser.
func (s *Server) setTimeZoneForm(w http.ResponseWriter, r *http.Request) error {
	v := viewerFrom(r.Context())
	tz := ""
	if r.PostForm.Get("mode") == "pinned" {
		tz = strings.TrimSpace(r.PostForm.Get("zone"))
		if tz == "" {
			return s.renderSettings(w, r, &form{Name: "timezone", Values: r.PostForm, Err: "Enter a time zone, such as Europe/Berlin."}, http.StatusBadRequest)
		}
	}
	err := s.store.SetTimeZone(r.Context(), v.Actor.UserID, tz)
	if userError(err) {
		return s.renderSettings(w, r, &form{Name: "timezone", Values: r.PostForm, Err: reseller.ErrorMessage(err)}, statusOf(err))
	} else if err != nil {
		return err
	}
	msg := "Times now follow your browser's time zone."
	if tz != "" {
		msg = "Times are now shown in " + tz + "."
	}
	return redirect(w, r, "/settings", msg)
}

// changePasswordForm changes the viewer's password, given the current one.
// A wrong current password counts as a failed sign-in.
func (s *Server) changePasswordForm(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	v := viewerFrom(ctx)
	bad := func(status int, msg string) error {
		return s.renderSettings(w, r, &form{Name: "password", Err: msg}, status)
	}
	pw := r.PostForm.Get("new")
	if pw != r.PostForm.Get("confirm") {
		return bad(http.StatusBadRequest, "The two new passwords are not the same. Type the same password twice.")
	}
	keys := loginKeys(s.clientIP(r), v.Actor.Email)
	now := s.now()
	if wait := s.logins.wait(now, keys...); wait > 0 {
		return bad(http.StatusTooManyRequests, "Too many failed sign-ins; try again in "+plural(minutes(wait), "minute", "minutes")+".")
	}
	if _, err := s.store.CheckPassword(ctx, v.Actor.Email, r.PostForm.Get("current")); reseller.ErrorCode(err) == reseller.EUNAUTHORIZED {
		s.logins.fail(now, keys...)
		return bad(http.StatusUnauthorized, "Your current password is not right.")
	} else if err != nil {
		return err
	}
	if err := s.store.SetPassword(ctx, v.Actor.UserID, pw); userError(err) {
		return bad(statusOf(err), reseller.ErrorMessage(err))
	} else if err != nil {
		return err
	}
	// Every session of the user ended with the change, elsewhere too; this
	// browser gets a new one.
	if err := s.startSession(w, r, v.Actor.UserID); err != nil {
		return err
	}
	return redirect(w, r, "/settings", "Your password is changed. You are signed out everywhere else.")
}

// signOutEverywhere ends all of the viewer's sessions, this one included.
func (s *Server) signOutEverywhere(w http.ResponseWriter, r *http.Request) error {
	v := viewerFrom(r.Context())
	if err := s.store.DeleteUserSessions(r.Context(), v.Actor.UserID); err != nil {
		return err
	}
	clearCookie(w, r, sessionCookie)
	setFlash(w, r, "ok", "You have signed out on every device.")
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
	return nil
}
