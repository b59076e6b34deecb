package sqldb_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

func TestBackup(t *testing.T) {
	ctx := context.Background()
	db := sqldbtest.MustOpen(t, "sqlite")
	withKey(t, db)
	f := newFixture(t, db)
	f.history(t)
	ok(db.AccountCheckpoint(ctx, f.account.ID, 0))

	// Back up while another goroutine goes on writing: the copy is one
	// snapshot, so its log and its state agree whatever the timing.
	stop, started, written := make(chan struct{}), make(chan struct{}), make(chan int)
	begin := sync.OnceFunc(func() { close(started) })
	go func() {
		n := 0
		defer func() { begin(); written <- n }()
		for {
			if n == 1 {
				begin() // the backup starts once writing is under way
			}
			select {
			case <-stop:
				return
			default:
			}
			c, err := db.CreateClient(f.as(reseller.RoleOperator), fmt.Sprintf("during%d@x.test", n), "")
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := db.SuspendClient(f.as(reseller.RoleOperator), c.ID, "busy"); err != nil {
				t.Error(err)
				return
			}
			n++
		}
	}()
	<-started
	path := filepath.Join(t.TempDir(), "backup.db")
	err := db.Backup(ctx, path)
	close(stop)
	n := <-written
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d clients written while backing up", n)
	// Just the backup: no temporary file, and no -wal that it would need.
	if es, _ := os.ReadDir(filepath.Dir(path)); len(es) != 1 {
		t.Errorf("backup directory holds %d files, want just the backup", len(es))
	}

	backup, err := sqldb.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer backup.Close()
	backup.SetSigner(nil, db.VerifierKey())
	if err := backup.CheckAccount(ctx, f.account.ID); err != nil {
		t.Fatalf("check of the backup: %v", err)
	}
	if err := backup.CheckAccount(ctx, f.other.ID); err != nil {
		t.Fatalf("check of the backup's other account: %v", err)
	}
	size, _, err := backup.Head(ctx, f.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	live, _, err := db.Head(ctx, f.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	if size == 0 || size > live {
		t.Errorf("backup has %d entries, the live log %d", size, live)
	}

	// Never over an existing file.
	before, _ := os.ReadFile(path)
	wantCode(t, db.Backup(ctx, path), reseller.EINVALID)
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("a refused backup changed the existing file")
	}
}

func TestBackupPostgres(t *testing.T) {
	if sqldbtest.PostgresURL() == "" {
		t.Skip("PostgreSQL not configured: set RESELLER_TEST_POSTGRES=" + sqldbtest.DefaultPostgres)
	}
	db := sqldbtest.MustOpen(t, "postgres")
	path := filepath.Join(t.TempDir(), "backup.db")
	wantCode(t, db.Backup(context.Background(), path), reseller.EINVALID)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("refused backup left %s (%v)", path, err)
	}
}
