package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/resellerconsole/reseller"
)

// Templates and static files are embedded and loaded once, at start-up: a
// template that does not parse stops the server from starting, not a page
// from rendering.

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Shared templates: the layout and partials every page may use. Every other
// file in templates/ is a page.
const (
	layoutTemplate   = "layout.html"
	partialsTemplate = "partials.html"
)

// asset is a static file served under a name that carries its hash, so that
// it can be cached for good and still change with each release.
type asset struct {
	body        []byte
	contentType string
}

// loadAssets reads static/ and returns the files by hashed name and the
// hashed URL of each plain name.
func loadAssets() (map[string]*asset, map[string]string, error) {
	files := map[string]*asset{}
	urls := map[string]string{}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := path.Base(p)
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:6]) + ext
		ct := mime.TypeByExtension(ext)
		if ct == "" {
			ct = "application/octet-stream"
		}
		files[hashed] = &asset{body: b, contentType: ct}
		urls[name] = "/static/" + hashed
		return nil
	})
	return files, urls, err
}

// parseTemplates parses every page template with the layout and partials.
func parseTemplates(assetURLs map[string]string) (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"asset": func(name string) (string, error) {
			u, ok := assetURLs[name]
			if !ok {
				return "", fmt.Errorf("no static file %q", name)
			}
			return u, nil
		},
		"actions":       func() []reseller.Action { return reseller.Actions },
		"clientActions": func() []reseller.Action { return reseller.ClientActions },
		"teamActions":   func() []reseller.Action { return reseller.TeamActions },
		"roles":         func() []reseller.Role { return reseller.Roles },
		"plural":        plural,
		"num":           func(n any) string { return strings.TrimSuffix(plural(n, "", ""), " ") },
		"targetOf":      targetOf,
		"statusClass":   func(s any) string { return "badge badge-" + fmt.Sprint(s) },
		"title":         titleCase,
		"slug":          func(s any) string { return strings.ReplaceAll(fmt.Sprint(s), ".", "-") },
		"scoreClass":    scoreClass,
		"scoreWord":     scoreWord,
		"deref":         func(n *int) int { return *n },
		"longDay":       longDay,
		"oneDecimal":    func(f *float64) string { return strconv.FormatFloat(*f, 'f', 1, 64) },
	}
	base, err := template.New(layoutTemplate).Funcs(funcs).ParseFS(templateFS, "templates/"+layoutTemplate, "templates/"+partialsTemplate)
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(templateFS, "templates")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, e := range entries {
		name := e.Name()
		if name == layoutTemplate || name == partialsTemplate {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name)
		if err != nil {
			return nil, err
		}
		if t.Lookup("content") == nil {
			return nil, fmt.Errorf("template %s defines no \"content\"", name)
		}
		out[name] = t
	}
	return out, nil
}

// plural writes a count with its noun: "1 entry", "3 entries".
// targetView is an entry's target as tables show it: which client, and
// whether it has been deleted since.
type targetView struct {
	ID      int64
	Email   string
	Deleted bool
	User    bool // a team member (team actions), not a client
}

// targetOf describes t, with what clients (page.Targets) knows of it.
func targetOf(clients map[int64]*reseller.Client, t reseller.Target) targetView {
	v := targetView{ID: t.ID, Email: t.Email, User: t.Type == reseller.TargetUser}
	if v.User {
		return v
	}
	if c := clients[t.ID]; c != nil {
		v.Deleted = c.Status == reseller.ClientDeleted
	}
	return v
}

func plural(n any, one, many string) string {
	var k int64
	switch v := n.(type) {
	case int:
		k = int64(v)
	case int64:
		k = v
	}
	word := many
	if k == 1 {
		word = one
	}
	return formatCount(k) + " " + word
}

// formatCount writes n with thin grouping: 12,345.
func formatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// titleCase capitalises the first letter: "suspended" → "Suspended".
func titleCase(s any) string {
	str := fmt.Sprint(s)
	if str == "" {
		return ""
	}
	return strings.ToUpper(str[:1]) + str[1:]
}

// serveStatic serves a hashed static file, cacheable for a year.
func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) {
	infoFrom(r.Context()).route = "/static/{name}"
	a, ok := s.assets[r.PathValue("name")]
	if !ok {
		s.writeError(w, r, reseller.Errorf(reseller.ENOTFOUND, "There is no static file %s.", r.PathValue("name")))
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(a.body)
}
