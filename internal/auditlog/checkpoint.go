package auditlog

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Origin names the log of one account. Every checkpoint starts with it, so a
// checkpoint of one account can never pass for another's.
func Origin(keyName string, accountID int64) string {
	return keyName + "/account/" + strconv.FormatInt(accountID, 10)
}

// ParseOrigin splits an origin made by Origin into its key name and account.
func ParseOrigin(origin string) (keyName string, accountID int64, err error) {
	i := strings.LastIndex(origin, "/account/")
	if i <= 0 {
		return "", 0, fmt.Errorf("origin %q does not name an account (want NAME/account/ID)", origin)
	}
	id, err := strconv.ParseInt(origin[i+len("/account/"):], 10, 64)
	if err != nil || id <= 0 || Origin(origin[:i], id) != origin {
		return "", 0, fmt.Errorf("origin %q does not end in a canonical account id", origin)
	}
	return origin[:i], id, nil
}

// Checkpoint is a signed statement of a log's size and root hash, in the
// C2SP tlog-checkpoint form. Root is the RFC 6962 hash of the first Size
// records.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
}

// Marshal returns the checkpoint text that gets signed: origin, size and the
// base64 root, each on its own line.
func (c Checkpoint) Marshal() []byte {
	return fmt.Appendf(nil, "%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root[:]))
}

// ParseCheckpoint parses checkpoint text (without signatures). It accepts
// exactly what Marshal writes, so that one checkpoint has one text: no
// extension lines, no leading zeros, no blank origin.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	lines := strings.Split(string(text), "\n")
	if len(lines) != 4 || lines[3] != "" {
		return Checkpoint{}, errors.New("checkpoint: want exactly three lines (origin, size, root hash)")
	}
	var c Checkpoint
	c.Origin = lines[0]
	if c.Origin == "" || strings.TrimSpace(c.Origin) != c.Origin {
		return Checkpoint{}, fmt.Errorf("checkpoint: bad origin line %q", c.Origin)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return Checkpoint{}, fmt.Errorf("checkpoint: bad size line %q", lines[1])
	}
	c.Size = size
	root, err := tlog.ParseHash(lines[2])
	if err != nil || base64.StdEncoding.EncodeToString(root[:]) != lines[2] {
		return Checkpoint{}, fmt.Errorf("checkpoint: bad root hash line %q", lines[2])
	}
	c.Root = root
	return c, nil
}

// SignCheckpoint returns the signed note of c: its text, a blank line and
// one signature line by s.
func SignCheckpoint(c Checkpoint, s note.Signer) ([]byte, error) {
	if _, err := ParseCheckpoint(c.Marshal()); err != nil {
		return nil, err
	}
	return note.Sign(&note.Note{Text: string(c.Marshal())}, s)
}

// OpenCheckpoint verifies a signed checkpoint with a verifier key and parses
// it. When origin is not "", the checkpoint must be for that log. Errors say
// which key signed when it is not the expected one, because "wrong key" and
// "altered checkpoint" call for different actions.
func OpenCheckpoint(signed []byte, verifierKey string, origin string) (Checkpoint, error) {
	v, err := note.NewVerifier(strings.TrimSpace(verifierKey))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("verifier key %q: %w", verifierKey, err)
	}
	signed = normalizeNote(signed)
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, checkpointSigError(err, v)
	}
	if err := strictSignatures(signed[len(n.Text)+1:]); err != nil {
		return Checkpoint{}, err
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, err
	}
	if origin != "" && c.Origin != origin {
		return Checkpoint{}, fmt.Errorf("checkpoint is for log %q, not %q", c.Origin, origin)
	}
	return c, nil
}

func checkpointSigError(err error, v note.Verifier) error {
	want := keyID(v.Name(), v.KeyHash())
	var unverified *note.UnverifiedNoteError
	var invalid *note.InvalidSignatureError
	switch {
	case errors.As(err, &unverified):
		var by []string
		for _, s := range unverified.Note.UnverifiedSigs {
			by = append(by, keyID(s.Name, s.Hash))
		}
		return fmt.Errorf("checkpoint is not signed by key %s (it is signed by %s)", want, strings.Join(by, ", "))
	case errors.As(err, &invalid):
		return fmt.Errorf("checkpoint signature by key %s does not verify: the checkpoint text was altered", want)
	}
	return fmt.Errorf("checkpoint: %w", err)
}

// strictSignatures refuses signature lines whose base64 has stray bits in
// its padding, which note accepts: otherwise a byte of a signed checkpoint
// could change without any effect, and "one byte changed" would go unseen.
func strictSignatures(sigs []byte) error {
	for _, line := range strings.Split(strings.TrimSuffix(string(sigs), "\n"), "\n") {
		_, b64, _ := strings.Cut(line, " ")
		b64 = b64[strings.LastIndexByte(b64, ' ')+1:]
		if _, err := base64.StdEncoding.Strict().DecodeString(b64); err != nil {
			return fmt.Errorf("checkpoint: signature line %q is not canonical base64", line)
		}
	}
	return nil
}

// normalizeNote forgives a signed note whose final newline was lost or
// doubled by copy and paste: the signature covers only the text before the
// signature lines, so this changes nothing that is signed.
func normalizeNote(b []byte) []byte {
	b = bytes.TrimRight(b, "\n")
	return append(b[:len(b):len(b)], '\n')
}
