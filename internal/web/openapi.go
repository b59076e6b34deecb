package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/resellerconsole/reseller"
)

// The OpenAPI 3.1 document is generated from the route table and the Go
// types of its bodies, so it cannot drift from what the server does.

type object = map[string]any

func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-cache")
	w.Write(s.openapi)
	return nil
}

// bundleSchema stands for the verification bundle in the document: the
// bundle is streamed, not marshalled from a Go type, so its shape is
// written out here, as docs/audit-log-format.md section 7 defines it.
type bundleSchema struct{}

var bundleDoc = object{
	"type":        "object",
	"description": "A verification bundle (docs/audit-log-format.md, section 7): check it offline with `reseller audit verify`.",
	"required":    []string{"format", "origin", "verifier_key", "checkpoint", "entry_count", "entries"},
	"properties": object{
		"format":       object{"type": "string", "const": "reseller-audit-bundle/v1"},
		"origin":       object{"type": "string"},
		"verifier_key": object{"type": "string"},
		"checkpoint":   object{"type": "string", "description": "The signed checkpoint note."},
		"filter":       object{"type": "string", "description": "How the entries were selected, in the query syntax; not verified."},
		"consistency": object{"type": "object", "required": []string{"old_size", "old_root", "proof"},
			"properties": object{
				"old_size": object{"type": "integer", "format": "int64"},
				"old_root": object{"type": "string", "contentEncoding": "base64"},
				"proof":    object{"type": "array", "items": object{"type": "string", "contentEncoding": "base64"}},
			}},
		"entry_count": object{"type": "integer", "format": "int64"},
		"entries": object{"type": "array", "items": object{"type": "object", "required": []string{"seq", "record", "proof"},
			"properties": object{
				"seq":    object{"type": "integer", "format": "int64"},
				"record": object{"type": "string", "description": "The record bytes."},
				"proof":  object{"type": "array", "items": object{"type": "string", "contentEncoding": "base64"}},
			}}},
	},
}

// mediaSchemas describe the bodies that are no JSON document.
var mediaSchemas = map[string]object{
	"text/csv":          {"type": "string", "description": "CSV with a header row; times in UTC (time_utc)."},
	"application/jsonl": {"type": "string", "description": "JSON Lines: one entry's canonical record bytes (a JSON object) per line."},
	"text/plain":        {"type": "string"},
}

var pathParamRE = regexp.MustCompile(`\{([a-z_]+)\}`)

