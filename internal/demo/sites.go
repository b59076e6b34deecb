package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/resellerconsole/reseller"
	"golang.org/x/sync/errgroup"
)

// Site activity: every active license's site checks in over the history,
// through the store's check-in path (never the audit log), so that the
// dashboard, the clients table and the client pages have scores, scans,
// blocks and alerts to show. A few times a day is enough for charts of
// daily roll-ups; a live plugin checks in every five minutes.

// How often a demo site checked in: once a day over most of its history,
// more often in its last week. Enough for charts of daily roll-ups, and
// quick to write (a live plugin checks in every five minutes).
const (
	checkInsPerDay       = 1
	recentCheckInsPerDay = 4
	recentDays           = 7
)

// alertCatalogue is what the demo plugins raise, by severity.
var alertCatalogue = []struct {
	severity reseller.Severity
	kind     string
	message  string
}{
	{reseller.SeverityCritical, "malware", "Unresolved malware found in wp-content/uploads/cache.php"},
	{reseller.SeverityCritical, "firewall", "The firewall was turned off"},
	{reseller.SeverityCritical, "login", "A brute-force attack on the admin account succeeded"},
	{reseller.SeverityWarning, "update", "Three plugins are out of date"},
	{reseller.SeverityWarning, "password", "An administrator uses a weak password"},
	{reseller.SeverityWarning, "scan", "The scheduled scan did not run"},
	{reseller.SeverityInfo, "scan", "A full scan completed"},
	{reseller.SeverityInfo, "settings", "Hardening settings were applied"},
}

// siteActivity writes the check-ins of every active license between start
// and end, several sites at once, and records their keys in the result.
func (s *seeder) siteActivity(ctx context.Context, start, end time.Time) error {
	type job struct {
		c *client
		l *license
	}
	var jobs []job
	for _, c := range s.clients {
		for _, l := range c.licenses {
			if c.status != reseller.ClientDeleted && l.key != "" {
				jobs = append(jobs, job{c, l})
				s.res.Keys = append(s.res.Keys, l.key)
			}
		}
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(32)
	for _, j := range jobs {
		g.Go(func() error {
			n, err := s.siteHistory(gctx, j.c, j.l, start, end)
			mu.Lock()
			s.res.CheckIns += n
			mu.Unlock()
			return err
		})
	}
	return g.Wait()
}

// siteHistory is one site's check-ins: a score that drifts around the
// site's own level, a scan a day, firewall blocks, and now and then an
// alert. Some sites stopped reporting a few days before the end.
func (s *seeder) siteHistory(ctx context.Context, c *client, l *license, start, end time.Time) (int, error) {
	rng := rand.New(rand.NewPCG(uint64(l.id), 0x73697465))
	from := l.since
	if from.Before(start) {
		from = start
	}
	until := end
	if rng.IntN(12) == 0 {
		until = end.Add(-time.Duration(24+rng.IntN(120)) * time.Hour) // offline or deactivated
	}
	level := 55 + rng.Float64()*43
	score := level
	site := "https://" + l.label
	version, platform := fmt.Sprintf("4.%d.%d", 2+rng.IntN(3), rng.IntN(10)), fmt.Sprintf("6.%d.%d", 4+rng.IntN(3), rng.IntN(4))
	recent := end.Add(-recentDays * 24 * time.Hour)
	stepAt := func(t time.Time) time.Duration {
		if t.After(recent) {
			return 24 * time.Hour / recentCheckInsPerDay
		}
		return 24 * time.Hour / checkInsPerDay
	}
	n := 0
	lastScanDay := int64(-1)
	for t := from.Add(time.Duration(rng.Int64N(int64(stepAt(from))))); t.Before(until); t = t.Add(stepAt(t) + time.Duration(rng.Int64N(int64(time.Hour))) - 30*time.Minute) {
		score += (level-score)*0.1 + rng.NormFloat64()*3
		score = min(100, max(0, score))
		sc := int(score + 0.5)
		in := &reseller.CheckIn{SiteURL: site, PluginVersion: version, PlatformVersion: platform, Score: &sc,
			Firewall: &reseller.Firewall{Blocked: int64(rng.ExpFloat64() * 40 * (110 - score) / 50)}}
		if day := t.Unix() / 86400; day != lastScanDay {
			lastScanDay = day
			crit := int64(0)
			if score < 50 && rng.IntN(3) == 0 {
				crit = 1
			}
			in.Scan = &reseller.Scan{CompletedAt: t.Add(-10 * time.Minute), FilesScanned: 4000 + rng.Int64N(9000),
				Findings: reseller.Findings{Critical: crit, Warning: int64(rng.IntN(int(110-score)/20 + 1)), Info: int64(rng.IntN(6))}}
		}
		if rng.IntN(25) == 0 {
			k := rng.IntN(len(alertCatalogue))
			if score > 70 && alertCatalogue[k].severity == reseller.SeverityCritical {
				k += 3 // healthy sites raise warnings rather
			}
			a := alertCatalogue[k]
			in.Alerts = []*reseller.AlertInput{{Key: a.kind + "-" + string(a.severity), Severity: a.severity, Kind: a.kind, Message: a.message, RaisedAt: t}}
		}
		if _, err := s.db.CheckInAt(ctx, l.key, in, t); err != nil {
			return n, fmt.Errorf("demo: check-in of license %d at %s: %w", l.id, t.Format(time.RFC3339), err)
		}
		n++
	}
	return n, nil
}
