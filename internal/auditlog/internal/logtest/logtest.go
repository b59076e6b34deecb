// Package logtest builds audit logs for the tests of internal/auditlog and
// its subpackages: a simulation that plays an account's history through the
// domain rules and logs each action as the store would, fixed keys, and the
// million-entry log of the benchmarks. It is imported by tests only.
package logtest

import (
	"bytes"
	"fmt"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/auditlog/bundle"
	"github.com/resellerconsole/reseller/internal/auditlog/memlog"
	"golang.org/x/mod/sumdb/note"
)

// Tester is what the helpers need of a test; *testing.T, *testing.B,
// *testing.F and rapid's *T all provide it.
type Tester interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// SeedReader is a deterministic source of key material, so that golden
// files and the documentation's example keep the same key and signatures.
type SeedReader byte

func (r SeedReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r) + byte(i)
	}
	return len(p), nil
}

// FixedKey is a fixed key pair named like the product's default.
func FixedKey(tb Tester, seed byte) (note.Signer, string) {
	tb.Helper()
	skey, vkey, err := note.GenerateKey(SeedReader(seed), auditlog.DefaultKeyName)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		tb.Fatal(err)
	}
	return s, vkey
}

// Sim plays an account's history through the domain rules and logs each
// action as the store would: one entry per action, records appended to a
// memlog.Log, in record version Version.
type Sim struct {
	TB       Tester
	Account  int64
	Log      *memlog.Log
	Entries  []*reseller.Entry
	Clients  map[int64]*reseller.Client
	Licenses map[int64]*reseller.License
	Users    map[int64]*reseller.User // every user, removed ones included
	Tokens   map[int64]*reseller.Token
	// RemovedUsers are the users removed from the team; Earlier and
	// EarlierTokens the users and tokens from before the log recorded team
	// actions (Existing, ExistingToken).
	RemovedUsers  map[int64]bool
	Earlier       map[int64]bool
	EarlierTokens map[int64]bool
	NextID        int64
	Now           time.Time
	Actor         reseller.EntryActor
	Version       int // of the records Add writes: auditlog.RecordVersion unless set
}

// NewSim starts the empty log of account, written in today's record version.
func NewSim(tb Tester, account int64) *Sim {
	return &Sim{TB: tb, Account: account, Log: &memlog.Log{},
		Clients: map[int64]*reseller.Client{}, Licenses: map[int64]*reseller.License{},
		Users: map[int64]*reseller.User{}, Tokens: map[int64]*reseller.Token{},
		NextID: 100, Now: time.Date(2026, 7, 1, 9, 30, 0, 123456000, time.UTC), Actor: WebActor,
		Version: auditlog.RecordVersion}
}

