package web_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// Every API response the tests provoke is checked against the OpenAPI
// document the server serves: newEnv wraps the server's handler with
// validateAPI, which fails the test on a response the document does not
// allow (an undeclared status, media type, header or body shape). So the
// document is tested by the whole API suite's traffic, not by hand.

var (
	apiDocOnce   sync.Once
	apiDocRouter routers.Router
	apiDocErr    error
)

// openAPIRouter loads the document the handler serves, once per test binary.
func openAPIRouter(h http.Handler) (routers.Router, error) {
	apiDocOnce.Do(func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/openapi.json", nil))
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(rec.Body.Bytes())
		if err == nil {
			err = doc.Validate(loader.Context)
		}
		if err == nil {
			apiDocRouter, err = legacy.NewRouter(doc)
		}
		apiDocErr = err
		// Bodies that are no JSON document: check their own syntax, and
		// hand the schema (a string) the text.
		openapi3filter.RegisterBodyDecoder("application/jsonl", func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
			b, err := io.ReadAll(r)
			sc := bufio.NewScanner(bytes.NewReader(b))
			sc.Buffer(nil, 1<<20)
			for n := 1; err == nil && sc.Scan(); n++ {
				if !json.Valid(sc.Bytes()) {
					err = fmt.Errorf("line %d is not JSON", n)
				}
			}
			return string(b), err
		})
		openapi3filter.RegisterBodyDecoder("text/csv", func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
			b, err := io.ReadAll(r)
			if err == nil {
				_, err = csv.NewReader(bytes.NewReader(b)).ReadAll()
			}
			return string(b), err
		})
	})
	return apiDocRouter, apiDocErr
}

// validateAPI wraps h so that each response to a request under /api is
// validated against the served OpenAPI document; a mismatch fails t.
func validateAPI(t *testing.T, h http.Handler) http.Handler {
	t.Helper()
	router, err := openAPIRouter(h)
	if err != nil {
		t.Fatalf("the served OpenAPI document: %v", err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			h.ServeHTTP(w, r)
			return
		}
		rec := &teeWriter{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if err := checkResponse(router, r, rec); err != nil {
			t.Errorf("%s %s: response %d does not match the OpenAPI document: %v", r.Method, r.URL.RequestURI(), rec.status, err)
		}
	})
}

func checkResponse(router routers.Router, r *http.Request, rec *teeWriter) error {
	body := rec.body.Bytes()
	if rec.Header().Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return err
		}
		if body, err = io.ReadAll(zr); err != nil {
			return err
		}
	}
	route, params, err := router.FindRoute(r)
	if err != nil {
		// No operation: the document says these are 404 and 405 problems.
		if rec.status != http.StatusNotFound && rec.status != http.StatusMethodNotAllowed {
			return fmt.Errorf("no operation for it (%v), yet status %d", err, rec.status)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
			return fmt.Errorf("unrouted request answered with %q", ct)
		}
		return nil
	}
	header := rec.Header().Clone()
	header.Del("Content-Encoding")
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status: rec.status, Header: header, Body: io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	return openapi3filter.ValidateResponse(context.Background(), in)
}

// teeWriter passes a response on and keeps a copy of it.
type teeWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *teeWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *teeWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
