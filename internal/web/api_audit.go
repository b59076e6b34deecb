package web

import (
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/export"
)

type entryList struct {
	Entries    []*reseller.Entry `json:"entries"`
	NextCursor string            `json:"next_cursor"` // "" on the last page
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	f, _, err := auditFilter(r, reseller.OrderDesc)
	if err != nil {
		return err
	}
	es, next, err := s.store.ListEntries(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, entryList{Entries: nonNil(es), NextCursor: next})
}

func (s *Server) countAudit(w http.ResponseWriter, r *http.Request) error {
	f, loc, err := auditFilter(r, "")
	if err != nil {
		return err
	}
	bucket := query(r).str("bucket")
	if bucket != "" && !reseller.ValidBucket(bucket) {
		return reseller.Errorf(reseller.EINVALID, "Parameter bucket %q is not one of day, week, month, quarter.", bucket)
	}
	c, err := s.store.CountEntries(r.Context(), f, bucket, loc)
	if err != nil {
		return err
	}
	if c.Buckets == nil {
		c.Buckets = []reseller.BucketCount{}
	}
	return writeJSON(w, http.StatusOK, c)
}

// exportAudit streams the matching entries. Until the first byte goes out a
// failure is an ordinary problem response; after that the connection is
// aborted, so that a failed export never looks like a complete file.
func (s *Server) exportAudit(w http.ResponseWriter, r *http.Request) error {
	f, _, err := auditFilter(r, reseller.OrderAsc)
	if err != nil {
		return err
	}
	return s.writeExport(w, r, f, query(r).str("format"))
}

// writeExport streams the entries f matches as a csv or jsonl download; the
// console's export links share it.
func (s *Server) writeExport(w http.ResponseWriter, r *http.Request, f reseller.AuditFilter, format string) error {
	actor := reseller.ActorFrom(r.Context())
	name := fmt.Sprintf("audit-log-account-%d-%s", actor.AccountID, time.Now().UTC().Format("20060102T150405Z"))
	lw := &lazyWriter{w: w}
	var ew export.Writer
	switch format {
	case "", "csv":
		lw.contentType, name = "text/csv; charset=utf-8", name+".csv"
		ew = export.NewCSV(lw)
	case "jsonl":
		lw.contentType, name = "application/jsonl", name+".jsonl"
		ew = export.NewJSONL(lw)
	default:
		return reseller.Errorf(reseller.EINVALID, "Parameter format %q is not csv or jsonl.", format)
	}
	lw.disposition = mime.FormatMediaType("attachment", map[string]string{"filename": name})
	_, err := export.Stream(r.Context(), s.store, f, ew)
	if err == nil {
		err = ew.Flush()
	}
	switch {
	case err != nil && lw.started:
		s.log.LogAttrs(r.Context(), slog.LevelError, "export failed midway",
			slog.String("request_id", infoFrom(r.Context()).id), slog.String("error", err.Error()))
		panic(http.ErrAbortHandler)
	case err == nil:
		lw.start() // an empty export is still a file
	}
	return err
}

// lazyWriter sends the export's headers with its first byte, so that an
// error before then can still be a problem response.
type lazyWriter struct {
	w                        http.ResponseWriter
	contentType, disposition string
	started                  bool
}

func (l *lazyWriter) Write(b []byte) (int, error) {
	l.start()
	return l.w.Write(b)
}

func (l *lazyWriter) start() {
	if l.started {
		return
	}
	l.started = true
	h := l.w.Header()
	h.Set("Content-Type", l.contentType)
	h.Set("Content-Disposition", l.disposition)
	h.Set("Cache-Control", "no-store")
	l.w.WriteHeader(http.StatusOK)
}

// auditFilter reads the filters the audit routes share: explicit parameters
// and the q query, combined with AND. It returns the zone of dates too.
func auditFilter(r *http.Request, defaultOrder string) (reseller.AuditFilter, *time.Location, error) {
	p := query(r)
	loc, err := parseTZ(p.str("tz"))
	if err != nil {
		return reseller.AuditFilter{}, nil, err
	}
	f, err := filterFromParams(p, loc, defaultOrder)
	return f, loc, err
}

// filterFromParams reads the audit filter parameters, dates taken in loc.
// The console shares it with the API. A bad q is a *reseller.QueryError.
func filterFromParams(p params, loc *time.Location, defaultOrder string) (reseller.AuditFilter, error) {
	var f reseller.AuditFilter
	var err error
	for _, v := range p["action"] {
		for _, s := range strings.Split(v, ",") {
			if strings.TrimSpace(s) == "" {
				return f, reseller.Errorf(reseller.EINVALID, "Parameter action %q has an empty item; separate actions with single commas.", v)
			}
			a, err := reseller.ParseAction(s)
			if err != nil {
				return f, err
			}
			f.Actions = append(f.Actions, a)
		}
	}
	if f.ClientID, err = p.id("client_id"); err != nil {
		return f, err
	}
	for _, name := range []string{"target", "actor"} {
		v := p.str(name)
		if v == "" {
			continue
		}
		if name == "target" {
			if id, ok := clientRef(v); ok {
				if f.ClientID != 0 && f.ClientID != id {
					return f, reseller.Errorf(reseller.EINVALID, "Parameter target asks for client %d but client_id for client %d; give one of them.", id, f.ClientID)
				}
				f.ClientID = id
				continue
			}
			if reseller.IsTargetSearch(v) {
				s, err := reseller.TargetSearchText(v)
				if err != nil {
					return f, reseller.Errorf(reseller.EINVALID, "Parameter target: %s", reseller.ErrorMessage(err))
				}
				f.TargetSearch = []string{s}
				continue
			}
		}
		e, err := reseller.EmailPattern(v)
		if err != nil {
			return f, reseller.Errorf(reseller.EINVALID, "Parameter %s: %s", name, reseller.ErrorMessage(err))
		}
		if name == "target" {
			f.Targets = []string{e}
		} else {
			f.Actors = []string{e}
		}
	}
	if v := p.str("from"); v != "" {
		if f.From, err = reseller.ParseTimeBound("Parameter from", v, loc, false); err != nil {
			return f, err
		}
	}
	if v := p.str("to"); v != "" {
		if f.To, err = reseller.ParseTimeBound("Parameter to", v, loc, true); err != nil {
			return f, err
		}
	}
	if f.Limit, err = p.limit(); err != nil {
		return f, err
	}
	f.Order, f.Cursor = p.str("order"), p.str("cursor")
	if f.Order == "" {
		f.Order = defaultOrder
	}
	if err := f.Validate(); err != nil {
		return f, err
	}
	if q := p.str("q"); q != "" {
		qf, err := reseller.ParseAuditQuery(q, loc)
		if err != nil {
			return f, err
		}
		f = reseller.Intersect(f, qf)
	}
	return f, nil
}

// clientRef reads a target given as a client, client:42, the form the
// query language's client: term has.
func clientRef(v string) (int64, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(v), "client:")
	if !ok {
		return 0, false
	}
	return reseller.ParseID(strings.TrimSpace(rest))
}

// parseTZ loads an IANA zone; "" is UTC.
func parseTZ(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	loc, err := reseller.LoadZone(name)
	if err != nil {
		return nil, reseller.Errorf(reseller.EINVALID, "Parameter tz %q is not an IANA time zone such as Europe/Paris or America/New_York.", name)
	}
	return loc, nil
}
