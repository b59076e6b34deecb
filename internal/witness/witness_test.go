package witness_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/auditlog/memlog"
	"github.com/resellerconsole/reseller/internal/witness"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// testLog is a log of one account, held in memory, with its signing key.
type testLog struct {
	t      *testing.T
	mem    memlog.Log
	signer note.Signer
	vkey   string
	origin string
}

func newLog(t *testing.T, keyName string, account int64, entries int, tag string) *testLog {
	t.Helper()
	skey, vkey, err := auditlog.GenerateKey(keyName)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	l := &testLog{t: t, signer: s, vkey: vkey, origin: auditlog.Origin(keyName, account)}
	l.grow(entries, tag)
	return l
}

// grow appends n records; tag makes one log's records differ from another's.
func (l *testLog) grow(n int, tag string) *testLog {
	for range n {
		if err := l.mem.Append(fmt.Appendf(nil, "record %d %s", l.mem.Size()+1, tag)); err != nil {
			l.t.Fatal(err)
		}
	}
	return l
}

// checkpoint returns the signed checkpoint of the first size records.
func (l *testLog) checkpoint(size int64) []byte {
	l.t.Helper()
	return l.signedBy(size, l.signer)
}

func (l *testLog) signedBy(size int64, s note.Signer) []byte {
	l.t.Helper()
	root, err := tlog.TreeHash(size, &l.mem)
	if err != nil {
		l.t.Fatal(err)
	}
	b, err := auditlog.SignCheckpoint(auditlog.Checkpoint{Origin: l.origin, Size: size, Root: root}, s)
	if err != nil {
		l.t.Fatal(err)
	}
	return b
}

func (l *testLog) proof(old, size int64) []tlog.Hash {
	l.t.Helper()
	p, err := auditlog.ProveConsistency(old, size, &l.mem)
	if err != nil {
		l.t.Fatal(err)
	}
	return p
}

