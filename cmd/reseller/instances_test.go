package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
	"golang.org/x/mod/sumdb/tlog"
)

// TestSeveralInstances runs the real binary as a deployment on PostgreSQL
// does: migrations from several processes at once, a least-privileged app
// role, and three `reseller serve` processes on one database sharing one
// signing key, taking concurrent writes to one account. Afterwards the log
// must hold exactly the acknowledged actions, gapless, verifiable, and
// consistent across the checkpoints the instances signed; and no pool may
// have handed out more slots than it has.
func TestSeveralInstances(t *testing.T) {
	if sqldbtest.PostgresURL() == "" {
		t.Skip("PostgreSQL not configured: set RESELLER_TEST_POSTGRES=" + sqldbtest.DefaultPostgres)
	}
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	dsn := sqldbtest.NewDSN(t, "postgres")
	key := filepath.Join(dir, "signing.key")
	owner := func(args ...string) []string { return append([]string{"--db", dsn, "--key-file", key}, args...) }

	// Three processes migrate the empty database at once. They take turns
	// on an advisory lock; without it they would race to create the same
	// tables, and all but one would fail.
	var wg sync.WaitGroup
	migrations := make([]result, 3)
	for i := range migrations {
		wg.Go(func() { migrations[i] = runBinary(t, bin, "", owner("migrate")...) })
	}
	wg.Wait()
	for i, r := range migrations {
		if r.code != 0 {
			t.Fatalf("concurrent migrate %d: exit %d: %s", i, r.code, r.stderr)
		}
	}
	files, _ := filepath.Glob("../../internal/sqldb/migrations/*.sql")
	db := openDB(t, dsn)
	var applied, distinct int
	if err := db.SQL().QueryRow("SELECT count(*), count(DISTINCT version) FROM schema_migrations").Scan(&applied, &distinct); err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 || applied != len(files) || distinct != applied {
		t.Fatalf("after concurrent migrations schema_migrations has %d rows (%d versions), want the %d migrations once each", applied, distinct, len(files))
	}

	// The owner sets up the app's role; the instances connect as it.
	role := uniqueRole(t, dsn)
	const password = "instances-test-pw"
	if r := runBinary(t, bin, password+"\n", owner("migrate", "--app-role", role, "--app-password-stdin")...); r.code != 0 {
		t.Fatalf("migrate --app-role: exit %d: %s", r.code, r.stderr)
	}
	u, _ := url.Parse(dsn)
	u.User = url.UserPassword(role, password)
	appDSN := u.String()

	// The operator provisions an account through the CLI, as the owner.
	cli := func(args ...string) string {
		t.Helper()
		r := runBinary(t, bin, "", owner(args...)...)
		if r.code != 0 {
			t.Fatalf("reseller %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
		}
		return strings.TrimSpace(r.stdout)
	}
	account := cli("account", "create", "--name", "Acme Hosting")
	cli("user", "add", "--account", account, "--email", "owner@acme.test", "--role", "owner")
	small := mustInt(t, cli("pool", "create", "--account", account, "--name", "Solo 5", "--capacity", "5"))
	large := mustInt(t, cli("pool", "create", "--account", account, "--name", "Team 25", "--capacity", "25"))
	token := cli("token", "create", "--user", "owner@acme.test", "--name", "load")
	vkey := cli("key", "show")

	// Three instances share the database (as the app role) and the key file.
	var instances []*instance
	for range 3 {
		instances = append(instances, startInstance(t, bin, "--db", appDSN, "--key-file", key,
			"serve", "--addr", "127.0.0.1:0", "--rate-limit=-1"))
	}
	for i, in := range instances {
		if in.verifierKey != vkey {
			t.Fatalf("instance %d signs with %q, want the shared key %q", i, in.verifierKey, vkey)
		}
	}

	api := &apiClient{t: t, token: token, instances: instances, acked: map[string]reseller.Action{},
		http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}}
	var shared struct{ ID int64 }
	api.call(0, "POST", "/clients", "setup-shared", map[string]string{"email": "shared@shop.test"}, &shared, reseller.ActionClientCreated, 201)

	// Concurrent writes through all instances: each worker's requests go
	// round the instances, so every step reads what another instance wrote.
	// Both pools are contended; the small one runs out.
	const workers, rounds = 20, 2
	var mu sync.Mutex
	var midway []*reseller.Checkpoint
	exhausted := 0
	for g := range workers {
		wg.Go(func() {
			step := 0
			do := func(method, path string, body, out any, action reseller.Action, want ...int) (int, string) {
				step++
				id := fmt.Sprintf("w%d-s%d", g, step)
				return api.call((g+step)%len(instances), method, path, id, body, out, action, want...)
			}
			allocate := func(client, pool int64) int64 {
				var l struct{ ID int64 }
				_, code := do("POST", "/licenses", map[string]any{"client_id": client, "pool_id": pool, "label": "site"}, &l,
					reseller.ActionLicenseAllocated, 201, 409)
				if code == reseller.EPOOLEXHAUSTED {
					mu.Lock()
					exhausted++
					mu.Unlock()
				}
				return l.ID
			}
			for r := range rounds {
				var c1, c2 struct{ ID int64 }
				do("POST", "/clients", map[string]string{"email": fmt.Sprintf("w%d-r%d-a@shop.test", g, r)}, &c1, reseller.ActionClientCreated, 201)
				do("POST", "/clients", map[string]string{"email": fmt.Sprintf("w%d-r%d-b@shop.test", g, r)}, &c2, reseller.ActionClientCreated, 201)
				if c1.ID == 0 || c2.ID == 0 {
					return // already reported; what follows would only repeat it
				}
				allocate(c1.ID, small)
				l2 := allocate(c2.ID, small)
				allocate(c2.ID, large)
				do("POST", fmt.Sprintf("/clients/%d/suspend", c1.ID), map[string]string{"reason": "overdue"}, nil, reseller.ActionClientSuspended, 200)
				if g < 3 {
					// Checkpoints signed midway, by different instances.
					var cp reseller.Checkpoint
					do("GET", "/audit/checkpoint", nil, &cp, "", 200)
					mu.Lock()
					midway = append(midway, &cp)
					mu.Unlock()
				}
				if _, code := do("POST", "/licenses", map[string]any{"client_id": c1.ID, "pool_id": large}, nil, reseller.ActionLicenseAllocated, 409); code != reseller.ECLIENTSUSPENDED {
					t.Errorf("allocating to a suspended client: code %q, want %s", code, reseller.ECLIENTSUSPENDED)
				}
				if l2 != 0 {
					do("POST", fmt.Sprintf("/licenses/%d/revoke", l2), map[string]string{"reason": "moved"}, nil, reseller.ActionLicenseRevoked, 200)
				}
				do("POST", fmt.Sprintf("/clients/%d/reactivate", c1.ID), nil, nil, reseller.ActionClientReactivated, 200)
				// Everyone pulls at the shared client: each transition
				// either happens or is refused as a conflict.
				do("POST", fmt.Sprintf("/clients/%d/suspend", shared.ID), nil, nil, reseller.ActionClientSuspended, 200, 409)
				do("POST", fmt.Sprintf("/clients/%d/reactivate", shared.ID), nil, nil, reseller.ActionClientReactivated, 200, 409)
				do("DELETE", fmt.Sprintf("/clients/%d", c2.ID), nil, nil, reseller.ActionClientDeleted, 200)
				if g%2 == 0 {
					do("DELETE", fmt.Sprintf("/clients/%d", c1.ID), nil, nil, reseller.ActionClientDeleted, 200)
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	// Twenty clients that keep their slot of the small pool ask for one of
	// its five: the pool must have said no.
	if exhausted == 0 {
		t.Errorf("the small pool was never exhausted; the test did not contend for it")
	}

	// Every instance serves the same checkpoint of the final log: the
	// store never signs two checkpoints of one size.
	var final reseller.Checkpoint
	for i := range instances {
		var cp reseller.Checkpoint
		api.call(i, "GET", "/audit/checkpoint", fmt.Sprintf("final-%d", i), nil, &cp, "", 200)
		if i == 0 {
			final = cp
		} else if cp.Note != final.Note {
			t.Errorf("instance %d's checkpoint differs from instance 0's:\n%s\nvs\n%s", i, cp.Note, final.Note)
		}
	}
	origin := auditlog.Origin(auditlog.DefaultKeyName, mustInt(t, account))
	open := func(cp *reseller.Checkpoint) auditlog.Checkpoint {
		t.Helper()
		c, err := auditlog.OpenCheckpoint([]byte(cp.Note), vkey, origin)
		if err != nil {
			t.Fatalf("checkpoint of size %d does not verify with the shared key: %v", cp.Size, err)
		}
		return c
	}
	newest := open(&final)

	// Each checkpoint signed midway is a prefix of the final log, proven by
	// yet another instance.
	for i, mid := range midway {
		old := open(mid)
		var p reseller.ConsistencyProof
		api.call(i+1, "GET", fmt.Sprintf("/audit/proof/consistency?from=%d&to=%d", old.Size, newest.Size), fmt.Sprintf("proof-%d", i), nil, &p, "", 200)
		if !bytes.Equal(p.Old.Root, old.Root[:]) || !bytes.Equal(p.Checkpoint.Root, newest.Root[:]) {
			t.Errorf("consistency proof %d..%d is about other trees than the checkpoints", old.Size, newest.Size)
		}
		proof := make([]tlog.Hash, len(p.Proof))
		for j, h := range p.Proof {
			copy(proof[j][:], h)
		}
		if err := auditlog.CheckConsistency(proof, old.Size, old.Root, newest.Size, newest.Root); err != nil {
			t.Errorf("checkpoint of size %d from midway: %v", old.Size, err)
		}
	}

	// The log: as many entries as the head says, seqs 1..n, and exactly the
	// acknowledged actions, each with the request that caused it.
	var count reseller.AuditCount
	api.call(0, "GET", "/audit/count", "count", nil, &count, "", 200)
	if count.Total != newest.Size {
		t.Errorf("audit count = %d, but the log's head is at %d", count.Total, newest.Size)
	}
	entries := api.allEntries()
	byRequest := map[string][]reseller.Action{}
	for i, e := range entries {
		if e.Seq != int64(i+1) {
			t.Fatalf("entry %d of the log has seq %d: the log has a gap or is out of order", i+1, e.Seq)
		}
		if e.Actor.Role == reseller.RolePlatform {
			continue // provisioning, by the operator's CLI before the instances start
		}
		byRequest[e.Actor.RequestID] = append(byRequest[e.Actor.RequestID], e.Action)
	}
	if int64(len(entries)) != newest.Size {
		t.Errorf("listed %d entries, the head is at %d", len(entries), newest.Size)
	}
	for id, action := range api.acked {
		got := byRequest[id]
		if len(got) == 0 || got[len(got)-1] != action {
			t.Errorf("request %s was acknowledged as %s, but its entries are %v", id, action, got)
		}
	}
	for id, actions := range byRequest {
		want, ok := api.acked[id]
		if !ok {
			t.Errorf("entries %v come from request %q, which was not acknowledged", actions, id)
			continue
		}
		for _, a := range actions[:len(actions)-1] {
			// Only a client's deletion records more: the revocations first.
			if want != reseller.ActionClientDeleted || a != reseller.ActionLicenseRevoked {
				t.Errorf("request %s (%s) recorded %v", id, want, actions)
			}
		}
	}
	t.Logf("%d acknowledged writes, %d entries, %d checkpoints midway, small pool exhausted %d times",
		len(api.acked), len(entries), len(midway), exhausted)

	// No pool hands out more than it has, and its count is its licenses.
	var pools struct{ Pools []reseller.Pool }
	api.call(1, "GET", "/pools", "pools", nil, &pools, "", 200)
	for _, p := range pools.Pools {
		active := api.countActive(p.ID)
		if p.Used > p.Capacity || p.Used != active || p.Free != p.Capacity-p.Used {
			t.Errorf("pool %d (%s): capacity %d, used %d, free %d, but %d active licenses", p.ID, p.Name, p.Capacity, p.Used, p.Free, active)
		}
	}

	// And the operator's check replays the log against the state.
	if r := runBinary(t, bin, "", owner("audit", "check")...); r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("ok, %d entries", newest.Size)) {
		t.Errorf("audit check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	for i, in := range instances {
		if code := in.stop(t); code != 0 {
			t.Errorf("instance %d exited %d after SIGTERM; stderr:\n%s", i, code, in.stderr)
		}
	}
}

// buildBinary builds cmd/reseller into dir, once per test.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "reseller")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// binaryEnv is this process's environment without the RESELLER_ variables,
// so that the binary sees only what a test passes it.
func binaryEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RESELLER_") {
			env = append(env, kv)
		}
	}
	return env
}

// runBinary runs the built binary to completion.
func runBinary(t *testing.T, bin, stdin string, args ...string) result {
	cmd := exec.Command(bin, args...)
	cmd.Env = binaryEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return result{ee.ExitCode(), out.String(), errb.String()}
	case err != nil:
		t.Errorf("run %s: %v", bin, err)
		return result{-1, out.String(), errb.String()}
	}
	return result{0, out.String(), errb.String()}
}

// uniqueRole names a role for this test run, and drops it when the test
// ends (roles belong to the whole server, not to the test's database).
func uniqueRole(t *testing.T, dsn string) string {
	b := make([]byte, 5)
	rand.Read(b)
	role := "reseller_app_it_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		db := openDB(t, dsn)
		var exists bool
		if err := db.SQL().QueryRow("SELECT count(*) > 0 FROM pg_roles WHERE rolname = $1", role).Scan(&exists); err != nil || !exists {
			return
		}
		for _, q := range []string{"DROP OWNED BY " + role, "DROP ROLE " + role} {
			if _, err := db.SQL().Exec(q); err != nil {
				t.Errorf("%s: %v", q, err)
			}
		}
	})
	return role
}

