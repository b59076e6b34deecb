package web_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

// A database that cannot store changes is named as such: writes answer 503
// store_unavailable with Retry-After and change nothing, and /healthz says
// the store is not writable until a write goes through again.
func TestStorageFaultsAreNamed(t *testing.T) {
	t.Run("sqlite_full_disk", func(t *testing.T) {
		dir := t.TempDir()
		if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=4m"); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("CI runs as root and must be able to mount a small tmpfs: %v", err)
			}
			t.Skipf("cannot mount a small tmpfs to fill (not root?): %v", err)
		}
		t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
		db, err := sqldb.Open(context.Background(), filepath.Join(dir, "full.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, db)
		filler := filepath.Join(dir, "filler")
		fill := func() {
			f, err := os.Create(filler)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			buf := make([]byte, 64<<10)
			for {
				if _, err := f.Write(buf); err != nil {
					return // ENOSPC: the disk is full
				}
			}
		}
		fill()
		var full *response
		for i := range 500 { // WAL space already there is used up first
			r := e.post(t, operator, "/api/v1/clients", fmt.Sprintf(`{"email":"c%d@x.io","name":"%s"}`, i, strings.Repeat("n", 190)))
			if r.status != http.StatusCreated {
				full = r
				break
			}
		}
		if full == nil {
			t.Fatal("500 clients went into a full 4 MiB disk")
		}
		checkFault(t, e, full)
		os.Remove(filler)
		if r := e.post(t, operator, "/api/v1/clients", `{"email":"after@x.io"}`); r.status != http.StatusCreated {
			t.Fatalf("a write once the disk has room: %d %s", r.status, r.body)
		}
		if r := e.do(t, req{method: "GET", path: "/healthz"}); r.status != http.StatusOK {
			t.Fatalf("/healthz once writes go through again: %d %s", r.status, r.body)
		}
	})
	t.Run("postgres_read_only", func(t *testing.T) {
		if sqldbtest.PostgresURL() == "" {
			t.Skip("PostgreSQL not configured: set RESELLER_TEST_POSTGRES=" + sqldbtest.DefaultPostgres)
		}
		db := sqldbtest.MustOpen(t, "postgres")
		e := newEnv(t, db)
		name := db.DSN()[strings.LastIndexByte(db.DSN(), '/')+1:]
		if i := strings.IndexByte(name, '?'); i >= 0 {
			name = name[:i]
		}
		if _, err := db.SQL().Exec("ALTER DATABASE " + name + " SET default_transaction_read_only = on"); err != nil {
			t.Fatal(err)
		}
		ro, err := sqldb.Open(context.Background(), db.DSN())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ro.Close() })
		e2 := e.restart(t, ro)
		before := must(ro.CountEntries(e.as(auditor), reseller.AuditFilter{}, "", nil)).Total
		r := e2.post(t, operator, "/api/v1/clients", `{"email":"ro@x.io"}`)
		checkFault(t, e2, r)
		if after := must(ro.CountEntries(e.as(auditor), reseller.AuditFilter{}, "", nil)).Total; after != before {
			t.Fatalf("the refused write left %d entries, %d before", after, before)
		}
	})
}

func checkFault(t *testing.T, e *env, r *response) {
	t.Helper()
	r.wantProblem(t, http.StatusServiceUnavailable, reseller.EUNAVAILABLE, "cannot store changes")
	if r.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	h := e.do(t, req{method: "GET", path: "/healthz"})
	if h.status != http.StatusServiceUnavailable || !strings.Contains(string(h.body), "not writable") {
		t.Fatalf("/healthz after a write the store could not take: %d %s", h.status, h.body)
	}
}
