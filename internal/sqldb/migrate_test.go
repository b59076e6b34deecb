package sqldb

import (
	"regexp"
	"strings"
	"testing"
)

// TestRenderMigrations renders every migration for both dialects and checks
// that each result speaks only its own dialect. That the results make the
// schema the store expects is TestSchema's job.
func TestRenderMigrations(t *testing.T) {
	ms, err := listMigrations()
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range ms {
		if m.version != i+1 {
			t.Errorf("migration %s has version %d, want %d: versions are numbered from 1 without gaps", m.name, m.version, i+1)
		}
	}
	foreign := map[string]*regexp.Regexp{
		"sqlite":   regexp.MustCompile(`BIGINT|BYTEA|GENERATED|plpgsql|TRUNCATE`),
		"postgres": regexp.MustCompile(`INTEGER|BLOB|WITHOUT ROWID|RAISE\(ABORT`),
	}
	for _, d := range []dialect{sqliteDialect, postgresDialect} {
		for _, m := range ms {
			t.Run(d.name+"/"+m.name, func(t *testing.T) {
				sql, err := d.renderMigration(m)
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(sql, "{{") || strings.Contains(sql, "}}") {
					t.Errorf("template syntax left in:\n%s", sql)
				}
				if w := foreign[d.name].FindString(sql); w != "" {
					t.Errorf("%s rendered for %s:\n%s", w, d.name, sql)
				}
				if !strings.Contains(sql, "CREATE ") {
					t.Errorf("renders to nothing:\n%s", sql)
				}
			})
		}
	}
}