var clock = time.Date(2026, 9, 14, 8, 0, 10, 0, time.UTC)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openWitness opens a witness on path that knows the given log keys.
func openWitness(t *testing.T, path string, keys ...string) *witness.Witness {
	t.Helper()
	w, err := witness.Open(context.Background(), path, witness.Options{
		Name: "witness.example/w1", LogKeys: keys, Now: func() time.Time { return clock }, Logger: quiet(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// served is a witness running over HTTP, and a client for it.
type served struct {
	c    *witness.Client
	url  string
	vkey string
}

func serveWitness(t *testing.T, w *witness.Witness) *served {
	t.Helper()
	srv := httptest.NewServer(w.Handler())
	t.Cleanup(srv.Close)
	v, err := auditlog.NewCosignatureVerifier(w.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	return &served{c: &witness.Client{URL: srv.URL, Verifier: v, HTTP: srv.Client()}, url: srv.URL, vkey: w.VerifierKey()}
}

func (s *served) post(t *testing.T, body string) (int, string, string) {
	t.Helper()
	resp, err := http.Post(s.url+"/add-checkpoint", "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// add sends the log's checkpoint of size with a proof from old.
func (s *served) add(l *testLog, old, size int64) ([]byte, error) {
	return s.c.AddCheckpoint(context.Background(), old, l.proof(old, size), l.checkpoint(size))
}

// mustAdd adds a checkpoint and returns it cosigned, checking the
// cosignature independently of the client.
func (s *served) mustAdd(t *testing.T, l *testLog, old, size int64) []byte {
	t.Helper()
	signed := l.checkpoint(size)
	cosig, err := s.c.AddCheckpoint(context.Background(), old, l.proof(old, size), signed)
	if err != nil {
		t.Fatalf("add %d -> %d: %v", old, size, err)
	}
	if !strings.HasPrefix(string(cosig), "— witness.example/w1 ") || strings.Count(string(cosig), "\n") != 1 {
		t.Fatalf("add %d -> %d: cosignature %q, want one signature line", old, size, cosig)
	}
	cosigned := append(signed, cosig...)
	at, err := auditlog.CheckCosignature(cosigned, s.vkey)
	if err != nil {
		t.Fatalf("add %d -> %d: the cosignature does not check: %v", old, size, err)
	}
	if !at.Equal(clock) {
		t.Fatalf("cosignature time %v, want %v", at, clock)
	}
	return cosigned
}

func refusal(t *testing.T, err error, status int, want string) {
	t.Helper()
	var r *witness.RefusedError
	if !errors.As(err, &r) || r.Status != status || !strings.Contains(r.Body, want) {
		t.Fatalf("error %v, want a %d refusal containing %q", err, status, want)
	}
}

func conflict(t *testing.T, err error, size int64) {
	t.Helper()
	var c *witness.ConflictError
	if !errors.As(err, &c) || c.Size != size {
		t.Fatalf("error %v, want a 409 conflict at size %d", err, size)
	}
}

func TestAddCheckpoint(t *testing.T) {
	l := newLog(t, "reseller-console", 42, 20, "")
	w := openWitness(t, filepath.Join(t.TempDir(), "witness.db"), l.vkey)
	s := serveWitness(t, w)

	t.Run("OK", func(t *testing.T) {
		s.mustAdd(t, l, 0, 3)
		s.mustAdd(t, l, 3, 7)
		s.mustAdd(t, l, 7, 8)
	})
	t.Run("SameCheckpointAgain", func(t *testing.T) {
		s.mustAdd(t, l, 8, 8)
	})
	t.Run("Conflict", func(t *testing.T) {
		_, err := s.add(l, 3, 10)
		conflict(t, err, 8)
		_, err = s.add(l, 0, 10)
		conflict(t, err, 8)
		code, ctype, body := s.post(t, string(witness.FormatRequest(5, l.proof(5, 10), l.checkpoint(10))))
		if code != 409 || ctype != "text/x.tlog.size" || body != "8\n" {
			t.Fatalf("409 answer: %d %q %q, want 409 text/x.tlog.size \"8\\n\"", code, ctype, body)
		}
		// As documented: retry with a proof from the size the witness has.
		s.mustAdd(t, l, 8, 10)
	})
	t.Run("ServesLatest", func(t *testing.T) {
		resp, err := http.Get(s.url + "/" + originSHA(l.origin) + "/checkpoint")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET checkpoint: %d %s", resp.StatusCode, b)
		}
		if cp, err := auditlog.OpenCheckpoint(b, l.vkey, l.origin); err != nil || cp.Size != 10 {
			t.Fatalf("served checkpoint %q: size %d, %v", b, cp.Size, err)
		}
		if _, err := auditlog.CheckCosignature(b, s.vkey); err != nil {
			t.Fatalf("served checkpoint %q: %v", b, err)
		}
		if code, _ := get(t, s.url+"/"+originSHA("reseller-console/account/43")+"/checkpoint"); code != 404 {
			t.Errorf("checkpoint of an unseen log: %d, want 404", code)
		}
	})

	// Everything below is refused, and the witness stays at size 10.
	t.Run("Fork", func(t *testing.T) {
		fork := newLog(t, "reseller-console", 42, 0, "")
		fork.signer, fork.vkey = l.signer, l.vkey // the log's key, a rewritten history
		fork.grow(9, "").grow(11, "rewritten")
		for name, tc := range map[string]struct {
			old, size int64
			proof     []tlog.Hash
			note      []byte
			status    int
			want      string
		}{
			"SameSizeOtherRoot": {10, 10, nil, fork.checkpoint(10), 422, "the log forked"},
			"RewrittenHistory":  {10, 15, fork.proof(10, 15), fork.checkpoint(15), 422, "not a prefix"},
			"BadProof":          {10, 15, flip(l.proof(10, 15)), l.checkpoint(15), 422, "not a prefix"},
			"ShortProof":        {10, 15, l.proof(10, 15)[1:], l.checkpoint(15), 422, "not a prefix"},
			"Smaller":           {10, 9, nil, l.checkpoint(9), 400, "larger than the checkpoint's size 9"},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := s.c.AddCheckpoint(context.Background(), tc.old, tc.proof, tc.note)
				refusal(t, err, tc.status, tc.want)
			})
		}
		// A smaller checkpoint sent as an extension of itself is a conflict.
		_, err := s.add(l, 9, 9)
		conflict(t, err, 10)
	})

	t.Run("Keys", func(t *testing.T) {
		impostor := newLog(t, "reseller-console", 42, 0, "") // same name, another key
		impostor.mem = l.mem
		stranger := newLog(t, "other-log", 42, 12, "")
		for name, tc := range map[string]struct {
			note   []byte
			status int
			want   string
		}{
			"OtherKeySameName": {impostor.checkpoint(12), 403, "not signed by any key this witness trusts"},
			"UnknownKeyName":   {stranger.checkpoint(12), 404, `no key named "other-log"`},
			"OtherLogsOrigin":  {rename(t, stranger.checkpoint(12), "other-log/account/42", l.origin), 403, "not signed by any key"},
			"NotAnAccount":     {rename(t, l.checkpoint(12), l.origin, "reseller-console/accounts"), 404, "does not name an account"},
			"AlteredText":      {[]byte(strings.Replace(string(l.checkpoint(12)), "\n12\n", "\n13\n", 1)), 403, "does not verify"},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := s.c.AddCheckpoint(context.Background(), 10, l.proof(10, 12), tc.note)
				refusal(t, err, tc.status, tc.want)
			})
		}
	})

	t.Run("Malformed", func(t *testing.T) {
		cp := string(l.checkpoint(12))
		proof := witness.FormatRequest(10, l.proof(10, 12), nil)
		proof = proof[len("old 10\n") : len(proof)-2]
		for name, body := range map[string]string{
			"NoOldLine":      cp,
			"LeadingZero":    "old 010\n" + string(proof) + "\n" + cp,
			"NegativeOld":    "old -1\n\n" + cp,
			"NoEmptyLine":    "old 10\n" + string(proof),
			"BadProofLine":   "old 10\nnot-base64\n\n" + cp,
			"ShortHash":      "old 10\nAAAA\n\n" + cp,
			"TooManyHashes":  "old 10\n" + strings.Repeat("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n", 64) + "\n" + cp,
			"NoCheckpoint":   "old 10\n" + string(proof) + "\n",
			"UnsignedNote":   "old 10\n" + string(proof) + "\n" + l.origin + "\n12\nAAAA\n",
			"ExtensionLines": "old 10\n" + string(proof) + "\n" + string(withExtension(t, l, 12)),
		} {
			t.Run(name, func(t *testing.T) {
				if code, _, answer := s.post(t, body); code != 400 {
					t.Fatalf("%q: %d %q, want 400", body, code, answer)
				}
			})
		}
		resp, err := http.Get(s.url + "/add-checkpoint")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET /add-checkpoint: %d, want 405", resp.StatusCode)
		}
	})

	t.Run("EmptyTree", func(t *testing.T) {
		empty := newLog(t, "reseller-console", 7, 0, "")
		w := openWitness(t, filepath.Join(t.TempDir(), "w.db"), empty.vkey)
		s := serveWitness(t, w)
		s.mustAdd(t, empty, 0, 0)
		empty.grow(3, "")
		_, err := s.c.AddCheckpoint(context.Background(), 0, empty.proof(1, 3), empty.checkpoint(3))
		refusal(t, err, 422, "from size 0 must be empty")
		// A size-0 checkpoint whose root is not the empty tree's.
		bad, err := auditlog.SignCheckpoint(auditlog.Checkpoint{Origin: empty.origin, Size: 0, Root: tlog.RecordHash([]byte("x"))}, empty.signer)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.c.AddCheckpoint(context.Background(), 0, nil, bad)
		refusal(t, err, 422, "empty tree's root")
		s.mustAdd(t, empty, 0, 3)
	})

	if _, err := s.add(l, 10, 10); err != nil {
		t.Fatalf("after the refusals the witness should still be at size 10: %v", err)
	}
}

// TestPersistence reopens a witness's database: same key, same state.
func TestPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "witness.db")
	l := newLog(t, "reseller-console", 42, 9, "")
	w := openWitness(t, path, l.vkey)
	vkey := w.VerifierKey()
	serveWitness(t, w).mustAdd(t, l, 0, 5)
	w.Close()

	w = openWitness(t, path, l.vkey)
	if w.VerifierKey() != vkey {
		t.Fatalf("key changed on reopen: %q then %q", vkey, w.VerifierKey())
	}
	s := serveWitness(t, w)
	_, err := s.add(l, 0, 9)
	conflict(t, err, 5)
	s.mustAdd(t, l, 5, 9)

	// A key created under one name keeps it.
	w2, err := witness.Open(context.Background(), path, witness.Options{Name: "another-name", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	if w2.VerifierKey() != vkey {
		t.Fatalf("reopened with another name: key %q, want %q", w2.VerifierKey(), vkey)
	}
}

// TestConcurrentAdds races many requests for one log, through two Witness
// values on one file as two processes would. Each request that loses a race
// is answered 409 and retries from the winner's size (the proofs check that
// every cosigned checkpoint extends the one before); at the end the witness
// holds the largest.
func TestConcurrentAdds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "witness.db")
	l := newLog(t, "reseller-console", 42, 64, "")
	servers := []*served{serveWitness(t, openWitness(t, path, l.vkey)), serveWitness(t, openWitness(t, path, l.vkey))}

	var mu sync.Mutex
	var cosigned []int64
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := servers[i%2]
			target := int64(1 + i*2)
			old := int64(0)
			for {
				_, err := s.add(l, old, target)
				var c *witness.ConflictError
				switch {
				case err == nil:
					mu.Lock()
					cosigned = append(cosigned, target)
					mu.Unlock()
					return
				case errors.As(err, &c) && c.Size < target:
					old = c.Size // retry from the size the witness has
				case errors.As(err, &c):
					return // the witness is past our checkpoint already
				default:
					t.Errorf("add %d -> %d: %v", old, target, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(cosigned) == 0 {
		t.Fatal("nothing was cosigned")
	}
	_, err := servers[0].add(l, 0, 64)
	conflict(t, err, 63) // the largest target, whatever the order
	if len(cosigned) > 32 {
		t.Fatalf("%d cosignatures for 32 checkpoints", len(cosigned))
	}
}

func TestOpenRefusesForeignDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "reseller.db")
	w := openWitness(t, path)
	w.Close()
	// Put a table of the log's database in it.
	db, err := sqlOpen(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE audit_entries (x)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = witness.Open(context.Background(), path, witness.Options{Logger: quiet()})
	if err == nil || !strings.Contains(err.Error(), `holds table "audit_entries"`) {
		t.Fatalf("Open of a foreign database: %v", err)
	}
	if _, err := witness.Open(context.Background(), "postgres://x/y", witness.Options{}); err == nil {
		t.Fatal("Open of a PostgreSQL URL succeeded")
	}
	if _, err := witness.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"), witness.Options{LogKeys: []string{"garbage"}}); err == nil || !strings.Contains(err.Error(), `log key "garbage"`) {
		t.Fatalf("Open with a bad log key: %v", err)
	}
}

