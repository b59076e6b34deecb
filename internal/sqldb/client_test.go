package sqldb_test

import (
	"context"
	"strings"
	"testing"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

// setStatus brings a new client into a status through the ordinary actions.
func (f *fixture) clientIn(t *testing.T, email string, s reseller.ClientStatus) *reseller.Client {
	t.Helper()
	c := f.client(t, email)
	ctx := f.as(reseller.RoleAdmin)
	switch s {
	case reseller.ClientSuspended:
		c = ok(f.db.SuspendClient(ctx, c.ID, ""))
	case reseller.ClientDeleted:
		c = ok(f.db.DeleteClient(ctx, c.ID))
	}
	return c
}

func TestClientTransitions(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		ctx := f.as(reseller.RoleAdmin)
		do := map[reseller.ClientAction]func(c *reseller.Client) error{
			reseller.DoSuspend:    func(c *reseller.Client) error { _, err := db.SuspendClient(ctx, c.ID, "late payment"); return err },
			reseller.DoReactivate: func(c *reseller.Client) error { _, err := db.ReactivateClient(ctx, c.ID); return err },
			reseller.DoDelete:     func(c *reseller.Client) error { _, err := db.DeleteClient(ctx, c.ID); return err },
			reseller.DoAllocate: func(c *reseller.Client) error {
				_, err := db.AllocateLicense(ctx, c.ID, f.pool.ID, "site")
				return err
			},
		}
		// The design's transition table: "" means allowed.
		want := map[reseller.ClientStatus]map[reseller.ClientAction]string{
			reseller.ClientActive:    {reseller.DoSuspend: "", reseller.DoReactivate: reseller.EINVALIDTRANSITION, reseller.DoDelete: "", reseller.DoAllocate: ""},
			reseller.ClientSuspended: {reseller.DoSuspend: reseller.EINVALIDTRANSITION, reseller.DoReactivate: "", reseller.DoDelete: "", reseller.DoAllocate: reseller.ECLIENTSUSPENDED},
			reseller.ClientDeleted:   {reseller.DoSuspend: reseller.EINVALIDTRANSITION, reseller.DoReactivate: reseller.EINVALIDTRANSITION, reseller.DoDelete: reseller.EINVALIDTRANSITION, reseller.DoAllocate: reseller.EINVALIDTRANSITION},
		}
		n := 0
		for from, row := range want {
			for action, code := range row {
				n++
				t.Run(string(from)+"/"+string(action), func(t *testing.T) {
					c := f.clientIn(t, strings.ReplaceAll(string(from)+"."+string(action), "/", ".")+"@x.test", from)
					before := len(f.entries(t))
					err := do[action](c)
					wantCode(t, err, code)
					after := f.entries(t)
					got := ok(db.FindClientByID(ctx, c.ID))
					if code != "" {
						if len(after) != before {
							t.Fatalf("refused %s wrote %d entries", action, len(after)-before)
						}
						if got.Status != from {
							t.Fatalf("refused %s changed status to %s", action, got.Status)
						}
						return
					}
					if len(after) != before+1 {
						t.Fatalf("%s wrote %d entries, want 1", action, len(after)-before)
					}
					if action != reseller.DoAllocate && got.Status != from.Next(action) {
						t.Fatalf("status = %s, want %s", got.Status, from.Next(action))
					}
				})
			}
		}
		// Revoking a license of a suspended client is allowed.
		c := f.client(t, "rev@x.test")
		l := ok(db.AllocateLicense(ctx, c.ID, f.pool.ID, ""))
		ok(db.SuspendClient(ctx, c.ID, ""))
		ok(db.RevokeLicense(ctx, l.ID, "moved"))
		_, err := db.RevokeLicense(ctx, l.ID, "")
		wantCode(t, err, reseller.ECONFLICT)
	})
}

