package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/resellerconsole/reseller"
)

type sitesCmd struct {
	Simulate sitesSimulateCmd `cmd:"" help:"Run simulated plugins that check in with a running server over HTTP."`
}

type sitesSimulateCmd struct {
	URL      string        `required:"" placeholder:"URL" help:"The server, such as http://127.0.0.1:8080."`
	Keys     string        `required:"" type:"existingfile" placeholder:"FILE" help:"License keys, one a line; one simulated plugin runs per key."`
	Interval time.Duration `default:"5s" help:"Time between a plugin's check-ins (a real plugin: 5m, or what the server asks)."`
	Duration time.Duration `default:"1m" help:"How long to run; the simulator stops after it."`
}

func (c *sitesSimulateCmd) Help() string {
	return `Each key gets a plugin of its own that checks in every --interval (with a
random start, so they spread out) until --duration is over: a security score
that drifts around the site's own level, a scan now and then, firewall blocks
and, rarely, an alert. It is a real client of POST /api/plugin/v1/checkin, the
same as a plugin on a site. Progress goes to stderr; at the end a summary of
the check-ins sent, by answer, goes to stdout. A plugin told to back off
(429) waits for Retry-After.

serve --demo writes the demo's license keys beside a SQLite database
(reseller.db-demo-keys.txt):

  reseller sites simulate --url http://127.0.0.1:8080 --keys reseller.db-demo-keys.txt --interval 2s --duration 30s`
}

// simStats counts what the simulated plugins were answered.
type simStats struct {
	sent, errors atomic.Int64
	mu           sync.Mutex
	byStatus     map[string]int64 // "200 active", "429", ...
	latencies    []time.Duration
}

func (s *simStats) note(answer string, d time.Duration) {
	s.mu.Lock()
	s.byStatus[answer]++
	s.latencies = append(s.latencies, d)
	s.mu.Unlock()
}

func (c *sitesSimulateCmd) Run(e *env) error {
	keys, err := readKeys(c.Keys)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return fmt.Errorf("%s holds no license key", c.Keys)
	}
	if c.Interval <= 0 || c.Duration <= 0 {
		return fmt.Errorf("--interval and --duration must be positive")
	}
	url := strings.TrimRight(c.URL, "/") + "/api/plugin/v1/checkin"
	// stop ends the run; a check-in already sent is still waited for, so
	// the summary counts every check-in the server answered.
	stop, cancel := context.WithTimeout(e.ctx, c.Duration)
	defer cancel()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	st := &simStats{byStatus: map[string]int64{}}
	start := time.Now()
	done := make(chan struct{})
	go func() { // progress
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintf(e.stderr, "\r%s: %d check-ins sent, %d errors", time.Since(start).Round(time.Second), st.sent.Load(), st.errors.Load())
			}
		}
	}()
	var wg sync.WaitGroup
	for i, key := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			newPlugin(key, uint64(i)).run(e.ctx, stop, client, url, c.Interval, st)
		}()
	}
	wg.Wait()
	close(done)
	fmt.Fprintln(e.stderr)
	return printSimSummary(e.stdout, st, len(keys), time.Since(start))
}

func readKeys(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var keys []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k := strings.TrimSpace(sc.Text()); k != "" && !strings.HasPrefix(k, "#") {
			keys = append(keys, k)
		}
	}
	return keys, sc.Err()
}

// plugin is one simulated site.
type plugin struct {
	key          string
	rng          *rand.Rand
	level, score float64
	site         string
	version      string
	n            int
}

func newPlugin(key string, seed uint64) *plugin {
	rng := rand.New(rand.NewPCG(seed, uint64(time.Now().UnixNano())))
	level := 50 + rng.Float64()*48
	return &plugin{key: key, rng: rng, level: level, score: level,
		site: fmt.Sprintf("https://site%d.example.net", seed), version: fmt.Sprintf("4.%d.%d", 2+rng.IntN(3), rng.IntN(10))}
}