// The actors of the story, one per channel.
var (
	WebActor = reseller.EntryActor{ID: 7, Email: "alice@acme.test", Role: reseller.RoleOwner, Via: reseller.ViaWeb,
		IP: "203.0.113.9", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", RequestID: "req-0001"}
	APIActor = reseller.EntryActor{ID: 8, Email: "bob@acme.test", Role: reseller.RoleAdmin, Via: reseller.ViaAPI,
		TokenID: 3, IP: "2001:db8::7", UserAgent: "curl/8.5.0", RequestID: "req-0002"}
	CLIActor = reseller.EntryActor{ID: 9, Email: "carol@acme.test", Role: reseller.RoleOperator, Via: reseller.ViaCLI}
)

// Add logs an action on a client without checking the rules.
func (s *Sim) Add(a reseller.Action, c *reseller.Client, d reseller.Details) *reseller.Entry {
	s.TB.Helper()
	return s.AddEntry(a, reseller.Target{Type: reseller.TargetClient, ID: c.ID, Email: c.Email}, d)
}

// AddEntry logs an action on any target without checking the rules.
func (s *Sim) AddEntry(a reseller.Action, target reseller.Target, d reseller.Details) *reseller.Entry {
	s.TB.Helper()
	s.Now = s.Now.Add(1537 * time.Millisecond)
	e := &reseller.Entry{AccountID: s.Account, Seq: s.Log.Size() + 1, Time: s.Now, Action: a,
		Target: target, Details: d, Actor: s.Actor}
	rec, err := auditlog.EncodeRecordVersion(e, s.Version)
	if err != nil {
		s.TB.Fatal(err)
	}
	e.Record = rec
	if err := s.Log.Append(rec); err != nil {
		s.TB.Fatal(err)
	}
	s.Entries = append(s.Entries, e)
	return e
}

// Create creates a client.
func (s *Sim) Create(email, name string) *reseller.Client {
	s.NextID++
	c := &reseller.Client{ID: s.NextID, Email: email, Name: name, Status: reseller.ClientActive}
	s.Clients[c.ID] = c
	s.Add(reseller.ActionClientCreated, c, reseller.Details{Name: name})
	return c
}

// Do applies a client action if the rules allow it and reports whether it did.
func (s *Sim) Do(c *reseller.Client, a reseller.ClientAction, reason string) bool {
	if c.Status.Check(a) != nil {
		return false
	}
	switch a {
	case reseller.DoSuspend:
		s.Add(reseller.ActionClientSuspended, c, reseller.Details{Reason: reason})
	case reseller.DoReactivate:
		s.Add(reseller.ActionClientReactivated, c, reseller.Details{})
	case reseller.DoDelete:
		for _, id := range SortedIDs(s.Licenses) {
			if l := s.Licenses[id]; l.ClientID == c.ID && l.Status == reseller.LicenseActive {
				s.Revoke(l, "client deleted")
			}
		}
		s.Add(reseller.ActionClientDeleted, c, reseller.Details{})
	default:
		s.TB.Fatalf("sim: action %s", a)
	}
	c.Status = c.Status.Next(a)
	return true
}

// Allocate allocates a license of pool to c if the rules allow it.
func (s *Sim) Allocate(c *reseller.Client, pool int64, label string) *reseller.License {
	if c.Status.Check(reseller.DoAllocate) != nil {
		return nil
	}
	s.NextID++
	l := &reseller.License{ID: s.NextID, PoolID: pool, ClientID: c.ID, Label: label, Status: reseller.LicenseActive}
	s.Licenses[l.ID] = l
	s.Add(reseller.ActionLicenseAllocated, c, reseller.Details{PoolID: pool, PoolName: fmt.Sprintf("Pool %d", pool),
		Product: reseller.DefaultProduct, LicenseID: l.ID, Label: label})
	return l
}

// Revoke revokes l without checking the rules.
func (s *Sim) Revoke(l *reseller.License, reason string) {
	l.Status = reseller.LicenseRevoked
	s.Add(reseller.ActionLicenseRevoked, s.Clients[l.ClientID], reseller.Details{PoolID: l.PoolID,
		PoolName: fmt.Sprintf("Pool %d", l.PoolID), Product: reseller.DefaultProduct, LicenseID: l.ID, Reason: reason})
}

// More appends entries until the log has n.
func (s *Sim) More(n int64) *Sim {
	c := s.Create("more@x.example", "")
	for s.Log.Size() < n {
		if !s.Do(c, "suspend", "") {
			s.Do(c, "reactivate", "")
		}
	}
	return s
}

// SortedIDs returns the keys of m in ascending order.
func SortedIDs[V any](m map[int64]V) []int64 {
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

// Story plays a small fixed history touching every client action, every
// channel and the string escapes of the record encoding, in record version
// 1: the log of an account from before version 2.
func Story(tb Tester, account int64) *Sim {
	s := NewSim(tb, account)
	s.Version = 1
	a := s.Create("ops@bakery.example", "Bakery <Main> & Co")
	b := s.Create("it@clinic.example", "")
	s.Allocate(a, 3, "www.bakery.example")
	s.Actor = APIActor
	l := s.Allocate(b, 3, "")
	s.Do(b, reseller.DoSuspend, "unpaid invoice\n\"March\"")
	s.Actor = CLIActor
	s.Revoke(l, "")
	s.Do(b, reseller.DoReactivate, "")
	s.Actor = WebActor
	s.Allocate(a, 4, "Caf\u00e9 Zo\u00eb \u2028 \x01 shop")
	s.Do(a, reseller.DoDelete, "")
	s.Create("ops@bakery.example", "Bakery again")
	return s
}

// Forked is the story with its second entry told differently.
func Forked(tb Tester, account int64) *Sim {
	s := NewSim(tb, account)
	s.Version = 1
	s.Create("ops@bakery.example", "Bakery <Main> & Co")
	s.Create("someone-else@clinic.example", "")
	s.Create("x@y.example", "")
	return s
}

// Signed returns the log's signed checkpoint.
func (s *Sim) Signed(tb Tester, signer note.Signer) []byte {
	tb.Helper()
	cp, err := s.Log.Checkpoint(auditlog.Origin(signer.Name(), s.Account))
	if err != nil {
		tb.Fatal(err)
	}
	b, err := auditlog.SignCheckpoint(cp, signer)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// Bundle writes a bundle of the given seqs (all when nil).
func (s *Sim) Bundle(tb Tester, signer note.Signer, vkey string, seqs []int64, since int64) []byte {
	tb.Helper()
	if seqs == nil {
		for i := int64(1); i <= s.Log.Size(); i++ {
			seqs = append(seqs, i)
		}
	}
	var buf bytes.Buffer
	err := bundle.Write(&buf, bundle.Input{
		Checkpoint: s.Signed(tb, signer), VerifierKey: vkey, Origin: auditlog.Origin(signer.Name(), s.Account),
		Size: s.Log.Size(), Hashes: s.Log, Seqs: seqs, Records: s.Log.Select(seqs), Since: since,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
