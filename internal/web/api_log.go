package web

import (
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/resellerconsole/reseller"
)

// The verifiable log: a signed checkpoint of the account's log, inclusion and
// consistency proofs, and bundles that an auditor verifies offline with
// `reseller audit verify` (docs/audit-log-format.md).

func (s *Server) getCheckpoint(w http.ResponseWriter, r *http.Request) error {
	cp, err := s.store.Checkpoint(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, cp)
}

func (s *Server) proveInclusion(w http.ResponseWriter, r *http.Request) error {
	p := query(r)
	seq, err := p.id("seq")
	if err != nil {
		return err
	}
	size, err := p.optionalSize("size")
	if err != nil {
		return err
	}
	proof, err := s.store.ProveInclusion(r.Context(), seq, size)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, proof)
}

func (s *Server) proveConsistency(w http.ResponseWriter, r *http.Request) error {
	p := query(r)
	from, err := p.id("from")
	if err != nil {
		return err
	}
	to, err := p.optionalSize("to")
	if err != nil {
		return err
	}
	proof, err := s.store.ProveConsistency(r.Context(), from, to)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, proof)
}

// optionalSize reads a tree size parameter; absent means the log as it is now (0).
func (p params) optionalSize(name string) (int64, error) {
	if p.str(name) == "" {
		return 0, nil
	}
	return p.id(name)
}

// sinceSize reads a bundle's since parameter, an older tree size to prove
// consistency from: 0, like absent, means no proof (the size of an empty
// log, which every log extends), so it is accepted as well.
func (p params) sinceSize() (int64, error) {
	s := p.str("since")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, reseller.Errorf(reseller.EINVALID, "Parameter since %q is not a tree size (a whole number, 0 or more).", s)
	}
	return n, nil
}

func (s *Server) getBundle(w http.ResponseWriter, r *http.Request) error {
	f, _, err := auditFilter(r, reseller.OrderAsc)
	if err != nil {
		return err
	}
	since, err := query(r).sinceSize()
	if err != nil {
		return err
	}
	return s.writeBundle(w, r, f, since)
}

// writeBundle streams a bundle as an attachment; the console's export uses it too.
func (s *Server) writeBundle(w http.ResponseWriter, r *http.Request, f reseller.AuditFilter, since int64) error {
	actor := reseller.ActorFrom(r.Context())
	if actor == nil {
		return reseller.Errorf(reseller.EUNAUTHORIZED, "Sign in first.")
	}
	name := fmt.Sprintf("audit-bundle-account-%d-%s.json", actor.AccountID, time.Now().UTC().Format("20060102T150405Z"))
	lw := &lazyWriter{w: w, contentType: "application/json",
		disposition: mime.FormatMediaType("attachment", map[string]string{"filename": name})}
	_, err := s.store.WriteBundle(r.Context(), lw, f, since)
	switch {
	case err != nil && lw.started:
		s.log.LogAttrs(r.Context(), slog.LevelError, "bundle failed midway",
			slog.String("request_id", infoFrom(r.Context()).id), slog.String("error", err.Error()))
		panic(http.ErrAbortHandler)
	case err == nil:
		lw.start()
	}
	return err
}
