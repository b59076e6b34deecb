package sqldb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/resellerconsole/reseller"
)

// Backup writes a consistent copy of a SQLite database to path, while the
// app goes on serving. VACUUM INTO reads one snapshot (a read transaction,
// which in WAL mode blocks no writer) and writes it out as a compact,
// self-contained database file with no -wal beside it. Copying the live
// file instead could catch it between a commit in the WAL and the
// checkpoint that moves it into the main file, and give a torn copy.
//
// The copy is written to a temporary file in path's directory, synced, and
// only then linked to path, so path never holds a partial backup. An
// existing path is never overwritten. Returns EINVALID on PostgreSQL, whose
// own tools (pg_dump, base backups) do this job, and for an existing path.
func (db *DB) Backup(ctx context.Context, path string) (err error) {
	if !db.dialect.fileBackup {
		return reseller.Errorf(reseller.EINVALID, "Backup is for SQLite databases; back up PostgreSQL with pg_dump or its point-in-time recovery.")
	}
	if _, err := os.Lstat(path); err == nil {
		return reseller.Errorf(reseller.EINVALID, "%s already exists; a backup never overwrites a file.", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	name := tmp.Name()
	tmp.Close()
	defer func() {
		// On success the file lives on under path; the temp name goes either way.
		os.Remove(name)
	}()
	// VACUUM INTO accepts an empty file. The read connections are
	// query_only, which refuses it, so it takes the write pool's spare
	// connection; it reads this database only, so it never waits for the
	// committer, nor the committer for it.
	if _, err := db.rw.ExecContext(ctx, "VACUUM INTO ?", name); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	// VACUUM INTO does not sync what it wrote; a backup that a crash can
	// lose half of is no backup.
	if err := syncFile(name); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	// A hard link fails if path appeared meanwhile, where a rename would
	// silently replace it.
	if err := os.Link(name, path); errors.Is(err, fs.ErrExist) {
		return reseller.Errorf(reseller.EINVALID, "%s already exists; a backup never overwrites a file.", path)
	} else if err != nil {
		// Some file systems have no hard links: look once more, then rename.
		if _, err := os.Lstat(path); err == nil {
			return reseller.Errorf(reseller.EINVALID, "%s already exists; a backup never overwrites a file.", path)
		}
		if err := os.Rename(name, path); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
	}
	return syncFile(dir)
}

// syncFile flushes a file, or a directory's entries, to stable storage.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
