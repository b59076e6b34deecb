package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"golang.org/x/mod/sumdb/tlog"
)

// TestCrashLosesNothingAcknowledged is DESIGN.md's reliability bar: kill -9
// during a write storm loses no acknowledged action, and the log still
// verifies. Workers onboard clients and allocate them licenses through the
// real binary's API; after a fixed number of acknowledged actions the server
// gets SIGKILL with requests still in flight. A new server on the same
// database must then hold every acknowledged action, as state and as an
// audit entry carrying its request id, in a gapless log that is consistent
// with the checkpoint signed before the crash, and `reseller audit check`
// must pass.
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	bin := buildBinary(t, t.TempDir())
	dialects(t, func(t *testing.T, dsn string) { crashDuringStorm(t, bin, dsn) })
}

const (
	crashWorkers  = 8   // goroutines writing at once
	crashKillAt   = 150 // acknowledged actions before the kill
	crashMaxSteps = 100 // per worker (two actions each): bounds the storm if the kill never comes
)

// crashAck is an action the server acknowledged with a 2xx.
type crashAck struct {
	requestID string
	action    reseller.Action
	id        int64 // the client or license it created
	clientID  int64 // a license's client
}

// crashStorm is the state of the workers and the killer.
type crashStorm struct {
	t     *testing.T
	http  *http.Client
	url   string
	token string

	killed atomic.Bool   // set just before SIGKILL is sent
	kill   chan struct{} // closed when the crashKillAt'th action is acknowledged
	once   sync.Once

	mu         sync.Mutex
	acked      []crashAck
	cutOff     map[string]bool      // request ids of requests sent before the kill that it broke
	refused    int                  // requests sent after the kill
	checkpoint *reseller.Checkpoint // the last one signed before the kill
}

