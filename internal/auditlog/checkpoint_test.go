package auditlog_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/resellerconsole/reseller/internal/auditlog"
	"golang.org/x/mod/sumdb/note"
)

func TestCheckpoint(t *testing.T) {
	signer, vkey := testKey(t, 1)
	_, otherKey := testKey(t, 2)
	s := story(t, 42)
	origin := auditlog.Origin(auditlog.DefaultKeyName, 42)
	signed := s.Signed(t, signer)
	want, err := s.Log.Checkpoint(origin)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("OK", func(t *testing.T) {
		got, err := auditlog.OpenCheckpoint(signed, vkey, origin)
		if err != nil || got != want {
			t.Fatalf("OpenCheckpoint = %+v, %v; want %+v", got, err, want)
		}
		if !bytes.HasPrefix(signed, want.Marshal()) || string(want.Marshal()) != "reseller-console/account/42\n12\n"+want.Root.String()+"\n" {
			t.Errorf("signed note %q does not start with the C2SP checkpoint text", signed)
		}
		parsed, err := auditlog.ParseCheckpoint(want.Marshal())
		if err != nil || parsed != want {
			t.Errorf("ParseCheckpoint(Marshal) = %+v, %v", parsed, err)
		}
	})
	t.Run("AnyOrigin", func(t *testing.T) {
		if _, err := auditlog.OpenCheckpoint(signed, vkey, ""); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("TrailingNewlineLost", func(t *testing.T) {
		if _, err := auditlog.OpenCheckpoint(bytes.TrimSuffix(signed, []byte("\n")), vkey, origin); err != nil {
			t.Fatal(err)
		}
	})

	fails := []struct {
		name, key, origin, errPart string
		signed                     []byte
	}{
		{"ErrWrongKey", otherKey, origin, "is not signed by key reseller-console+", signed},
		{"ErrWrongOrigin", vkey, auditlog.Origin(auditlog.DefaultKeyName, 43), `is for log "reseller-console/account/42", not "reseller-console/account/43"`, signed},
		{"ErrAlteredSize", vkey, origin, "does not verify: the checkpoint text was altered", bytes.Replace(signed, []byte("\n12\n"), []byte("\n13\n"), 1)},
		{"ErrAlteredRoot", vkey, origin, "does not verify", bytes.Replace(signed, []byte(want.Root.String()[:4]), []byte("AAAA"), 1)},
		{"ErrNoSignature", vkey, origin, "checkpoint", want.Marshal()},
		{"ErrBadKey", "not-a-key", origin, "verifier key", signed},
	}
	for _, tc := range fails {
		t.Run(tc.name, func(t *testing.T) {
			_, err := auditlog.OpenCheckpoint(tc.signed, tc.key, tc.origin)
			if err == nil || !strings.Contains(err.Error(), tc.errPart) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.errPart)
			}
		})
	}

	t.Run("OtherKeysSignaturesIgnored", func(t *testing.T) {
		// A witness's cosignature, or any other key's line, is not the log
		// check's business: the note still opens with the log's key.
		cosigned, err := note.Sign(&note.Note{Text: string(want.Marshal())}, signer, signerOf(t, 9, "witness.example"))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := auditlog.OpenCheckpoint(cosigned, vkey, origin); err != nil || got != want {
			t.Fatalf("OpenCheckpoint of a cosigned note = %+v, %v", got, err)
		}
	})
	t.Run("ErrSecondLineOfTheLogsKey", func(t *testing.T) {
		line := signed[bytes.LastIndex(signed, []byte("\n\n"))+2:]
		for name, extra := range map[string][]byte{
			"copy": line,
			"bad":  append(line[:len(line)-6:len(line)-6], "AAAA=\n"...),
		} {
			_, err := auditlog.OpenCheckpoint(append(append([]byte(nil), signed...), extra...), vkey, origin)
			if err == nil || !strings.Contains(err.Error(), "has a second signature line") {
				t.Errorf("%s: err = %v", name, err)
			}
		}
	})
	t.Run("ErrControlCharacters", func(t *testing.T) {
		for _, c := range []string{"\x01", "\x7f", "\u0080", "\u009f"} {
			text := "reseller-console" + c + "/account/42\n12\n" + want.Root.String() + "\n"
			n, err := note.Sign(&note.Note{Text: text}, signer)
			if err != nil {
				if c == "\x01" {
					continue // note refuses C0 itself
				}
				t.Fatal(err)
			}
			if _, err := auditlog.OpenCheckpoint(n, vkey, ""); err == nil || !strings.Contains(err.Error(), "control character") {
				t.Errorf("origin with %U: err = %v", []rune(c)[0], err)
			}
			if _, err := auditlog.ParseCheckpoint([]byte(text)); err == nil {
				t.Errorf("ParseCheckpoint accepts an origin with %U", []rune(c)[0])
			}
		}
	})

	t.Run("ErrSignedByAnotherKeyWithSameName", func(t *testing.T) {
		other, _ := testKey(t, 2)
		resigned := s.Signed(t, other)
		_, err := auditlog.OpenCheckpoint(resigned, vkey, origin)
		if err == nil || !strings.Contains(err.Error(), "it is signed by reseller-console+") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestParseCheckpointStrict(t *testing.T) {
	root := strings.Repeat("A", 43) + "="
	for _, text := range []string{
		"",
		"o\n1\n" + root,                 // no final newline
		"o\n01\n" + root + "\n",         // leading zero
		"o\n-1\n" + root + "\n",         // negative
		"\n1\n" + root + "\n",           // empty origin
		" o\n1\n" + root + "\n",         // padded origin
		"o\n1\n" + root + "\next\n",     // extension line
		"o\n1\n" + root[:40] + "\n",     // short hash
		"o\n1\n" + root[:43] + "B\n",    // non-canonical base64
		"o\n1\n" + root + "\n\n— sig\n", // a signed note, not the text
	} {
		if c, err := auditlog.ParseCheckpoint([]byte(text)); err == nil {
			t.Errorf("ParseCheckpoint(%q) = %+v, want an error", text, c)
		}
	}
}

func TestOrigin(t *testing.T) {
	o := auditlog.Origin("reseller-console", 42)
	if o != "reseller-console/account/42" {
		t.Fatalf("Origin = %q", o)
	}
	name, id, err := auditlog.ParseOrigin(o)
	if err != nil || name != "reseller-console" || id != 42 {
		t.Fatalf("ParseOrigin = %q, %d, %v", name, id, err)
	}
	for _, bad := range []string{"reseller-console", "/account/1", "x/account/", "x/account/01", "x/account/-1", "x/account/1 ",
		"x\x7f/account/1", "x\u0085/account/1", "x\x00/account/1", "x y/account/1", "x+y/account/1", "x\xff/account/1"} {
		if _, _, err := auditlog.ParseOrigin(bad); err == nil {
			t.Errorf("ParseOrigin(%q) accepted", bad)
		}
	}
}

func TestKeys(t *testing.T) {
	skey, vkey, err := auditlog.GenerateKey("example.test")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(skey, "PRIVATE+KEY+example.test+") || !strings.HasPrefix(vkey, "example.test+") {
		t.Fatalf("keys %q, %q", skey, vkey)
	}
	got, err := auditlog.VerifierKey(skey)
	if err != nil || got != vkey {
		t.Fatalf("VerifierKey = %q, %v; want %q", got, err, vkey)
	}
	if _, err := auditlog.VerifierKey(vkey); err == nil {
		t.Error("VerifierKey accepts a verifier key")
	}

	t.Run("LoadOrCreate", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "keys", "signer.key")
		s1, v1, err := auditlog.LoadOrCreateKey(path, "example.test")
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file mode = %v, %v; want 0600", fi.Mode(), err)
		}
		s2, v2, err := auditlog.LoadOrCreateKey(path, "another-name")
		if err != nil || v2 != v1 || s2.KeyHash() != s1.KeyHash() || s2.Name() != "example.test" {
			t.Fatalf("reload gave %q (%v), want the same key %q", v2, err, v1)
		}
		msg := []byte("text\n")
		sig, _ := s1.Sign(msg)
		v, _ := note.NewVerifier(v1)
		if !v.Verify(msg, sig) {
			t.Error("the verifier key does not verify the signer's signature")
		}
		entries, _ := os.ReadDir(filepath.Dir(path))
		if len(entries) != 1 {
			t.Errorf("key directory holds %d files, want only the key", len(entries))
		}
	})
	t.Run("ErrCorruptFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "signer.key")
		os.WriteFile(path, []byte("garbage\n"), 0o600)
		if _, _, err := auditlog.LoadOrCreateKey(path, "x"); err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("err = %v, want it to name the file", err)
		}
	})
}

