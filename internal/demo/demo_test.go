package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/demo"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
	"golang.org/x/mod/sumdb/tlog"
)

func TestSeed(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		end := time.Date(2026, 10, 15, 12, 0, 0, 0, time.UTC)
		began := time.Now()
		res, err := demo.Seed(ctx, db, end)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("seeded %d clients and %d entries in %v", res.Clients, res.Entries, time.Since(began))
		if got := db.Now(); time.Since(got).Abs() > time.Minute {
			t.Errorf("db.Now was not restored: it says %v", got)
		}

		as, err := db.ListAccounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(as) != 1 || as[0].ID != res.Account.ID {
			t.Fatalf("accounts = %v, want only the demo account", as)
		}
		users, err := db.ListUsers(reseller.NewContext(ctx, reseller.OperatorActor(res.Account.ID)))
		if err != nil {
			t.Fatal(err)
		}
		if len(users) != 4 || len(res.Users) != 4 {
			t.Fatalf("%d users, %d in result; want 4", len(users), len(res.Users))
		}
		for i, r := range reseller.Roles {
			u := res.Users[i]
			if u.Role != r || users[i].Role != r || users[i].Email != u.Email {
				t.Errorf("user %d = %s %s, want role %s", i, u.Email, u.Role, r)
			}
			if _, err := db.CheckPassword(ctx, u.Email, u.Password); err != nil {
				t.Errorf("password of %s: %v", u.Email, err)
			}
			a, err := db.Authenticate(ctx, u.Token)
			if err != nil || a.UserID != u.ID {
				t.Errorf("token of %s: %v, %+v", u.Email, err, a)
			}
		}

		auditor := reseller.NewContext(ctx, &reseller.Actor{UserID: res.Users[3].ID, AccountID: res.Account.ID,
			Email: res.Users[3].Email, Role: reseller.RoleAuditor, Via: reseller.ViaCLI})
		pools, err := db.ListPools(auditor)
		if err != nil {
			t.Fatal(err)
		}
		if len(pools) != 3 {
			t.Fatalf("%d pools, want 3", len(pools))
		}
		for _, p := range pools {
			if p.Used > p.Capacity || p.Used < 0 {
				t.Errorf("pool %q: %d used of %d", p.Name, p.Used, p.Capacity)
			}
		}

		clients := map[reseller.ClientStatus]int{}
		for _, st := range []reseller.ClientStatus{reseller.ClientActive, reseller.ClientSuspended, reseller.ClientDeleted} {
			cur := ""
			for {
				cs, next, err := db.ListClients(auditor, reseller.ClientFilter{Status: st, Cursor: cur, Limit: reseller.MaxPageSize})
				if err != nil {
					t.Fatal(err)
				}
				clients[st] += len(cs)
				if cur = next; cur == "" {
					break
				}
			}
		}
		total := clients[reseller.ClientActive] + clients[reseller.ClientSuspended] + clients[reseller.ClientDeleted]
		if total != res.Clients || total < 180 || total > 220 {
			t.Errorf("clients by status = %v (result says %d), want about 200", clients, res.Clients)
		}
		if clients[reseller.ClientSuspended] == 0 || clients[reseller.ClientDeleted] == 0 {
			t.Errorf("clients by status = %v, want some suspended and some deleted", clients)
		}

		var es []*reseller.Entry
		actions := map[reseller.Action]int{}
		vias := map[string]int{}
		deletedRevocations := 0
		err = db.ExportEntries(auditor, reseller.AuditFilter{Order: reseller.OrderAsc}, func(e *reseller.Entry) error {
			es = append(es, e)
			actions[e.Action]++
			vias[e.Actor.Via]++
			if e.Action == reseller.ActionLicenseRevoked && e.Details.Reason == sqldb.ClientDeletedReason {
				deletedRevocations++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(es)) != res.Entries || len(es) < 1000 {
			t.Fatalf("%d entries, result says %d; want well over 1000", len(es), res.Entries)
		}
		for i, e := range es {
			if e.Seq != int64(i+1) {
				t.Fatalf("entry %d has seq %d: the log has a gap", i+1, e.Seq)
			}
			if i > 0 && e.Time.Before(es[i-1].Time) {
				t.Fatalf("entry %d is older than entry %d", e.Seq, e.Seq-1)
			}
			if !e.Time.Before(end) {
				t.Fatalf("entry %d at %v is not before the end %v", e.Seq, e.Time, end)
			}
			if e.Actor.Role == reseller.RoleAuditor {
				t.Fatalf("entry %d was performed by an auditor", e.Seq)
			}
		}
		if span := es[len(es)-1].Time.Sub(es[0].Time); span < 4*30*24*time.Hour {
			t.Errorf("history spans %v, want at least four months", span)
		}
		for _, a := range reseller.Actions {
			if actions[a] == 0 {
				t.Errorf("no %s entry; got %v", a, actions)
			}
		}
		if deletedRevocations == 0 {
			t.Errorf("no license revoked because its client was deleted")
		}
		if vias[reseller.ViaWeb] == 0 || vias[reseller.ViaAPI] == 0 {
			t.Errorf("entries by channel = %v, want both web and api", vias)
		}
		t.Logf("actions %v, clients %v, channels %v", actions, clients, vias)

		// The stored Merkle tree covers exactly the records.
		size, root, err := db.Head(ctx, res.Account.ID)
		if err != nil {
			t.Fatal(err)
		}
		var leaves []tlog.Hash
		for _, e := range es {
			leaves = append(leaves, tlog.RecordHash(e.Record))
		}
		if size != int64(len(es)) || root != merkleRoot(leaves) {
			t.Errorf("head (%d, %x) does not match the %d records", size, root, len(es))
		}
	})
}