// instance is a running `reseller serve` process.
type instance struct {
	cmd         *exec.Cmd
	url         string
	verifierKey string
	stderr      *syncBuffer
	exited      chan struct{} // closed once the process has been waited for
}

var listeningLine = regexp.MustCompile(`msg=listening url=(http://\S+) .*verifier_key=(\S+)`)

// startInstance starts serve and returns once it listens. It reads the
// process's stderr until the listening line names the URL: no sleeping and
// polling. The deadline only turns a hang into a failure.
func startInstance(t *testing.T, bin string, args ...string) *instance {
	t.Helper()
	in := &instance{cmd: exec.Command(bin, args...), stderr: &syncBuffer{}, exited: make(chan struct{})}
	in.cmd.Env = binaryEnv()
	pipe, err := in.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listening := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(in.stderr, line)
			if m := listeningLine.FindStringSubmatch(line); m != nil {
				select {
				case listening <- m:
				default:
				}
			}
		}
		io.Copy(io.Discard, pipe)
		in.cmd.Wait() // only after the pipe is drained, as os/exec requires
		close(in.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-in.exited:
		default:
			in.cmd.Process.Kill()
			<-in.exited
		}
	})
	select {
	case m := <-listening:
		in.url, in.verifierKey = m[1], m[2]
	case <-in.exited:
		t.Fatalf("serve exited (%v) before listening:\n%s", in.cmd.ProcessState, in.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not report listening within 30 s:\n%s", in.stderr)
	}
	return in
}

