package web_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

// checkpointStore is the real store with Checkpoint failing with err.
type checkpointStore struct {
	*sqldb.DB
	err error
}

func (c *checkpointStore) Checkpoint(context.Context) (*reseller.Checkpoint, error) {
	return nil, c.err
}

// Only a server without a signing key reads as one: the audit page shows no
// checkpoint and offers no bundle. Any other failure to get the checkpoint
// is an internal error, a 500 logged at ERROR. Nothing here depends on the
// database, so it runs on SQLite alone.
func TestAuditPageCheckpointErrors(t *testing.T) {
	db := sqldbtest.MustOpen(t, "sqlite")
	cs := &checkpointStore{DB: db}
	e := newEnv(t, db, withStore(cs))
	v := e.signedIn(t, reseller.RoleAuditor)

	cs.err = fmt.Errorf("checkpoint: %w", reseller.ErrNoSigner)
	v.get("/audit").want(200).lacks("export.bundle")
	v.get("/audit/export.bundle").want(409)

	cs.err = errors.New("disk on fire")
	v.get("/audit").want(500)
	v.get("/audit/export.bundle").want(500)
	var logged int
	for _, l := range e.logLines(t) {
		if l["level"] == "ERROR" && fmt.Sprint(l["error"]) == "disk on fire" {
			logged++
		}
	}
	if logged != 2 {
		t.Errorf("%d ERROR lines with the failure, want 2:\n%s", logged, e.logs.String())
	}
}
