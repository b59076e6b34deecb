package auditlog

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
)

// Witness cosignatures, as C2SP tlog-cosignature specifies them
// (https://c2sp.org/tlog-cosignature, type cosignature/v1 with Ed25519):
// a witness that checked a checkpoint is consistent with everything it saw
// of that log before adds a signature line of its own to the note. The line
// is an ordinary signed-note signature whose key ID uses the algorithm byte
// 0x04, and whose signature is an 8-byte big-endian POSIX timestamp followed
// by an Ed25519 signature of
//
//	cosignature/v1
//	time <timestamp>
//	<the checkpoint text, final newline included>
//
// The timestamp is part of the statement: "as of this time, this is the
// largest tree of this log I have seen".

// CosignatureAlg is the signed-note signature type of cosignature/v1 with
// Ed25519: the byte before the public key in a witness's verifier key, and
// in the hash that makes its key ID.
const CosignatureAlg = 0x04

const (
	cosignatureHeader = "cosignature/v1\n"
	timestampSize     = 8
)

// GenerateWitnessKey returns a new witness signer key (secret) and its
// verifier key (public), in the text forms of golang.org/x/mod/sumdb/note
// (PRIVATE+KEY+name+hash+base64(0x04 || seed) and name+hash+base64(0x04 ||
// public key)) but with the cosignature/v1 algorithm byte, so that nobody
// mistakes a cosignature for a log's own signature.
func GenerateWitnessKey(name string) (skey, vkey string, err error) {
	if !validKeyName(name) {
		return "", "", fmt.Errorf("witness key name %q: want non-empty UTF-8 without spaces or '+'", name)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generate witness key %q: %w", name, err)
	}
	return encodeWitnessKeys(name, priv.Seed(), pub)
}

func encodeWitnessKeys(name string, seed []byte, pub ed25519.PublicKey) (skey, vkey string, err error) {
	hash := cosignatureKeyHash(name, pub)
	skey = fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", name, hash, base64.StdEncoding.EncodeToString(append([]byte{CosignatureAlg}, seed...)))
	vkey = fmt.Sprintf("%s+%08x+%s", name, hash, base64.StdEncoding.EncodeToString(append([]byte{CosignatureAlg}, pub...)))
	return skey, vkey, nil
}

// WitnessVerifierKey derives a witness's public verifier key from its signer
// key.
func WitnessVerifierKey(skey string) (string, error) {
	name, seed, err := parseWitnessSignerKey(skey)
	if err != nil {
		return "", err
	}
	_, vkey, err := encodeWitnessKeys(name, seed, ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey))
	return vkey, err
}

// cosignatureKeyHash is the key ID of an Ed25519 cosigner:
// SHA-256(name || "\n" || 0x04 || public key)[:4], big-endian.
func cosignatureKeyHash(name string, pub ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', CosignatureAlg})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// validKeyName is signed-note's rule for key names.
func validKeyName(name string) bool {
	return name != "" && utf8.ValidString(name) && strings.IndexFunc(name, unicode.IsSpace) < 0 && !strings.Contains(name, "+")
}

// parseWitnessSignerKey checks a witness signer key, including that its key
// hash is the one of its key, and returns its name and Ed25519 seed.
func parseWitnessSignerKey(skey string) (name string, seed []byte, err error) {
	parts := strings.SplitN(strings.TrimSpace(skey), "+", 5)
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
		return "", nil, errors.New("witness signer key: want PRIVATE+KEY+NAME+HASH+KEY")
	}
	name, hash16, key64 := parts[2], parts[3], parts[4]
	if !validKeyName(name) {
		return "", nil, fmt.Errorf("witness signer key: bad key name %q", name)
	}
	key, err := base64.StdEncoding.Strict().DecodeString(key64)
	if err != nil || len(key) != 1+ed25519.SeedSize {
		return "", nil, errors.New("witness signer key: not an Ed25519 key")
	}
	if key[0] != CosignatureAlg {
		return "", nil, fmt.Errorf("witness signer key: algorithm %#02x, want %#02x (cosignature/v1); a log signing key cannot cosign", key[0], CosignatureAlg)
	}
	seed = key[1:]
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	if want := fmt.Sprintf("%08x", cosignatureKeyHash(name, pub)); hash16 != want {
		return "", nil, fmt.Errorf("witness signer key: key hash %s does not belong to the key (want %s)", hash16, want)
	}
	return name, seed, nil
}

