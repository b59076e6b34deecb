package auditlog_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/auditlog/bundle"
	tdnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

var witnessClock = time.Date(2026, 9, 14, 8, 0, 10, 0, time.UTC)

// cosign adds the cosignature lines of signers to a signed note.
func cosign(t *testing.T, signed []byte, signers ...note.Signer) []byte {
	t.Helper()
	text := signed[:bytes.LastIndex(signed, []byte("\n\n"))+1]
	out := bytes.Clone(signed)
	for _, s := range signers {
		line, err := note.Sign(&note.Note{Text: string(text)}, s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, line[len(text)+1:]...)
	}
	return out
}

func testWitness(t *testing.T, name string) (note.Signer, string, string) {
	t.Helper()
	skey, vkey, err := auditlog.GenerateWitnessKey(name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := auditlog.NewCosignerWithClock(skey, func() time.Time { return witnessClock })
	if err != nil {
		t.Fatal(err)
	}
	return s, skey, vkey
}

func TestCosignature(t *testing.T) {
	signer, vkey := testKey(t, 1)
	signed := story(t, 42).Signed(t, signer)
	w, wskey, wvkey := testWitness(t, "witness.example/w1")

	if !regexp.MustCompile(`^witness\.example/w1\+[0-9a-f]{8}\+B[A-Za-z0-9+/]{43}$`).MatchString(wvkey) {
		t.Fatalf("witness verifier key %q: want type byte 0x04 (base64 B...)", wvkey)
	}
	if !strings.HasPrefix(wskey, "PRIVATE+KEY+witness.example/w1+") {
		t.Fatalf("witness signer key %q", wskey)
	}
	if derived, err := auditlog.WitnessVerifierKey(wskey); err != nil || derived != wvkey {
		t.Fatalf("WitnessVerifierKey = %q, %v; want %q", derived, err, wvkey)
	}

	cosigned := cosign(t, signed, w)
	t.Run("OK", func(t *testing.T) {
		at, err := auditlog.CheckCosignature(cosigned, wvkey)
		if err != nil {
			t.Fatal(err)
		}
		if !at.Equal(witnessClock) {
			t.Errorf("cosignature time %v, want %v", at, witnessClock)
		}
		// The log's verifier still reads the checkpoint, ignoring the cosignature.
		if _, err := auditlog.OpenCheckpoint(cosigned, vkey, ""); err != nil {
			t.Errorf("OpenCheckpoint of a cosigned checkpoint: %v", err)
		}
		// Two witnesses, either order.
		w2, _, w2vkey := testWitness(t, "witness.example/w2")
		both := cosign(t, signed, w2, w)
		for _, k := range []string{wvkey, w2vkey} {
			if _, err := auditlog.CheckCosignature(both, k); err != nil {
				t.Errorf("witness %s: %v", k, err)
			}
		}
	})

	t.Run("Refused", func(t *testing.T) {
		_, _, other := testWitness(t, "witness.example/w1") // same name, another key
		sig := cosigned[bytes.LastIndex(cosigned, []byte("\n— witness"))+1:]
		for name, tc := range map[string]struct {
			note []byte
			key  string
			want string
		}{
			"NoCosignature":   {signed, wvkey, "carries no cosignature by witness witness.example/w1+"},
			"OtherWitness":    {cosigned, other, "carries no cosignature"},
			"TextAltered":     {bytes.Replace(cosigned, []byte("42\n12\n"), []byte("42\n13\n"), 1), wvkey, "does not verify"},
			"SecondLineBad":   {append(bytes.Clone(cosigned), flipSig(t, sig)...), wvkey, "second cosignature line by witness witness.example/w1+"},
			"LogKeyAsWitness": {cosigned, vkey, "want 0x04"},
			"GarbageKey":      {cosigned, "witness+1234+AAAA", "not an Ed25519 key"},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := auditlog.CheckCosignature(tc.note, tc.key)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("CheckCosignature = %v, want an error containing %q", err, tc.want)
				}
			})
		}
	})

	t.Run("WitnessKeyCannotSignCheckpoints", func(t *testing.T) {
		if _, err := note.NewVerifier(wvkey); err == nil {
			t.Error("note.NewVerifier accepts a witness key as a log key")
		}
		if _, err := auditlog.OpenCheckpoint(cosigned, wvkey, ""); err == nil {
			t.Error("OpenCheckpoint accepts a witness key as the log's")
		}
		parts := strings.SplitN(wskey, "+", 5)
		k, _ := base64.StdEncoding.DecodeString(parts[4])
		k[0] = 0x01 // a log's signing key
		parts[4] = base64.StdEncoding.EncodeToString(k)
		if _, err := auditlog.NewCosigner(strings.Join(parts, "+")); err == nil || !strings.Contains(err.Error(), "a log signing key cannot cosign") {
			t.Error("NewCosigner accepts a key of another algorithm")
		}
	})

	t.Run("SignsOnlyCheckpoints", func(t *testing.T) {
		for _, text := range []string{"hello\n", "origin\n12\n", "origin\n012\nAAAA\n", "origin\n1\nnot base64\n"} {
			if _, err := note.Sign(&note.Note{Text: text}, w); err == nil {
				t.Errorf("cosigned %q", text)
			}
		}
		// Extension lines are allowed by the specification and signed too.
		ext := "o/account/1\n1\n" + base64.StdEncoding.EncodeToString(make([]byte, 32)) + "\nextension\n"
		if _, err := note.Sign(&note.Note{Text: ext}, w); err != nil {
			t.Errorf("extension line: %v", err)
		}
	})
}