func crashDuringStorm(t *testing.T, bin, dsn string) {
	key := filepath.Join(t.TempDir(), "signing.key")
	cli := func(args ...string) string {
		t.Helper()
		r := runBinary(t, bin, "", append([]string{"--db", dsn, "--key-file", key}, args...)...)
		if r.code != 0 {
			t.Fatalf("reseller %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
		}
		return strings.TrimSpace(r.stdout)
	}
	cli("migrate")
	account := cli("account", "create", "--name", "Acme Hosting")
	cli("user", "add", "--account", account, "--email", "owner@acme.test", "--role", "owner")
	pool := mustInt(t, cli("pool", "create", "--account", account, "--name", "Unlimited", "--capacity", "100000"))
	token := cli("token", "create", "--user", "owner@acme.test", "--name", "storm")
	serve := []string{"--db", dsn, "--key-file", key, "serve", "--addr", "127.0.0.1:0", "--rate-limit=-1"}

	victim := startInstance(t, bin, serve...)
	s := &crashStorm{
		t: t, url: victim.url + "/api/v1", token: token,
		http: &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: crashWorkers * 2}},
		kill: make(chan struct{}), cutOff: map[string]bool{},
	}
	defer s.http.CloseIdleConnections()

	// The storm: each worker onboards a client, allocates it a license, and
	// again, until the kill breaks its connection. Worker 0 also has the
	// log signed as it grows.
	var wg sync.WaitGroup
	for g := range crashWorkers {
		wg.Go(func() {
			for step := range crashMaxSteps {
				id := fmt.Sprintf("crash-w%d-s%d", g, step)
				var c reseller.Client
				if !s.write("POST", "/clients", id+"-client", map[string]string{"email": id + "@shop.test", "name": "Shop " + id},
					&c, reseller.ActionClientCreated, func() (int64, int64) { return c.ID, c.ID }) {
					return
				}
				var l reseller.License
				if !s.write("POST", "/licenses", id+"-license", map[string]any{"client_id": c.ID, "pool_id": pool, "label": id},
					&l, reseller.ActionLicenseAllocated, func() (int64, int64) { return l.ID, l.ClientID }) {
					return
				}
				if g == 0 && !s.signCheckpoint(id+"-checkpoint") {
					return
				}
			}
		})
	}
	stormDone := make(chan struct{})
	go func() { wg.Wait(); close(stormDone) }()

	select {
	case <-s.kill:
	case <-stormDone:
		t.Fatalf("the storm ended after %d acknowledged actions, before the kill at %d", len(s.acked), crashKillAt)
	}
	s.killed.Store(true)
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-victim.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not exit within 30 s of SIGKILL")
	}
	if ws, ok := victim.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("serve ended with %v, not killed by SIGKILL; stderr:\n%s", victim.cmd.ProcessState, victim.stderr)
	}
	select {
	case <-stormDone:
	case <-time.After(30 * time.Second):
		t.Fatalf("the workers did not stop within 30 s of the kill")
	}
	if t.Failed() {
		t.FailNow()
	}
	// Without a request cut off by the kill, the test would only show that
	// a server stopped between requests keeps its data.
	if len(s.cutOff) == 0 {
		t.Fatalf("no request was in flight when the server was killed (%d acknowledged, %d refused after): the kill did not overlap the storm",
			len(s.acked), s.refused)
	}
	if s.checkpoint == nil {
		t.Fatalf("no checkpoint was signed before the kill")
	}

	// A new server on the same database, as a supervisor would restart it.
	after := startInstance(t, bin, serve...)
	api := &apiClient{t: t, token: token, instances: []*instance{after}, acked: map[string]reseller.Action{}, http: &http.Client{Timeout: 20 * time.Second}}

	// The log is gapless: seqs 1..n, as many as counted and as the head.
	var cp reseller.Checkpoint
	api.call(0, "GET", "/audit/checkpoint", "after-checkpoint", nil, &cp, "", 200)
	var count reseller.AuditCount
	api.call(0, "GET", "/audit/count", "after-count", nil, &count, "", 200)
	entries := api.allEntries()
	for i, e := range entries {
		if e.Seq != int64(i+1) {
			t.Fatalf("entry %d of the log has seq %d: the log has a gap or is out of order", i+1, e.Seq)
		}
	}
	if count.Total != cp.Size || int64(len(entries)) != cp.Size {
		t.Errorf("after the crash the checkpoint is at size %d, the count says %d, and %d entries are listed", cp.Size, count.Total, len(entries))
	}

	// Every acknowledged action has its entry, under its request id. Every
	// entry comes from one request, acknowledged or cut off by the kill
	// (whose action may or may not have committed).
	acked := map[string]bool{}
	for _, a := range s.acked {
		acked[a.requestID] = true
	}
	byRequest := map[string][]*reseller.Entry{}
	unacked := 0 // committed, but the kill cut off the response
	for _, e := range entries {
		if e.Actor.Role == reseller.RolePlatform {
			continue // provisioning, by the operator's CLI before the storm
		}
		id := e.Actor.RequestID
		switch {
		case s.cutOff[id]:
			unacked++
		case !acked[id]:
			t.Errorf("entry %d (%s) has request id %q, which was neither acknowledged nor cut off by the kill", e.Seq, e.Action, id)
		}
		if len(byRequest[id]) > 0 {
			t.Errorf("request %s recorded entries %d and %d", id, byRequest[id][0].Seq, e.Seq)
		}
		byRequest[id] = append(byRequest[id], e)
	}
	for _, a := range s.acked {
		es := byRequest[a.requestID]
		if len(es) == 0 {
			t.Errorf("request %s was acknowledged (%s, id %d) but has no audit entry after the crash", a.requestID, a.action, a.id)
			continue
		}
		e := es[0]
		if e.Action != a.action || e.Target.ID != a.clientID || (a.action == reseller.ActionLicenseAllocated && e.Details.LicenseID != a.id) {
			t.Errorf("request %s was acknowledged as %s of %d (client %d), but its entry %d is %s of client %d, license %d",
				a.requestID, a.action, a.id, a.clientID, e.Seq, e.Action, e.Target.ID, e.Details.LicenseID)
		}
	}

	// Every acknowledged client and license exists, and the state holds
	// exactly what the log says was created.
	clients := map[int64]reseller.Client{}
	for _, c := range crashList[reseller.Client](api, "clients") {
		clients[c.ID] = c
	}
	licenses := map[int64]reseller.License{}
	for _, l := range crashList[reseller.License](api, "licenses") {
		licenses[l.ID] = l
	}
	for _, a := range s.acked {
		switch a.action {
		case reseller.ActionClientCreated:
			if c, ok := clients[a.id]; !ok {
				t.Errorf("client %d was acknowledged (request %s) but does not exist after the crash", a.id, a.requestID)
			} else if c.Status != reseller.ClientActive {
				t.Errorf("client %d was acknowledged (request %s) but after the crash it is %+v", a.id, a.requestID, c)
			}
		case reseller.ActionLicenseAllocated:
			if l, ok := licenses[a.id]; !ok {
				t.Errorf("license %d of client %d was acknowledged (request %s) but does not exist after the crash", a.id, a.clientID, a.requestID)
			} else if l.Status != reseller.LicenseActive || l.ClientID != a.clientID || l.PoolID != pool {
				t.Errorf("license %d of client %d was acknowledged (request %s) but after the crash it is %+v", a.id, a.clientID, a.requestID, l)
			}
		}
	}
	created := map[reseller.Action]int{}
	for _, e := range entries {
		if e.Action.Category() == reseller.CategoryClients {
			created[e.Action]++
		}
	}
	if created[reseller.ActionClientCreated] != len(clients) || created[reseller.ActionLicenseAllocated] != len(licenses) || len(created) != 2 {
		t.Errorf("the log records %v, but there are %d clients and %d licenses", created, len(clients), len(licenses))
	}

	// The checkpoint signed before the crash is a prefix of the log now.
	var p reseller.ConsistencyProof
	api.call(0, "GET", fmt.Sprintf("/audit/proof/consistency?from=%d&to=%d", s.checkpoint.Size, cp.Size), "after-proof", nil, &p, "", 200)
	proof := make([]tlog.Hash, len(p.Proof))
	for i, h := range p.Proof {
		copy(proof[i][:], h)
	}
	var oldRoot, newRoot tlog.Hash
	copy(oldRoot[:], s.checkpoint.Root)
	copy(newRoot[:], cp.Root)
	if p.Old == nil || p.Old.Note != s.checkpoint.Note {
		t.Errorf("the checkpoint of size %d signed before the crash is no longer the stored one", s.checkpoint.Size)
	}
	if err := auditlog.CheckConsistency(proof, s.checkpoint.Size, oldRoot, cp.Size, newRoot); err != nil {
		t.Errorf("the checkpoint of size %d signed before the crash is not a prefix of the log of size %d: %v", s.checkpoint.Size, cp.Size, err)
	}

	// The operator's check: hashes, sequence, checkpoint, and a replay of
	// the log against the state (no entry without its change, nor change
	// without its entry).
	if r := runBinary(t, bin, "", "--db", dsn, "--key-file", key, "audit", "check"); r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("ok, %d entries", cp.Size)) {
		t.Errorf("audit check after the crash: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	t.Logf("%d acknowledged before and around the kill, %d requests cut off in flight (%d of them committed), %d refused after; log of %d entries, checkpoint of %d signed before the crash",
		len(s.acked), len(s.cutOff), unacked, s.refused, len(entries), s.checkpoint.Size)

	if code := after.stop(t); code != 0 {
		t.Errorf("the restarted serve exited %d after SIGTERM; stderr:\n%s", code, after.stderr)
	}
}