// run checks in every interval until stop is done; a request in flight then
// runs to its end unless ctx (an interrupt) ends it.
func (p *plugin) run(ctx, stop context.Context, client *http.Client, url string, interval time.Duration, st *simStats) {
	wait := time.Duration(p.rng.Int64N(int64(interval))) // spread the plugins out
	for {
		select {
		case <-stop.Done():
			return
		case <-time.After(wait):
		}
		wait = interval
		body, _ := json.Marshal(p.next())
		req, _ := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "License "+p.key)
		req.Header.Set("User-Agent", "reseller-sites-simulate/1")
		t0 := time.Now()
		res, err := client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			st.errors.Add(1)
			continue
		}
		st.sent.Add(1)
		answer := fmt.Sprint(res.StatusCode)
		if res.StatusCode == http.StatusOK {
			var r reseller.CheckInResult
			if json.NewDecoder(res.Body).Decode(&r) == nil {
				answer += " " + string(r.License.Status)
				if r.NextCheckInSeconds > 300 { // the server is busy: slow down in proportion
					wait = time.Duration(float64(interval) * float64(r.NextCheckInSeconds) / 300)
				}
			}
		} else if res.StatusCode == http.StatusTooManyRequests {
			var secs int
			fmt.Sscan(res.Header.Get("Retry-After"), &secs)
			wait = max(wait, time.Duration(secs)*time.Second)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		st.note(answer, time.Since(t0))
	}
}

// next is the plugin's next report: a score drifting around the site's
// level, a scan one time in ten, firewall blocks, and rarely an alert.
func (p *plugin) next() *reseller.CheckIn {
	p.n++
	p.score += (p.level-p.score)*0.1 + p.rng.NormFloat64()*2.5
	p.score = min(100, max(0, p.score))
	score := int(math.Round(p.score))
	in := &reseller.CheckIn{SiteURL: p.site, PluginVersion: p.version, PlatformVersion: "6.5.2", Score: &score,
		Firewall: &reseller.Firewall{Blocked: int64(p.rng.ExpFloat64() * 10 * (110 - p.score) / 50)}}
	now := time.Now().UTC()
	if p.n%10 == 1 {
		in.Scan = &reseller.Scan{CompletedAt: now.Add(-time.Minute), FilesScanned: 3000 + p.rng.Int64N(9000),
			Findings: reseller.Findings{Warning: int64(p.rng.IntN(3)), Info: int64(p.rng.IntN(5))}}
		if score < 50 && p.rng.IntN(4) == 0 {
			in.Scan.Findings.Critical = 1
		}
	}
	if p.rng.IntN(50) == 0 {
		sev, kind, msg := reseller.SeverityWarning, "update", "Plugins are out of date"
		if score < 50 {
			sev, kind, msg = reseller.SeverityCritical, "malware", "Malware found in wp-content/uploads"
		}
		in.Alerts = []*reseller.AlertInput{{Key: kind, Severity: sev, Kind: kind, Message: msg, RaisedAt: now}}
	}
	return in
}

func printSimSummary(w io.Writer, st *simStats, plugins int, took time.Duration) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	fmt.Fprintf(w, "%d plugins, %s: %d check-ins sent (%.0f/s), %d errors\n", plugins, took.Round(time.Millisecond),
		st.sent.Load(), float64(st.sent.Load())/took.Seconds(), st.errors.Load())
	answers := make([]string, 0, len(st.byStatus))
	for a := range st.byStatus {
		answers = append(answers, a)
	}
	sort.Strings(answers)
	for _, a := range answers {
		fmt.Fprintf(w, "  %-14s %d\n", a, st.byStatus[a])
	}
	if n := len(st.latencies); n > 0 {
		sort.Slice(st.latencies, func(i, j int) bool { return st.latencies[i] < st.latencies[j] })
		q := func(f float64) time.Duration {
			return st.latencies[min(n-1, int(f*float64(n)))].Round(10 * time.Microsecond)
		}
		fmt.Fprintf(w, "latency p50 %s, p99 %s, max %s\n", q(0.5), q(0.99), st.latencies[n-1].Round(10*time.Microsecond))
	}
	return nil
}
