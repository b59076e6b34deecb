package witness

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/resellerconsole/reseller/internal/auditlog"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Client asks one witness to cosign checkpoints, with the add-checkpoint
// call of C2SP tlog-witness.
//
// A log keeps, per witness, the size of the latest checkpoint that witness
// cosigned, and sends each new checkpoint with a consistency proof from
// that size:
//
//	cosig, err := c.AddCheckpoint(ctx, last, proof(last, size), signed)
//	var conflict *witness.ConflictError
//	var refused *witness.RefusedError
//	switch {
//	case errors.As(err, &conflict):
//		// The witness has cosigned size conflict.Size (another instance
//		// got there first, or this one forgot): retry once with a proof
//		// from conflict.Size. A conflict.Size larger than the log, or
//		// whose tree the log does not have, means the log was rolled back.
//	case errors.As(err, &refused):
//		// The witness says the checkpoint is bad (a fork, a bad proof, a
//		// key or log it does not know): do not retry; alert.
//	case err != nil:
//		// The witness is unavailable: retry later with a newer checkpoint.
//	default:
//		// Append cosig to the signed checkpoint to serve it cosigned.
//	}
//
// A log that does not know what the witness last cosigned may send old
// size 0 with no proof: the witness answers 409 with its size.
type Client struct {
	// URL is the witness's submission prefix: requests go to URL +
	// "/add-checkpoint".
	URL string
	// Verifier checks the witness's cosignatures: the witness's verifier
	// key, from auditlog.NewCosignatureVerifier.
	Verifier note.Verifier
	// HTTP sends the requests; nil means http.DefaultClient. Set a
	// timeout on it, or pass a context with a deadline.
	HTTP *http.Client
}

// ConflictError is the witness's 409 answer: the old size sent is not the
// size of the latest checkpoint it cosigned for the log, which is Size.
// Retry with a consistency proof from Size.
type ConflictError struct {
	Size int64
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("witness: the latest checkpoint it cosigned has size %d; send a consistency proof from that size", e.Size)
}

// RefusedError is the witness refusing the checkpoint itself: 400 (the
// request is malformed), 403 (it is not signed by a key the witness trusts
// for the log), 404 (the witness does not know the log) or 422 (it does not
// extend the latest checkpoint the witness cosigned: a fork, or a bad
// consistency proof). Retrying the same request cannot succeed.
type RefusedError struct {
	Status int
	Body   string // the witness's explanation
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("witness refused the checkpoint: %d %s: %s", e.Status, http.StatusText(e.Status), strings.TrimSpace(e.Body))
}

// AddCheckpoint sends signedNote, a signed checkpoint, to the witness with
// a consistency proof from oldSize, the size of the latest checkpoint the
// witness cosigned for that log (0 the first time, with an empty proof). It
// returns the witness's cosignature: its signature line(s), each ending in
// a newline, checked with c.Verifier, to append to the signed note.
//
// Errors: *ConflictError (409) when oldSize is not the witness's size, to
// retry with a proof from ConflictError.Size; *RefusedError for 400, 403,
// 404 and 422, the witness saying the checkpoint is bad. Anything else (the
// network, a 5xx, another status, an answer without a valid cosignature) is
// a plain error: the witness is unavailable or misbehaving.
func (c *Client) AddCheckpoint(ctx context.Context, oldSize int64, proof []tlog.Hash, signedNote []byte) ([]byte, error) {
	if c.Verifier == nil {
		return nil, fmt.Errorf("witness %s: no verifier key for its cosignatures", c.URL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.URL, "/")+"/add-checkpoint",
		bytes.NewReader(FormatRequest(oldSize, proof, signedNote)))
	if err != nil {
		return nil, fmt.Errorf("witness %s: %w", c.URL, err)
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("witness %s: %w", c.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxRequest))
	if err != nil {
		return nil, fmt.Errorf("witness %s: read answer: %w", c.URL, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusConflict:
		s := strings.TrimSuffix(string(body), "\n")
		size, err := strconv.ParseInt(s, 10, 64)
		if err != nil || size < 0 {
			return nil, fmt.Errorf("witness %s: 409 Conflict with a body that is not a tree size: %q", c.URL, body)
		}
		return nil, &ConflictError{Size: size}
	case http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity:
		return nil, &RefusedError{Status: resp.StatusCode, Body: string(body)}
	default:
		return nil, fmt.Errorf("witness %s: %s: %s", c.URL, resp.Status, strings.TrimSpace(string(body)))
	}

	// Check the cosignature on the checkpoint text, as the specification
	// suggests: the text, an empty line, and the lines the witness sent.
	norm := bytes.TrimRight(signedNote, "\n")
	i := bytes.LastIndex(norm, []byte("\n\n"))
	if i < 0 {
		return nil, fmt.Errorf("witness %s: the checkpoint sent is not a signed note", c.URL)
	}
	lines, _, err := auditlog.OpenCosignatures(append(norm[:i+2:i+2], body...), c.Verifier)
	if err != nil {
		return nil, fmt.Errorf("witness %s: answered 200 without a valid cosignature: %w", c.URL, err)
	}
	return lines, nil
}
