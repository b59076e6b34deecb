package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/resellerconsole/reseller"
)

// maxBodyBytes bounds a request body: 1 MiB.
const maxBodyBytes = 1 << 20

// decodeBody reads a request's JSON object into v, a pointer to a struct.
// The body must be JSON (by Content-Type), one object, with no unknown
// fields; errors name the problem. An empty body is refused unless optional,
// in which case v is left as it is.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return reseller.Errorf(reseller.ETOOLARGE, "The request body is larger than 1 MiB.")
		}
		return reseller.Errorf(reseller.EINVALID, "The request body could not be read.")
	}
	body := bytes.TrimSpace(b)
	if len(body) == 0 {
		if optional {
			return nil
		}
		return reseller.Errorf(reseller.EINVALID, "This request needs a JSON body with %s.", fieldList(v))
	}
	if ct := r.Header.Get("Content-Type"); !isJSONType(ct) {
		return reseller.Errorf(reseller.EINVALID, "Content-Type must be application/json, not %q.", ct)
	}
	if body[0] != '{' {
		return reseller.Errorf(reseller.EINVALID, "The body must be a JSON object.")
	}
	if !utf8.Valid(body) {
		// encoding/json would quietly turn the bad bytes into U+FFFD.
		return reseller.Errorf(reseller.EINVALID, "%s is not valid UTF-8 text.", invalidUTF8Field(body))
	}
	if err := exactKeys(body, v); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err, v)
	}
	if err := dec.Decode(new(json.RawMessage)); err != io.EOF {
		return reseller.Errorf(reseller.EINVALID, "The body must hold exactly one JSON value; more follows at byte %d.", dec.InputOffset())
	}
	return nil
}

// exactKeys refuses a key that names a field of v only when case is
// ignored: encoding/json would take "EMAIL" for "email", so that two bodies
// that differ in case would mean the same (and the last of two would win).
func exactKeys(body []byte, v any) error {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return nil // the decoder below names the problem
	}
	names := jsonNames(v)
	for k := range m {
		if slices.Contains(names, k) {
			continue
		}
		for _, n := range names {
			if strings.EqualFold(k, n) {
				return reseller.Errorf(reseller.EINVALID, "Unknown field %q; field names are case-sensitive: did you mean %q?", k, n)
			}
		}
	}
	return nil
}

// jsonNames lists the JSON field names of the struct v points to.
func jsonNames(v any) []string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var names []string
	if t.Kind() != reflect.Struct {
		return nil
	}
	for f := range t.Fields() {
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}

// routeKey carries the route being served in its request's context.
type routeKey struct{}

// routeBody decodes the request body as the route table declares it: its
// type T must be the route's body type (a handler reading another panics,
// so the OpenAPI document, made from the table, cannot drift from what
// handlers read), and the route says whether it may be empty, in which
// case the zero T comes back.
func routeBody[T any](w http.ResponseWriter, r *http.Request) (T, error) {
	var v T
	rt, _ := r.Context().Value(routeKey{}).(*route)
	if rt == nil || reflect.TypeOf(rt.body) != reflect.TypeOf(v) {
		panic(fmt.Sprintf("web: the handler reads a %T body, which its route does not declare", v))
	}
	err := decodeBody(w, r, &v, rt.bodyOptional)
	return v, err
}

// invalidUTF8Field names the field of a JSON object whose bytes are not
// valid UTF-8, for the error message.
func invalidUTF8Field(body []byte) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) == nil {
		for k, raw := range m {
			if !utf8.ValidString(k) {
				return "A field name"
			}
			if !utf8.Valid(raw) {
				return fmt.Sprintf("The body's field %q", k)
			}
		}
	}
	return "The body"
}

func isJSONType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// bodyError turns a decoding error into an EINVALID that names the field.
func bodyError(err error, v any) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return reseller.Errorf(reseller.EINVALID, "The body is not valid JSON: %s (at byte %d).", se.Error(), se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return reseller.Errorf(reseller.EINVALID, "The body is not valid JSON: it ends too early.")
	case errors.As(err, &te) && te.Field != "":
		return reseller.Errorf(reseller.EINVALID, "The body's field %q must be %s, not %s.", te.Field, jsonKind(te.Type, te.Value), jsonValue(te.Value))
	case errors.As(err, &te):
		return reseller.Errorf(reseller.EINVALID, "The body must be a JSON object.")
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return reseller.Errorf(reseller.EINVALID, "Unknown field %s; this request takes %s.", name, fieldList(v))
	}
	return reseller.Errorf(reseller.EINVALID, "The body is not valid JSON: %v.", err)
}

