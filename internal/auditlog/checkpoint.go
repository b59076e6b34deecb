package auditlog

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

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
	if !ValidKeyName(origin[:i]) {
		return "", 0, fmt.Errorf("origin %q does not start with a valid key name (no '+', spaces or control characters)", origin)
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
	if c.Origin == "" || strings.TrimSpace(c.Origin) != c.Origin || !utf8.ValidString(c.Origin) || strings.IndexFunc(c.Origin, unicode.IsControl) >= 0 {
		return Checkpoint{}, fmt.Errorf("checkpoint: bad origin line %q (empty, padded, or holding a control character)", c.Origin)
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
//
// Only the signature line of the verifier key counts. Lines of other keys
// (a witness's cosignature, say) are not checked here and do not matter; a
// second line of the verifier key, even an identical one, is refused, as is
// a control character other than newline anywhere in the note (C0, DEL and
// C1: note.Open refuses only C0).
func OpenCheckpoint(signed []byte, verifierKey string, origin string) (Checkpoint, error) {
	v, err := ParseVerifierKey(strings.TrimSpace(verifierKey))
	if err != nil {
		return Checkpoint{}, err
	}
	signed = normalizeNote(signed)
	if i := bytes.IndexFunc(signed, func(r rune) bool { return r != '\n' && unicode.IsControl(r) }); i >= 0 {
		r, _ := utf8.DecodeRune(signed[i:])
		return Checkpoint{}, fmt.Errorf("checkpoint: control character %U at byte %d", r, i)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, checkpointSigError(err, v)
	}
	if err := strictSignatures(signed[len(n.Text)+1:], v); err != nil {
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
// It also refuses a second line of v's key, which note skips unverified:
// whatever it holds, the note would verify, so it could carry anything.
func strictSignatures(sigs []byte, v note.Verifier) error {
	ours := 0
	for _, line := range strings.Split(strings.TrimSuffix(string(sigs), "\n"), "\n") {
		_, rest, _ := strings.Cut(line, " ")
		name, b64, _ := strings.Cut(rest, " ")
		sig, err := strictBase64.DecodeString(b64)
		if err != nil {
			return fmt.Errorf("checkpoint: signature line %q is not canonical base64", line)
		}
		if len(sig) >= 4 && name == v.Name() && binary.BigEndian.Uint32(sig) == v.KeyHash() {
			if ours++; ours > 1 {
				return fmt.Errorf("checkpoint: key %s has a second signature line; a note carries one per key", keyID(v.Name(), v.KeyHash()))
			}
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
