package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

// served is a running `reseller serve`.
type served struct {
	url    string
	stdout *syncBuffer // all of it
	stderr *syncBuffer // after the listening line
	cancel context.CancelFunc
	done   chan int
}

var listeningURL = regexp.MustCompile(`http://[^\s"]+`)

// startServe runs `reseller serve` on a free port and returns once it
// listens: it reads stderr through a pipe until the listening line, so the
// test never guesses with sleeps. The server is stopped when the test ends.
func startServe(t *testing.T, args ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &served{stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	go func() {
		code := run(ctx, append(args, "--addr", "127.0.0.1:0"), strings.NewReader(""), s.stdout, pw)
		pw.Close()
		s.done <- code
	}()
	var seen strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		seen.WriteString(line + "\n")
		if strings.Contains(line, "listening") {
			s.url = listeningURL.FindString(line)
			break
		}
	}
	if s.url == "" {
		cancel()
		t.Fatalf("serve exited (code %d) before listening:\n%s", <-s.done, seen.String())
	}
	// Keep draining stderr, or the server's logging would block on the pipe.
	go io.Copy(s.stderr, pr)
	t.Cleanup(func() { s.stop(t) })
	return s
}

// stop cancels serve's context, as SIGTERM does, and returns its exit code.
func (s *served) stop(t *testing.T) int {
	t.Helper()
	s.cancel()
	select {
	case code, ok := <-s.done:
		if !ok {
			return 0 // already stopped
		}
		close(s.done)
		return code
	case <-time.After(time.Minute):
		t.Fatalf("serve did not stop within a minute of its context ending; stderr:\n%s", s.stderr)
		return -1
	}
}

// get sends a GET with an optional bearer token and returns status and body.
func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

type clientPage struct {
	Clients []reseller.Client `json:"clients"`
}

func TestServe(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		p := provision(t, dsn)
		db := openDB(t, dsn)
		if _, err := db.CreateClient(actor(t, db, "owner@acme.test"), "first@shop.test", "First Shop"); err != nil {
			t.Fatal(err)
		}
		s := startServe(t, "--db", dsn, "serve", "--log-format", "json")

		if code, body := get(t, s.url+"/healthz", ""); code != http.StatusOK {
			t.Errorf("GET /healthz = %d %q, want 200", code, body)
		}
		if code, _ := get(t, s.url+"/api/v1/clients", ""); code != http.StatusUnauthorized {
			t.Errorf("GET /api/v1/clients without a token = %d, want 401", code)
		}
		code, body := get(t, s.url+"/api/v1/clients", p.token)
		if code != http.StatusOK {
			t.Fatalf("GET /api/v1/clients with the CLI's token = %d %s", code, body)
		}
		var page clientPage
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			t.Fatalf("clients: %v in %s", err, body)
		}
		if len(page.Clients) != 1 || page.Clients[0].Email != "first@shop.test" {
			t.Errorf("clients = %+v, want first@shop.test", page.Clients)
		}

		if code := s.stop(t); code != 0 {
			t.Errorf("serve exited %d after its context ended, want 0; stderr:\n%s", code, s.stderr)
		}
		// --log-format json: every line of the log is a JSON object.
		for _, line := range strings.Split(strings.TrimSpace(s.stderr.String()), "\n") {
			if !json.Valid([]byte(line)) {
				t.Errorf("log line is not JSON: %q", line)
			}
		}
		if s.stdout.String() != "" {
			t.Errorf("serve without --demo wrote to stdout: %q", s.stdout)
		}
	})
}

var demoLine = regexp.MustCompile(`(?m)^\s+(owner|admin|operator|auditor)\s+(\S+@demo\.test)\s+(\S+)\s+(rsl_\S+)$`)

func TestServeDemo(t *testing.T) {
	dsn := t.TempDir() + "/demo.db"
	s := startServe(t, "--db", dsn, "serve", "--demo")

	out := s.stdout.String()
	users := demoLine.FindAllStringSubmatch(out, -1)
	if len(users) != 4 || !strings.Contains(out, s.url) {
		t.Fatalf("serve --demo printed %d users and %s the URL:\n%s", len(users), map[bool]string{true: "with", false: "without"}[strings.Contains(out, s.url)], out)
	}
	for _, u := range users {
		role, email, token := u[1], u[2], u[4]
		code, body := get(t, s.url+"/api/v1/clients?limit=5", token)
		if code != http.StatusOK {
			t.Errorf("%s's demo token: GET /api/v1/clients = %d %s", role, code, body)
			continue
		}
		var page clientPage
		if err := json.Unmarshal([]byte(body), &page); err != nil || len(page.Clients) != 5 {
			t.Errorf("%s (%s) sees %d clients (%v), want a full page", role, email, len(page.Clients), err)
		}
	}
	code, body := get(t, s.url+"/api/v1/audit?action=client.suspended&limit=1", users[3][4])
	if code != http.StatusOK || !strings.Contains(body, "client.suspended") {
		t.Errorf("auditor reading suspensions: %d %s", code, body)
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("serve --demo exited %d; stderr:\n%s", code, s.stderr)
	}

	// A second --demo on the same database adds nothing and says so.
	before := counts(t, dsn)
	s = startServe(t, "--db", dsn, "serve", "--demo")
	if out := s.stdout.String(); !strings.Contains(out, "already has data") || demoLine.MatchString(out) {
		t.Errorf("second serve --demo printed:\n%s", out)
	}
	s.stop(t)
	if after := counts(t, dsn); after != before {
		t.Errorf("second --demo changed the database:\nbefore %s\nafter  %s", before, after)
	}
}

func TestServeBadAddress(t *testing.T) {
	dsn := t.TempDir() + "/x.db"
	r := invoke(t, "", "--db", dsn, "serve", "--addr", "127.0.0.1:99999")
	if r.code != 1 || !strings.Contains(r.stderr, "reseller: listen:") {
		t.Errorf("exit %d, stderr %q; want a listen error", r.code, r.stderr)
	}
}

// TestServeCPUProfile: serve --cpu-profile writes a CPU profile (gzipped,
// as go tool pprof reads it) of the server once it stops.
func TestServeCPUProfile(t *testing.T) {
	dsn := sqldbtest.NewDSN(t, "sqlite")
	provision(t, dsn)
	file := filepath.Join(t.TempDir(), "cpu.prof")
	s := startServe(t, "--db", dsn, "serve", "--cpu-profile", file)
	if code, body := get(t, s.url+"/healthz", ""); code != http.StatusOK {
		t.Fatalf("GET /healthz = %d %q", code, body)
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("serve exited %d; stderr:\n%s", code, s.stderr)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("the profile is %d bytes, not gzipped", len(b))
	}
	if r := invoke(t, "", "--db", dsn, "serve", "--addr", "127.0.0.1:0", "--cpu-profile", filepath.Join(t.TempDir(), "no", "such", "dir", "cpu.prof")); r.code != 1 || !strings.Contains(r.stderr, "cpu.prof") {
		t.Fatalf("a profile that cannot be written: exit %d, stderr %q", r.code, r.stderr)
	}
}
