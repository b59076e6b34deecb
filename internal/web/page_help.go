package web

import "net/http"

// helpPage explains the console in our own words. It is public, so that
// someone stuck at sign-in can read it too.
func (s *Server) helpPage(w http.ResponseWriter, r *http.Request) error {
	p := s.newPage(w, r, "Help", "help")
	return s.render(w, r, http.StatusOK, "help.html", &p)
}
