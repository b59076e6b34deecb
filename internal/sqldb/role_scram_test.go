package sqldb

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
)

// TestSCRAMVerifier checks the verifier against the SCRAM-SHA-256 exchange
// of RFC 7677, section 3: the server's signature must come out of our
// ServerKey, and the client's proof must unlock our StoredKey, exactly as
// PostgreSQL checks a login against the stored verifier.
func TestSCRAMVerifier(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	v, err := scramVerifierSalt("pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>
	head, keys, ok := strings.Cut(v, "$4096:W22ZaJ0SNY7soEsUEjb6gQ==$")
	if !ok || head != "SCRAM-SHA-256" {
		t.Fatalf("verifier = %q, want SCRAM-SHA-256$4096:<salt>$...", v)
	}
	storedB64, serverB64, _ := strings.Cut(keys, ":")
	stored, _ := base64.StdEncoding.DecodeString(storedB64)
	server, _ := base64.StdEncoding.DecodeString(serverB64)

	const nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
	authMessage := "n=user,r=rOprNGfwEbeRWgbNEkqO," +
		"r=" + nonce + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096," +
		"c=biws,r=" + nonce
	mac := func(key []byte) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(authMessage))
		return h.Sum(nil)
	}
	wantServerSig, _ := base64.StdEncoding.DecodeString("6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
	if !bytes.Equal(mac(server), wantServerSig) {
		t.Errorf("ServerKey does not produce the RFC's server signature")
	}
	proof, _ := base64.StdEncoding.DecodeString("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
	clientSig := mac(stored)
	clientKey := make([]byte, len(proof))
	for i := range proof {
		clientKey[i] = proof[i] ^ clientSig[i]
	}
	if h := sha256.Sum256(clientKey); !bytes.Equal(h[:], stored) {
		t.Errorf("the RFC's client proof does not match StoredKey")
	}
}

func TestSCRAMVerifierRefusesNonASCII(t *testing.T) {
	if _, err := scramVerifier("pässword"); err == nil {
		t.Error("a non-ASCII password was accepted")
	}
}
