package web

import (
	"net/url"
	"testing"
	"time"
)

func TestPresetRange(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	ny, _ := time.LoadLocation("America/New_York")
	day := func(loc *time.Location, y int, m time.Month, d int) time.Time {
		return time.Date(y, m, d, 0, 0, 0, 0, loc)
	}
	for _, tt := range []struct {
		name     string
		now      time.Time
		loc      *time.Location
		from, to time.Time
	}{
		// 30 June 16:00 UTC is already 1 July in Tokyo: a new quarter there.
		{"last-quarter", time.Date(2026, 6, 30, 16, 0, 0, 0, time.UTC), tokyo, day(tokyo, 2026, 4, 1), day(tokyo, 2026, 7, 1)},
		{"last-quarter", time.Date(2026, 6, 30, 16, 0, 0, 0, time.UTC), time.UTC, day(time.UTC, 2026, 1, 1), day(time.UTC, 2026, 4, 1)},
		{"last-quarter", time.Date(2026, 2, 10, 12, 0, 0, 0, time.UTC), ny, day(ny, 2025, 10, 1), day(ny, 2026, 1, 1)},
		{"this-quarter", time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC), ny, day(ny, 2026, 10, 1), day(ny, 2027, 1, 1)},
		{"today", time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC), ny, day(ny, 2026, 3, 8), day(ny, 2026, 3, 9)}, // a 23-hour day
		{"7d", time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC), time.UTC, day(time.UTC, 2026, 6, 25), day(time.UTC, 2026, 7, 2)},
		{"30d", time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC), time.UTC, day(time.UTC, 2026, 6, 2), day(time.UTC, 2026, 7, 2)},
	} {
		from, to, ok := presetRange(tt.name, tt.now, tt.loc)
		if !ok || !from.Equal(tt.from) || !to.Equal(tt.to) {
			t.Errorf("%s at %s in %s = [%s, %s), want [%s, %s)", tt.name, tt.now, tt.loc, from, to, tt.from, tt.to)
		}
	}
	if _, _, ok := presetRange("custom", time.Now(), time.UTC); ok {
		t.Error("custom is not a preset range")
	}
}

func TestPager(t *testing.T) {
	q := url.Values{"action": {"client.created"}}
	p := newPager("/audit", q, "c1")
	if p.Prev != "" || p.Next != "/audit?action=client.created&cursor=c1" {
		t.Fatalf("page 1: %+v", p)
	}
	q2, _ := url.ParseQuery("action=client.created&cursor=c1")
	p = newPager("/audit", q2, "c2")
	if p.Prev != "/audit?action=client.created" || p.Next != "/audit?action=client.created&back=c1&cursor=c2" {
		t.Fatalf("page 2: %+v", p)
	}
	q3, _ := url.ParseQuery("action=client.created&back=c1&cursor=c2")
	p = newPager("/audit", q3, "")
	if p.Prev != "/audit?action=client.created&cursor=c1" || p.Next != "" {
		t.Fatalf("page 3: %+v", p)
	}
	// Junk in back is dropped rather than passed to the store.
	q4, _ := url.ParseQuery("cursor=c3&back=c1.<x>.c2")
	if p = newPager("/clients", q4, ""); p.Prev != "/clients?back=c1&cursor=c2" {
		t.Fatalf("junk back: %+v", p)
	}
}

func TestRangeWords(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/Berlin")
	d := func(y int, m time.Month, dd int) time.Time { return time.Date(y, m, dd, 0, 0, 0, 0, loc) }
	for _, tt := range []struct {
		from, to time.Time
		want     string
	}{
		{d(2026, 4, 1), d(2026, 7, 1), "1 Apr 2026 – 30 Jun 2026"},
		{d(2026, 7, 1), d(2026, 7, 2), "1 Jul 2026"},
		{d(2026, 7, 1), time.Time{}, "since 1 Jul 2026"},
		{time.Time{}, d(2026, 7, 2), "until 1 Jul 2026"},
		{d(2026, 7, 1).Add(90 * time.Minute), d(2026, 7, 2), "1 Jul 2026 01:30 – 1 Jul 2026"},
	} {
		if got := rangeWords(tt.from, tt.to, loc); got != tt.want {
			t.Errorf("rangeWords(%s, %s) = %q, want %q", tt.from, tt.to, got, tt.want)
		}
	}
}
