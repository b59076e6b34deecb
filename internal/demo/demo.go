// Package demo fills an empty database with a believable reseller account:
// one user per role, three license pools, about two hundred clients and six
// months of audit history. Every change goes through the ordinary store
// methods, acting as the demo users, so the history is exactly what real use
// would have written, Merkle hashes included. Only the clock is faked.
package demo

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
)

// AccountName is the name of the demo account.
const AccountName = "Northwind Hosting"

// Result says what Seed wrote and how to sign in.
type Result struct {
	Account *reseller.Account
	Users   []User // most privileged first
	Pools   int
	Clients int   // clients created, deleted ones included
	Entries int64 // audit entries written
	// Keys are the license keys of the active licenses, whose sites
	// checked in over the history: what `reseller sites simulate` takes.
	Keys     []string
	CheckIns int // check-ins written
	First    time.Time
	Last     time.Time
}

// User is a demo user with the secrets that are stored only as hashes.
type User struct {
	ID       int64
	Email    string
	Role     reseller.Role
	Password string
	Token    string
}

// Size of the history. About 1,500 actions make the log long enough to page,
// filter and count by month, and still write in a few seconds on SQLite.
const (
	clientCount = 200
	actionCount = 1500
	months      = 6
)

// Seed writes the demo account into db with history ending before end, and
// returns its users' passwords and tokens. It sets db.Now to a fake clock
// while it runs and puts the previous clock back before returning, so it
// must not run while db serves requests. The history is the same on every
// run (a fixed random seed); the passwords and tokens are random.
func Seed(ctx context.Context, db *sqldb.DB, end time.Time) (*Result, error) {
	s := &seeder{
		db:  db,
		rng: rand.New(rand.NewPCG(0x6e6f7274, 0x68776e64)),
		res: &Result{},
	}
	end = end.UTC()
	start := end.AddDate(0, -months, 0)

	prev := db.Now
	defer func() { db.Now = prev }()
	s.now = start.Add(-72 * time.Hour).Truncate(24 * time.Hour).Add(9 * time.Hour)
	db.Now = func() time.Time { return s.now }

	if err := s.setup(ctx); err != nil {
		return nil, err
	}
	times := businessTimes(s.rng, start, end, actionCount)
	for i, t := range times {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Keep the clock moving forward even after a burst of actions.
		s.now = maxTime(t, s.now.Add(time.Second))
		if !s.now.Before(end) {
			break
		}
		if err := s.step(ctx, float64(i)/float64(len(times))); err != nil {
			return nil, fmt.Errorf("demo: at %s: %w", s.now.Format(time.RFC3339), err)
		}
	}
	if err := s.span(ctx); err != nil {
		return nil, err
	}
	if err := s.siteActivity(ctx, start, end); err != nil {
		return nil, err
	}
	s.res.Clients, s.res.Pools = len(s.clients), len(s.pools)
	return s.res, nil
}

// span reads the size and time span of the log that was written, as the
// owner would.
func (s *seeder) span(ctx context.Context) error {
	owner := withCtx(ctx, s.as(reseller.RoleOwner))
	for _, order := range []string{reseller.OrderAsc, reseller.OrderDesc} {
		es, _, err := s.db.ListEntries(owner, reseller.AuditFilter{Order: order, Limit: 1})
		if err != nil {
			return err
		}
		if len(es) == 0 {
			return nil
		}
		if order == reseller.OrderAsc {
			s.res.First = es[0].Time
		} else {
			s.res.Last, s.res.Entries = es[0].Time, es[0].Seq
		}
	}
	return nil
}

// seeder is the simulation: the store it writes through, and its own view
// of the account's state, which it uses to pick only valid next actions.
type seeder struct {
	db      *sqldb.DB
	rng     *rand.Rand
	now     time.Time
	res     *Result
	users   map[reseller.Role]*member
	pools   []*pool
	clients []*client
	pending []*client // created, waiting for their first license
	names   map[string]bool
	burst   bool // whether the billing-run burst has happened
}