// openAPIDocument describes s.routes.
func (s *Server) openAPIDocument() ([]byte, error) {
	g := &schemaGen{schemas: object{}, names: map[reflect.Type]string{}}
	problem := g.schema(reflect.TypeFor[Problem]())
	paths := object{}
	for _, rt := range s.routes {
		item, _ := paths[rt.path].(object)
		if item == nil {
			item = object{}
			paths[rt.path] = item
		}
		op, err := g.operation(rt, problem)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", rt.method, rt.path, err)
		}
		item[strings.ToLower(rt.method)] = op
	}
	doc := object{
		"openapi": "3.1.0",
		"servers": []object{{"url": "/", "description": "The server that serves this document."}},
		"info": object{
			"title":   "Reseller Console API",
			"version": "1",
			"license": object{"name": "Proprietary", "identifier": "LicenseRef-Proprietary"},
			"description": "Manage clients, license pools and licenses, and read the audit log in which every change lands. " +
				"Send an API token as `Authorization: Bearer <token>`. Errors are RFC 9457 problem+json with a stable `code`. " +
				"Lists are paged with opaque cursors: pass `next_cursor` back as `cursor` until it is empty. " +
				"A path that is no route answers 404 and a route asked with another method 405 (with Allow), both as problems. " +
				"Request bodies that do not parse are 400, never 422. Over the rate limit the answer is 429 with Retry-After.",
		},
		"tags": []object{
			{"name": "clients", "description": "Your clients, identified by email."},
			{"name": "pools", "description": "Blocks of license slots bought for a product."},
			{"name": "licenses", "description": "Slots of pools allocated to clients."},
			{"name": "sites", "description": "What the plugins on clients' sites report: dashboard, activity and alerts. Never in the audit log."},
			{"name": "plugin", "description": "The API the security plugin on a client's site calls, with its license key; see docs/plugin-protocol.md."},
			{"name": "audit", "description": "The append-only, verifiable log of every action."},
			{"name": "operations", "description": "Health, metrics and this document."},
		},
		"paths":    paths,
		"security": []object{{"bearer": []string{}}},
		"components": object{
			"schemas": g.schemas,
			"headers": object{
				"RetryAfter": object{"description": "Seconds to wait before trying again.", "schema": object{"type": "integer", "minimum": 1}},
			},
			"securitySchemes": object{
				"bearer": object{"type": "http", "scheme": "bearer", "description": "An API token, created with `reseller token create`."},
				"license": object{"type": "apiKey", "in": "header", "name": "Authorization",
					"description": "The plugin's license key, as `Authorization: License rlk_...`: returned once when the license is allocated or its key re-issued."},
			},
		},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (g *schemaGen) operation(rt *route, problem object) (object, error) {
	op := object{"operationId": rt.id, "summary": rt.summary, "tags": []string{rt.tag}}
	if rt.desc != "" {
		op["description"] = rt.desc
	}
	if rt.public {
		op["security"] = []object{}
	}
	if rt.license {
		op["security"] = []object{{"license": []string{}}}
	}
	var params []object
	for _, m := range pathParamRE.FindAllStringSubmatch(rt.path, -1) {
		params = append(params, object{"name": m[1], "in": "path", "required": true,
			"schema": object{"type": "integer", "format": "int64", "minimum": 1}})
	}
	for _, p := range rt.query {
		params = append(params, queryParamObject(p))
	}
	if params != nil {
		op["parameters"] = params
	}
	if rt.body != nil {
		body := g.schema(reflect.TypeOf(rt.body))
		if name := g.names[reflect.TypeOf(rt.body)]; name != "" {
			// Requests refuse unknown fields; say so.
			g.schemas[name].(object)["additionalProperties"] = false
		}
		op["requestBody"] = object{"required": !rt.bodyOptional,
			"content": object{"application/json": object{"schema": body}}}
	}
	status := rt.status
	if status == 0 {
		status = http.StatusOK
	}
	ok := object{"description": http.StatusText(status)}
	switch {
	case rt.resp == bundleSchema{}:
		ok["content"] = object{"application/json": object{"schema": bundleDoc}}
	case rt.resp != nil:
		ok["content"] = object{"application/json": object{"schema": g.schema(reflect.TypeOf(rt.resp))}}
	case rt.media != nil:
		content := object{}
		for _, m := range rt.media {
			sch := mediaSchemas[m]
			if sch == nil {
				return nil, fmt.Errorf("no schema for media type %s", m)
			}
			content[m] = object{"schema": sch}
		}
		ok["content"] = content
	default:
		return nil, fmt.Errorf("no response type")
	}
	responses := object{strconv.Itoa(status): ok}
	codes := slices.Clone(rt.errors)
	if !rt.public {
		codes = append(codes, authErrors...)
	}
	// Every route refuses query parameters it does not take.
	codes = append(codes, reseller.EINVALID)
	if rt.action != "" || rt.tag == "verifiable log" {
		// Changes and signing stop for a log that failed its check.
		codes = append(codes, reseller.ELOGINCONSISTENT)
	}
	if rt.action != "" {
		// A write the database cannot store (full disk, read-only).
		codes = append(codes, reseller.EUNAVAILABLE)
	}
	byStatus := map[int][]string{}
	for _, c := range codes {
		st := problemOf(reseller.Errorf(c, "")).Status
		if !slices.Contains(byStatus[st], c) {
			byStatus[st] = append(byStatus[st], c)
		}
	}
	for st, cs := range byStatus {
		resp := object{
			"description": http.StatusText(st) + ": " + strings.Join(cs, ", "),
			"content": object{"application/problem+json": object{"schema": object{
				"allOf": []object{problem, {"properties": object{"code": object{"enum": cs}}}},
			}}},
		}
		if st == http.StatusTooManyRequests {
			resp["headers"] = object{"Retry-After": object{"$ref": "#/components/headers/RetryAfter"}}
		}
		responses[strconv.Itoa(st)] = resp
	}
	op["responses"] = responses
	return op, nil
}

func queryParamObject(p param) object {
	sch := object{"type": p.typ}
	if p.typ == "integer" {
		sch["minimum"] = 1
		if p.name == "limit" {
			sch["maximum"] = reseller.MaxPageSize
		}
	}
	if p.format != "" {
		sch["format"] = p.format
	}
	if p.enum != nil {
		sch["enum"] = p.enum
	}
	o := object{"name": p.name, "in": "query"}
	if p.required {
		o["required"] = true
	}
	if p.desc != "" {
		o["description"] = p.desc
	}
	if p.repeat {
		sch = object{"type": "array", "items": sch}
		o["style"], o["explode"] = "form", true
	}
	o["schema"] = sch
	return o
}

// schemaGen turns Go types into JSON Schema (2020-12, as OpenAPI 3.1 uses)
// by their json tags. Named structs become components, referred to by $ref.
type schemaGen struct {
	schemas object
	names   map[reflect.Type]string
}

var timeType = reflect.TypeFor[time.Time]()

// enums lists the values of the domain's string types.
var enums = map[reflect.Type][]string{
	reflect.TypeFor[reseller.Action]():        strs(reseller.Actions),
	reflect.TypeFor[reseller.Role]():          strs(reseller.Roles),
	reflect.TypeFor[reseller.ClientStatus]():  {"active", "suspended", "deleted"},
	reflect.TypeFor[reseller.LicenseStatus](): {"active", "revoked"},
}

func strs[T ~string](vs []T) []string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return s
}