// TestClientErrors: what a client makes of witnesses that fail or lie.
func TestClientErrors(t *testing.T) {
	l := newLog(t, "reseller-console", 42, 3, "")
	real := serveWitness(t, openWitness(t, filepath.Join(t.TempDir(), "w.db"), l.vkey))
	other := serveWitness(t, openWitness(t, filepath.Join(t.TempDir(), "other.db"), l.vkey))
	for name, tc := range map[string]struct {
		handler http.HandlerFunc
		want    string
	}{
		"Unavailable": {func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 503) }, "503 Service Unavailable: down"},
		"Garbage":     {func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello\n") }, "without a valid cosignature"},
		"OtherWitnessSigned": {func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			old, proof, n, _ := witness.ParseRequest(b)
			cosig, err := otherAdd(other, old, proof, n)
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			w.Write(cosig)
		}, "carries no cosignature by witness witness.example/w1+"},
		"Bad409": {func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(409); io.WriteString(w, "many\n") }, "not a tree size"},
		"Teapot": {func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(418) }, "418"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			c := &witness.Client{URL: srv.URL, Verifier: real.c.Verifier}
			_, err := c.AddCheckpoint(context.Background(), 0, nil, l.checkpoint(3))
			var conflict *witness.ConflictError
			var refused *witness.RefusedError
			if err == nil || errors.As(err, &conflict) || errors.As(err, &refused) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want a plain error containing %q", err, tc.want)
			}
		})
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	c := &witness.Client{URL: srv.URL, Verifier: real.c.Verifier}
	if _, err := c.AddCheckpoint(context.Background(), 0, nil, l.checkpoint(3)); err == nil || !strings.Contains(err.Error(), srv.URL) {
		t.Fatalf("unreachable witness: %v", err)
	}
}

