package sqldb_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
	"pgregory.net/rapid"
)

// No sequence of team operations, by whoever tries them, leaves an account
// with other than exactly one owner; and the log and the tables agree
// after each (audit check's replay covers the team).
func TestAlwaysExactlyOneOwner(t *testing.T) {
	db := sqldbtest.MustOpen(t, "sqlite")
	withKey(t, db)
	ctx := context.Background()
	n := 0
	rapid.Check(t, func(rt *rapid.T) {
		n++
		acc := ok(db.CreateAccount(ctx, fmt.Sprintf("Team %d", n)))
		operator := reseller.NewContext(ctx, reseller.OperatorActor(acc.ID))
		users := []*reseller.User{ok(db.AddUser(operator, fmt.Sprintf("owner%d@team.test", n), reseller.RoleOwner))}
		// A user acts as they are now; removed users cannot act at all
		// (their sessions and tokens went with them).
		as := func(u *reseller.User) context.Context {
			return reseller.NewContext(ctx, &reseller.Actor{UserID: u.ID, AccountID: u.AccountID, Email: u.Email, Role: u.Role, Via: reseller.ViaAPI})
		}
		roles := []reseller.Role{reseller.RoleOwner, reseller.RoleAdmin, reseller.RoleOperator, reseller.RoleAuditor}
		for i := range rapid.IntRange(1, 25).Draw(rt, "ops") {
			actor := operator
			if rapid.Bool().Draw(rt, "by a user") {
				actor = as(rapid.SampledFrom(ok(db.ListUsers(operator))).Draw(rt, "actor"))
			}
			target := rapid.SampledFrom(users).Draw(rt, "target")
			role := rapid.SampledFrom(roles).Draw(rt, "role")
			var err error
			switch op := rapid.IntRange(0, 4).Draw(rt, "op"); op {
			case 0:
				var u *reseller.User
				if u, err = db.AddUser(actor, fmt.Sprintf("u%d-%d@team.test", n, i), role); err == nil {
					users = append(users, u)
				}
			case 1:
				_, err = db.SetRole(actor, target.ID, role)
			case 2:
				_, err = db.TransferOwnership(actor, target.ID)
			case 3:
				err = db.RemoveUser(actor, target.ID)
			case 4:
				_, _, err = db.CreateTokenFor(actor, target.ID, "t")
			}
			if code := reseller.ErrorCode(err); code == reseller.EINTERNAL {
				rt.Fatalf("op %d: internal error %v", i, err)
			}
			owners := 0
			for _, u := range ok(db.ListUsers(operator)) {
				if u.Role == reseller.RoleOwner {
					owners++
				}
			}
			if owners != 1 {
				rt.Fatalf("after op %d the account has %d owners", i, owners)
			}
		}
		if err := db.CheckAccount(ctx, acc.ID); err != nil {
			rt.Fatalf("audit check: %v", err)
		}
	})
}

// The platform operator's actions are named as its own: no user, role
// platform, via cli.
func TestOperatorIsNamedInTheLog(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		acc := ok(db.CreateAccount(context.Background(), "Ops"))
		op := reseller.NewContext(context.Background(), reseller.OperatorActor(acc.ID))
		u := ok(db.AddUser(op, "boss@ops.test", reseller.RoleOwner))
		ok3(db.CreateTokenFor(op, u.ID, "deploy"))
		es, _, err := db.ListEntries(op, reseller.AuditFilter{Order: reseller.OrderAsc})
		if err != nil || len(es) != 2 {
			t.Fatalf("entries %v, %v", es, err)
		}
		for _, e := range es {
			if e.Actor.ID != 0 || e.Actor.Email != "" || e.Actor.Role != reseller.RolePlatform || e.Actor.Via != reseller.ViaCLI {
				t.Errorf("entry %d actor %+v, want the platform operator", e.Seq, e.Actor)
			}
			if e.Target.Type != reseller.TargetUser || e.Target.ID != u.ID {
				t.Errorf("entry %d target %+v", e.Seq, e.Target)
			}
		}
		// Nobody else makes a token for someone else, nor acts without an actor.
		other := ok(db.AddUser(op, "admin@ops.test", reseller.RoleAdmin))
		adminCtx := reseller.NewContext(context.Background(), &reseller.Actor{UserID: other.ID, AccountID: acc.ID, Email: other.Email, Role: reseller.RoleAdmin, Via: reseller.ViaWeb})
		if _, _, err := db.CreateTokenFor(adminCtx, u.ID, "steal"); reseller.ErrorCode(err) != reseller.EFORBIDDEN {
			t.Fatalf("admin creating the owner's token: %v", err)
		}
		for name, err := range map[string]error{
			"AddUser": func() error {
				_, err := db.AddUser(context.Background(), "x@ops.test", reseller.RoleAuditor)
				return err
			}(),
			"ListUsers":   func() error { _, err := db.ListUsers(context.Background()); return err }(),
			"FindUser":    func() error { _, err := db.FindUserByID(context.Background(), u.ID); return err }(),
			"CreateToken": func() error { _, _, err := db.CreateToken(context.Background(), "x"); return err }(),
			"SetPassword": db.SetPassword(context.Background(), u.ID, "a long enough password"),
		} {
			if reseller.ErrorCode(err) != reseller.EUNAUTHORIZED {
				t.Errorf("%s without an actor: %v, want unauthorized", name, err)
			}
		}
	})
}

func ok3[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}