func TestCreateClientBadInput(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		ctx := f.as(reseller.RoleOperator)
		f.client(t, "taken@x.test")
		for _, tc := range []struct{ name, email, cname, code string }{
			{"Empty", "", "", reseller.EINVALID},
			{"NoAt", "not-an-email", "", reseller.EINVALID},
			{"NoDomainDot", "a@localhost", "", reseller.EINVALID},
			{"DisplayName", "Bob <bob@x.test>", "", reseller.EINVALID},
			{"TooLong", strings.Repeat("a", 250) + "@x.test", "", reseller.EINVALID},
			{"NameTooLong", "n@x.test", strings.Repeat("n", reseller.MaxNameLen+1), reseller.EINVALID},
			{"Taken", "taken@x.test", "", reseller.EEMAILTAKEN},
			{"TakenOtherCase", "TAKEN@X.test", "", reseller.EEMAILTAKEN},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := len(f.entries(t))
				_, err := db.CreateClient(ctx, tc.email, tc.cname)
				wantCode(t, err, tc.code)
				if reseller.ErrorMessage(err) == "" {
					t.Fatal("no message")
				}
				if n := len(f.entries(t)); n != before {
					t.Fatalf("refused create wrote %d entries", n-before)
				}
			})
		}
		// A deleted client's email may be reused by a new client with a new id.
		old := f.client(t, "reuse@x.test")
		ok(db.DeleteClient(f.as(reseller.RoleOwner), old.ID))
		c := f.client(t, "Reuse@X.test")
		if c.ID == old.ID || c.Email != "reuse@x.test" {
			t.Fatalf("reused client = %+v", c)
		}
	})
}

func TestRoleMatrix(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		admin := f.as(reseller.RoleAdmin)
		for _, role := range reseller.Roles {
			t.Run(string(role), func(t *testing.T) {
				ctx := f.as(role)
				c := f.client(t, string(role)+"@clients.test")
				l := ok(db.AllocateLicense(admin, c.ID, f.pool.ID, ""))
				check := func(name string, perm reseller.Permission, err error) {
					t.Helper()
					want := ""
					if !role.Can(perm) {
						want = reseller.EFORBIDDEN
					}
					if got := reseller.ErrorCode(err); got != want {
						t.Errorf("%s as %s: code %q (%v), want %q", name, role, got, err, want)
					}
				}
				_, err := db.CreateClient(ctx, "new-"+string(role)+"@clients.test", "")
				check("create", reseller.PermManageClients, err)
				_, err = db.SuspendClient(ctx, c.ID, "")
				check("suspend", reseller.PermManageClients, err)
				if err == nil {
					_, err = db.ReactivateClient(ctx, c.ID)
					check("reactivate", reseller.PermManageClients, err)
				}
				_, err = db.RevokeLicense(ctx, l.ID, "")
				check("revoke", reseller.PermManageClients, err)
				_, err = db.AllocateLicense(ctx, c.ID, f.pool.ID, "")
				check("allocate", reseller.PermManageClients, err)
				_, err = db.DeleteClient(ctx, c.ID)
				check("delete", reseller.PermDeleteClients, err)
				_, _, err = db.ListClients(ctx, reseller.ClientFilter{})
				check("list clients", reseller.PermViewClients, err)
				_, _, err = db.ListEntries(ctx, reseller.AuditFilter{})
				check("list audit", reseller.PermViewAudit, err)
				_, err = db.AddUser(ctx, "team-"+string(role)+"@acme.test", reseller.RoleAuditor)
				check("add user", reseller.PermManageTeam, err)
				_, _, err = db.CreateToken(ctx, "t")
				check("create token", reseller.PermManageTeam, err)
			})
		}
		// No actor at all is unauthorized, never allowed.
		_, err := db.CreateClient(context.Background(), "anon@x.test", "")
		wantCode(t, err, reseller.EUNAUTHORIZED)
	})
}

