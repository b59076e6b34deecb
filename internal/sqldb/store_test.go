package sqldb_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

// fixture is an account with one user per role and two pools, plus a second
// account to check isolation against.
type fixture struct {
	db      *sqldb.DB
	account *reseller.Account
	users   map[reseller.Role]*reseller.User
	pool    *reseller.Pool // capacity 10
	small   *reseller.Pool // capacity 1
	other   *reseller.Account
	otherOp context.Context // an operator of the other account
}

func newFixture(t testing.TB, db *sqldb.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: db, users: map[reseller.Role]*reseller.User{}}
	f.account = ok(db.CreateAccount(ctx, "Acme Hosting"))
	for _, r := range reseller.Roles {
		f.users[r] = sqldbtest.Member(t, db, f.account.ID, fmt.Sprintf("%s@acme.test", r), r)
	}
	f.pool = ok(db.CreatePool(ctx, f.account.ID, "Pro 10", "", 10))
	f.small = ok(db.CreatePool(ctx, f.account.ID, "Solo", "shield", 1))
	f.other = ok(db.CreateAccount(ctx, "Other Agency"))
	u := sqldbtest.Member(t, db, f.other.ID, "op@other.test", reseller.RoleOperator)
	f.otherOp = actorCtx(u, reseller.ViaAPI)
	return f
}

func actorCtx(u *reseller.User, via string) context.Context {
	return reseller.NewContext(context.Background(), &reseller.Actor{
		UserID: u.ID, AccountID: u.AccountID, Email: u.Email, Role: u.Role, Via: via,
		IP: "192.0.2.7", UserAgent: "test", RequestID: "req-1",
	})
}

// operator returns a context acting as the platform operator in the fixture's account.
func (f *fixture) operator() context.Context {
	return reseller.NewContext(context.Background(), reseller.OperatorActor(f.account.ID))
}

// as returns a context acting as the fixture's user with that role.
func (f *fixture) as(r reseller.Role) context.Context { return actorCtx(f.users[r], reseller.ViaAPI) }

func (f *fixture) client(t testing.TB, email string) *reseller.Client {
	t.Helper()
	return ok(f.db.CreateClient(f.as(reseller.RoleOperator), email, "Client "+email))
}

// entries returns the account's whole log, oldest first.
func (f *fixture) entries(t testing.TB) []*reseller.Entry {
	t.Helper()
	var es []*reseller.Entry
	err := f.db.ExportEntries(f.as(reseller.RoleAuditor), reseller.AuditFilter{Order: reseller.OrderAsc}, func(e *reseller.Entry) error {
		es = append(es, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// ok returns v, and panics (failing the test with a stack) on an error.
func ok[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// wantCode fails unless err carries the domain error code.
func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := reseller.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

// fixedClock returns a clock that stays at t until moved.
func fixedClock(t time.Time) (reseller.Clock, func(time.Duration)) {
	now := t
	return func() time.Time { return now }, func(d time.Duration) { now = now.Add(d) }
}

func TestOpenMigrateTwice(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		if err := db.Migrate(context.Background()); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
	})
}