type member struct {
	user    *reseller.User
	tokenID int64
	ips     []string
	browser string
}

type pool struct {
	id        int64
	name      string
	capacity  int
	used      int
	weighting int // how often new clients land here
}

type client struct {
	id       int64
	email    string
	name     string
	domain   string
	status   reseller.ClientStatus
	licenses []*license // active ones
}

type license struct {
	id    int64
	pool  *pool
	label string
	key   string // the license key the site's plugin checks in with
	since time.Time
}

var demoUsers = []struct {
	role    reseller.Role
	email   string
	ips     []string
	browser string
}{
	{reseller.RoleOwner, "owner@demo.test", []string{"203.0.113.24", "2001:db8:4a::17"},
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15"},
	{reseller.RoleAdmin, "admin@demo.test", []string{"198.51.100.61", "198.51.100.62"},
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36"},
	{reseller.RoleOperator, "operator@demo.test", []string{"192.0.2.140", "192.0.2.141", "2001:db8:4a::2b"},
		"Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"},
	{reseller.RoleAuditor, "auditor@demo.test", []string{"203.0.113.90"},
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:130.0) Gecko/20100101 Firefox/130.0"},
}

// API clients the team scripts with, as their user agents say.
var apiAgents = []string{"curl/8.7.1", "python-requests/2.32.3", "northwind-provisioner/1.4", "Go-http-client/1.1"}

// Emails lists the demo users' emails, most privileged first.
func Emails() []string {
	es := make([]string, len(demoUsers))
	for i, u := range demoUsers {
		es[i] = u.email
	}
	return es
}

// apiIP is the team's automation server.
const apiIP = "198.51.100.200"

var demoPools = []struct {
	name, product string
	capacity      int
	weighting     int
}{
	{"Starter 50", "Shield Starter", 50, 2},
	{"Business 100", "Shield Business", 100, 4},
	{"Agency 250", "Shield Agency", 250, 6},
}

// setup creates the account, its team with passwords and tokens, and pools,
// a few days before the history starts.
func (s *seeder) setup(ctx context.Context) error {
	a, err := s.db.CreateAccount(ctx, AccountName)
	if err != nil {
		return err
	}
	s.res.Account = a
	s.users = map[reseller.Role]*member{}
	// The platform operator adds the owner and issues each user's demo
	// token; the owner adds the rest of the team in the console, with a
	// set-password link each. All of it is in the log, as it would be.
	operator := reseller.NewContext(ctx, reseller.OperatorActor(a.ID))
	for _, du := range demoUsers {
		by := operator
		if du.role != reseller.RoleOwner {
			by = s.web(reseller.RoleOwner)
		}
		u, err := s.db.AddUser(by, du.email, du.role)
		if err != nil {
			return err
		}
		pw := password()
		if err := s.db.SetPassword(operator, u.ID, pw); err != nil {
			return err
		}
		if du.role != reseller.RoleOwner {
			if _, err := s.db.CreatePasswordLink(s.web(reseller.RoleOwner), u.ID); err != nil {
				return err
			}
		}
		t, secret, err := s.db.CreateTokenFor(operator, u.ID, "Demo token")
		if err != nil {
			return err
		}
		s.users[du.role] = &member{user: u, tokenID: t.ID, ips: du.ips, browser: du.browser}
		s.res.Users = append(s.res.Users, User{ID: u.ID, Email: u.Email, Role: u.Role, Password: pw, Token: secret})
		s.now = s.now.Add(time.Duration(5+s.rng.IntN(20)) * time.Minute)
	}
	if err := s.teamHistory(operator); err != nil {
		return err
	}
	for _, dp := range demoPools {
		p, err := s.db.CreatePool(ctx, a.ID, dp.name, dp.product, dp.capacity)
		if err != nil {
			return err
		}
		s.pools = append(s.pools, &pool{id: p.ID, name: p.Name, capacity: p.Capacity, weighting: dp.weighting})
	}
	s.names = map[string]bool{}
	return nil
}

// web acts as the demo user of a role, in the console, from their usual place.
func (s *seeder) web(role reseller.Role) context.Context {
	m := s.users[role]
	if m == nil { // the owner, while the team is being set up
		du := demoUsers[0]
		u, err := s.db.FindUserByEmail(context.Background(), du.email)
		if err != nil {
			panic(err)
		}
		m = &member{user: u, ips: du.ips, browser: du.browser}
	}
	return reseller.NewContext(context.Background(), &reseller.Actor{
		UserID: m.user.ID, AccountID: m.user.AccountID, Email: m.user.Email, Role: m.user.Role,
		Via: reseller.ViaWeb, IP: m.ips[0], UserAgent: m.browser, RequestID: fmt.Sprintf("%016x", s.rng.Uint64()),
	})
}

// teamHistory gives the team a past: a temporary member who was added,
// given a token, moved to another role and removed again, and ownership
// handed to the admin for a holiday and back.
func (s *seeder) teamHistory(operator context.Context) error {
	step := func() { s.now = s.now.Add(time.Duration(30+s.rng.IntN(90)) * time.Minute) }
	owner := s.web(reseller.RoleOwner)
	step()
	temp, err := s.db.AddUser(owner, "temp.help@demo.test", reseller.RoleOperator)
	if err != nil {
		return err
	}
	step()
	if _, _, err := s.db.CreateTokenFor(operator, temp.ID, "Migration script"); err != nil {
		return err
	}
	step()
	if _, err := s.db.SetRole(s.web(reseller.RoleAdmin), temp.ID, reseller.RoleAuditor); err != nil {
		return err
	}
	step()
	if err := s.db.RemoveUser(s.web(reseller.RoleAdmin), temp.ID); err != nil {
		return err
	}
	step()
	admin := s.users[reseller.RoleAdmin].user
	if _, err := s.db.TransferOwnership(owner, admin.ID); err != nil {
		return err
	}
	step()
	// The admin, owner for a while, hands it back.
	back := reseller.NewContext(context.Background(), &reseller.Actor{
		UserID: admin.ID, AccountID: admin.AccountID, Email: admin.Email, Role: reseller.RoleOwner,
		Via: reseller.ViaWeb, IP: s.users[reseller.RoleAdmin].ips[0], UserAgent: s.users[reseller.RoleAdmin].browser,
	})
	if _, err := s.db.TransferOwnership(back, s.users[reseller.RoleOwner].user.ID); err != nil {
		return err
	}
	step()
	return nil
}

// password returns a random password that is easy to read and type:
// three groups of four from 32 unambiguous characters (60 bits).
func password() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789" // no l, o, 0, 1
	b := make([]byte, 12)
	crand.Read(b)
	out := make([]byte, 0, 14)
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			out = append(out, '-')
		}
		out = append(out, alphabet[int(c)%len(alphabet)]) // 256 is a multiple of 32: no bias
	}
	return string(out)
}

// businessTimes returns n sorted times in [start, end), mostly on weekdays
// between about 07:30 and 18:30 UTC, busiest around midday.
func businessTimes(rng *rand.Rand, start, end time.Time, n int) []time.Time {
	day0 := start.Truncate(24 * time.Hour)
	days := int(end.Sub(day0)/(24*time.Hour)) + 1
	ts := make([]time.Time, 0, n)
	for len(ts) < n {
		day := day0.AddDate(0, 0, rng.IntN(days))
		if wd := day.Weekday(); (wd == time.Saturday || wd == time.Sunday) && rng.Float64() > 0.06 {
			continue
		}
		// The mean of two uniforms peaks in the middle of the working day.
		frac := (rng.Float64() + rng.Float64()) / 2
		t := day.Add(7*time.Hour + 30*time.Minute + time.Duration(frac*float64(11*time.Hour)))
		t = t.Add(time.Duration(rng.IntN(1_000_000)) * time.Microsecond)
		if t.Before(start) || !t.Before(end) {
			continue
		}
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	return ts
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