// NewCosigner returns a note.Signer that makes cosignature/v1 signatures
// with a witness signer key, timestamped with the current time: note.Sign
// with it adds the witness's cosignature line to a checkpoint.
func NewCosigner(skey string) (note.Signer, error) {
	return NewCosignerWithClock(skey, time.Now)
}

// NewCosignerWithClock is NewCosigner with the clock that timestamps the
// cosignatures (to the second).
func NewCosignerWithClock(skey string, now func() time.Time) (note.Signer, error) {
	name, seed, err := parseWitnessSignerKey(skey)
	if err != nil {
		return nil, err
	}
	priv := ed25519.NewKeyFromSeed(seed)
	return &cosigner{
		name: name,
		hash: cosignatureKeyHash(name, priv.Public().(ed25519.PublicKey)),
		priv: priv,
		now:  now,
	}, nil
}

type cosigner struct {
	name string
	hash uint32
	priv ed25519.PrivateKey
	now  func() time.Time
}

func (s *cosigner) Name() string    { return s.name }
func (s *cosigner) KeyHash() uint32 { return s.hash }

// Sign signs a checkpoint text. It refuses a text that does not start with
// the three lines of a checkpoint, since a cosignature states something
// about a log's tree and nothing else should be signed with the key.
func (s *cosigner) Sign(msg []byte) ([]byte, error) {
	if err := checkCheckpointLines(msg); err != nil {
		return nil, err
	}
	t := s.now().Unix()
	if t <= 0 {
		return nil, fmt.Errorf("cosign: clock reads %d, before 1970", t)
	}
	sig := binary.BigEndian.AppendUint64(make([]byte, 0, timestampSize+ed25519.SignatureSize), uint64(t))
	return append(sig, ed25519.Sign(s.priv, cosignedMessage(uint64(t), msg))...), nil
}

// checkCheckpointLines checks that text starts like a C2SP checkpoint: an
// origin line, a decimal size and a base64 SHA-256 hash; extension lines may
// follow, as the specification allows.
func checkCheckpointLines(text []byte) error {
	lines := strings.SplitN(string(text), "\n", 4)
	if len(lines) < 4 || lines[0] == "" {
		return errors.New("cosign: the text is not a checkpoint (want origin, size and root hash lines)")
	}
	if n, err := strconv.ParseInt(lines[1], 10, 64); err != nil || n < 0 || strconv.FormatInt(n, 10) != lines[1] {
		return fmt.Errorf("cosign: the text is not a checkpoint (bad size line %q)", lines[1])
	}
	if h, err := base64.StdEncoding.Strict().DecodeString(lines[2]); err != nil || len(h) != sha256.Size {
		return fmt.Errorf("cosign: the text is not a checkpoint (bad root hash line %q)", lines[2])
	}
	return nil
}

// cosignedMessage is what a cosignature/v1 Ed25519 signature signs.
func cosignedMessage(t uint64, text []byte) []byte {
	m := make([]byte, 0, len(cosignatureHeader)+len("time \n")+20+len(text))
	m = append(m, cosignatureHeader...)
	m = append(m, "time "...)
	m = strconv.AppendUint(m, t, 10)
	m = append(m, '\n')
	return append(m, text...)
}

// NewCosignatureVerifier returns a note.Verifier for a witness's verifier key
// (type 0x04), so that note.Open checks its cosignature lines.
func NewCosignatureVerifier(vkey string) (note.Verifier, error) {
	parts := strings.SplitN(strings.TrimSpace(vkey), "+", 3)
	if len(parts) != 3 || !validKeyName(parts[0]) {
		return nil, fmt.Errorf("witness key %q: want NAME+HASH+KEY", vkey)
	}
	name, hash16, key64 := parts[0], parts[1], parts[2]
	key, err := base64.StdEncoding.Strict().DecodeString(key64)
	if err != nil || len(key) != 1+ed25519.PublicKeySize {
		return nil, fmt.Errorf("witness key %q: not an Ed25519 key", vkey)
	}
	if key[0] != CosignatureAlg {
		return nil, fmt.Errorf("witness key %q: algorithm %#02x, want %#02x (cosignature/v1); is this a log's key?", vkey, key[0], CosignatureAlg)
	}
	pub := ed25519.PublicKey(key[1:])
	hash := cosignatureKeyHash(name, pub)
	if want := fmt.Sprintf("%08x", hash); hash16 != want {
		return nil, fmt.Errorf("witness key %q: key hash %s does not belong to the key (want %s)", vkey, hash16, want)
	}
	return &cosignatureVerifier{name: name, hash: hash, pub: pub}, nil
}

