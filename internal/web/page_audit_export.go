package web

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/resellerconsole/reseller"
)

// The audit page's downloads. They take the page's filter from the URL, as
// the page does, and are authenticated by the session; the API's export
// writers do the rest, so a console download and an API export of the same
// filter are the same file.

// exportPage streams the audit log as CSV or JSON Lines with the page's
// filter, through the API's export writers, in the page's order: newest
// first unless the page says order=asc.
func (s *Server) exportPage(format string) consoleFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v := viewerFrom(r.Context())
		f, err := s.consoleFilter(r.URL.Query(), v.Loc, s.now(), reseller.OrderDesc)
		if err != nil {
			return err
		}
		return s.writeExport(w, r, f, format)
	}
}

// exportBundlePage downloads the verification bundle of the page's filter.
func (s *Server) exportBundlePage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	v := viewerFrom(ctx)
	f, err := s.consoleFilter(r.URL.Query(), v.Loc, s.now(), reseller.OrderAsc)
	if err != nil {
		return err
	}
	// Without a signing key there is nothing to verify against: say so
	// rather than fail midway.
	if _, err := s.store.Checkpoint(ctx); errors.Is(err, reseller.ErrNoSigner) {
		s.log.LogAttrs(ctx, slog.LevelWarn, "bundle export without a checkpoint", slog.String("error", err.Error()))
		return errNoBundles
	} else if err != nil {
		return err
	}
	return s.writeBundle(w, r, f, 0)
}

var errNoBundles = reseller.Errorf(reseller.ECONFLICT, "Verifiable bundles are not available on this server: it has no key to sign checkpoints with. Ask your operator.")
