package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestLoadCountsAgreeWithTheLog runs `reseller load` against a real
// `reseller serve` on a loopback port for a couple of seconds, with every
// action of the mix (deletions included, which also revoke the client's
// licenses): the tool's own count of the entries its acknowledged actions
// record must be what the log grew by, and the log's size it reports must
// be the server's.
func TestLoadCountsAgreeWithTheLog(t *testing.T) {
	bin := buildBinary(t, t.TempDir())
	dialects(t, func(t *testing.T, dsn string) {
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
		cli("pool", "create", "--account", account, "--name", "Small", "--capacity", "3")
		cli("pool", "create", "--account", account, "--name", "Large", "--capacity", "100000")
		token := cli("token", "create", "--user", "owner@acme.test", "--name", "load")
		server := startInstance(t, bin, "--db", dsn, "--key-file", key, "serve", "--addr", "127.0.0.1:0", "--rate-limit=-1")

		r := runBinary(t, bin, "", "load", "--url", server.url, "--token", token, "--workers", "4", "--duration", "2s",
			"--mix", "create,allocate,suspend,allocate,reactivate,allocate,revoke,delete")
		if r.code != 0 {
			t.Fatalf("reseller load: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stderr, "acknowledged") {
			t.Errorf("no progress on stderr:\n%s", r.stderr)
		}
		field := func(re string) []int64 {
			t.Helper()
			m := regexp.MustCompile(re).FindStringSubmatch(r.stdout)
			if m == nil {
				t.Fatalf("reseller load printed no %q:\n%s", re, r.stdout)
			}
			var out []int64
			for _, s := range m[1:] {
				n, _ := strconv.ParseInt(s, 10, 64)
				out = append(out, n)
			}
			return out
		}
		acked := field(`acknowledged\s+(\d+) actions \((\d+) audit entries\)`)
		log := field(`audit log\s+(\d+) → (\d+) entries`)
		if acked[0] == 0 {
			t.Fatalf("no action was acknowledged:\n%s", r.stdout)
		}
		if acked[1] <= acked[0] {
			t.Errorf("%d actions recorded %d entries: the deletions' revocations are not counted", acked[0], acked[1])
		}
		if log[1]-log[0] != acked[1] {
			t.Errorf("the log grew from %d to %d, but the acknowledged actions record %d entries", log[0], log[1], acked[1])
		}
		field(`latency\s+p50 [\d.]+ ms  p90 [\d.]+ ms  p99 [\d.]+ ms  max [\d.]+ ms()`)

		req, _ := http.NewRequest("GET", server.url+"/api/v1/audit/count", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var count struct{ Total int64 }
		if err := json.NewDecoder(resp.Body).Decode(&count); err != nil {
			t.Fatal(err)
		}
		if count.Total != log[1] {
			t.Errorf("the server's log has %d entries, the load tool says %d", count.Total, log[1])
		}
		if r := runBinary(t, bin, "", "--db", dsn, "--key-file", key, "audit", "check"); r.code != 0 {
			t.Errorf("audit check after the load: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
}

// TestLoadBaseline runs the baselines briefly on a scratch SQLite database
// and refuses a database with a real account.
func TestLoadBaseline(t *testing.T) {
	bin := buildBinary(t, t.TempDir())
	dsn := filepath.Join(t.TempDir(), "load.db")
	r := runBinary(t, bin, "", "--db", dsn, "load", "--baseline", "--workers", "1,2", "--duration", "300ms")
	if r.code != 0 {
		t.Fatalf("load --baseline: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"API/s", "plain insert/s", "batched insert/s", "HTTP batched/s", "API÷plain"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("load --baseline printed no %q:\n%s", want, r.stdout)
		}
	}
	if lines := strings.Count(strings.TrimSpace(r.stdout), "\n"); lines != 2 {
		t.Errorf("want a header and a row per --workers:\n%s", r.stdout)
	}

	real := filepath.Join(t.TempDir(), "real.db")
	if r := runBinary(t, bin, "", "--db", real, "migrate"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := runBinary(t, bin, "", "--db", real, "account", "create", "--name", "Acme Hosting"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := runBinary(t, bin, "", "--db", real, "load", "--baseline", "--duration", "100ms"); r.code == 0 || !strings.Contains(r.stderr, "scratch database") {
		t.Errorf("load --baseline on a database with a real account: exit %d, stderr %s", r.code, r.stderr)
	}
}