// write sends one action and reports whether the worker should go on. A 2xx
// is acknowledged: ids gives the created object's id and client from the
// decoded body. A transport error after the kill ends the worker; before
// it, or any other status, fails the test.
func (s *crashStorm) write(method, path, requestID string, body, out any, action reseller.Action, ids func() (id, client int64)) bool {
	ok, b := s.send(method, path, requestID, body)
	if !ok {
		return false
	}
	if err := json.Unmarshal(b, out); err != nil {
		s.t.Errorf("%s %s (request %s): %v in %s", method, path, requestID, err, b)
		return false
	}
	id, client := ids()
	s.mu.Lock()
	s.acked = append(s.acked, crashAck{requestID: requestID, action: action, id: id, clientID: client})
	n := len(s.acked)
	s.mu.Unlock()
	if n == crashKillAt {
		s.once.Do(func() { close(s.kill) })
	}
	return true
}

// signCheckpoint has the log signed at its current size, and keeps the
// newest checkpoint acknowledged before the kill.
func (s *crashStorm) signCheckpoint(requestID string) bool {
	ok, b := s.send("GET", "/audit/checkpoint", requestID, nil)
	if !ok {
		return false
	}
	var cp reseller.Checkpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		s.t.Errorf("GET /audit/checkpoint: %v in %s", err, b)
		return false
	}
	s.mu.Lock()
	if s.checkpoint == nil || cp.Size >= s.checkpoint.Size {
		s.checkpoint = &cp
	}
	s.mu.Unlock()
	return true
}

// send sends a request and returns the body of a 2xx response, read in
// full. A request that fails after the kill is counted: as cut off if it was
// sent before the kill and did not find the port closed, as refused
// otherwise.
func (s *crashStorm) send(method, path, requestID string, body any) (bool, []byte) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		s.t.Error(err)
		return false, nil
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("X-Request-Id", requestID)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	sentBeforeKill := !s.killed.Load()
	resp, err := s.http.Do(req)
	var b []byte
	if err == nil {
		b, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err != nil {
		if !s.killed.Load() {
			s.t.Errorf("%s %s (request %s) failed before the kill: %v", method, path, requestID, err)
			return false, nil
		}
		s.mu.Lock()
		if sentBeforeKill && !errors.Is(err, syscall.ECONNREFUSED) {
			s.cutOff[requestID] = true
		} else {
			s.refused++
		}
		s.mu.Unlock()
		return false, nil
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		s.t.Errorf("%s %s (request %s): %d %s", method, path, requestID, resp.StatusCode, b)
		return false, nil
	}
	return true, b
}

// crashList lists every client or license of the account, a page at a time.
func crashList[T any](api *apiClient, what string) []T {
	var all []T
	cursor := ""
	for page := 0; page < 100; page++ {
		var p struct {
			Clients    []T
			Licenses   []T
			NextCursor string `json:"next_cursor"`
		}
		api.call(0, "GET", fmt.Sprintf("/%s?limit=500&cursor=%s", what, url.QueryEscape(cursor)), fmt.Sprintf("list-%s-%d", what, page), nil, &p, "", 200)
		items := append(p.Clients, p.Licenses...)
		all = append(all, items...)
		if p.NextCursor == "" || len(items) == 0 {
			return all
		}
		cursor = p.NextCursor
	}
	api.t.Fatalf("listing %s did not end within 100 pages", what)
	return nil
}
