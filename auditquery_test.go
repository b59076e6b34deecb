package reseller_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/resellerconsole/reseller"
)

func TestParseAuditQuery(t *testing.T) {
	paris := must(time.LoadLocation("Europe/Paris"))
	utc := func(s string) time.Time { return must(time.Parse(time.RFC3339Nano, s)) }
	acts := func(as ...reseller.Action) []reseller.Action { return as }
	tests := []struct {
		q    string
		loc  *time.Location
		want reseller.AuditFilter
	}{
		{q: ""},
		{q: "  \t "},
		{q: "action:client.suspended actor:Alice@Acme.test created:2026-07-01..2026-09-30 -target:test@x.io",
			want: reseller.AuditFilter{Actions: acts(reseller.ActionClientSuspended), Actors: []string{"alice@acme.test"},
				From: utc("2026-07-01T00:00:00Z"), To: utc("2026-10-01T00:00:00Z"), NotTargets: []string{"test@x.io"}}},
		{q: "created:2026-07-01..2026-09-30", loc: paris,
			want: reseller.AuditFilter{From: utc("2026-06-30T22:00:00Z"), To: utc("2026-09-30T22:00:00Z")}},
		{q: "action:client.created,client.deleted action:license.revoked",
			want: reseller.AuditFilter{Actions: acts(reseller.ActionClientCreated, reseller.ActionClientDeleted, reseller.ActionLicenseRevoked)}},
		{q: "-action:client.created,client.reactivated -actor:a@x.io -target:b@x.io target:c@x.io actor:d@x.io",
			want: reseller.AuditFilter{NotActions: acts(reseller.ActionClientCreated, reseller.ActionClientReactivated),
				NotActors: []string{"a@x.io"}, NotTargets: []string{"b@x.io"}, Targets: []string{"c@x.io"}, Actors: []string{"d@x.io"}}},
		{q: `target:"Bob@X.io"  ACTION:"license.allocated"`,
			want: reseller.AuditFilter{Targets: []string{"bob@x.io"}, Actions: acts(reseller.ActionLicenseAllocated)}},
		{q: `actor:Bob target:*@acme.test`, // partial emails are searches
			want: reseller.AuditFilter{Actors: []string{"*bob*"}, Targets: []string{"*@acme.test"}}},
		{q: "client:42 client:42", want: reseller.AuditFilter{ClientID: 42}},
		{q: "created:2026-07-01..", want: reseller.AuditFilter{From: utc("2026-07-01T00:00:00Z")}},
		{q: "created:..2026-07-01", want: reseller.AuditFilter{To: utc("2026-07-02T00:00:00Z")}},
		{q: "created:>=2026-07-01", want: reseller.AuditFilter{From: utc("2026-07-01T00:00:00Z")}},
		{q: "created:>2026-07-01", want: reseller.AuditFilter{From: utc("2026-07-02T00:00:00Z")}},
		{q: "created:<2026-08-01", want: reseller.AuditFilter{To: utc("2026-08-01T00:00:00Z")}},
		{q: "created:<=2026-08-01", want: reseller.AuditFilter{To: utc("2026-08-02T00:00:00Z")}},
		{q: "created:2026-07-01", loc: paris, want: reseller.AuditFilter{From: utc("2026-06-30T22:00:00Z"), To: utc("2026-07-01T22:00:00Z")}},
		{q: "created:>=2026-07-01T10:00:00+02:00", want: reseller.AuditFilter{From: utc("2026-07-01T08:00:00Z")}},
		// One rule for bounds: an end time is excluded, as the API's to= is.
		{q: "created:2026-07-01T10:00:00Z..2026-07-01T11:00:00Z",
			want: reseller.AuditFilter{From: utc("2026-07-01T10:00:00Z"), To: utc("2026-07-01T11:00:00Z")}},
		{q: "created:2026-07-01T10:00:00Z", want: reseller.AuditFilter{From: utc("2026-07-01T10:00:00Z"), To: utc("2026-07-01T10:00:00.000001Z")}},
		{q: "created:<=2026-07-01T10:00:00Z", want: reseller.AuditFilter{To: utc("2026-07-01T10:00:00.000001Z")}},
		{q: "created:>2026-07-01T10:00:00Z", want: reseller.AuditFilter{From: utc("2026-07-01T10:00:00.000001Z")}},
		// Excluding every action matches nothing.
		{q: "-action:client.created,client.suspended,client.reactivated,client.deleted,license.allocated,license.revoked,license.key_reissued,user.added,user.role_changed,user.removed,ownership.transferred,token.created,token.revoked,password_link.created target:a@x.io",
			want: reseller.AuditFilter{None: true}},
		{q: "action:client.created -action:client.created", want: reseller.AuditFilter{None: true}},
		{q: "created:>=2026-07-01 created:<2026-08-01 created:2026-06-01..2026-12-31",
			want: reseller.AuditFilter{From: utc("2026-07-01T00:00:00Z"), To: utc("2026-08-01T00:00:00Z")}},
		{q: `created:"2026-07-01..2026-07-31"`, want: reseller.AuditFilter{From: utc("2026-07-01T00:00:00Z"), To: utc("2026-08-01T00:00:00Z")}},
		{q: `target:"ü@x.io"`, want: reseller.AuditFilter{Targets: []string{"ü@x.io"}}},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			got, err := reseller.ParseAuditQuery(tt.q, tt.loc)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); d != "" {
				t.Fatalf("filter (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseAuditQueryErrors(t *testing.T) {
	const actions = "client.created, client.suspended, client.reactivated, client.deleted, license.allocated, license.revoked"
	tests := []struct {
		q        string
		pos, len int
		msg      string
	}{
		{"acton:client.created", 0, 5, `unknown field "acton" at column 1; use action, actor, target, client or created`},
		{"action:client.created -acton:x", 23, 5, `unknown field "acton" at column 24; use action, actor, target, client or created`},
		{`target:"ü@x.io" acton:x`, 17, 5, `unknown field "acton" at column 17;`},
		{"Created:today", 8, 5, `"today" is not a date at column 9`},
		{"foo", 0, 3, `bare word "foo" at column 1; search terms are field:value, e.g. action:client.suspended or target:bob@example.com`},
		{"action:client.created bob@x.io", 22, 8, `bare word "bob@x.io" at column 23; to filter by email write target:bob@x.io (the client) or actor:bob@x.io (who did it)`},
		{"client.deleted", 0, 14, `bare word "client.deleted" at column 1; to filter by action write action:client.deleted`},
		{`"two words"`, 0, 11, `bare word "two words" at column 1; search terms are field:value, e.g. action:client.suspended or target:bob@example.com`},
		{"-foo", 0, 4, `bare word "-foo" at column 1`},
		{":x", 0, 1, `missing field name before ":" at column 1; use action, actor, target, client or created`},
		{`act"ion:x`, 3, 1, `unexpected quote in a field name at column 4; quote the value only, as field:"value"`},
		{"action:", 0, 7, `empty value for action at column 1; give a value, e.g. action:...`},
		{`target:""`, 0, 9, `empty value for target at column 1`},
		{`target:"bob@x.io`, 7, 9, `unterminated quote at column 8; close it with another "`},
		{`target:"bob@x.io"x`, 17, 1, `unexpected text after a closing quote at column 18; put a space between terms`},
		{`target:bob"x`, 10, 1, `unexpected quote inside a value at column 11; quote the whole value, as field:"value"`},
		{"action:client.exploded", 7, 15, `unknown action "client.exploded" at column 8; use one of ` + actions},
		{"action:client.created,nope", 22, 4, `unknown action "nope" at column 23`},
		{`action:"client.created,nope"`, 23, 4, `unknown action "nope" at column 24`},
		{"action:client.created,,client.deleted", 7, 30, `empty action in a list at column 8`},
		{"action:client.created,", 7, 15, `empty action in a list at column 8`},
		{"actor:***", 6, 3, `actor "***" is not an email address or a search at column 7; give an email address, or part of one (* for any characters)`},
		{`target:"Bob <b@x.io>"`, 7, 14, `target "Bob <b@x.io>" is not an email address or a search at column 8; give an email address, or part of one (* for any characters)`},
		{"client:abc", 7, 3, `client "abc" is not a positive integer at column 8; use the client's numeric id, e.g. client:42`},
		{"client:0", 7, 1, `client "0" is not a positive integer at column 8`},
		{"client:-3", 7, 2, `client "-3" is not a positive integer`},
		{"client:1 client:2", 9, 8, `a second client (2) at column 10; an entry has one client; the first client: is at column 1`},
		{"-client:1", 0, 9, `client cannot be excluded at column 1; only action, actor and target can be excluded`},
		{"-created:2026-07-01", 0, 19, `created cannot be excluded at column 1`},
		{"created:2026-13-01", 8, 10, `"2026-13-01" is not a date at column 9; write dates as year-month-day, e.g. 2026-07-31`},
		{"created:>=07/01/2026", 10, 10, `"07/01/2026" is not a date at column 11`},
		{"created:2026-07-01..2026-07-32", 20, 10, `"2026-07-32" is not a date at column 21`},
		{"created:>=", 10, 1, `"" is not a date at column 11`},
		{"created:..", 8, 2, `a range needs at least one date at column 9`},
		{"created:2026-08-01..2026-07-01", 0, 30, `the created range is empty (from 2026-08-01T00:00:00Z to 2026-07-02T00:00:00Z) at column 1; the start must be before the end`},
		{"created:>=2026-08-01 created:<2026-08-01", 21, 19, `the created range is empty (from 2026-08-01T00:00:00Z to 2026-08-01T00:00:00Z) at column 22`},
		{"-", 0, 1, `a lone "-" at column 1; write -field:value to exclude, e.g. -action:client.created`},
		{"action:client.created - actor:a@x.io", 22, 1, `a lone "-" at column 23`},
		{strings.Repeat("a", reseller.MaxQueryLen+1), reseller.MaxQueryLen, 1, `the query is longer than 2000 characters at column 2001`},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			f, err := reseller.ParseAuditQuery(tt.q, time.UTC)
			var qe *reseller.QueryError
			if !errors.As(err, &qe) {
				t.Fatalf("got %+v, %v; want a *QueryError", f, err)
			}
			if qe.Pos != tt.pos || qe.Len != tt.len || !strings.HasPrefix(qe.Msg, tt.msg) || qe.Error() != qe.Msg {
				t.Fatalf("got {Pos: %d, Len: %d, Msg: %q}\nwant {Pos: %d, Len: %d, Msg: %q...}", qe.Pos, qe.Len, qe.Msg, tt.pos, tt.len, tt.msg)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
