package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/resellerconsole/reseller"
)

// Problem is an RFC 9457 problem detail. Code is the stable machine code:
// one of reseller's error codes, or method_not_allowed.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
}

// codeMethodNotAllowed is the one code of the API that is not the domain's:
// the route exists but not with that method.
const codeMethodNotAllowed = "method_not_allowed"

// problemTypePrefix makes a problem's type URI from its code. A URN, because
// the types are identifiers, not pages to fetch.
const problemTypePrefix = "urn:reseller:problem:"

// problemOf maps an error to its problem: the one place where error codes
// become HTTP statuses. Internal errors get a generic detail.
func problemOf(err error) Problem {
	code, detail := reseller.ErrorCode(err), reseller.ErrorMessage(err)
	var qe *reseller.QueryError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &qe):
		code, detail = reseller.EINVALID, qe.Error()
	case errors.As(err, &mbe):
		code, detail = reseller.ETOOLARGE, "The request body is larger than 1 MiB."
	}
	p := Problem{Code: code, Detail: detail, Type: problemTypePrefix + code}
	if reseller.IsConflict(code) {
		// The domain knows which codes are conflicts; each is titled by its
		// name ("pool_exhausted" is "Pool exhausted").
		p.Status, p.Title = http.StatusConflict, codeTitle(code)
		return p
	}
	switch code {
	case reseller.EINVALID:
		p.Status, p.Title = http.StatusBadRequest, "Invalid input"
	case reseller.EUNAUTHORIZED:
		p.Status, p.Title = http.StatusUnauthorized, "Unauthorized"
	case reseller.EFORBIDDEN:
		p.Status, p.Title = http.StatusForbidden, "Forbidden"
	case reseller.ENOTFOUND:
		p.Status, p.Title = http.StatusNotFound, "Not found"
	case codeMethodNotAllowed:
		p.Status, p.Title = http.StatusMethodNotAllowed, "Method not allowed"
	case reseller.ETOOLARGE:
		p.Status, p.Title = http.StatusRequestEntityTooLarge, "Request too large"
	case reseller.ERATELIMITED:
		p.Status, p.Title = http.StatusTooManyRequests, "Rate limited"
	case reseller.ELOGINCONSISTENT:
		p.Status, p.Title = http.StatusServiceUnavailable, "Audit log inconsistent"
	case reseller.EUNAVAILABLE:
		p.Status, p.Title = http.StatusServiceUnavailable, "Storage unavailable"
	default:
		p.Code, p.Type = reseller.EINTERNAL, problemTypePrefix+reseller.EINTERNAL
		p.Status, p.Title = http.StatusInternalServerError, "Internal error"
		p.Detail = "Something went wrong on our side."
	}
	return p
}

// codeTitle makes a problem title of an error code: "email_taken" is
// "Email taken".
func codeTitle(code string) string {
	t := strings.ReplaceAll(code, "_", " ")
	return strings.ToUpper(t[:1]) + t[1:]
}

// retryStorage is the Retry-After of a write the database could not store.
const retryStorage = "30"

// writeError writes err as problem+json. Internal errors are logged with the
// request id, which the detail quotes so that a report can be matched.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	p := problemOf(err)
	if p.Code == reseller.EUNAVAILABLE {
		w.Header().Set("Retry-After", retryStorage)
		s.log.LogAttrs(r.Context(), slog.LevelError, "database cannot store changes",
			slog.String("request_id", infoFrom(r.Context()).id), slog.String("error", err.Error()))
	}
	if p.Status == http.StatusInternalServerError {
		info := infoFrom(r.Context())
		s.log.LogAttrs(r.Context(), slog.LevelError, "internal error",
			slog.String("request_id", info.id), slog.String("route", info.route), slog.String("error", err.Error()))
		p.Detail += " Quote request id " + info.id + " if you report it."
	}
	writeProblem(w, p)
}

func writeProblem(w http.ResponseWriter, p Problem) {
	writeEncoded(w, p.Status, "application/problem+json", p)
}

// writeJSON writes v as the JSON response with the status. It returns nil so
// that handlers can end with it: once the status is sent, a failed write
// means the client went away, and there is nothing left to tell it.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	return writeEncoded(w, status, "application/json", v)
}

// writeEncoded writes v as JSON of the content type. It is encoded first,
// so that its length is known: a small answer (most of them) then goes out
// as it is, without gzip (see compress).
func writeEncoded(w http.ResponseWriter, status int, contentType string, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	w.Write(b.Bytes())
	return nil
}
