package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// loadCmd drives a deployment's API with concurrent writers and reports
// what it got; with --baseline it measures, on one database, the API next
// to plain inserts of a comparable row, so that their ratio is one command.
type loadCmd struct {
	URL      string        `placeholder:"URL" help:"Base URL of the deployment to load, such as https://console.example.com (its API is under /api/v1)."`
	Token    string        `env:"RESELLER_TOKEN" placeholder:"TOKEN" help:"API token of an owner or admin: the load creates clients and licenses in its account and reads its audit log's size."`
	Workers  []int         `placeholder:"N" help:"Concurrent writers (default 16); with --baseline a list, such as 1,16,64 (the default)."`
	Duration time.Duration `default:"10s" help:"How long each run lasts (default 10s); requests under way at the end are waited for."`
	Mix      []string      `placeholder:"OPS" help:"Actions to cycle through, from create, suspend, reactivate, allocate, revoke, delete (default create,suspend,reactivate,allocate,revoke; with --baseline create). An action whose client or license is not there yet creates a client instead."`
	Pool     int64         `placeholder:"ID" help:"Pool to allocate licenses from (default: the pool with the most free slots)."`
	Profile  string        `name:"cpu-profile" placeholder:"FILE" help:"Write a CPU profile of this process to FILE (with --baseline it covers the API server too), for go tool pprof."`
	Baseline bool          `help:"Instead of loading --url: on the --db database (a scratch one: it gets a load-test account and tables), run the API in this process, a plain one-row-per-commit insert, a batched insert, and a minimal HTTP server doing the batched insert, side by side for each --workers."`
}

func (c *loadCmd) Help() string {
	return `Sends real API actions from --workers concurrent writers for --duration,
then prints the throughput, the latency percentiles, the refusals and errors
by code, and the audit log's size before and after, which must have grown by
exactly the entries of the acknowledged actions (a deletion also records one
revocation per license the client held). Progress goes to stderr once a
second. Turn the server's rate limit off for the run (serve --rate-limit=-1),
or the load measures the limit.

  reseller load --url http://127.0.0.1:8080 --token rsl_... --workers 16 --duration 10s

With --baseline it measures the ratios of docs/performance.md on one
database: the API (served in this process), a plain insert of a comparable
row in a transaction of its own, the same insert batched by one committer,
and a minimal HTTP server doing the batched insert, for each --workers:

  reseller --db /tmp/load.db load --baseline --workers 1,16,64 --duration 5s
  reseller --db 'postgres://.../scratch' load --baseline`
}

// Validate checks the flags kong cannot.
func (c *loadCmd) Validate() error {
	if !c.Baseline && (c.URL == "" || c.Token == "") {
		return errors.New("give --url and --token (or --baseline)")
	}
	if !c.Baseline && len(c.Workers) > 1 {
		return errors.New("give one --workers (a list is for --baseline)")
	}
	for _, w := range c.Workers {
		if w < 1 || w > 4096 {
			return fmt.Errorf("--workers %d: want 1 to 4096", w)
		}
	}
	if c.Duration <= 0 || c.Duration > 24*time.Hour {
		return fmt.Errorf("--duration %s: want more than 0 and at most 24h", c.Duration)
	}
	for _, m := range c.Mix {
		if !slices.Contains(loadOps, m) {
			return fmt.Errorf("--mix: %q is not one of %s", m, strings.Join(loadOps, ", "))
		}
	}
	return nil
}

// loadOps are the actions the load knows.
var loadOps = []string{"create", "suspend", "reactivate", "allocate", "revoke", "delete"}

