package auditlog

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
)

// DefaultKeyName names the signing key when the operator gives none. It is
// also the first part of every log's origin, so changing it starts new logs.
const DefaultKeyName = "reseller-console"

// GenerateKey returns a new Ed25519 signer key (secret) and its verifier key
// (public), both in the text forms of golang.org/x/mod/sumdb/note.
func GenerateKey(name string) (skey, vkey string, err error) {
	if !ValidKeyName(name) {
		return "", "", fmt.Errorf("generate key: %q is not a valid key name (non-empty, no '+', no spaces, no control characters)", name)
	}
	skey, vkey, err = note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", "", fmt.Errorf("generate key %q: %w", name, err)
	}
	return skey, vkey, nil
}

// VerifierKey derives the public verifier key from a signer key, so that a
// server holding only its key file can always publish the key auditors need.
func VerifierKey(skey string) (string, error) {
	skey = strings.TrimSpace(skey)
	// Parse with note first: it checks the name, the algorithm and that the
	// key hash in the text belongs to this key.
	if _, err := note.NewSigner(skey); err != nil {
		return "", fmt.Errorf("signer key: %w", err)
	}
	parts := strings.SplitN(skey, "+", 5)
	key, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(key) != 1+ed25519.SeedSize {
		return "", errors.New("signer key: not an Ed25519 key")
	}
	pub := ed25519.NewKeyFromSeed(key[1:]).Public().(ed25519.PublicKey)
	return note.NewEd25519VerifierKey(parts[2], pub)
}

// LoadOrCreateKey reads the signer key stored at path, or generates one named
// name and stores it there (mode 0600, parent directories 0700) when the file
// does not exist yet. An existing key keeps its own name: the name only
// matters when a key is born. It returns the signer and the verifier key.
func LoadOrCreateKey(path, name string) (signer note.Signer, vkey string, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		b, err = createKeyFile(path, name)
	}
	if err != nil {
		return nil, "", err
	}
	skey := strings.TrimSpace(string(b))
	signer, err = note.NewSigner(skey)
	if err != nil {
		return nil, "", fmt.Errorf("signer key file %s: %w", path, err)
	}
	vkey, err = VerifierKey(skey)
	if err != nil {
		return nil, "", fmt.Errorf("signer key file %s: %w", path, err)
	}
	return signer, vkey, nil
}

// createKeyFile writes the new key to a temporary file and links it into
// place, so that a reader never sees a half-written key and, of two processes
// starting at once, the loser reads the winner's key instead of replacing it.
func createKeyFile(path, name string) ([]byte, error) {
	skey, _, err := GenerateKey(name)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("signer key: %w", err)
	}
	f, err := os.CreateTemp(dir, ".signer-key-*")
	if err != nil {
		return nil, fmt.Errorf("signer key: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.WriteString(skey + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(f.Name(), path)
	}
	if errors.Is(err, fs.ErrExist) {
		return os.ReadFile(path)
	} else if err != nil {
		return nil, fmt.Errorf("signer key %s: %w", path, err)
	}
	return []byte(skey), nil
}

// ParseVerifierKey parses a verifier key, name+keyhash+base64(key), more
// strictly than note.NewVerifier: the text is split at its first two '+'
// (the base64 may hold more), the name must be a valid key name
// (ValidKeyName), the key hash eight lowercase hex digits, and the base64
// canonical (no line breaks, no stray padding bits), so that one key has
// one text. The key must be Ed25519 and match its hash.
func ParseVerifierKey(vkey string) (note.Verifier, error) {
	name, rest, _ := strings.Cut(vkey, "+")
	hash, key64, _ := strings.Cut(rest, "+")
	switch {
	case !ValidKeyName(name):
		return nil, fmt.Errorf("verifier key %q: the name before the first '+' is not a valid key name", vkey)
	case len(hash) != 8 || strings.Trim(hash, "0123456789abcdef") != "":
		return nil, fmt.Errorf("verifier key %q: the key hash between the first two '+' is not 8 lowercase hex digits", vkey)
	}
	if _, err := strictBase64.DecodeString(key64); err != nil || strings.ContainsAny(key64, "\r\n") {
		return nil, fmt.Errorf("verifier key %q: the key after the second '+' is not canonical standard base64", vkey)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("verifier key %q: %w", vkey, err)
	}
	return v, nil
}

// ValidKeyName reports whether name can name a key: non-empty UTF-8 with
// no '+', no space (unicode.IsSpace) and no control character
// (unicode.IsControl: U+0000-U+001F, U+007F and U+0080-U+009F).
func ValidKeyName(name string) bool {
	return name != "" && utf8.ValidString(name) && !strings.Contains(name, "+") &&
		strings.IndexFunc(name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) < 0
}

// keyID is how messages name a key: name+hash, as note prints it.
func keyID(name string, hash uint32) string { return fmt.Sprintf("%s+%08x", name, hash) }
