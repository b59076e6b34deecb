// Package witness is a C2SP tlog-witness (https://c2sp.org/tlog-witness) for
// the audit logs of Reseller Console, and a client for it.
//
// A witness keeps, outside the log's database, the latest checkpoint it
// cosigned for each log, and cosigns a new checkpoint only when a
// consistency proof shows that it extends that one. Someone who can rewrite
// the log's database, even holding the log's signing key, then cannot get a
// rewritten history cosigned: the witness refuses the fork.
//
// The server implements the add-checkpoint call and the monitoring
// endpoint GET /<hex SHA-256 of the origin>/checkpoint; cosignatures are
// cosignature/v1 with Ed25519 (see auditlog.NewCosigner). Its state is a
// SQLite file of its own, holding its signing key too.
package witness

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/resellerconsole/reseller/internal/auditlog"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// DefaultName names a witness's key when the operator gives none. The
// specification recommends a schema-less URL, e.g. witness.example.com/w1.
const DefaultName = "reseller-witness"

// MaxProofLines is the most consistency proof hashes a request may carry.
const MaxProofLines = 63

// Options configure a Witness.
type Options struct {
	// Name names the witness's key when it is created, on the first open
	// of a new database; an existing key keeps its name. Default DefaultName.
	Name string
	// LogKeys are the verifier keys of the logs to witness. A log's origin
	// is <key name>/account/<id>, and its checkpoints must be signed by a
	// key of that name in this list. Several keys may share a name, as
	// when a log's key was replaced.
	LogKeys []string
	// Now is the clock that timestamps cosignatures; default time.Now.
	Now func() time.Time
	// Logger receives refusals that may be evidence of a fork; default
	// slog.Default().
	Logger *slog.Logger
}

// Witness cosigns checkpoints of the logs it knows, persisting per log the
// latest one it cosigned.
type Witness struct {
	st     *store
	signer note.Signer
	vkey   string
	logs   map[string][]note.Verifier // by key name
	log    *slog.Logger

	mu      sync.Mutex
	pending map[string]*sync.Mutex // per origin: one add-checkpoint at a time
}