// mustSignerKey generates a signer key named name.
func mustSignerKey(t *testing.T, name string) string {
	t.Helper()
	skey, _, err := auditlog.GenerateKey(name)
	if err != nil {
		t.Fatal(err)
	}
	return skey
}

// signerOf is a fixed signer named name, a witness say.
func signerOf(t *testing.T, seed byte, name string) note.Signer {
	t.Helper()
	skey, _, err := note.GenerateKey(seedReader(seed), name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseVerifierKey(t *testing.T) {
	_, vkey := testKey(t, 1)
	v, err := auditlog.ParseVerifierKey(vkey)
	if err != nil || v.Name() != "reseller-console" {
		t.Fatalf("ParseVerifierKey(%q) = %v, %v", vkey, v, err)
	}
	name, hash, key := vkey[:16], vkey[17:25], vkey[26:]
	for why, bad := range map[string]string{
		"empty":                "",
		"garbage":              "garbage",
		"uppercase hash":       name + "+" + strings.ToUpper(hash) + "+" + key,
		"short hash":           name + "+" + hash[1:] + "+" + key,
		"wrong hash":           name + "+00000000+" + key,
		"line break in base64": name + "+" + hash + "+" + key[:10] + "\n" + key[10:],
		"extra padding":        name + "+" + hash + "+" + key + "=",
		"trailing space":       vkey + " ",
		"control in name":      "reseller\u0085console+" + hash + "+" + key,
		"space in name":        "reseller console+" + hash + "+" + key,
		"signer key":           mustSignerKey(t, "x"),
	} {
		if _, err := auditlog.ParseVerifierKey(bad); err == nil {
			t.Errorf("%s: ParseVerifierKey(%q) accepted", why, bad)
		}
	}
	if _, _, err := auditlog.GenerateKey("bad\x7fname"); err == nil {
		t.Error("GenerateKey accepts a name with a control character")
	}
}
