package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/resellerconsole/reseller"
)

// TestSitesSimulate runs simulated plugins against a real server on port
// 0, with one license of a suspended client among them, and checks that the
// summary's counts agree with what the store kept.
func TestSitesSimulate(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		p := provision(t, dsn)
		db := openDB(t, dsn)
		ctx := actor(t, db, "owner@acme.test")
		var keys []string
		var suspended int64
		for i := range 3 {
			c, l, err := db.OnboardClient(ctx, reseller.NewClient{Email: fmt.Sprintf("c%d@example.io", i),
				SiteURL: fmt.Sprintf("https://c%d.example.io", i), PoolID: mustInt(t, p.poolID)})
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, l.Key)
			suspended = c.ID
		}
		if _, err := db.SuspendClient(ctx, suspended, ""); err != nil {
			t.Fatal(err)
		}
		db.Close()
		file := filepath.Join(t.TempDir(), "keys.txt")
		if err := os.WriteFile(file, []byte(strings.Join(append(keys, "rlk_not-a-key"), "\n")), 0o600); err != nil {
			t.Fatal(err)
		}
		s := startServe(t, "--db", dsn, "serve", "--checkin-rate=-1")
		r := mustCLI(t, "", "sites", "simulate", "--url", s.url, "--keys", file, "--interval", "100ms", "--duration", "1500ms")
		t.Log(r.stdout)
		count := func(re string) int64 {
			m := regexp.MustCompile(re).FindStringSubmatch(r.stdout)
			if m == nil {
				t.Fatalf("no %q in the summary:\n%s", re, r.stdout)
			}
			n, _ := strconv.ParseInt(m[1], 10, 64)
			return n
		}
		sent, active, susp, unknown := count(`(\d+) check-ins sent`), count(`200 active\s+(\d+)`), count(`200 suspended\s+(\d+)`), count(`401\s+(\d+)`)
		if sent < 20 || active+susp+unknown != sent || unknown == 0 || susp == 0 || count(`(\d+) errors`) != 0 {
			t.Fatalf("summary:\n%s", r.stdout)
		}
		s.stop(t)
		db = openDB(t, dsn)
		var kept int64
		if err := db.ActivitySQL().QueryRow("SELECT count(*) FROM checkins").Scan(&kept); err != nil {
			t.Fatal(err)
		}
		if kept != active+susp {
			t.Fatalf("%d check-ins kept, %d answered 200", kept, active+susp)
		}
	})
}
