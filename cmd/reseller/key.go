package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"golang.org/x/mod/sumdb/note"
)

type keyCmd struct {
	Show keyShowCmd `cmd:"" help:"Print the verifier key that auditors check checkpoints and bundles with."`
}

type keyShowCmd struct{}

func (c *keyShowCmd) Help() string {
	return `Prints the public verifier key (NAME+HASH+KEY) of the checkpoint signing key,
creating the signing key first if there is none yet. Give this line to
auditors: 'reseller audit verify --key' checks bundles against it, offline.`
}

func (c *keyShowCmd) Run(e *env) error {
	_, vkey, err := e.loadKey()
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, vkey)
	return nil
}

// keyPath is where the signing key lives when no flag says: beside a SQLite
// database (its data directory), or in the working directory.
func (e *env) keyPath() string {
	if e.keyFile != "" {
		return e.keyFile
	}
	if sqldb.IsPostgres(e.dsn) {
		return "reseller-signing.key"
	}
	path := strings.TrimPrefix(strings.TrimPrefix(e.dsn, "sqlite:"), "file:")
	return filepath.Join(filepath.Dir(path), "reseller-signing.key")
}

// loadKey returns the checkpoint signer: the --signing-key text, or the key
// file, created with a new key on first use.
func (e *env) loadKey() (note.Signer, string, error) {
	if e.signingKey != "" {
		s, err := note.NewSigner(strings.TrimSpace(e.signingKey))
		if err != nil {
			return nil, "", fmt.Errorf("--signing-key: not a signing key: %w", err)
		}
		vkey, err := auditlog.VerifierKey(strings.TrimSpace(e.signingKey))
		return s, vkey, err
	}
	s, vkey, err := auditlog.LoadOrCreateKey(e.keyPath(), auditlog.DefaultKeyName)
	if err != nil {
		return nil, "", fmt.Errorf("signing key %s: %w", e.keyPath(), err)
	}
	return s, vkey, nil
}

// openSigned opens the database with the signing key set.
func (e *env) openSigned(create bool) (*sqldb.DB, error) {
	s, vkey, err := e.loadKey()
	if err != nil {
		return nil, err
	}
	db, err := e.open(create)
	if err != nil {
		return nil, err
	}
	db.SetSigner(s, vkey)
	return db, nil
}
