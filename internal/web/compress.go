package web

import (
	"compress/gzip"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Responses are compressed with gzip when the client accepts it and the
// body is text that compresses: pages, JSON, problems, CSV and JSON Lines,
// styles and scripts. Streams stay streams: the gzip writer passes on what
// it has at every Flush, and an export writes as it reads.

// compressible are the media types worth compressing.
var compressible = map[string]bool{
	"text/html": true, "application/json": true, "application/problem+json": true,
	"text/csv": true, "application/jsonl": true, "text/css": true, "text/javascript": true,
	"application/javascript": true, "image/svg+xml": true, "text/plain": true,
}

var gzipWriters = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression); return w }}

// compress gzips responses for clients that accept it (Accept-Encoding).
func compress(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept-Encoding")
		// A check-in's answer is a hundred bytes, thousands of times a
		// second: compressing it would cost more than it saves.
		if !acceptsGzip(r.Header.Get("Accept-Encoding")) || r.Method == http.MethodHead || r.URL.Path == pathCheckIn {
			next.ServeHTTP(w, r)
			return
		}
		gw := &gzipWriter{ResponseWriter: w}
		next.ServeHTTP(gw, r)
		// Not deferred: after a panic (an aborted export) no gzip trailer
		// may make a cut-off body look whole.
		gw.close()
	})
}

// acceptsGzip reads an Accept-Encoding header: gzip (or *) without q=0.
func acceptsGzip(h string) bool {
	for part := range strings.SplitSeq(h, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.ToLower(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

// minCompressed is the smallest body of known length that is compressed.
const minCompressed = 1024

// gzipWriter decides at the response's first byte whether to compress it,
// by its Content-Type and status.
type gzipWriter struct {
	http.ResponseWriter
	gz      *gzip.Writer // nil when not compressing
	decided bool
}

func (g *gzipWriter) WriteHeader(code int) {
	if !g.decided && code >= 200 {
		g.decide(code)
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *gzipWriter) decide(code int) {
	g.decided = true
	h := g.Header()
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if code == http.StatusNoContent || code == http.StatusNotModified || h.Get("Content-Encoding") != "" || !compressible[mt] {
		return
	}
	// A body whose length is known and small is sent as it is: gzip
	// would cost more time than its few bytes save.
	if n, err := strconv.Atoi(h.Get("Content-Length")); err == nil && n < minCompressed {
		return
	}
	h.Set("Content-Encoding", "gzip")
	h.Del("Content-Length")
	g.gz = gzipWriters.Get().(*gzip.Writer)
	g.gz.Reset(g.ResponseWriter)
}

func (g *gzipWriter) Write(b []byte) (int, error) {
	if !g.decided {
		if g.Header().Get("Content-Type") == "" {
			g.Header().Set("Content-Type", http.DetectContentType(b))
		}
		g.WriteHeader(http.StatusOK)
	}
	if g.gz != nil {
		return g.gz.Write(b)
	}
	return g.ResponseWriter.Write(b)
}

// Flush sends what has been compressed so far.
func (g *gzipWriter) Flush() {
	if g.gz != nil {
		g.gz.Flush()
	}
	http.NewResponseController(g.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the real writer.
func (g *gzipWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }

func (g *gzipWriter) close() {
	if g.gz == nil {
		return
	}
	g.gz.Close()
	g.gz.Reset(nil)
	gzipWriters.Put(g.gz)
	g.gz = nil
}
