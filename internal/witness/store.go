package witness

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"
	_ "modernc.org/sqlite" // the "sqlite" driver
)

// store is the witness's state: its signing key, and per log origin the
// latest checkpoint it cosigned. One SQLite file, which belongs to the
// witness alone.
type store struct {
	db *sql.DB
}

const schema = `
CREATE TABLE IF NOT EXISTS witness_key (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	signer_key TEXT NOT NULL,
	created_at TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS witness_checkpoints (
	origin     TEXT PRIMARY KEY,
	origin_sha TEXT NOT NULL UNIQUE, -- lowercase hex SHA-256 of origin, for GET /<origin hash>/checkpoint
	size       INTEGER NOT NULL CHECK (size >= 0),
	root       BLOB NOT NULL CHECK (length(root) = 32),
	note       TEXT NOT NULL,
	updated_at TEXT NOT NULL
) STRICT;
`

// openStore opens (creating if needed) the witness database at path. The
// file is created readable by its owner only, since it holds the witness's
// secret key; SQLite gives its -wal and -shm files the same mode.
func openStore(ctx context.Context, path string) (*store, error) {
	if path == "" {
		return nil, errors.New("witness database: empty path")
	}
	if strings.HasPrefix(path, "postgres://") || strings.HasPrefix(path, "postgresql://") {
		return nil, fmt.Errorf("witness database %s: the witness keeps its state in a SQLite file of its own, not in PostgreSQL", path)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("witness database: %w", err)
	}
	f.Close()
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("witness database %s: %w", path, err)
	}
	s := &store{db: db}
	if err := s.init(ctx, path); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// init creates the tables, after making sure the file is not some other
// program's database: a witness that shared the log's database would be no
// witness at all.
func (s *store) init(ctx context.Context, path string) error {
	rows, err := s.db.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		return fmt.Errorf("witness database %s: %w", path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return fmt.Errorf("witness database %s: %w", path, err)
		}
		if name != "witness_key" && name != "witness_checkpoints" {
			return fmt.Errorf("witness database %s holds table %q: it is another program's database (the Reseller Console database?); give the witness a file of its own", path, name)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("witness database %s: %w", path, err)
	}
	if _, err := s.db.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("witness database %s: create tables: %w", path, err)
	}
	return nil
}

func (s *store) close() error { return s.db.Close() }

// signerKey returns the witness's signer key, storing newKey first if the
// database has none yet. Of two processes opening a new database at once,
// both end up with the key that was stored first.
func (s *store) signerKey(ctx context.Context, newKey func() (string, error)) (string, error) {
	var skey string
	err := s.db.QueryRowContext(ctx, `SELECT signer_key FROM witness_key WHERE id = 1`).Scan(&skey)
	if err == nil {
		return skey, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("witness key: %w", err)
	}
	k, err := newKey()
	if err != nil {
		return "", err
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO witness_key (id, signer_key, created_at) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING`,
		k, time.Now().UTC().Format(time.RFC3339)); err != nil {
		return "", fmt.Errorf("witness key: %w", err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT signer_key FROM witness_key WHERE id = 1`).Scan(&skey); err != nil {
		return "", fmt.Errorf("witness key: %w", err)
	}
	return skey, nil
}

// latest is the latest checkpoint cosigned for a log.
type latest struct {
	Size int64
	Root tlog.Hash
	Note []byte // the checkpoint with the log's signatures and the cosignature
}

// latest returns the latest cosigned checkpoint of origin; for a log never
// seen, size 0 and the empty tree's root, with no note.
func (s *store) latest(ctx context.Context, origin string) (latest, error) {
	var l latest
	var root []byte
	err := s.db.QueryRowContext(ctx, `SELECT size, root, note FROM witness_checkpoints WHERE origin = ?`, origin).Scan(&l.Size, &root, &l.Note)
	if errors.Is(err, sql.ErrNoRows) {
		return latest{Root: emptyRoot}, nil
	}
	if err != nil {
		return latest{}, fmt.Errorf("witness database: read %q: %w", origin, err)
	}
	copy(l.Root[:], root)
	return l, nil
}

// noteByOriginHash returns the latest cosigned checkpoint of the log whose
// origin has the given hash (lowercase hex SHA-256), or nil.
func (s *store) noteByOriginHash(ctx context.Context, hash string) ([]byte, error) {
	var n []byte
	err := s.db.QueryRowContext(ctx, `SELECT note FROM witness_checkpoints WHERE origin_sha = ?`, hash).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("witness database: read checkpoint %s: %w", hash, err)
	}
	return n, nil
}

func originHash(origin string) string {
	h := sha256.Sum256([]byte(origin))
	return hex.EncodeToString(h[:])
}

// advance records next as the latest cosigned checkpoint of origin if the
// one stored is still prev (compare and swap, in one statement so that two
// requests for one log cannot both pass), and reports whether it did. With
// synchronous=FULL the change is on disk when it returns.
func (s *store) advance(ctx context.Context, origin string, prev, next latest) (bool, error) {
	res, err := s.db.ExecContext(ctx, `
		INSERT INTO witness_checkpoints (origin, origin_sha, size, root, note, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, note = excluded.note, updated_at = excluded.updated_at
		WHERE witness_checkpoints.size = ? AND witness_checkpoints.root = ?`,
		origin, originHash(origin), next.Size, next.Root[:], string(next.Note), time.Now().UTC().Format(time.RFC3339Nano),
		prev.Size, prev.Root[:])
	if err != nil {
		return false, fmt.Errorf("witness database: record %q at size %d: %w", origin, next.Size, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("witness database: record %q at size %d: %w", origin, next.Size, err)
	}
	return n == 1, nil
}

// emptyRoot is the RFC 6962 hash of the empty tree, SHA-256("").
var emptyRoot, _ = tlog.TreeHash(0, nil)
