package web

import "sort"

// Templates returns the names of the page templates, and of those the
// server has rendered, for the test that every template is used.
func (s *Server) Templates() (all, rendered []string) {
	for name := range s.tmpl {
		all = append(all, name)
		if _, ok := s.rendered.Load(name); ok {
			rendered = append(rendered, name)
		}
	}
	sort.Strings(all)
	sort.Strings(rendered)
	return all, rendered
}