// flipSig changes one byte of the signature (not the key ID) of a
// signature line.
func flipSig(t *testing.T, line []byte) []byte {
	t.Helper()
	name, b64, _ := strings.Cut(strings.TrimSuffix(string(line), "\n"), " ")
	name, b64, _ = strings.Cut(b64, " ")
	sig, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	sig[20] ^= 1
	return []byte("— " + name + " " + base64.StdEncoding.EncodeToString(sig) + "\n")
}

// TestInteropCosignature checks our cosignatures with transparency-dev's
// cosignature/v1 implementation, and theirs with ours.
func TestInteropCosignature(t *testing.T) {
	signer, _ := testKey(t, 1)
	signed := story(t, 42).Signed(t, signer)
	ours, skey, vkey := testWitness(t, "witness.example/w1")

	theirV, err := tdnote.NewVerifierForCosignatureV1(vkey)
	if err != nil {
		t.Fatalf("transparency-dev reads our witness key: %v", err)
	}
	if theirV.KeyHash() != ours.KeyHash() || theirV.Name() != ours.Name() {
		t.Fatalf("key ID: theirs %s+%08x, ours %s+%08x", theirV.Name(), theirV.KeyHash(), ours.Name(), ours.KeyHash())
	}
	n, err := note.Open(cosign(t, signed, ours), note.VerifierList(theirV))
	if err != nil {
		t.Fatalf("transparency-dev rejects our cosignature: %v", err)
	}
	if at, err := tdnote.CoSigV1Timestamp(n.Sigs[0]); err != nil || !at.Equal(witnessClock) {
		t.Errorf("transparency-dev reads the time %v, %v; want %v", at, err, witnessClock)
	}

	theirS, err := tdnote.NewSignerForCosignatureV1(skey)
	if err != nil {
		t.Fatalf("transparency-dev reads our witness signer key: %v", err)
	}
	before := time.Now().Truncate(time.Second)
	theirs := cosign(t, signed, theirS)
	at, err := auditlog.CheckCosignature(theirs, vkey)
	if err != nil {
		t.Fatalf("we reject transparency-dev's cosignature: %v", err)
	}
	if at.Before(before) || at.After(time.Now()) {
		t.Errorf("their cosignature's time %v, want about now", at)
	}
	ourV, _ := auditlog.NewCosignatureVerifier(vkey)
	if _, err := note.Open(theirs, note.VerifierList(ourV)); err != nil {
		t.Errorf("note.Open with our verifier: %v", err)
	}
}