// merkleRoot computes the RFC 6962 root of leaf hashes independently of the
// stored hashes.
func merkleRoot(h []tlog.Hash) tlog.Hash {
	if len(h) == 1 {
		return h[0]
	}
	k := 1
	for k*2 < len(h) {
		k *= 2
	}
	return tlog.NodeHash(merkleRoot(h[:k]), merkleRoot(h[k:]))
}

func TestSeedIsDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds twice")
	}
	end := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var first []string
	for i := range 2 {
		db, owner := seedSQLite(t, end)
		es, _, err := db.ListEntries(owner, reseller.AuditFilter{Limit: 20})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range es {
			got = append(got, string(e.Record))
		}
		if i == 0 {
			first = got
			continue
		}
		for j := range got {
			if got[j] != first[j] {
				t.Fatalf("record %d differs between runs:\n%s\n%s", j, first[j], got[j])
			}
		}
	}
}

// TestSeedEndsWithSuspendedClients: whatever day the demo is written on, it
// ends with some clients suspended (and so some plugins told so), as a
// reseller's fleet would. The history is a random walk that depends on its
// end date, so a few dates are tried, today's among them.
func TestSeedEndsWithSuspendedClients(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds three times")
	}
	now := time.Now().UTC()
	for _, end := range []time.Time{now, now.AddDate(0, 0, -17), time.Date(2026, 11, 29, 18, 0, 0, 0, time.UTC)} {
		t.Run(end.Format("2006-01-02"), func(t *testing.T) {
			t.Parallel()
			db, owner := seedSQLite(t, end)
			cs, _, err := db.ListClients(owner, reseller.ClientFilter{Status: reseller.ClientSuspended, Limit: reseller.MaxPageSize})
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) == 0 {
				t.Fatal("the demo ends with no suspended client")
			}
		})
	}
}

// seedSQLite writes the demo ending at end into a new SQLite database and
// returns it with a context acting as the demo's owner.
func seedSQLite(t *testing.T, end time.Time) (*sqldb.DB, context.Context) {
	t.Helper()
	db := sqldbtest.MustOpen(t, "sqlite")
	res, err := demo.Seed(context.Background(), db, end)
	if err != nil {
		t.Fatal(err)
	}
	return db, reseller.NewContext(context.Background(), &reseller.Actor{UserID: res.Users[0].ID,
		AccountID: res.Account.ID, Email: res.Users[0].Email, Role: reseller.RoleOwner, Via: reseller.ViaCLI})
}
