package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/resellerconsole/reseller"
)

// step performs one action, chosen at random among those that are valid in
// the current state. progress runs from 0 to 1 over the history.
func (s *seeder) step(ctx context.Context, progress float64) error {
	if !s.burst && progress > 0.62 {
		s.burst = true
		return s.billingRun(ctx)
	}
	active, suspended, withLicense, live := s.census()
	free := s.freeSlots()

	// Onboarding is heaviest early on: a quarter of the clients were
	// migrated in during the first weeks, the rest arrive steadily.
	created := len(s.clients)
	target := int(clientCount*(0.25+0.75*progress)) + 1
	var choices []choice
	if created < clientCount && created < target {
		choices = append(choices, choice{6, s.create})
	}
	if len(s.pending) > 0 && free > 0 {
		choices = append(choices, choice{8, s.firstLicense})
	}
	if free > 0 && len(active) > 0 {
		choices = append(choices, choice{1.3, func(ctx context.Context) error { return s.extraLicense(ctx, active) }})
	}
	if len(withLicense) > 0 {
		choices = append(choices, choice{0.6, func(ctx context.Context) error { return s.revoke(ctx, withLicense) }})
	}
	if len(withLicense) > 0 {
		choices = append(choices, choice{0.1, func(ctx context.Context) error { return s.reissue(ctx, withLicense) }})
	}
	if len(active) > 0 {
		choices = append(choices, choice{0.35, func(ctx context.Context) error { return s.suspend(ctx, active, "") }})
	}
	if len(suspended) > 0 {
		w := 0.3
		switch {
		case len(suspended) > 15:
			w = 2
		case progress > 0.93:
			// The last weeks' suspensions are mostly still open, so that
			// the demo ends with some suspended clients whatever its date.
			w = 0.05
		}
		choices = append(choices, choice{w, func(ctx context.Context) error { return s.reactivate(ctx, suspended) }})
	}
	if len(live) > 40 {
		choices = append(choices, choice{0.07, func(ctx context.Context) error { return s.delete(ctx, live) }})
	}
	if len(choices) == 0 {
		return nil
	}
	total := 0.0
	for _, c := range choices {
		total += c.weight
	}
	x := s.rng.Float64() * total
	for _, c := range choices {
		if x -= c.weight; x < 0 {
			return c.do(ctx)
		}
	}
	return choices[len(choices)-1].do(ctx)
}

type choice struct {
	weight float64
	do     func(context.Context) error
}

// census sorts the clients by what can be done to them.
func (s *seeder) census() (active, suspended, withLicense, live []*client) {
	for _, c := range s.clients {
		switch c.status {
		case reseller.ClientActive:
			active = append(active, c)
		case reseller.ClientSuspended:
			suspended = append(suspended, c)
		}
		if c.status != reseller.ClientDeleted {
			live = append(live, c)
			if len(c.licenses) > 0 {
				withLicense = append(withLicense, c)
			}
		}
	}
	return
}

func (s *seeder) freeSlots() int {
	n := 0
	for _, p := range s.pools {
		n += p.capacity - p.used
	}
	return n
}

// as returns a context acting as a user of one of the roles in who, through
// the console most of the time and otherwise through the API with the
// user's token, from one of the places the user works from.
func (s *seeder) as(who ...reseller.Role) context.Context {
	m := s.users[who[s.rng.IntN(len(who))]]
	a := &reseller.Actor{
		UserID: m.user.ID, AccountID: m.user.AccountID, Email: m.user.Email, Role: m.user.Role,
		RequestID: fmt.Sprintf("%016x", s.rng.Uint64()),
	}
	if s.rng.Float64() < 0.72 {
		a.Via, a.IP, a.UserAgent = reseller.ViaWeb, m.ips[s.rng.IntN(len(m.ips))], m.browser
	} else {
		a.Via, a.TokenID, a.IP, a.UserAgent = reseller.ViaAPI, m.tokenID, apiIP, apiAgents[s.rng.IntN(len(apiAgents))]
	}
	return reseller.NewContext(context.Background(), a)
}