// Open opens the witness whose state is the SQLite file at path, creating
// the file and the witness's key if needed.
func Open(ctx context.Context, path string, opts Options) (*Witness, error) {
	if opts.Name == "" {
		opts.Name = DefaultName
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	w := &Witness{logs: map[string][]note.Verifier{}, log: opts.Logger, pending: map[string]*sync.Mutex{}}
	seen := map[string]bool{}
	for _, k := range opts.LogKeys {
		k = strings.TrimSpace(k)
		v, err := note.NewVerifier(k)
		if err != nil {
			return nil, fmt.Errorf("log key %q: %w", k, err)
		}
		if !seen[k] {
			seen[k] = true
			w.logs[v.Name()] = append(w.logs[v.Name()], v)
		}
	}
	st, err := openStore(ctx, path)
	if err != nil {
		return nil, err
	}
	skey, err := st.signerKey(ctx, func() (string, error) {
		skey, _, err := auditlog.GenerateWitnessKey(opts.Name)
		return skey, err
	})
	if err == nil {
		w.signer, err = auditlog.NewCosignerWithClock(skey, opts.Now)
	}
	if err == nil {
		w.vkey, err = auditlog.WitnessVerifierKey(skey)
	}
	if err != nil {
		st.close()
		return nil, fmt.Errorf("witness database %s: %w", path, err)
	}
	w.st = st
	return w, nil
}

// Close closes the witness's database.
func (w *Witness) Close() error { return w.st.close() }

// VerifierKey is the witness's public key, to give to whoever checks its
// cosignatures (reseller audit verify --witness-key, reseller serve
// --witness-key).
func (w *Witness) VerifierKey() string { return w.vkey }

// Error is an add-checkpoint refusal, with the HTTP status the protocol
// gives it.
type Error struct {
	Status int    // 400, 403, 404, 409 or 422
	Size   int64  // with 409: the size of the latest checkpoint cosigned
	Msg    string // what is wrong, for the log's operator
}

func (e *Error) Error() string { return e.Msg }

func refuse(status int, format string, args ...any) *Error {
	return &Error{Status: status, Msg: fmt.Sprintf(format, args...)}
}

func conflict(origin string, size, oldSize int64) *Error {
	return &Error{Status: 409, Size: size,
		Msg: fmt.Sprintf("the latest checkpoint cosigned for %s has size %d, not %d", origin, size, oldSize)}
}

// AddCheckpoint cosigns signedNote, a checkpoint signed by a log key the
// witness knows, if proof shows it extends the latest checkpoint cosigned
// for its log, which must have size oldSize. It records the checkpoint as
// that log's latest and returns the cosignature line(s). A refusal is an
// *Error: 400 a malformed request, 403 no valid signature by the log's key,
// 404 an unknown log, 409 oldSize is not the latest size (Error.Size is),
// 422 the checkpoint does not extend the latest one (a fork, or a bad
// proof). Any other error is the witness's own failure.
func (w *Witness) AddCheckpoint(ctx context.Context, oldSize int64, proof []tlog.Hash, signedNote []byte) ([]byte, error) {
	n, cp, err := w.open(signedNote)
	if err != nil {
		return nil, err
	}
	switch {
	case oldSize < 0:
		return nil, refuse(400, "old size %d is negative", oldSize)
	case oldSize > cp.Size:
		return nil, refuse(400, "old size %d is larger than the checkpoint's size %d", oldSize, cp.Size)
	case len(proof) > MaxProofLines:
		return nil, refuse(400, "the consistency proof has %d hashes; at most %d are allowed", len(proof), MaxProofLines)
	}

	// One request per log at a time: the compare-and-swap below would keep
	// the state right anyway, but this spares a loser the cosigning work and
	// answers it with the winner's size.
	mu := w.originLock(cp.Origin)
	mu.Lock()
	defer mu.Unlock()

	prev, err := w.st.latest(ctx, cp.Origin)
	if err != nil {
		return nil, err
	}
	if oldSize != prev.Size {
		return nil, conflict(cp.Origin, prev.Size, oldSize)
	}
	switch {
	case cp.Size == 0 && cp.Root != emptyRoot:
		return nil, w.fork(cp, oldSize, "a checkpoint of size 0 must have the empty tree's root")
	case oldSize == 0 && len(proof) > 0:
		return nil, w.fork(cp, oldSize, "a consistency proof from size 0 must be empty")
	case oldSize == cp.Size && cp.Root != prev.Root:
		return nil, w.fork(cp, oldSize, fmt.Sprintf("the checkpoint has size %d like the one cosigned before, but root %v instead of %v: the log forked", cp.Size, cp.Root, prev.Root))
	}
	if err := auditlog.CheckConsistency(proof, oldSize, prev.Root, cp.Size, cp.Root); err != nil {
		return nil, w.fork(cp, oldSize, err.Error())
	}

	signed, err := note.Sign(&note.Note{Text: n.Text}, w.signer)
	if err != nil {
		return nil, fmt.Errorf("cosign %s at size %d: %w", cp.Origin, cp.Size, err)
	}
	cosig := signed[len(n.Text)+1:]
	// The stored note: the checkpoint, the log signatures that verified,
	// and the cosignature, as the monitoring endpoint serves it.
	stored := append([]byte(n.Text+"\n"), sigLines(n.Sigs)...)
	next := latest{Size: cp.Size, Root: cp.Root, Note: append(stored, cosig...)}
	ok, err := w.st.advance(ctx, cp.Origin, prev, next)
	if err != nil {
		return nil, err
	}
	if !ok {
		now, err := w.st.latest(ctx, cp.Origin)
		if err != nil {
			return nil, err
		}
		return nil, conflict(cp.Origin, now.Size, oldSize)
	}
	return cosig, nil
}

// open verifies a checkpoint's signature with the keys of the log its
// origin names, and parses it.
func (w *Witness) open(signedNote []byte) (*note.Note, auditlog.Checkpoint, error) {
	origin, _, _ := strings.Cut(string(signedNote), "\n")
	keyName, _, err := auditlog.ParseOrigin(origin)
	if err != nil {
		return nil, auditlog.Checkpoint{}, refuse(404, "unknown log %q: %v", origin, err)
	}
	vs := w.logs[keyName]
	if len(vs) == 0 {
		return nil, auditlog.Checkpoint{}, refuse(404, "unknown log %q: this witness has no key named %q", origin, keyName)
	}
	n, err := note.Open(signedNote, note.VerifierList(vs...))
	var unverified *note.UnverifiedNoteError
	var invalid *note.InvalidSignatureError
	switch {
	case errors.As(err, &unverified):
		return nil, auditlog.Checkpoint{}, refuse(403, "the checkpoint of %q is not signed by any key this witness trusts for it", origin)
	case errors.As(err, &invalid):
		return nil, auditlog.Checkpoint{}, refuse(403, "the signature of %q by key %s+%08x does not verify", origin, invalid.Name, invalid.Hash)
	case err != nil:
		return nil, auditlog.Checkpoint{}, refuse(400, "malformed checkpoint note: %v", err)
	}
	cp, err := auditlog.ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return nil, auditlog.Checkpoint{}, refuse(400, "%v", err)
	}
	return n, cp, nil
}

// fork logs and returns a refusal of a checkpoint whose signature is good
// but which does not extend what the witness cosigned: evidence that the
// log, or whoever holds its key, forked it.
func (w *Witness) fork(cp auditlog.Checkpoint, oldSize int64, why string) error {
	w.log.Warn("checkpoint refused: not consistent with the latest one cosigned",
		"origin", cp.Origin, "size", cp.Size, "root", cp.Root.String(), "old_size", oldSize, "reason", why)
	return refuse(422, "%s", why)
}

func (w *Witness) originLock(origin string) *sync.Mutex {
	w.mu.Lock()
	defer w.mu.Unlock()
	mu, ok := w.pending[origin]
	if !ok {
		mu = &sync.Mutex{}
		w.pending[origin] = mu
	}
	return mu
}

// sigLines writes signatures back as note signature lines.
func sigLines(sigs []note.Signature) []byte {
	var b []byte
	for _, s := range sigs {
		b = fmt.Appendf(b, "— %s %s\n", s.Name, s.Base64)
	}
	return b
}
