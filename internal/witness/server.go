package witness

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// maxRequest bounds an add-checkpoint body: 63 proof lines and a note with a
// few dozen signatures fit many times over.
const maxRequest = 256 << 10

// SizeContentType is the type of a 409 response's body: the size of the
// latest checkpoint cosigned, in decimal, and a newline.
const SizeContentType = "text/x.tlog.size"

// Handler returns the witness's HTTP interface, with the submission and
// monitoring prefixes both at the root:
//
//	POST /add-checkpoint              C2SP tlog-witness add-checkpoint
//	GET  /<origin hash>/checkpoint    the latest cosigned checkpoint of a log
//
// where the origin hash is the lowercase hex SHA-256 of the log's origin.
func (w *Witness) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /add-checkpoint", w.handleAddCheckpoint)
	mux.HandleFunc("GET /{hash}/checkpoint", w.handleCheckpoint)
	return mux
}

// ShutdownTimeout is how long Serve waits for requests in flight when its
// context ends.
const ShutdownTimeout = 10 * time.Second

// Serve answers HTTP requests on ln until ctx ends, then finishes the
// requests in flight (for up to ShutdownTimeout) and returns.
func (w *Witness) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           w.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(w.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	w.log.Info("shutting down", "addr", ln.Addr().String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		srv.Close()
		err = fmt.Errorf("witness: shutdown: requests in flight did not finish in time: %w", err)
	}
	if serr := <-done; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

func (w *Witness) handleAddCheckpoint(rw http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, maxRequest))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			w.writeError(rw, r, refuse(http.StatusRequestEntityTooLarge, "the request is larger than %d bytes", maxRequest))
			return
		}
		w.writeError(rw, r, refuse(http.StatusBadRequest, "read request: %v", err))
		return
	}
	oldSize, proof, signedNote, err := ParseRequest(body)
	if err != nil {
		w.writeError(rw, r, err)
		return
	}
	cosig, err := w.AddCheckpoint(r.Context(), oldSize, proof, signedNote)
	if err != nil {
		w.writeError(rw, r, err)
		return
	}
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rw.Write(cosig)
}

var originHashPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (w *Witness) handleCheckpoint(rw http.ResponseWriter, r *http.Request) {
	hash := r.PathValue("hash")
	if !originHashPattern.MatchString(hash) {
		w.writeError(rw, r, refuse(http.StatusNotFound, "%q is not the lowercase hex SHA-256 of a log origin", hash))
		return
	}
	n, err := w.st.noteByOriginHash(r.Context(), hash)
	if err != nil {
		w.writeError(rw, r, err)
		return
	}
	if n == nil {
		w.writeError(rw, r, refuse(http.StatusNotFound, "this witness has cosigned no checkpoint of a log with origin hash %s", hash))
		return
	}
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rw.Write(n)
}

// writeError writes a refusal as the protocol wants it, and hides the
// witness's own failures behind a 500 after logging them.
func (w *Witness) writeError(rw http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		w.log.Error("witness request failed", "path", r.URL.Path, "err", err)
		http.Error(rw, "internal error", http.StatusInternalServerError)
		return
	}
	if e.Status == http.StatusConflict {
		rw.Header().Set("Content-Type", SizeContentType)
		rw.WriteHeader(http.StatusConflict)
		fmt.Fprintf(rw, "%d\n", e.Size)
		return
	}
	http.Error(rw, e.Msg, e.Status)
}

// ParseRequest parses an add-checkpoint request body: the line "old
// <size>", up to 63 consistency proof lines (base64 hashes), an empty line,
// and the signed checkpoint. A malformed body is an *Error with status 400.
func ParseRequest(body []byte) (oldSize int64, proof []tlog.Hash, signedNote []byte, err error) {
	line, rest, ok := bytes.Cut(body, []byte("\n"))
	if !ok || !bytes.HasPrefix(line, []byte("old ")) {
		return 0, nil, nil, refuse(400, `the request must start with the line "old <size>"`)
	}
	n := string(line[len("old "):])
	oldSize, perr := strconv.ParseInt(n, 10, 64)
	if perr != nil || oldSize < 0 || strconv.FormatInt(oldSize, 10) != n {
		return 0, nil, nil, refuse(400, "bad old size %q: want a decimal number without leading zeros", n)
	}
	proof = []tlog.Hash{}
	for {
		line, rest, ok = bytes.Cut(rest, []byte("\n"))
		if !ok {
			return 0, nil, nil, refuse(400, "the request has no empty line before the checkpoint")
		}
		if len(line) == 0 {
			break
		}
		if len(proof) == MaxProofLines {
			return 0, nil, nil, refuse(400, "the consistency proof has more than %d hashes", MaxProofLines)
		}
		h, derr := base64.StdEncoding.Strict().DecodeString(string(line))
		if derr != nil || len(h) != len(tlog.Hash{}) {
			return 0, nil, nil, refuse(400, "consistency proof line %d (%q) is not a base64 SHA-256 hash", len(proof)+1, line)
		}
		proof = append(proof, tlog.Hash(h))
	}
	if len(rest) == 0 {
		return 0, nil, nil, refuse(400, "the request holds no checkpoint after the empty line")
	}
	return oldSize, proof, rest, nil
}

// FormatRequest is the add-checkpoint request body for a checkpoint and its
// consistency proof from oldSize.
func FormatRequest(oldSize int64, proof []tlog.Hash, signedNote []byte) []byte {
	b := fmt.Appendf(nil, "old %d\n", oldSize)
	for _, h := range proof {
		b = append(b, base64.StdEncoding.EncodeToString(h[:])...)
		b = append(b, '\n')
	}
	b = append(b, '\n')
	b = append(b, bytes.TrimRight(signedNote, "\n")...)
	return append(b, '\n')
}
