package web_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

// The OpenAPI document is valid JSON, describes every route of the design,
// and every operation it describes is served.
func TestOpenAPI(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		res := e.do(t, req{method: "GET", path: "/api/openapi.json"})
		if res.status != 200 || res.header.Get("Content-Type") != "application/json" {
			t.Fatalf("openapi.json: %d %s", res.status, res.header.Get("Content-Type"))
		}
		var doc struct {
			OpenAPI    string                               `json:"openapi"`
			Info       struct{ Title, Version string }      `json:"info"`
			Paths      map[string]map[string]map[string]any `json:"paths"`
			Components struct {
				Schemas map[string]map[string]any `json:"schemas"`
			} `json:"components"`
		}
		res.decode(t, &doc)
		if doc.OpenAPI != "3.1.0" || doc.Info.Title == "" || doc.Info.Version == "" {
			t.Fatalf("openapi %q, info %+v", doc.OpenAPI, doc.Info)
		}

		// The API of the design.
		want := []string{
			"GET /api/v1/clients", "POST /api/v1/clients", "GET /api/v1/clients/{id}",
			"POST /api/v1/clients/{id}/suspend", "POST /api/v1/clients/{id}/reactivate", "DELETE /api/v1/clients/{id}",
			"GET /api/v1/pools",
			"GET /api/v1/licenses", "POST /api/v1/licenses", "POST /api/v1/licenses/{id}/revoke",
			"GET /api/v1/audit", "GET /api/v1/audit/bundle", "GET /api/v1/audit/checkpoint", "GET /api/v1/audit/count", "GET /api/v1/audit/export", "GET /api/v1/audit/proof/consistency", "GET /api/v1/audit/proof/inclusion",
			"GET /api/openapi.json", "GET /healthz", "GET /metrics",
			"GET /api/v1/users", "POST /api/v1/users", "GET /api/v1/users/{id}", "PATCH /api/v1/users/{id}", "DELETE /api/v1/users/{id}",
			"POST /api/v1/users/{id}/transfer-ownership", "GET /api/v1/tokens", "POST /api/v1/tokens", "POST /api/v1/tokens/{id}/revoke",
			"GET /api/v1/clients/{id}/activity", "POST /api/v1/licenses/{id}/reissue-key", "GET /api/v1/dashboard",
			"GET /api/v1/alerts", "POST /api/v1/alerts/{id}/dismiss", "POST /api/v1/alerts/{id}/undismiss",
			"POST /api/plugin/v1/checkin",
		}
		var got []string
		ids := map[string]bool{}
		for path, ops := range doc.Paths {
			for method, op := range ops {
				got = append(got, strings.ToUpper(method)+" "+path)
				id, _ := op["operationId"].(string)
				if id == "" || ids[id] {
					t.Errorf("%s %s: operationId %q missing or repeated", method, path, id)
				}
				ids[id] = true
				if _, ok := op["responses"].(map[string]any); !ok {
					t.Errorf("%s %s: no responses", method, path)
				}
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("operations:\n got %q\nwant %q", got, want)
		}

		// Each documented operation is served: without a token the API
		// answers 401 (not the mux's 404 or 405), the rest 200.
		for _, op := range got {
			method, path, _ := strings.Cut(op, " ")
			r := e.do(t, req{method: method, path: strings.ReplaceAll(path, "{id}", "1")})
			wantStatus := http.StatusUnauthorized
			if !strings.HasPrefix(path, "/api/v1/") && !strings.HasPrefix(path, "/api/plugin/") {
				wantStatus = http.StatusOK
			}
			if r.status != wantStatus {
				t.Errorf("%s: %d, want %d", op, r.status, wantStatus)
			}
		}

		// Every reference resolves; request bodies refuse unknown fields.
		for _, m := range regexp.MustCompile(`"\$ref":"#/components/schemas/([A-Za-z]+)"`).FindAllStringSubmatch(string(res.body), -1) {
			if doc.Components.Schemas[m[1]] == nil {
				t.Errorf("$ref to missing schema %s", m[1])
			}
		}
		for _, name := range []string{"CreateClientRequest", "AllocateRequest", "ReasonRequest", "EmptyRequest"} {
			if doc.Components.Schemas[name]["additionalProperties"] != false {
				t.Errorf("%s allows unknown fields", name)
			}
		}
		// What Redocly's recommended rules and response validators asked for.
		var raw struct {
			Servers []struct{ URL string }              `json:"servers"`
			Info    struct{ License map[string]string } `json:"info"`
			Paths   map[string]map[string]struct {
				Parameters []struct {
					Name     string
					Required bool
				}
				Responses map[string]struct {
					Headers map[string]any
					Content map[string]struct{ Schema map[string]any }
				}
			}
		}
		res.decode(t, &raw)
		if len(raw.Servers) == 0 || raw.Info.License["name"] == "" {
			t.Errorf("servers %v, license %v", raw.Servers, raw.Info.License)
		}
		for path, name := range map[string]string{"/api/v1/audit/proof/inclusion": "seq", "/api/v1/audit/proof/consistency": "from"} {
			for _, p := range raw.Paths[path]["get"].Parameters {
				if p.Name == name && !p.Required {
					t.Errorf("%s: %s not required", path, name)
				}
			}
		}
		for path, ops := range raw.Paths {
			for method, op := range ops {
				if _, ok := op.Responses["422"]; ok {
					t.Errorf("%s %s declares 422, which is never sent", method, path)
				}
				if r, ok := op.Responses["429"]; ok && r.Headers["Retry-After"] == nil {
					t.Errorf("%s %s: 429 without Retry-After", method, path)
				}
			}
		}
		if s := raw.Paths["/api/v1/audit/bundle"]["get"].Responses["200"].Content["application/json"].Schema; s["type"] != "object" {
			t.Errorf("bundle schema %v", s)
		}
		if c := raw.Paths["/api/v1/audit/export"]["get"].Responses["200"].Content; c["application/jsonl"].Schema == nil || c["application/json"].Schema != nil {
			t.Errorf("export media types %v", c)
		}
		if req := toStrings(doc.Components.Schemas["Entry"]["required"]); !slices.Equal(req, []string{"seq", "time", "action", "target", "details", "actor"}) {
			t.Errorf("Entry required = %v", req)
		}
	})
}

func toStrings(v any) []string {
	var s []string
	for _, x := range v.([]any) {
		s = append(s, x.(string))
	}
	return s
}