func TestAccountIsolation(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		c := f.client(t, "mine@x.test")
		l := ok(db.AllocateLicense(f.as(reseller.RoleOperator), c.ID, f.pool.ID, ""))
		o := f.otherOp
		before := len(f.entries(t))
		_, err := db.FindClientByID(o, c.ID)
		wantCode(t, err, reseller.ENOTFOUND)
		_, err = db.SuspendClient(o, c.ID, "")
		wantCode(t, err, reseller.ENOTFOUND)
		_, err = db.ReactivateClient(o, c.ID)
		wantCode(t, err, reseller.ENOTFOUND)
		_, err = db.FindLicenseByID(o, l.ID)
		wantCode(t, err, reseller.ENOTFOUND)
		_, err = db.RevokeLicense(o, l.ID, "")
		wantCode(t, err, reseller.ENOTFOUND)
		_, err = db.FindPoolByID(o, f.pool.ID)
		wantCode(t, err, reseller.ENOTFOUND)
		oc := ok(db.CreateClient(o, "theirs@x.test", ""))
		_, err = db.AllocateLicense(o, oc.ID, f.pool.ID, "")
		wantCode(t, err, reseller.ENOTFOUND)
		_, err = db.AllocateLicense(f.as(reseller.RoleOperator), oc.ID, f.pool.ID, "")
		wantCode(t, err, reseller.ENOTFOUND)
		cs, _, _ := db.ListClients(o, reseller.ClientFilter{})
		ls, _, _ := db.ListLicenses(o, reseller.LicenseFilter{})
		ps, _ := db.ListPools(o)
		es, _, _ := db.ListEntries(o, reseller.AuditFilter{})
		if len(cs) != 1 || len(ls) != 0 || len(ps) != 0 || len(es) != 1 {
			t.Fatalf("other account sees %d clients, %d licenses, %d pools, %d entries", len(cs), len(ls), len(ps), len(es))
		}
		if n := len(f.entries(t)); n != before {
			t.Fatalf("other account's attempts wrote %d entries here", n-before)
		}
		if p := ok(db.FindPoolByID(f.as(reseller.RoleAuditor), f.pool.ID)); p.Used != 1 {
			t.Fatalf("pool used = %d, want 1", p.Used)
		}
	})
}

func TestErrorBeforeCommitLeavesNothing(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		c := f.client(t, "c@x.test")
		l := ok(db.AllocateLicense(f.as(reseller.RoleOperator), c.ID, f.pool.ID, "a"))
		before := len(f.entries(t))
		sqldb.SetBeforeCommit(db, func() error { return context.DeadlineExceeded })
		_, err1 := db.CreateClient(f.as(reseller.RoleOperator), "d@x.test", "")
		_, err2 := db.SuspendClient(f.as(reseller.RoleOperator), c.ID, "")
		_, err3 := db.DeleteClient(f.as(reseller.RoleOwner), c.ID)
		_, err4 := db.RevokeLicense(f.as(reseller.RoleOperator), l.ID, "")
		_, err5 := db.AllocateLicense(f.as(reseller.RoleOperator), c.ID, f.pool.ID, "")
		sqldb.SetBeforeCommit(db, nil)
		for i, err := range []error{err1, err2, err3, err4, err5} {
			if err == nil {
				t.Fatalf("action %d succeeded despite the injected error", i+1)
			}
		}
		if n := len(f.entries(t)); n != before {
			t.Fatalf("failed transactions wrote %d entries", n-before)
		}
		got := ok(db.FindClientByID(f.as(reseller.RoleAuditor), c.ID))
		if got.Status != reseller.ClientActive || got.Licenses != 1 {
			t.Fatalf("client after failed actions = %+v", got)
		}
		if _, err := db.FindLicenseByID(f.as(reseller.RoleAuditor), l.ID); err != nil {
			t.Fatal(err)
		}
		if p := ok(db.FindPoolByID(f.as(reseller.RoleAuditor), f.pool.ID)); p.Used != 1 {
			t.Fatalf("pool used = %d, want 1", p.Used)
		}
		if _, err := db.CreateClient(f.as(reseller.RoleOperator), "d@x.test", ""); err != nil {
			t.Fatalf("client from rolled-back create exists: %v", err)
		}
	})
}
