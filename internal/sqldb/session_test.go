package sqldb_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

func TestSessions(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		now, advance := fixedClock(time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC))
		db.Now = now
		f := newFixture(t, db)
		ctx := context.Background()
		op := f.users[reseller.RoleOperator]

		t.Run("OK", func(t *testing.T) {
			secret := ok(db.CreateSession(ctx, op.ID, "192.0.2.1", "browser/1"))
			if !strings.HasPrefix(secret, sqldb.SessionPrefix) || len(secret) < 40 {
				t.Fatalf("secret = %q", secret)
			}
			a := ok(db.SessionActor(ctx, secret))
			if a.UserID != op.ID || a.AccountID != f.account.ID || a.Email != op.Email || a.Role != op.Role || a.Via != reseller.ViaWeb {
				t.Fatalf("actor = %+v", a)
			}
			// Only the hash is stored.
			var n int
			if err := db.SQL().QueryRow("SELECT count(*) FROM sessions").Scan(&n); err != nil || n != 1 {
				t.Fatalf("sessions = %d, %v", n, err)
			}
			var stored []byte
			db.SQL().QueryRow("SELECT hash FROM sessions").Scan(&stored)
			if strings.Contains(string(stored), secret) || len(stored) != 32 {
				t.Fatalf("stored %x", stored)
			}
			ok(0, db.DeleteSession(ctx, secret))
			_, err := db.SessionActor(ctx, secret)
			wantCode(t, err, reseller.EUNAUTHORIZED)
			ok(0, db.DeleteSession(ctx, secret)) // twice is fine
		})

		t.Run("ErrUnknown", func(t *testing.T) {
			for _, s := range []string{"", "rss_nope", "rsl_abc", strings.Repeat("x", 100)} {
				_, err := db.SessionActor(ctx, s)
				wantCode(t, err, reseller.EUNAUTHORIZED)
			}
			_, err := db.CreateSession(ctx, 99999, "", "")
			wantCode(t, err, reseller.ENOTFOUND)
		})

		t.Run("IdleExpiry", func(t *testing.T) {
			secret := ok(db.CreateSession(ctx, op.ID, "", ""))
			// Use keeps it alive past the first idle deadline...
			for range 4 {
				advance(sqldb.SessionIdle - time.Hour)
				ok(db.SessionActor(ctx, secret))
			}
			// ...but idleness ends it.
			advance(sqldb.SessionIdle)
			_, err := db.SessionActor(ctx, secret)
			wantCode(t, err, reseller.EUNAUTHORIZED)
		})

		t.Run("MaxAge", func(t *testing.T) {
			secret := ok(db.CreateSession(ctx, op.ID, "", ""))
			for d := time.Duration(0); d < sqldb.SessionMaxAge-sqldb.SessionIdle; d += 6 * time.Hour {
				advance(6 * time.Hour)
				ok(db.SessionActor(ctx, secret))
			}
			advance(sqldb.SessionIdle)
			_, err := db.SessionActor(ctx, secret)
			wantCode(t, err, reseller.EUNAUTHORIZED)
		})

		t.Run("RoleChangeAppliesAtOnce", func(t *testing.T) {
			u := ok(db.AddUser(f.operator(), "promote@acme.test", reseller.RoleAuditor))
			secret := ok(db.CreateSession(ctx, u.ID, "", ""))
			ok(db.SetRole(f.as(reseller.RoleAdmin), u.ID, reseller.RoleOperator))
			if a := ok(db.SessionActor(ctx, secret)); a.Role != reseller.RoleOperator {
				t.Fatalf("role = %s", a.Role)
			}
			ok(0, db.RemoveUser(f.as(reseller.RoleAdmin), u.ID))
			_, err := db.SessionActor(ctx, secret)
			wantCode(t, err, reseller.EUNAUTHORIZED)
		})

		t.Run("DeleteUserSessions", func(t *testing.T) {
			s1 := ok(db.CreateSession(ctx, op.ID, "", ""))
			s2 := ok(db.CreateSession(ctx, op.ID, "", ""))
			other := ok(db.CreateSession(ctx, f.users[reseller.RoleAuditor].ID, "", ""))
			wantCode(t, db.DeleteUserSessions(f.as(reseller.RoleAuditor), op.ID), reseller.EFORBIDDEN)
			wantCode(t, db.DeleteUserSessions(f.otherOp, op.ID), reseller.EFORBIDDEN)
			ok(0, db.DeleteUserSessions(f.as(reseller.RoleOperator), op.ID)) // oneself
			for _, s := range []string{s1, s2} {
				_, err := db.SessionActor(ctx, s)
				wantCode(t, err, reseller.EUNAUTHORIZED)
			}
			ok(db.SessionActor(ctx, other))
			ok(0, db.DeleteUserSessions(f.as(reseller.RoleAdmin), f.users[reseller.RoleAuditor].ID))
			_, err := db.SessionActor(ctx, other)
			wantCode(t, err, reseller.EUNAUTHORIZED)
		})
	})
}