// anyone picks who does an everyday action: mostly the operator.
func (s *seeder) anyone() context.Context {
	if x := s.rng.Float64(); x < 0.6 {
		return s.as(reseller.RoleOperator)
	} else if x < 0.9 {
		return s.as(reseller.RoleAdmin)
	}
	return s.as(reseller.RoleOwner)
}

func (s *seeder) pick(cs []*client) *client { return cs[s.rng.IntN(len(cs))] }

func (s *seeder) create(ctx context.Context) error {
	name, domain := s.company()
	email := mailboxes[s.rng.IntN(len(mailboxes))] + "@" + domain
	// Now and then a client that was deleted comes back under its old
	// address: a new client with a new id, next to the tombstone.
	for _, c := range s.clients {
		if c.status == reseller.ClientDeleted && !s.names["back:"+c.email] && s.rng.Float64() < 0.3 {
			s.names["back:"+c.email] = true
			name, domain, email = c.name, c.domain, c.email
			break
		}
	}
	c, _, err := s.db.OnboardClient(withCtx(ctx, s.anyone()), reseller.NewClient{Email: email, Name: name, SiteURL: "https://www." + domain})
	if err != nil {
		return err
	}
	nc := &client{id: c.ID, email: c.Email, name: name, domain: domain, status: reseller.ClientActive}
	s.clients = append(s.clients, nc)
	s.pending = append(s.pending, nc)
	return nil
}

func (s *seeder) firstLicense(ctx context.Context) error {
	c := s.pending[0]
	s.pending = s.pending[1:]
	if c.status != reseller.ClientActive {
		return nil
	}
	return s.allocate(ctx, c, "www."+c.domain)
}

func (s *seeder) extraLicense(ctx context.Context, active []*client) error {
	c := s.pick(active)
	if len(c.licenses) >= 3 {
		return nil
	}
	sub := []string{"shop", "blog", "staging", "portal", "mail"}[s.rng.IntN(5)]
	return s.allocate(ctx, c, sub+"."+c.domain)
}

// allocate takes a slot for c from a pool with room, bigger pools more often.
func (s *seeder) allocate(ctx context.Context, c *client, label string) error {
	total := 0
	for _, p := range s.pools {
		if p.used < p.capacity {
			total += p.weighting
		}
	}
	if total == 0 {
		return nil
	}
	x := s.rng.IntN(total)
	var p *pool
	for _, q := range s.pools {
		if q.used < q.capacity {
			if x -= q.weighting; x < 0 {
				p = q
				break
			}
		}
	}
	l, err := s.db.AllocateLicense(withCtx(ctx, s.anyone()), c.id, p.id, label)
	if err != nil {
		return err
	}
	p.used++
	c.licenses = append(c.licenses, &license{id: l.ID, pool: p, label: label, key: l.Key, since: s.now})
	return nil
}

var revokeReasons = []string{"", "", "Site taken offline", "Moved to another plan", "Duplicate license", "Requested by the client"}

func (s *seeder) revoke(ctx context.Context, cs []*client) error {
	c := s.pick(cs)
	i := s.rng.IntN(len(c.licenses))
	l := c.licenses[i]
	if _, err := s.db.RevokeLicense(withCtx(ctx, s.anyone()), l.id, revokeReasons[s.rng.IntN(len(revokeReasons))]); err != nil {
		return err
	}
	l.pool.used--
	c.licenses = append(c.licenses[:i], c.licenses[i+1:]...)
	return nil
}

// reissue gives a license a new key, as when a site's key leaked or the
// plugin was reinstalled.
func (s *seeder) reissue(ctx context.Context, cs []*client) error {
	c := s.pick(cs)
	l := c.licenses[s.rng.IntN(len(c.licenses))]
	nl, err := s.db.ReissueLicenseKey(withCtx(ctx, s.anyone()), l.id)
	if err != nil {
		return err
	}
	l.key = nl.Key
	return nil
}

var suspendReasons = []string{"", "Invoice overdue", "Invoice overdue", "Malware found on the site", "Requested by the client", "Chargeback opened", "Abuse report"}

