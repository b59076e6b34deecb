package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/resellerconsole/reseller"
)

// The middleware chain, outermost first: observe (request id, logging,
// metrics), secure (headers), recoverPanics, then dispatch to the route.

// reqInfo is what the chain learns about a request on its way down: the
// route wrapper fills in the route and auth the actor, and observe reads
// them once the response is done.
type reqInfo struct {
	id      string
	route   string // the route's path pattern, or "unmatched"
	actorID int64
}

type infoKey struct{}

func infoFrom(ctx context.Context) *reqInfo {
	if i, ok := ctx.Value(infoKey{}).(*reqInfo); ok {
		return i
	}
	return &reqInfo{route: "unmatched"}
}

// statusWriter records the status sent, so that logs and metrics see it and
// late errors know that the response has started.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush on the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// maxRequestIDLen bounds a request id taken from the client.
const maxRequestIDLen = 64

// requestID returns the client's X-Request-Id if it is sane (1 to 64 of
// [A-Za-z0-9._-]), so that a caller can trace its own ids into our logs
// and audit entries, and a new random id otherwise.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= maxRequestIDLen {
		sane := true
		for i := 0; i < len(id) && sane; i++ {
			c := id[i]
			sane = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
		}
		if sane {
			return id
		}
	}
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// observe gives each request its id, and logs and counts it when done. It
// logs the route pattern, never the path or query (which may hold emails)
// nor any header (Authorization holds a token).
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &reqInfo{id: requestID(r), route: "unmatched"}
		w.Header().Set("X-Request-Id", info.id)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			d := time.Since(start)
			status := sw.status
			if status == 0 {
				status = http.StatusOK // nothing written: net/http sends 200
			}
			s.metrics.observe(info.route, r.Method, status, d)
			level := slog.LevelInfo
			if info.route == pathHealth || info.route == pathMetrics || info.route == pathCheckIn && status < 400 {
				// Probes, scrapes and every plugin's check-in every few
				// minutes would drown the log (and cost CPU); the metrics
				// count them, and failed check-ins are still logged.
				level = slog.LevelDebug
			}
			attrs := []slog.Attr{
				slog.String("method", r.Method), slog.String("route", info.route), slog.Int("status", status),
				slog.Float64("duration_ms", float64(d.Microseconds())/1000), slog.Int64("bytes", sw.bytes),
				slog.String("request_id", info.id),
			}
			if info.actorID != 0 {
				attrs = append(attrs, slog.Int64("actor_id", info.actorID))
			}
			s.log.LogAttrs(r.Context(), level, "request", attrs...)
		}()
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), infoKey{}, info)))
	})
}

// apiCSP is the Content-Security-Policy of API responses: they are data and
// must not load or be framed by anything. The web console sets its own.
const apiCSP = "default-src 'none'; frame-ancestors 'none'"

// secure sets the security headers every response carries.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", apiCSP)
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a panic into a logged 500 problem. When the response
// has already started, the connection is aborted instead, so that the client
// sees a broken response rather than a truncated one that looks whole.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			info := infoFrom(r.Context())
			s.log.LogAttrs(r.Context(), slog.LevelError, "panic",
				slog.String("request_id", info.id), slog.String("route", info.route),
				slog.String("panic", fmt.Sprint(v)), slog.String("stack", string(debug.Stack())))
			if sw, ok := w.(*statusWriter); ok && sw.status != 0 {
				panic(http.ErrAbortHandler)
			}
			s.writeError(w, r, fmt.Errorf("panic: %v", v))
		}()
		next.ServeHTTP(w, r)
	})
}

// dispatch serves a request with its route, and turns the mux's own plain
// text 404 and 405 into problems.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	rec := &fallbackRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	switch rec.status {
	case http.StatusNotFound:
		err := reseller.Errorf(reseller.ENOTFOUND, "There is no route %s %s.", r.Method, r.URL.Path)
		if browsing(r) {
			s.consolePageError(w, r, reseller.Errorf(reseller.ENOTFOUND, "There is no page %s here.", r.URL.Path))
			return
		}
		s.writeError(w, r, err)
	case http.StatusMethodNotAllowed:
		allow := rec.header.Get("Allow")
		w.Header().Set("Allow", allow)
		err := reseller.Errorf(codeMethodNotAllowed, "%s does not take %s; it takes %s.", r.URL.Path, r.Method, allow)
		if browsing(r) {
			s.consolePageError(w, r, err)
			return
		}
		s.writeError(w, r, err)
	default: // a redirect to the clean path
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		w.Write(rec.body)
	}
}

// fallbackRecorder captures what the mux's fallback handlers write; they
// write a few bytes at most.
type fallbackRecorder struct {
	header http.Header
	status int
	body   []byte
}

func (r *fallbackRecorder) Header() http.Header { return r.header }
func (r *fallbackRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
func (r *fallbackRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body = append(r.body, b...)
	return len(b), nil
}
