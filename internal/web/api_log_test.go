package web_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
	"golang.org/x/mod/sumdb/tlog"
)

func TestVerifiableLogAPI(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		for i := range 5 {
			c := e.client(t, fmt.Sprintf("v%d@x.test", i), "")
			if i%2 == 0 {
				e.post(t, reseller.RoleOperator, fmt.Sprintf("/api/v1/clients/%d/suspend", c.ID), `{"reason":"r"}`)
			}
		}
		origin := auditlog.Origin(auditlog.DefaultKeyName, e.account.ID)
		var old reseller.Checkpoint
		e.get(t, reseller.RoleAuditor, "/api/v1/audit/checkpoint").decode(t, &old)
		cp, err := auditlog.OpenCheckpoint([]byte(old.Note), e.vkey, origin)
		if err != nil || cp.Size != 8 || old.Size != 8 || old.VerifierKey != e.vkey {
			t.Fatalf("checkpoint %+v: %v", old, err)
		}
		e.client(t, "later@x.test", "")
		var now reseller.Checkpoint
		e.get(t, reseller.RoleAuditor, "/api/v1/audit/checkpoint").decode(t, &now)
		ncp, err := auditlog.OpenCheckpoint([]byte(now.Note), e.vkey, origin)
		if err != nil || ncp.Size != 9 {
			t.Fatalf("new checkpoint %+v: %v", now, err)
		}

		var inc reseller.InclusionProof
		e.get(t, reseller.RoleAuditor, "/api/v1/audit/proof/inclusion?seq=3&size=8").decode(t, &inc)
		if err := auditlog.CheckInclusion(hashes(inc.Proof), 8, cp.Root, 3, []byte(inc.Record)); err != nil {
			t.Fatalf("inclusion proof: %v", err)
		}
		var cons reseller.ConsistencyProof
		e.get(t, reseller.RoleAuditor, "/api/v1/audit/proof/consistency?from=8").decode(t, &cons)
		if err := auditlog.CheckConsistency(hashes(cons.Proof), 8, cp.Root, 9, ncp.Root); err != nil {
			t.Fatalf("consistency proof: %v", err)
		}

		res := e.get(t, reseller.RoleAuditor, "/api/v1/audit/bundle?action=client.suspended&since=8")
		if res.status != http.StatusOK || !strings.Contains(res.header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("bundle: %d %s", res.status, res.body)
		}
		sum, err := auditlog.VerifyBundle(bytes.NewReader(res.body), auditlog.VerifyOptions{VerifierKey: e.vkey, Since: []byte(old.Note)})
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		if sum.Entries != 3 || sum.Size != 9 || sum.SinceSize != 8 {
			t.Fatalf("summary %+v", sum)
		}
		// since=0 is the empty log's size: no consistency proof, as if absent.
		res = e.get(t, reseller.RoleAuditor, "/api/v1/audit/bundle?since=0")
		if res.status != http.StatusOK {
			t.Fatalf("bundle since=0: %d %s", res.status, res.body)
		}
		if sum, err := auditlog.VerifyBundle(bytes.NewReader(res.body), auditlog.VerifyOptions{VerifierKey: e.vkey}); err != nil || !sum.Complete || sum.SinceSize != 0 {
			t.Fatalf("bundle since=0: %+v, %v", sum, err)
		}
		// The other account's bundle does not verify as this account's log.
		res = e.do(t, req{method: "GET", path: "/api/v1/audit/bundle", token: e.otherToken})
		if _, err := auditlog.VerifyBundle(bytes.NewReader(res.body), auditlog.VerifyOptions{VerifierKey: e.vkey, Origin: origin}); err == nil {
			t.Fatal("another account's bundle verified as this account's")
		}

		for _, tc := range []struct{ path, code string }{
			{"/api/v1/audit/proof/inclusion", reseller.EINVALID},
			{"/api/v1/audit/proof/inclusion?seq=abc", reseller.EINVALID},
			{"/api/v1/audit/proof/inclusion?seq=0", reseller.EINVALID},
			{"/api/v1/audit/proof/inclusion?seq=10", reseller.EINVALID},
			{"/api/v1/audit/proof/inclusion?seq=1&size=99", reseller.EINVALID},
			{"/api/v1/audit/proof/consistency?from=9&to=3", reseller.EINVALID},
			{"/api/v1/audit/proof/consistency?from=x", reseller.EINVALID},
			{"/api/v1/audit/bundle?since=100", reseller.EINVALID},
			{"/api/v1/audit/bundle?since=-1", reseller.EINVALID},
			{"/api/v1/audit/bundle?since=x", reseller.EINVALID},
			{"/api/v1/audit/bundle?action=client.exploded", reseller.EINVALID},
		} {
			e.get(t, reseller.RoleAuditor, tc.path).wantProblem(t, http.StatusBadRequest, tc.code)
		}
		e.do(t, req{method: "GET", path: "/api/v1/audit/checkpoint"}).wantProblem(t, http.StatusUnauthorized, reseller.EUNAUTHORIZED)
	})
}

func hashes(bs [][]byte) []tlog.Hash {
	hs := make([]tlog.Hash, len(bs))
	for i, b := range bs {
		copy(hs[i][:], b)
	}
	return hs
}