func (c *loadCmd) Run(e *env) error {
	if c.Profile != "" {
		f, err := os.Create(c.Profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if c.Baseline {
		return c.runBaseline(e)
	}
	workers := 16
	if len(c.Workers) > 0 {
		workers = c.Workers[0]
	}
	mix := c.Mix
	if len(mix) == 0 {
		mix = []string{"create", "suspend", "reactivate", "allocate", "revoke"}
	}
	api := newLoadAPI(c.URL, c.Token, workers)
	fmt.Fprintf(e.stderr, "load: %d workers for %s, mix %s, against %s\n", workers, c.Duration, strings.Join(mix, ","), c.URL)
	r, err := api.run(e.ctx, e.stderr, workers, c.Duration, mix, c.Pool)
	if err != nil {
		return err
	}
	r.print(e.stdout)
	return r.checkLog()
}

// loadResult is what one run measured.
type loadResult struct {
	name      string
	workers   int
	elapsed   time.Duration
	acked     int64 // acknowledged (2xx) requests
	entries   int64 // audit entries the acknowledged actions record
	unknown   int64 // requests without an answer: their outcome is not known
	errors    map[string]int64
	latencies []time.Duration // of answered requests

	logBefore, logAfter int64 // audit log size; -1 when not measured
}

func (r *loadResult) rate() float64 { return float64(r.acked) / r.elapsed.Seconds() }

// percentile returns the latency below which p of the answered requests
// completed.
func (r *loadResult) percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(p*float64(len(r.latencies))+0.5) - 1
	return r.latencies[min(max(i, 0), len(r.latencies)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func (r *loadResult) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	refused := int64(0)
	for _, n := range r.errors {
		refused += n
	}
	fmt.Fprintf(tw, "workers\t%d\n", r.workers)
	fmt.Fprintf(tw, "duration\t%s\n", r.elapsed.Round(time.Millisecond))
	fmt.Fprintf(tw, "acknowledged\t%d actions (%d audit entries)\n", r.acked, r.entries)
	fmt.Fprintf(tw, "throughput\t%.1f actions/s\n", r.rate())
	fmt.Fprintf(tw, "latency\tp50 %s  p90 %s  p99 %s  max %s\n", ms(r.percentile(0.5)), ms(r.percentile(0.9)), ms(r.percentile(0.99)), ms(r.percentile(1)))
	codes := make([]string, 0, len(r.errors))
	for code := range r.errors {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	errs := "none"
	if len(codes) > 0 {
		parts := make([]string, len(codes))
		for i, code := range codes {
			parts[i] = fmt.Sprintf("%s %d", code, r.errors[code])
		}
		errs = fmt.Sprintf("%d: %s", refused, strings.Join(parts, ", "))
	}
	fmt.Fprintf(tw, "errors\t%s\n", errs)
	if r.unknown > 0 {
		fmt.Fprintf(tw, "unanswered\t%d (timed out or cut off: their outcome is not known)\n", r.unknown)
	}
	if r.logBefore >= 0 {
		fmt.Fprintf(tw, "audit log\t%d → %d entries (+%d)\n", r.logBefore, r.logAfter, r.logAfter-r.logBefore)
	}
	tw.Flush()
}

// checkLog compares the log's growth with the acknowledged actions' entries.
func (r *loadResult) checkLog() error {
	grew := r.logAfter - r.logBefore
	switch {
	case grew == r.entries:
		return nil
	case r.unknown > 0 && grew > r.entries:
		return fmt.Errorf("the audit log grew by %d entries: %d from acknowledged actions, the rest presumably from the %d unanswered requests", grew, r.entries, r.unknown)
	}
	return fmt.Errorf("the audit log grew by %d entries, but the acknowledged actions record %d (did something else write to the account during the run?)", grew, r.entries)
}

// runLoad runs workers that call step until the duration is over, and
// gathers what they measured. step returns the entries an acknowledged
// action recorded, or the error code of a refused one; ok false means no
// answer. Requests under way at the end are waited for, not cut off, so
// that every outcome is known. Progress goes to progress once a second.
func runLoad(ctx context.Context, progress io.Writer, name string, workers int, d time.Duration,
	step func(worker, i int) (entries int64, code string, ok bool)) *loadResult {
	r := &loadResult{name: name, workers: workers, errors: map[string]int64{}, logBefore: -1}
	var acked, failed atomic.Int64
	var mu sync.Mutex
	start := time.Now()
	deadline := start.Add(d)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var lat []time.Duration
			errs := map[string]int64{}
			var entries, ackedHere, unknown int64
			for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				t0 := time.Now()
				n, code, ok := step(w, i)
				took := time.Since(t0)
				switch {
				case !ok:
					unknown++
					continue
				case code != "":
					errs[code]++
					failed.Add(1)
				default:
					entries += n
					ackedHere++
					acked.Add(1)
				}
				lat = append(lat, took)
			}
			mu.Lock()
			defer mu.Unlock()
			r.latencies = append(r.latencies, lat...)
			r.entries += entries
			r.acked += ackedHere
			r.unknown += unknown
			for code, n := range errs {
				r.errors[code] += n
			}
		})
	}
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		last := int64(0)
		for {
			select {
			case <-stop:
				return
			case now := <-tick.C:
				n := acked.Load()
				fmt.Fprintf(progress, "%s: %3.0fs  %d acknowledged  %d refused  %d/s\n", name, now.Sub(start).Seconds(), n, failed.Load(), n-last)
				last = n
			}
		}
	}()
	wg.Wait()
	close(stop)
	r.elapsed = time.Since(start)
	slices.Sort(r.latencies)
	return r
}

// loadAPI sends the load's requests to a deployment's API.
type loadAPI struct {
	base, token string
	http        *http.Client
	run_        string // this run's id, in the emails of the clients it creates
}

func newLoadAPI(url, token string, workers int) *loadAPI {
	b := make([]byte, 4)
	rand.Read(b)
	return &loadAPI{
		base: strings.TrimRight(url, "/") + "/api/v1", token: token, run_: hex.EncodeToString(b),
		http: &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxIdleConns: workers}},
	}
}

// call sends one request; it decodes a 2xx answer into out and returns the
// problem code of an error answer. ok is false without an answer.
func (a *loadAPI) call(method, path string, body, out any) (code string, ok bool) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		return "", false
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", false
	}
	if resp.StatusCode >= 300 {
		var p struct{ Code string }
		if json.Unmarshal(b, &p) != nil || p.Code == "" {
			p.Code = fmt.Sprintf("http_%d", resp.StatusCode)
		}
		return p.Code, true
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return "bad_response", true
		}
	}
	return "", true
}

