package reseller

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"
)

var zones = []string{"UTC", "Europe/Paris", "Asia/Tokyo", "America/St_Johns", "Pacific/Chatham"}

// genTime draws an instant at the store's precision, in 2000-2099.
func genTime(t *rapid.T, label string) time.Time {
	us := rapid.Int64Range(946684800_000000, 4102444800_000000).Draw(t, label)
	return time.UnixMicro(us).UTC()
}

// genEmails draws target or actor values as the parser returns them:
// whole addresses or patterns.
func genEmails(t *rapid.T, label string) []string {
	raw := rapid.SliceOfN(rapid.OneOf(
		rapid.StringMatching(`[A-Za-z0-9._+-]{1,8}@[a-z0-9-]{1,8}\.(io|test|example)`),
		rapid.StringMatching(`\*?[A-Za-z0-9.@_+-]{1,10}\*?`),
	), 0, 3).Draw(t, label)
	var vs []string
	for _, s := range raw {
		if v, err := EmailPattern(s); err == nil {
			vs = append(vs, v)
		}
	}
	return vs
}

// genFilter draws the selection fields of a filter that can match
// something, or the None filter.
func genFilter(t *rapid.T) AuditFilter {
	if rapid.IntRange(0, 20).Draw(t, "none") == 0 {
		return AuditFilter{None: true}
	}
	action := rapid.SampledFrom(Actions)
	f := AuditFilter{
		Actions:    rapid.SliceOfN(action, 0, 4).Draw(t, "actions"),
		NotActions: rapid.SliceOfN(action, 0, 4).Draw(t, "notActions"),
		Targets:    genEmails(t, "targets"),
		NotTargets: genEmails(t, "notTargets"),
		Actors:     genEmails(t, "actors"),
		NotActors:  genEmails(t, "notActors"),
	}
	if rapid.Bool().Draw(t, "client") {
		f.ClientID = rapid.Int64Range(1, 1<<62).Draw(t, "clientID")
	}
	if rapid.Bool().Draw(t, "from") {
		f.From = genTime(t, "fromTime")
	}
	if rapid.Bool().Draw(t, "to") {
		f.To = genTime(t, "toTime")
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		f.From, f.To = f.To, f.From.Add(time.Microsecond)
	}
	if f.excludesAll() {
		t.Skip("a filter that matches nothing is printed as None")
	}
	return f
}

// Parsing what PrintAuditQuery prints gives the filter back, in any zone.
func TestPrintParseIdentity(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f := genFilter(t)
		loc, _ := time.LoadLocation(rapid.SampledFrom(zones).Draw(t, "zone"))
		q := PrintAuditQuery(f)
		got, err := ParseAuditQuery(q, loc)
		if err != nil {
			t.Fatalf("ParseAuditQuery(%q): %v", q, err)
		}
		if d := cmp.Diff(f, got, cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("query %q (-printed +parsed):\n%s", q, d)
		}
	})
}

// genQuery draws a query as people write it: terms in any order, spaced
// and quoted at will, dates in the zone, bounds of every kind.
func genQuery(t *rapid.T) string {
	day := func(label string) string { return genTime(t, label).Format(time.DateOnly) }
	instant := func(label string) string {
		loc, _ := time.LoadLocation(rapid.SampledFrom(zones).Draw(t, label+"Zone"))
		return genTime(t, label).In(loc).Format(time.RFC3339Nano)
	}
	bound := func(label string) string {
		if rapid.Bool().Draw(t, label+"Date") {
			return day(label)
		}
		return instant(label)
	}
	action := rapid.SampledFrom(ActionStrings(Actions))
	email := rapid.SampledFrom([]string{"Alice@Acme.test", "bob@x.io", "acme", "*@acme.test", "ü@x.io"})
	terms := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) string {
		neg := rapid.SampledFrom([]string{"", "-"}).Draw(t, "neg")
		switch rapid.IntRange(0, 6).Draw(t, "kind") {
		case 0:
			return neg + "action:" + strings.Join(rapid.SliceOfN(action, 1, 3).Draw(t, "actions"), ",")
		case 1:
			return neg + rapid.SampledFrom([]string{"target", "actor", "TARGET"}).Draw(t, "field") + ":" + email.Draw(t, "email")
		case 2:
			return neg + "actor:\"" + email.Draw(t, "email") + "\""
		case 3:
			return fmt.Sprintf("client:%d", rapid.Int64Range(1, 3).Draw(t, "client"))
		case 4:
			return "created:" + rapid.SampledFrom([]string{"", ">", ">=", "<", "<="}).Draw(t, "op") + bound("at")
		case 5:
			return "created:" + bound("lo") + ".."
		default:
			return "created:" + rapid.SampledFrom([]string{"", "\"" + bound("lo")}).Draw(t, "lo") + ".." + bound("hi")
		}
	}), 0, 6).Draw(t, "terms")
	for i, term := range terms {
		if strings.HasPrefix(term, "created:\"") {
			terms[i] += "\""
		}
	}
	return strings.Join(terms, rapid.SampledFrom([]string{" ", "  ", "\t"}).Draw(t, "space"))
}

// Printing a parsed query gives its normal form: the same filter, written
// one way.
func TestParsePrintNormalises(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		q := genQuery(t)
		loc, _ := time.LoadLocation(rapid.SampledFrom(zones).Draw(t, "zone"))
		f, err := ParseAuditQuery(q, loc)
		if err != nil {
			t.Skip(err) // a second client, an empty range...
		}
		n := PrintAuditQuery(f)
		g, err := ParseAuditQuery(n, time.UTC)
		if err != nil {
			t.Fatalf("%q printed as %q: %v", q, n, err)
		}
		if d := cmp.Diff(f, g, cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("%q printed as %q (-parsed +reparsed):\n%s", q, n, d)
		}
		if again := PrintAuditQuery(g); again != n {
			t.Fatalf("%q printed as %q, then as %q", q, n, again)
		}
	})
}

func TestDescribeFilter(t *testing.T) {
	from := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		f    AuditFilter
		want string
	}{
		{AuditFilter{}, "all entries"},
		{AuditFilter{Actions: []Action{ActionClientCreated, ActionLicenseRevoked}, NotActors: []string{"bot@x.io"}, ClientID: 7, From: from},
			"action:client.created action:license.revoked -actor:bot@x.io client:7 created:2026-07-01T00:00:00Z.."},
		{AuditFilter{To: from.Add(1500 * time.Millisecond)}, "created:..2026-07-01T00:00:01.5Z"},
		{AuditFilter{Targets: []string{`a "b"\c`}}, `target:"a \"b\"\\c"`},
		{AuditFilter{None: true, ClientID: 3}, "-action:client.created -action:client.suspended -action:client.reactivated -action:client.deleted -action:license.allocated -action:license.revoked -action:license.key_reissued -action:user.added -action:user.role_changed -action:user.removed -action:ownership.transferred -action:token.created -action:token.revoked -action:password_link.created"},
	} {
		if got := DescribeFilter(tc.f); got != tc.want {
			t.Errorf("DescribeFilter(%+v) = %q, want %q", tc.f, got, tc.want)
		}
	}
}
