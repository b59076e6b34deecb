package auditlog_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"golang.org/x/mod/sumdb/note"
)

// tester is what the helpers need of a test; both *testing.T and rapid's *T
// provide it.
type tester interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// seedReader is a deterministic source of key material, so that golden
// files and the documentation's example keep the same key and signatures.
type seedReader byte

func (r seedReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r) + byte(i)
	}
	return len(p), nil
}

// testKey is a fixed key pair named like the product's default.
func testKey(tb tester, seed byte) (note.Signer, string) {
	tb.Helper()
	skey, vkey, err := note.GenerateKey(seedReader(seed), auditlog.DefaultKeyName)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		tb.Fatal(err)
	}
	return s, vkey
}

// sim plays an account's history through the domain rules and logs each
// action as the store would: one entry per action, records appended to a
// MemoryLog.
type sim struct {
	tb       tester
	account  int64
	log      *auditlog.MemoryLog
	entries  []*reseller.Entry
	clients  map[int64]*reseller.Client
	licenses map[int64]*reseller.License
	nextID   int64
	now      time.Time
	actor    reseller.EntryActor
}

func newSim(tb tester, account int64) *sim {
	return &sim{tb: tb, account: account, log: &auditlog.MemoryLog{},
		clients: map[int64]*reseller.Client{}, licenses: map[int64]*reseller.License{},
		nextID: 100, now: time.Date(2026, 7, 1, 9, 30, 0, 123456000, time.UTC), actor: webActor}
}

var (
	webActor = reseller.EntryActor{ID: 7, Email: "alice@acme.test", Role: reseller.RoleOwner, Via: reseller.ViaWeb,
		IP: "203.0.113.9", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", RequestID: "req-0001"}
	apiActor = reseller.EntryActor{ID: 8, Email: "bob@acme.test", Role: reseller.RoleAdmin, Via: reseller.ViaAPI,
		TokenID: 3, IP: "2001:db8::7", UserAgent: "curl/8.5.0", RequestID: "req-0002"}
	cliActor = reseller.EntryActor{ID: 9, Email: "carol@acme.test", Role: reseller.RoleOperator, Via: reseller.ViaCLI}
)

func (s *sim) add(a reseller.Action, c *reseller.Client, d reseller.Details) *reseller.Entry {
	s.tb.Helper()
	s.now = s.now.Add(1537 * time.Millisecond)
	e := &reseller.Entry{AccountID: s.account, Seq: s.log.Size() + 1, Time: s.now, Action: a,
		Target: reseller.Target{Type: "client", ID: c.ID, Email: c.Email}, Details: d, Actor: s.actor}
	rec, err := auditlog.EncodeRecord(e)
	if err != nil {
		s.tb.Fatal(err)
	}
	e.Record = rec
	if err := s.log.Append(rec); err != nil {
		s.tb.Fatal(err)
	}
	s.entries = append(s.entries, e)
	return e
}

func (s *sim) create(email, name string) *reseller.Client {
	s.nextID++
	c := &reseller.Client{ID: s.nextID, Email: email, Name: name, Status: reseller.ClientActive}
	s.clients[c.ID] = c
	s.add(reseller.ActionClientCreated, c, reseller.Details{Name: name})
	return c
}

// do applies a client action if the rules allow it and reports whether it did.
func (s *sim) do(c *reseller.Client, a reseller.ClientAction, reason string) bool {
	if c.Status.Check(a) != nil {
		return false
	}
	switch a {
	case reseller.DoSuspend:
		s.add(reseller.ActionClientSuspended, c, reseller.Details{Reason: reason})
	case reseller.DoReactivate:
		s.add(reseller.ActionClientReactivated, c, reseller.Details{})
	case reseller.DoDelete:
		for _, id := range sortedIDs(s.licenses) {
			if l := s.licenses[id]; l.ClientID == c.ID && l.Status == reseller.LicenseActive {
				s.revoke(l, "client deleted")
			}
		}
		s.add(reseller.ActionClientDeleted, c, reseller.Details{})
	default:
		s.tb.Fatalf("sim: action %s", a)
	}
	c.Status = c.Status.Next(a)
	return true
}

func (s *sim) allocate(c *reseller.Client, pool int64, label string) *reseller.License {
	if c.Status.Check(reseller.DoAllocate) != nil {
		return nil
	}
	s.nextID++
	l := &reseller.License{ID: s.nextID, PoolID: pool, ClientID: c.ID, Label: label, Status: reseller.LicenseActive}
	s.licenses[l.ID] = l
	s.add(reseller.ActionLicenseAllocated, c, reseller.Details{PoolID: pool, PoolName: fmt.Sprintf("Pool %d", pool),
		Product: reseller.DefaultProduct, LicenseID: l.ID, Label: label})
	return l
}

func (s *sim) revoke(l *reseller.License, reason string) {
	l.Status = reseller.LicenseRevoked
	s.add(reseller.ActionLicenseRevoked, s.clients[l.ClientID], reseller.Details{PoolID: l.PoolID,
		PoolName: fmt.Sprintf("Pool %d", l.PoolID), Product: reseller.DefaultProduct, LicenseID: l.ID, Reason: reason})
}

func sortedIDs[V any](m map[int64]V) []int64 {
	ids := make([]int64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	for i := 1; i < len(ids); i++ {
		for j := i; j > 0 && ids[j] < ids[j-1]; j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
	return ids
}

// story plays a small fixed history touching every action, every channel
// and the string escapes of the record encoding.
func story(tb tester, account int64) *sim {
	s := newSim(tb, account)
	a := s.create("ops@bakery.example", "Bakery <Main> & Co")
	b := s.create("it@clinic.example", "")
	s.allocate(a, 3, "www.bakery.example")
	s.actor = apiActor
	l := s.allocate(b, 3, "")
	s.do(b, reseller.DoSuspend, "unpaid invoice\n\"March\"")
	s.actor = cliActor
	s.revoke(l, "")
	s.do(b, reseller.DoReactivate, "")
	s.actor = webActor
	s.allocate(a, 4, "Caf\u00e9 Zo\u00eb \u2028 \x01 shop")
	s.do(a, reseller.DoDelete, "")
	s.create("ops@bakery.example", "Bakery again")
	return s
}

// signed returns the log's signed checkpoint.
func (s *sim) signed(tb tester, signer note.Signer) []byte {
	tb.Helper()
	cp, err := s.log.Checkpoint(auditlog.Origin(signer.Name(), s.account))
	if err != nil {
		tb.Fatal(err)
	}
	b, err := auditlog.SignCheckpoint(cp, signer)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// bundle writes a bundle of the given seqs (all when nil).
func (s *sim) bundle(tb tester, signer note.Signer, vkey string, seqs []int64, since int64) []byte {
	tb.Helper()
	if seqs == nil {
		for i := int64(1); i <= s.log.Size(); i++ {
			seqs = append(seqs, i)
		}
	}
	var buf bytes.Buffer
	err := auditlog.WriteBundle(&buf, auditlog.BundleInput{
		Checkpoint: s.signed(tb, signer), VerifierKey: vkey, Origin: auditlog.Origin(signer.Name(), s.account),
		Size: s.log.Size(), Hashes: s.log, Seqs: seqs, Records: s.log.Select(seqs), Since: since,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