// stop sends SIGTERM, as an orchestrator does, and returns the exit code.
func (in *instance) stop(t *testing.T) int {
	t.Helper()
	if err := in.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-in.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not stop within 30 s of SIGTERM:\n%s", in.stderr)
	}
	return in.cmd.ProcessState.ExitCode()
}

// apiClient sends API requests to the instances and remembers which
// requests were acknowledged as which action.
type apiClient struct {
	t         *testing.T
	http      *http.Client
	token     string
	instances []*instance

	mu    sync.Mutex
	acked map[string]reseller.Action // request id → action, for each 2xx write
}

// call sends a request to instance i (modulo their number) with request id
// id, decodes a 2xx body into out, and returns the status and the problem
// code of an error. A status outside want fails the test.
func (a *apiClient) call(i int, method, path, id string, body, out any, action reseller.Action, want ...int) (int, string) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.instances[i%len(a.instances)].url+"/api/v1"+path, rd)
	if err != nil {
		a.t.Error(err)
		return 0, ""
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("X-Request-Id", id)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		a.t.Errorf("%s %s: %v", method, path, err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	ok := false
	for _, w := range want {
		ok = ok || resp.StatusCode == w
	}
	if !ok {
		a.t.Errorf("%s %s (request %s): %d %s, want one of %v", method, path, id, resp.StatusCode, b, want)
	}
	if resp.StatusCode >= 300 {
		var p struct{ Code string }
		json.Unmarshal(b, &p)
		return resp.StatusCode, p.Code
	}
	if action != "" {
		a.mu.Lock()
		a.acked[id] = action
		a.mu.Unlock()
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			a.t.Errorf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp.StatusCode, ""
}

// allEntries lists the whole log, oldest first, a page at a time.
func (a *apiClient) allEntries() []*reseller.Entry {
	var all []*reseller.Entry
	cursor := ""
	for page := 0; ; page++ {
		var p struct {
			Entries    []*reseller.Entry
			NextCursor string `json:"next_cursor"`
		}
		a.call(page, "GET", "/audit?order=asc&limit=500&cursor="+url.QueryEscape(cursor), fmt.Sprintf("list-%d", page), nil, &p, "", 200)
		all = append(all, p.Entries...)
		if p.NextCursor == "" || len(p.Entries) == 0 {
			return all
		}
		cursor = p.NextCursor
	}
}

// countActive counts a pool's active licenses.
func (a *apiClient) countActive(pool int64) int {
	n, cursor := 0, ""
	for page := 0; ; page++ {
		var p struct {
			Licenses   []reseller.License
			NextCursor string `json:"next_cursor"`
		}
		a.call(page, "GET", fmt.Sprintf("/licenses?pool_id=%d&status=active&limit=100&cursor=%s", pool, url.QueryEscape(cursor)),
			fmt.Sprintf("licenses-%d-%d", pool, page), nil, &p, "", 200)
		n += len(p.Licenses)
		if p.NextCursor == "" || len(p.Licenses) == 0 {
			return n
		}
		cursor = p.NextCursor
	}
}