func TestPasswordLinks(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		now, advance := fixedClock(time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC))
		db.Now = now
		f := newFixture(t, db)
		ctx := context.Background()
		admin := f.as(reseller.RoleAdmin)

		t.Run("OK", func(t *testing.T) {
			u := ok(db.AddUser(admin, "new@acme.test", reseller.RoleOperator))
			secret := ok(db.CreatePasswordLink(admin, u.ID))
			if !strings.HasPrefix(secret, sqldb.LinkPrefix) {
				t.Fatalf("secret = %q", secret)
			}
			if got := ok(db.PasswordLinkUser(ctx, secret)); got.ID != u.ID || got.Email != u.Email || got.HasPassword {
				t.Fatalf("link user = %+v", got)
			}
			session := ok(db.CreateSession(ctx, u.ID, "", ""))
			wantCode(t, db.UsePasswordLink(ctx, secret, "short"), reseller.EINVALID)
			ok(0, db.UsePasswordLink(ctx, secret, "a good long password"))
			if got := ok(db.CheckPassword(ctx, "new@acme.test", "a good long password")); got.ID != u.ID {
				t.Fatalf("signed in as %+v", got)
			}
			// Single use, and the old sessions are gone.
			wantCode(t, db.UsePasswordLink(ctx, secret, "another long password"), reseller.ENOTFOUND)
			_, err := db.PasswordLinkUser(ctx, secret)
			wantCode(t, err, reseller.ENOTFOUND)
			_, err = db.SessionActor(ctx, session)
			wantCode(t, err, reseller.EUNAUTHORIZED)
		})

		t.Run("Expiry", func(t *testing.T) {
			u := ok(db.AddUser(admin, "late@acme.test", reseller.RoleAuditor))
			secret := ok(db.CreatePasswordLink(admin, u.ID))
			advance(sqldb.PasswordLinkTTL)
			_, err := db.PasswordLinkUser(ctx, secret)
			wantCode(t, err, reseller.ENOTFOUND)
			wantCode(t, db.UsePasswordLink(ctx, secret, "a good long password"), reseller.ENOTFOUND)
		})

		t.Run("NewLinkReplacesOld", func(t *testing.T) {
			u := f.users[reseller.RoleAuditor]
			first := ok(db.CreatePasswordLink(admin, u.ID))
			second := ok(db.CreatePasswordLink(admin, u.ID))
			wantCode(t, db.UsePasswordLink(ctx, first, "a good long password"), reseller.ENOTFOUND)
			ok(0, db.UsePasswordLink(ctx, second, "a good long password"))
		})

		t.Run("Roles", func(t *testing.T) {
			target := f.users[reseller.RoleOperator]
			for _, r := range []reseller.Role{reseller.RoleOperator, reseller.RoleAuditor} {
				_, err := db.CreatePasswordLink(f.as(r), target.ID)
				wantCode(t, err, reseller.EFORBIDDEN)
			}
			_, err := db.CreatePasswordLink(f.otherOp, target.ID)
			wantCode(t, err, reseller.EFORBIDDEN)
			// An admin cannot take over the owner through a link; the owner
			// and the operator (CLI, no actor) can.
			owner := f.users[reseller.RoleOwner]
			_, err = db.CreatePasswordLink(admin, owner.ID)
			wantCode(t, err, reseller.EFORBIDDEN)
			ok(db.CreatePasswordLink(f.as(reseller.RoleOwner), owner.ID))
			ok(db.CreatePasswordLink(f.operator(), owner.ID))
			_, err = db.CreatePasswordLink(admin, 99999)
			wantCode(t, err, reseller.ENOTFOUND)
		})

		t.Run("ErrUnknown", func(t *testing.T) {
			for _, s := range []string{"", "rsp_nope", "rss_x"} {
				_, err := db.PasswordLinkUser(ctx, s)
				wantCode(t, err, reseller.ENOTFOUND)
				wantCode(t, db.UsePasswordLink(ctx, s, "a good long password"), reseller.ENOTFOUND)
			}
		})

		// Two uses at once: exactly one wins.
		t.Run("Concurrent", func(t *testing.T) {
			u := ok(db.AddUser(admin, "race@acme.test", reseller.RoleAuditor))
			secret := ok(db.CreatePasswordLink(admin, u.ID))
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				wg.Go(func() { errs[i] = db.UsePasswordLink(ctx, secret, "a good long password") })
			}
			wg.Wait()
			n := 0
			for _, err := range errs {
				if err == nil {
					n++
				} else if reseller.ErrorCode(err) != reseller.ENOTFOUND {
					t.Fatalf("unexpected error %v", err)
				}
			}
			if n != 1 {
				t.Fatalf("%d uses succeeded, want 1", n)
			}
		})
	})
}