func (s *seeder) suspend(ctx context.Context, cs []*client, reason string) error {
	c := s.pick(cs)
	if reason == "" {
		reason = suspendReasons[s.rng.IntN(len(suspendReasons))]
	}
	if _, err := s.db.SuspendClient(withCtx(ctx, s.anyone()), c.id, reason); err != nil {
		return err
	}
	c.status = reseller.ClientSuspended
	return nil
}

func (s *seeder) reactivate(ctx context.Context, cs []*client) error {
	c := s.pick(cs)
	if _, err := s.db.ReactivateClient(withCtx(ctx, s.anyone()), c.id); err != nil {
		return err
	}
	c.status = reseller.ClientActive
	return nil
}

// delete removes a client; the store revokes its licenses first, each with
// its own entry, so the pools get their slots back.
func (s *seeder) delete(ctx context.Context, cs []*client) error {
	c := s.pick(cs)
	if _, err := s.db.DeleteClient(withCtx(ctx, s.as(reseller.RoleOwner, reseller.RoleAdmin, reseller.RoleAdmin)), c.id); err != nil {
		return err
	}
	for _, l := range c.licenses {
		l.pool.used--
	}
	c.licenses, c.status = nil, reseller.ClientDeleted
	return nil
}

// billingRun is one afternoon's burst: the billing script suspends several
// clients with overdue invoices within minutes, through the API. It gives
// the log a short incident to reconstruct.
func (s *seeder) billingRun(ctx context.Context) error {
	op := s.users[reseller.RoleOperator]
	for i := 0; i < 7; i++ {
		active, _, _, _ := s.census()
		if len(active) == 0 {
			return nil
		}
		c := s.pick(active)
		actx := reseller.NewContext(context.Background(), &reseller.Actor{
			UserID: op.user.ID, AccountID: op.user.AccountID, Email: op.user.Email, Role: op.user.Role,
			Via: reseller.ViaAPI, TokenID: op.tokenID, IP: apiIP, UserAgent: "northwind-billing/2.3",
			RequestID: fmt.Sprintf("%016x", s.rng.Uint64()),
		})
		if _, err := s.db.SuspendClient(withCtx(ctx, actx), c.id, "Invoice overdue (billing run)"); err != nil {
			return err
		}
		c.status = reseller.ClientSuspended
		s.now = s.now.Add(time.Duration(20+s.rng.IntN(70)) * time.Second)
	}
	return nil
}

// withCtx carries the actor of actx on the caller's ctx, so that
// cancellation still applies.
func withCtx(ctx, actx context.Context) context.Context {
	return reseller.NewContext(ctx, reseller.ActorFrom(actx))
}

// Parts of made-up company names. Addresses use the .example top-level
// domain, reserved for examples, so none of them can reach anyone.
var (
	adjectives = []string{"Blue", "Bright", "Cedar", "Copper", "Crimson", "Golden", "Green", "Hidden", "Iron", "Lucky",
		"Maple", "Misty", "North", "Oak", "Old", "Quiet", "Red", "Silver", "Stone", "Sunny", "Swift", "Tall", "Wild", "Willow"}
	nouns = []string{"Anchor", "Badger", "Bridge", "Brook", "Candle", "Cove", "Crane", "Fern", "Fox", "Harbor", "Hill",
		"Lantern", "Meadow", "Mill", "Orchard", "Otter", "Pine", "River", "Robin", "Sparrow", "Spring", "Valley", "Wren"}
	kinds = []string{"Bakery", "Books", "Cafe", "Clinic", "Consulting", "Dental", "Design", "Florist", "Garage", "Gym",
		"Law", "Motors", "Outfitters", "Pets", "Photo", "Realty", "Studio", "Tailors", "Travel", "Yoga"}
	mailboxes = []string{"hello", "info", "admin", "office", "contact", "it", "web", "owner"}
)

// company returns a new company name and its domain.
func (s *seeder) company() (name, domain string) {
	for {
		name = adjectives[s.rng.IntN(len(adjectives))] + " " + nouns[s.rng.IntN(len(nouns))] + " " + kinds[s.rng.IntN(len(kinds))]
		if !s.names[name] {
			s.names[name] = true
			return name, strings.ToLower(strings.ReplaceAll(name, " ", "")) + ".example"
		}
	}
}