// TestVerifyBundleWitnesses: a bundle whose checkpoint carries cosignatures
// verifies with the log's key as before, and --witness-key style options
// require each witness's cosignature.
func TestVerifyBundleWitnesses(t *testing.T) {
	signer, vkey := testKey(t, 1)
	s := story(t, 42)
	w1, _, w1key := testWitness(t, "witness.example/w1")
	_, _, w2key := testWitness(t, "witness.example/w2")
	var buf bytes.Buffer
	err := bundle.Write(&buf, bundle.Input{
		Checkpoint: cosign(t, s.Signed(t, signer), w1), VerifierKey: vkey, Origin: auditlog.Origin(signer.Name(), 42),
		Size: s.Log.Size(), Hashes: s.Log, Seqs: []int64{1, 5}, Records: s.Log.Select([]int64{1, 5}),
	})
	if err != nil {
		t.Fatalf("bundle.Write with a cosigned checkpoint: %v", err)
	}
	b := buf.Bytes()

	sum, err := auditlog.VerifyBundle(bytes.NewReader(b), auditlog.VerifyOptions{VerifierKey: vkey})
	if err != nil || len(sum.Cosignatures) != 0 {
		t.Fatalf("without witness keys: %v, %+v", err, sum)
	}
	sum, err = auditlog.VerifyBundle(bytes.NewReader(b), auditlog.VerifyOptions{VerifierKey: vkey, WitnessKeys: []string{w1key}})
	if err != nil {
		t.Fatal(err)
	}
	want := []auditlog.Cosignature{{Witness: strings.Join(strings.SplitN(w1key, "+", 3)[:2], "+"), Time: witnessClock}}
	if len(sum.Cosignatures) != 1 || sum.Cosignatures[0] != want[0] {
		t.Fatalf("cosignatures %+v, want %+v", sum.Cosignatures, want)
	}
	for _, tc := range []struct{ key, want string }{
		{w2key, "no cosignature by witness witness.example/w2+"},
		{vkey, "want 0x04"},
	} {
		_, err := auditlog.VerifyBundle(bytes.NewReader(b), auditlog.VerifyOptions{VerifierKey: vkey, WitnessKeys: []string{w1key, tc.key}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("witness key %s: %v, want an error containing %q", tc.key, err, tc.want)
		}
	}
}

// TestCosignatureExample recomputes the cosignature example of
// docs/audit-log-format.md, section 12, from its seed and time, and checks
// that the document quotes every value.
func TestCosignatureExample(t *testing.T) {
	seed := make([]byte, ed25519.SeedSize)
	seedReader(0x40).Read(seed)
	name := "witness.example/w1"
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	h := sha256.Sum256(append([]byte(name+"\n\x04"), pub...))
	skey := fmt.Sprintf("PRIVATE+KEY+%s+%x+%s", name, h[:4], base64.StdEncoding.EncodeToString(append([]byte{0x04}, seed...)))
	vkey, err := auditlog.WitnessVerifierKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 9, 14, 8, 0, 10, 0, time.UTC)
	w, err := auditlog.NewCosignerWithClock(skey, func() time.Time { return at })
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := testKey(t, 7) // the key of the document's worked example
	var root tlog.Hash
	base64.StdEncoding.Decode(root[:], []byte("DtkrxR/QRW2Urt/nNUZ5oXe+z0i74W0qb4PeKNeXszs="))
	signed, err := auditlog.SignCheckpoint(auditlog.Checkpoint{Origin: "reseller-console/account/7", Size: 3, Root: root}, signer)
	if err != nil {
		t.Fatal(err)
	}
	cosigned := cosign(t, signed, w)
	if got, err := auditlog.CheckCosignature(cosigned, vkey); err != nil || !got.Equal(at) {
		t.Fatalf("CheckCosignature = %v, %v", got, err)
	}
	line := cosigned[len(signed):]
	sig, _ := base64.StdEncoding.DecodeString(strings.TrimSuffix(string(line[len("— "+name+" "):]), "\n"))
	doc, err := os.ReadFile("../../docs/audit-log-format.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		skey, vkey, hex.EncodeToString(pub), string(cosigned), fmt.Sprint(at.Unix()),
		hex.EncodeToString(sig[:4]), hex.EncodeToString(sig[4:12]), hex.EncodeToString(sig[12:]),
		"cosignature/v1\ntime 1789372810\nreseller-console/account/7\n3\n",
	} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("docs/audit-log-format.md does not quote %q", want)
		}
	}
}
