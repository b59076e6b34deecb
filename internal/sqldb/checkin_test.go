package sqldb_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

// TestCheckInsInOneBatch: check-ins written together in one transaction of
// the activity writer (several per license, per client and per day, out of
// time order, one alert key raised twice) leave exactly what the same
// check-ins leave written one at a time: the daily series, the sites'
// latest states, the client's score and last seen, the scans and alerts.
func TestCheckInsInOneBatch(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		op := f.as(reseller.RoleOperator)
		t0 := time.Date(2026, 3, 9, 22, 0, 0, 0, time.UTC)
		// Two clients with two licenses each: one gets the check-ins in
		// one batch, the other one by one.
		client := func(email string) (*reseller.Client, []string) {
			c, l1, err := db.OnboardClient(op, reseller.NewClient{Email: email, PoolID: f.pool.ID})
			if err != nil {
				t.Fatal(err)
			}
			l2 := ok(db.AllocateLicense(op, c.ID, f.pool.ID, ""))
			return c, []string{l1.Key, l2.Key}
		}
		together, keysT := client("together@x.test")
		alone, keysA := client("alone@x.test")

		type report struct {
			license, score int
			at             time.Duration
			blocked        int64
			scan           bool
			alert          string
		}
		reports := []report{
			{0, 80, 0, 3, true, ""}, {0, 60, 3 * time.Hour, 5, false, "malware"}, {1, 90, time.Hour, 0, false, ""},
			{0, 70, -time.Minute, 1, false, ""}, {1, 40, 4 * time.Hour, 9, true, "malware"}, {0, 75, 90 * time.Minute, 2, false, "malware"},
			{1, 95, 30 * time.Minute, 0, false, ""}, {0, 50, 3 * time.Hour, 4, false, ""},
		}
		var keys []string
		var ins []*reseller.CheckIn
		var times []time.Time
		for i, r := range reports {
			at := t0.Add(r.at)
			score := r.score
			in := &reseller.CheckIn{SiteURL: fmt.Sprintf("https://site%d.example.io", r.license), PluginVersion: fmt.Sprintf("4.%d", i),
				Score: &score, Firewall: &reseller.Firewall{Blocked: r.blocked}}
			if r.scan {
				in.Scan = &reseller.Scan{CompletedAt: at.Add(-time.Minute), FilesScanned: int64(1000 + i), Findings: reseller.Findings{Warning: int64(i)}}
			}
			if r.alert != "" {
				in.Alerts = []*reseller.AlertInput{{Key: r.alert, Severity: reseller.SeverityCritical, Kind: "malware", Message: fmt.Sprint("seen ", i), RaisedAt: at}}
			}
			keys, ins, times = append(keys, keysT[r.license]), append(ins, in), append(times, at)
			if _, err := db.CheckInAt(op, keysA[r.license], in, at); err != nil {
				t.Fatal(err)
			}
		}
		if err := sqldb.CheckInsTogether(op, db, keys, ins, times); err != nil {
			t.Fatal(err)
		}

		// What each client shows, with its own ids and email left out.
		view := func(c *reseller.Client) string {
			a := ok(db.ClientActivity(op, c.ID, t0.AddDate(0, 0, -1), t0.AddDate(0, 0, 1), time.UTC))
			for i := range a.Sites {
				a.Sites[i].LicenseID, a.Sites[i].ClientID = 0, 0
			}
			for i := range a.Scans {
				a.Scans[i].LicenseID = 0
			}
			a.ClientID = 0
			alerts, _ := ok2(db.ListAlerts(op, reseller.AlertFilter{ClientID: c.ID}))
			for _, al := range alerts {
				al.ID, al.ClientID, al.ClientEmail, al.LicenseID = 0, 0, "", 0
			}
			list, _ := ok2(db.ListClients(op, reseller.ClientFilter{Search: c.Email}))
			if len(list) != 1 {
				t.Fatalf("%d clients found by %q", len(list), c.Email)
			}
			b, err := json.MarshalIndent(struct {
				Activity *reseller.ClientActivity
				Alerts   []*reseller.Alert
				Score    *int
				LastSeen *time.Time
			}{a, alerts, list[0].Score, list[0].LastSeen}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		got, want := view(together), view(alone)
		if got != want {
			t.Fatalf("written in one batch:\n%s\n\nwritten one by one:\n%s", got, want)
		}
		// And the one-by-one view is what the reports say.
		a := ok(db.ClientActivity(op, alone.ID, t0, t0.Add(24*time.Hour), time.UTC))
		var day, next reseller.ActivityDay
		for _, d := range a.Days {
			switch d.Day {
			case "2026-03-09":
				day = d
			case "2026-03-10":
				next = d
			}
		}
		if day.CheckIns != 5 || *day.ScoreMin != 70 || *day.ScoreLast != 75 || day.Blocked != 6 || day.Scans != 1 ||
			next.CheckIns != 3 || *next.ScoreMin != 40 || *next.ScoreLast != 40 || next.Blocked != 18 || next.Scans != 1 {
			t.Fatalf("days %+v and %+v", day, next)
		}
		if got := ok(db.FindClientByID(op, alone.ID)); got.Score == nil || *got.Score != 40 {
			t.Fatalf("the client's score is %v, want the latest check-in's, 40", got.Score)
		}
	})
}

func ok2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}
