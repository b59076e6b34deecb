package reseller_test

import (
	"strings"
	"testing"
	"time"

	"github.com/resellerconsole/reseller"
)

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{
		"Bob@Example.COM":                  "bob@example.com",
		"  a.b+c@x.io ":                    "a.b+c@x.io",
		"":                                 "",
		"bob":                              "",
		"bob@localhost":                    "",
		"Bob <bob@x.io>":                   "",
		"bob@x.io, c@x.io":                 "",
		strings.Repeat("a", 250) + "@x.io": "",
	} {
		got, err := reseller.NormalizeEmail(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
		if err != nil && reseller.ErrorCode(err) != reseller.EINVALID {
			t.Errorf("NormalizeEmail(%q): code %q", in, reseller.ErrorCode(err))
		}
	}
}

func TestEmailPattern(t *testing.T) {
	for in, want := range map[string]string{
		"Bob@X.io":    "bob@x.io",
		"acme":        "*acme*",
		"*@Acme.test": "*@acme.test",
		"bob@":        "*bob@*",
		"":            "",
		"***":         "",
		"two words":   "",
		"a<b":         "",
	} {
		got, err := reseller.EmailPattern(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("EmailPattern(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestClientStateMachine(t *testing.T) {
	ok, suspended, bad := "", reseller.ECLIENTSUSPENDED, reseller.EINVALIDTRANSITION
	want := map[reseller.ClientStatus]map[reseller.ClientAction]string{
		reseller.ClientActive:    {reseller.DoSuspend: ok, reseller.DoReactivate: bad, reseller.DoDelete: ok, reseller.DoAllocate: ok, reseller.DoRevoke: ok},
		reseller.ClientSuspended: {reseller.DoSuspend: bad, reseller.DoReactivate: ok, reseller.DoDelete: ok, reseller.DoAllocate: suspended, reseller.DoRevoke: ok},
		reseller.ClientDeleted:   {reseller.DoSuspend: bad, reseller.DoReactivate: bad, reseller.DoDelete: bad, reseller.DoAllocate: bad, reseller.DoRevoke: bad},
	}
	for s, row := range want {
		for a, code := range row {
			if got := reseller.ErrorCode(s.Check(a)); got != code {
				t.Errorf("%s.Check(%s) = %q, want %q", s, a, got, code)
			}
		}
	}
	next := map[reseller.ClientAction]reseller.ClientStatus{
		reseller.DoSuspend: reseller.ClientSuspended, reseller.DoReactivate: reseller.ClientActive, reseller.DoDelete: reseller.ClientDeleted,
	}
	for a, s := range next {
		if got := reseller.ClientActive.Next(a); got != s {
			t.Errorf("Next(%s) = %s, want %s", a, got, s)
		}
	}
}

func TestRolePermissions(t *testing.T) {
	perms := []reseller.Permission{reseller.PermViewClients, reseller.PermManageClients, reseller.PermDeleteClients, reseller.PermManageTeam, reseller.PermViewAudit}
	// The design's role table, one row per role, in the order of perms.
	want := map[reseller.Role]string{
		reseller.RoleOwner:    "yyyyy",
		reseller.RoleAdmin:    "yyyyy",
		reseller.RoleOperator: "yy--y",
		reseller.RoleAuditor:  "y---y",
		"intruder":            "-----",
	}
	for r, row := range want {
		for i, p := range perms {
			if r.Can(p) != (row[i] == 'y') {
				t.Errorf("%s.Can(%d) = %v", r, p, r.Can(p))
			}
		}
	}
}

func TestParseTimeBound(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	for _, tc := range []struct {
		in   string
		end  bool
		want string
	}{
		{"2026-07-01T10:00:00+02:00", false, "2026-07-01T08:00:00Z"},
		{"2026-07-01", false, "2026-06-30T15:00:00Z"},
		{"2026-07-01", true, "2026-07-01T15:00:00Z"}, // a date as "to" includes the day
	} {
		got, err := reseller.ParseTimeBound("from", tc.in, tokyo, tc.end)
		if err != nil || got.Format(time.RFC3339) != tc.want {
			t.Errorf("ParseTimeBound(%q, end=%v) = %v, %v; want %s", tc.in, tc.end, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "2026-13-01", "2026-07-01 10:00"} {
		if _, err := reseller.ParseTimeBound("from", bad, tokyo, false); reseller.ErrorCode(err) != reseller.EINVALID || !strings.Contains(err.Error(), "from") {
			t.Errorf("ParseTimeBound(%q): %v, want invalid naming the field", bad, err)
		}
	}
}

func TestAuditFilterValidate(t *testing.T) {
	f := reseller.AuditFilter{Targets: []string{" Bob@X.io "}}
	if err := f.Validate(); err != nil || f.Targets[0] != "bob@x.io" || f.Order != reseller.OrderDesc || f.Limit != reseller.DefaultPageSize {
		t.Fatalf("Validate defaults: %+v, %v", f, err)
	}
	now := time.Now()
	for name, f := range map[string]reseller.AuditFilter{
		"action": {Actions: []reseller.Action{"client.renamed"}},
		"range":  {From: now, To: now},
		"order":  {Order: "up"},
		"limit":  {Limit: reseller.MaxPageSize + 1},
	} {
		if err := f.Validate(); reseller.ErrorCode(err) != reseller.EINVALID {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
}