// jsonKind says which JSON value a Go type takes; got is what
// json.UnmarshalTypeError says was given ("string", "number 1.5"...).
func jsonKind(t reflect.Type, got string) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if strings.HasPrefix(got, "number") {
			return "a whole number in range"
		}
		return "a number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

// jsonValue describes what json.UnmarshalTypeError says was given.
func jsonValue(got string) string {
	if n, ok := strings.CutPrefix(got, "number "); ok {
		return n
	}
	switch got {
	case "array", "object":
		return "an " + got
	case "bool":
		return "true or false"
	}
	return "a " + got
}

// fieldList names the JSON fields of the struct v points to.
func fieldList(v any) string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var names []string
	for f := range t.Fields() {
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
			names = append(names, strconv.Quote(name))
		}
	}
	if len(names) == 0 {
		return "no fields (send no body, or {})"
	}
	return strings.Join(names, ", ")
}

// pathID returns the {id} of a path: a positive integer, else EINVALID.
func pathID(r *http.Request, what string) (int64, error) {
	s := r.PathValue("id")
	id, ok := reseller.ParseID(s)
	if !ok {
		return 0, reseller.Errorf(reseller.EINVALID, "%s id %q is not a positive integer.", what, s)
	}
	return id, nil
}

// params are a request's query parameters, already checked against the
// route's list (see route.checkQuery).
type params url.Values

func query(r *http.Request) params {
	v, _ := url.ParseQuery(r.URL.RawQuery)
	return params(v)
}

func (p params) str(name string) string { return strings.TrimSpace(url.Values(p).Get(name)) }

// id returns a positive integer parameter, 0 when it is absent.
func (p params) id(name string) (int64, error) {
	s := p.str(name)
	if s == "" {
		return 0, nil
	}
	id, ok := reseller.ParseID(s)
	if !ok {
		return 0, reseller.Errorf(reseller.EINVALID, "Parameter %s %q is not a positive integer.", name, s)
	}
	return id, nil
}

// limit returns the page size asked for, 0 (the default) when absent.
func (p params) limit() (int, error) {
	s := p.str("limit")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > reseller.MaxPageSize {
		return 0, reseller.Errorf(reseller.EINVALID, "Parameter limit %q is not a number from 1 to %d.", s, reseller.MaxPageSize)
	}
	return n, nil
}

// checkQuery refuses parameters the route does not take, and repeats of
// those that are not repeatable, so that a typo never silently widens a
// query.
func (rt *route) checkQuery(r *http.Request) error {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return reseller.Errorf(reseller.EINVALID, "The query string is malformed: %v.", err)
	}
	for name, vals := range v {
		p := rt.queryParam(name)
		switch {
		case p == nil && len(rt.query) == 0:
			return reseller.Errorf(reseller.EINVALID, "Unknown query parameter %q; this route takes none.", name)
		case p == nil:
			return reseller.Errorf(reseller.EINVALID, "Unknown query parameter %q; this route takes %s.", name, rt.queryNames())
		case len(vals) > 1 && !p.repeat:
			return reseller.Errorf(reseller.EINVALID, "Query parameter %q is given %d times; give it once.", name, len(vals))
		}
	}
	return nil
}

func (rt *route) queryParam(name string) *param {
	for i := range rt.query {
		if rt.query[i].name == name {
			return &rt.query[i]
		}
	}
	return nil
}

func (rt *route) queryNames() string {
	s := make([]string, len(rt.query))
	for i, p := range rt.query {
		s[i] = p.name
	}
	return strings.Join(s, ", ")
}

// started reports whether the response has begun, after which an error can
// no longer be sent as a problem.
func started(w http.ResponseWriter) bool {
	sw, ok := w.(*statusWriter)
	return ok && sw.status != 0
}
