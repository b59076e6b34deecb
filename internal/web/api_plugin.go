package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/resellerconsole/reseller"
)

// The plugin API: the security plugin on each client's site checks in with
// its license key (docs/plugin-protocol.md). It is public as far as API
// tokens go, and authenticated by the key instead.

// Defaults of the per-license check-in limit (Config.CheckInRate).
const (
	DefaultCheckInRate  = 6  // check-ins a minute, sustained
	DefaultCheckInBurst = 10 // check-ins at once
)

// licenseKey returns the key of an "Authorization: License <key>" header.
func licenseKey(r *http.Request) (string, bool) {
	scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	key = strings.TrimSpace(key)
	if !ok || !strings.EqualFold(scheme, "License") || key == "" {
		return "", false
	}
	return key, true
}

func (s *Server) checkIn(w http.ResponseWriter, r *http.Request) error {
	key, ok := licenseKey(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `License realm="reseller"`)
		return reseller.Errorf(reseller.EUNAUTHORIZED, "Send the license key in the Authorization header, as: License <key>.")
	}
	// One bucket per key, by its hash: a plugin gone wild is slowed down
	// without touching the database.
	h := sha256.Sum256([]byte(key))
	if wait := s.checkIns.take(string(h[:16]), time.Now()); wait > 0 {
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		return reseller.Errorf(reseller.ERATELIMITED, "Too many check-ins for this license; retry in %d s.", secs)
	}
	// Keep the body, to say which time did not parse: encoding/json does not.
	raw, rerr := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if rerr != nil {
		return reseller.Errorf(reseller.EINVALID, "The request body could not be read.")
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	in, err := routeBody[reseller.CheckIn](w, r)
	if err != nil && strings.Contains(reseller.ErrorMessage(err), "parsing time") {
		return reseller.Errorf(reseller.EINVALID, "Field %q is not a time as RFC 3339 writes it (2006-01-02T15:04:05Z).", badTimeField(raw))
	} else if err != nil {
		return err
	}
	res, err := s.store.CheckIn(r.Context(), key, &in)
	if reseller.ErrorCode(err) == reseller.EUNAUTHORIZED {
		w.Header().Set("WWW-Authenticate", `License realm="reseller"`)
		// Unknown keys count against the address they come from, so that
		// guessing keys is as limited as using API tokens.
		if wait := s.limits.take("ip "+s.clientIP(r), time.Now()); wait > 0 {
			secs := int(math.Ceil(wait.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			return reseller.Errorf(reseller.ERATELIMITED, "Too many requests; retry in %d s.", secs)
		}
	}
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, res)
}

// badTimeField names the time field of a check-in body that does not parse.
func badTimeField(body []byte) string {
	var b struct {
		Scan *struct {
			CompletedAt json.RawMessage `json:"completed_at"`
		} `json:"scan"`
		Alerts []struct {
			RaisedAt json.RawMessage `json:"raised_at"`
		} `json:"alerts"`
	}
	json.Unmarshal(body, &b)
	bad := func(m json.RawMessage) bool {
		var t time.Time
		return m != nil && json.Unmarshal(m, &t) != nil
	}
	if b.Scan != nil && bad(b.Scan.CompletedAt) {
		return "scan.completed_at"
	}
	for i, a := range b.Alerts {
		if bad(a.RaisedAt) {
			return "alerts[" + strconv.Itoa(i) + "].raised_at"
		}
	}
	return "a time"
}