// otherAdd gets a genuine cosignature from another witness, without
// checking it.
func otherAdd(s *served, old int64, proof []tlog.Hash, n []byte) ([]byte, error) {
	resp, err := http.Post(s.url+"/add-checkpoint", "text/plain", bytes.NewReader(witness.FormatRequest(old, proof, n)))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("other witness: %d %s", resp.StatusCode, body)
	}
	return body, nil
}

func originSHA(origin string) string {
	h := sha256.Sum256([]byte(origin))
	return hex.EncodeToString(h[:])
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// flip returns a copy of a proof with one bit of its first hash changed.
func flip(p []tlog.Hash) []tlog.Hash {
	p = slices.Clone(p)
	p[0][0] ^= 1
	return p
}

// rename puts another origin in a signed checkpoint, keeping its signatures.
func rename(t *testing.T, signed []byte, from, to string) []byte {
	t.Helper()
	if !bytes.HasPrefix(signed, []byte(from+"\n")) {
		t.Fatalf("checkpoint %q is not of %q", signed, from)
	}
	return append([]byte(to), signed[len(from):]...)
}

// withExtension is the log's checkpoint of size with an extension line,
// which C2SP allows but our checkpoints never have.
func withExtension(t *testing.T, l *testLog, size int64) []byte {
	t.Helper()
	root, _ := tlog.TreeHash(size, &l.mem)
	text := string(auditlog.Checkpoint{Origin: l.origin, Size: size, Root: root}.Marshal()) + "extension\n"
	b, err := note.Sign(&note.Note{Text: text}, l.signer)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sqlOpen(path string) (*sql.DB, error) { return sql.Open("sqlite", path) }
