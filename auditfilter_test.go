package reseller_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/resellerconsole/reseller"
)

func TestIntersect(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 7, d, 0, 0, 0, 0, time.UTC) }
	created, deleted := reseller.ActionClientCreated, reseller.ActionClientDeleted
	acts := func(as ...reseller.Action) []reseller.Action { return as }
	page := reseller.AuditFilter{Order: reseller.OrderAsc, Cursor: "c", Limit: 7}
	with := func(f reseller.AuditFilter) reseller.AuditFilter {
		f.Order, f.Cursor, f.Limit = page.Order, page.Cursor, page.Limit
		return f
	}
	for name, tc := range map[string]struct {
		a, b, want reseller.AuditFilter
	}{
		"OK": {
			a:    with(reseller.AuditFilter{Actions: acts(created, deleted), Targets: []string{"a@x.io"}, From: day(1), To: day(20)}),
			b:    reseller.AuditFilter{Actions: acts(deleted), NotActors: []string{"bot@x.io"}, ClientID: 4, From: day(5), To: day(30), Order: reseller.OrderDesc},
			want: with(reseller.AuditFilter{Actions: acts(deleted), Targets: []string{"a@x.io"}, NotActors: []string{"bot@x.io"}, ClientID: 4, From: day(5), To: day(20)}),
		},
		"AnyAndSome":       {a: with(reseller.AuditFilter{}), b: reseller.AuditFilter{Actors: []string{"b@x.io"}}, want: with(reseller.AuditFilter{Actors: []string{"b@x.io"}})},
		"OtherActions":     {a: with(reseller.AuditFilter{Actions: acts(created)}), b: reseller.AuditFilter{Actions: acts(deleted)}, want: with(reseller.AuditFilter{None: true})},
		"OtherTargets":     {a: with(reseller.AuditFilter{Targets: []string{"a@x.io"}}), b: reseller.AuditFilter{Targets: []string{"b@x.io"}}, want: with(reseller.AuditFilter{None: true})},
		"OtherClient":      {a: with(reseller.AuditFilter{ClientID: 1}), b: reseller.AuditFilter{ClientID: 2}, want: with(reseller.AuditFilter{None: true})},
		"DisjointTimes":    {a: with(reseller.AuditFilter{To: day(5)}), b: reseller.AuditFilter{From: day(5)}, want: with(reseller.AuditFilter{None: true})},
		"RequiredExcluded": {a: with(reseller.AuditFilter{Actions: acts(created)}), b: reseller.AuditFilter{NotActions: acts(created)}, want: with(reseller.AuditFilter{None: true})},
		"NoneWins":         {a: with(reseller.AuditFilter{ClientID: 1}), b: reseller.AuditFilter{None: true}, want: with(reseller.AuditFilter{None: true})},
	} {
		t.Run(name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, reseller.Intersect(tc.a, tc.b), cmpopts.EquateEmpty()); d != "" {
				t.Fatalf("Intersect (-want +got):\n%s", d)
			}
		})
	}
}

func TestLoadZone(t *testing.T) {
	if loc, err := reseller.LoadZone("Europe/Berlin"); err != nil || loc.String() != "Europe/Berlin" {
		t.Fatalf("LoadZone(Europe/Berlin) = %v, %v", loc, err)
	}
	for _, bad := range []string{"", "Local", "Mars/Olympus", "Europe/" + string(make([]byte, 64))} {
		if _, err := reseller.LoadZone(bad); reseller.ErrorCode(err) != reseller.EINVALID {
			t.Errorf("LoadZone(%q): %v, want invalid", bad, err)
		}
	}
}