// logSize returns the size of the token's account's audit log.
func (a *loadAPI) logSize() (int64, error) {
	var c struct{ Total int64 }
	if code, ok := a.call("GET", "/audit/count", nil, &c); !ok || code != "" {
		return 0, fmt.Errorf("GET %s/audit/count: %s", a.base, orNoAnswer(code))
	}
	return c.Total, nil
}

func orNoAnswer(code string) string {
	if code == "" {
		return "no answer"
	}
	return code
}

// findPool returns the account's pool with the most free slots, or 0.
func (a *loadAPI) findPool() (int64, error) {
	var p struct {
		Pools []struct {
			ID   int64
			Free int
		}
	}
	if code, ok := a.call("GET", "/pools", nil, &p); !ok || code != "" {
		return 0, fmt.Errorf("GET %s/pools: %s", a.base, orNoAnswer(code))
	}
	best, free := int64(0), 0
	for _, x := range p.Pools {
		if x.Free > free {
			best, free = x.ID, x.Free
		}
	}
	return best, nil
}

// loadWorker is what one worker created and may act on next.
type loadWorker struct {
	active, suspended []*loadClient
	licenses          []loadLicense
}

type loadClient struct {
	id       int64
	licenses int // active licenses this run allocated to it
}

type loadLicense struct {
	id     int64
	client *loadClient
}

// run loads the API and measures the log before and after.
func (a *loadAPI) run(ctx context.Context, progress io.Writer, workers int, d time.Duration, mix []string, pool int64) (*loadResult, error) {
	if pool == 0 && (slices.Contains(mix, "allocate")) {
		var err error
		if pool, err = a.findPool(); err != nil {
			return nil, err
		}
		if pool == 0 {
			fmt.Fprintln(progress, "load: no pool has a free slot; allocations create clients instead")
		}
	}
	before, err := a.logSize()
	if err != nil {
		return nil, err
	}
	ws := make([]loadWorker, workers)
	r := runLoad(ctx, progress, "api", workers, d, func(w, i int) (int64, string, bool) {
		return a.step(&ws[w], w, i, mix[(w+i)%len(mix)], pool)
	})
	r.logBefore = before
	if r.logAfter, err = a.logSize(); err != nil {
		return nil, err
	}
	return r, nil
}

// step performs one action of the mix for worker w. It returns the audit
// entries an acknowledged action records.
func (a *loadAPI) step(s *loadWorker, w, i int, op string, pool int64) (int64, string, bool) {
	switch {
	case op == "suspend" && len(s.active) > 0:
		c := s.active[len(s.active)-1]
		code, ok := a.call("POST", fmt.Sprintf("/clients/%d/suspend", c.id), map[string]string{"reason": "load test"}, nil)
		if ok && code == "" {
			s.active = s.active[:len(s.active)-1]
			s.suspended = append(s.suspended, c)
		}
		return 1, code, ok
	case op == "reactivate" && len(s.suspended) > 0:
		c := s.suspended[0]
		code, ok := a.call("POST", fmt.Sprintf("/clients/%d/reactivate", c.id), nil, nil)
		if ok && code == "" {
			s.suspended = s.suspended[1:]
			s.active = append(s.active, c)
		}
		return 1, code, ok
	case op == "allocate" && len(s.active) > 0 && pool != 0:
		c := s.active[len(s.active)-1]
		var l struct{ ID int64 }
		code, ok := a.call("POST", "/licenses", map[string]any{"client_id": c.id, "pool_id": pool, "label": "load"}, &l)
		if ok && code == "" {
			c.licenses++
			s.licenses = append(s.licenses, loadLicense{id: l.ID, client: c})
		}
		return 1, code, ok
	case op == "revoke" && len(s.licenses) > 0:
		l := s.licenses[0]
		code, ok := a.call("POST", fmt.Sprintf("/licenses/%d/revoke", l.id), map[string]string{"reason": "load test"}, nil)
		if ok && code == "" {
			s.licenses = s.licenses[1:]
			l.client.licenses--
		}
		return 1, code, ok
	case op == "delete" && len(s.active)+len(s.suspended) > 0:
		var c *loadClient
		if len(s.suspended) > 0 {
			c, s.suspended = s.suspended[0], s.suspended[1:]
		} else {
			c, s.active = s.active[0], s.active[1:]
		}
		code, ok := a.call("DELETE", fmt.Sprintf("/clients/%d", c.id), nil, nil)
		if !ok || code != "" {
			return 1, code, ok // not deleted (or not known): leave it be
		}
		// One client.deleted entry, and one license.revoked for each
		// license the client still held.
		n := int64(1 + c.licenses)
		s.licenses = slices.DeleteFunc(s.licenses, func(l loadLicense) bool { return l.client == c })
		return n, "", true
	}
	var c struct{ ID int64 }
	code, ok := a.call("POST", "/clients", map[string]string{
		"email": fmt.Sprintf("load-%s-w%d-%d@load.test", a.run_, w, i), "name": "Load test",
	}, &c)
	if ok && code == "" {
		s.active = append(s.active, &loadClient{id: c.ID})
	}
	return 1, code, ok
}