type cosignatureVerifier struct {
	name string
	hash uint32
	pub  ed25519.PublicKey
}

func (v *cosignatureVerifier) Name() string    { return v.name }
func (v *cosignatureVerifier) KeyHash() uint32 { return v.hash }

// Verify checks a cosignature (timestamp || Ed25519 signature) of msg.
func (v *cosignatureVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != timestampSize+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig)
	if t > math.MaxInt64 {
		return false
	}
	return ed25519.Verify(v.pub, cosignedMessage(t, msg), sig[timestampSize:])
}

// CheckCosignature checks that a signed note (a checkpoint) carries a valid
// cosignature from the witness whose verifier key is witnessVKey, and
// returns the time the witness states. Signature lines of other keys, the
// log's own among them, are ignored.
func CheckCosignature(signedNote []byte, witnessVKey string) (time.Time, error) {
	v, err := NewCosignatureVerifier(witnessVKey)
	if err != nil {
		return time.Time{}, err
	}
	_, t, err := OpenCosignatures(signedNote, v)
	return t, err
}

// OpenCosignatures checks the cosignatures by one witness on a signed note
// and returns its signature lines (each ending in a newline) and the latest
// time they state. There must be at least one, and every line with the
// witness's name and key hash must verify: one that does not means the note
// or the line was altered. Lines of other keys are ignored. witness may be
// any note.Verifier of cosignature/v1 signatures.
func OpenCosignatures(signedNote []byte, witness note.Verifier) (lines []byte, latest time.Time, err error) {
	id := keyID(witness.Name(), witness.KeyHash())
	msg := normalizeNote(signedNote)
	n, err := note.Open(msg, note.VerifierList(witness))
	var unverified *note.UnverifiedNoteError
	var invalid *note.InvalidSignatureError
	switch {
	case errors.As(err, &unverified):
		return nil, time.Time{}, fmt.Errorf("the checkpoint carries no cosignature by witness %s", id)
	case errors.As(err, &invalid):
		return nil, time.Time{}, fmt.Errorf("the cosignature by witness %s does not verify: the checkpoint text or the cosignature was altered", id)
	case err != nil:
		return nil, time.Time{}, fmt.Errorf("cosigned checkpoint: %w", err)
	}
	// note.Open checks only the first line by a key; check them all, so that
	// no line of a cosigned checkpoint is garbage unnoticed.
	var out bytes.Buffer
	var t uint64
	for _, line := range strings.SplitAfter(string(msg[len(n.Text)+1:]), "\n") {
		name, b64, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(line, "— "), "\n"), " ")
		if name != witness.Name() {
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(sig) < 4 || binary.BigEndian.Uint32(sig) != witness.KeyHash() {
			continue // another key of the same name
		}
		if _, err := base64.StdEncoding.Strict().DecodeString(b64); err != nil {
			return nil, time.Time{}, fmt.Errorf("the cosignature line by witness %s is not canonical base64", id)
		}
		sig = sig[4:]
		if len(sig) < timestampSize || !witness.Verify([]byte(n.Text), sig) {
			return nil, time.Time{}, fmt.Errorf("a second cosignature line by witness %s does not verify: the checkpoint was altered", id)
		}
		t = max(t, binary.BigEndian.Uint64(sig))
		out.WriteString(line)
	}
	if t > math.MaxInt64 {
		return nil, time.Time{}, fmt.Errorf("the cosignature by witness %s states an impossible time", id)
	}
	return out.Bytes(), time.Unix(int64(t), 0).UTC(), nil
}