// schemaDocs describes components whose Go types carry no description.
var schemaDocs = map[string]string{
	"Client":     "One of your clients. licenses counts its active licenses.",
	"Pool":       "A pool of license slots: free = capacity - used.",
	"License":    "One slot of a pool allocated to one client. revoked_at is null while active.",
	"Entry":      "One audit log entry. seq numbers the account's entries 1, 2, 3... without gaps; time is UTC.",
	"Target":     "The client an action applied to, with its email as it was then.",
	"Details":    "The context of an action; empty fields are left out.",
	"EntryActor": "Who performed an action, as they were then, and how they came in (via web, api or cli).",
	"AuditCount": "How many entries match, in total and per period (bucket starts carry the tz offset).",
	"Problem":    "An RFC 9457 problem. code is stable; detail names the problem.",
}

func (g *schemaGen) schema(t reflect.Type) object {
	if t == timeType {
		return object{"type": "string", "format": "date-time"}
	}
	if t.Kind() == reflect.Pointer {
		return nullable(g.schema(t.Elem()))
	}
	if e, ok := enums[t]; ok {
		return object{"type": "string", "enum": e}
	}
	switch t.Kind() {
	case reflect.String:
		return object{"type": "string"}
	case reflect.Bool:
		return object{"type": "boolean"}
	case reflect.Int64, reflect.Uint64:
		return object{"type": "integer", "format": "int64"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return object{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return object{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return object{"type": "string", "contentEncoding": "base64"}
		}
		elem := t.Elem()
		if elem.Kind() == reflect.Pointer {
			elem = elem.Elem() // our lists never hold nulls
		}
		return object{"type": "array", "items": g.schema(elem)}
	case reflect.Map:
		return object{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Interface:
		return object{}
	case reflect.Struct:
		if t.Name() == "" {
			return g.structSchema(t)
		}
		name, ok := g.names[t]
		if !ok {
			name = exportedName(t.Name())
			g.names[t] = name
			g.schemas[name] = object{} // placeholder, for recursive types
			s := g.structSchema(t)
			if d := schemaDocs[name]; d != "" {
				s["description"] = d
			}
			g.schemas[name] = s
		}
		return object{"$ref": "#/components/schemas/" + name}
	}
	panic(fmt.Sprintf("web: no JSON schema for %s", t))
}

// structSchema describes a struct's JSON object. Fields without omitempty
// or omitzero are always present, so they are required.
func (g *schemaGen) structSchema(t reflect.Type) object {
	props, required := object{}, []string{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for f := range t.Fields() {
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" && opts == "" {
				continue
			}
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				walk(f.Type)
				continue
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			props[name] = g.schema(f.Type)
			optional := false
			for o := range strings.SplitSeq(opts, ",") {
				optional = optional || o == "omitempty" || o == "omitzero"
			}
			if !optional {
				required = append(required, name)
			}
		}
	}
	walk(t)
	s := object{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

// nullable allows null besides what s allows.
func nullable(s object) object {
	if typ, ok := s["type"].(string); ok {
		n := object{}
		for k, v := range s {
			n[k] = v
		}
		n["type"] = []string{typ, "null"}
		return n
	}
	return object{"oneOf": []object{s, {"type": "null"}}}
}

func exportedName(s string) string {
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}
