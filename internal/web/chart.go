package web

import (
	"fmt"
	"net/url"
	"time"

	"github.com/resellerconsole/reseller"
)

// The audit page's counts per period, drawn on the server as an SVG bar
// chart: no script, and it prints. Each bar links to the entries of its
// period. Geometry is in viewBox units; the SVG scales to its box.

const (
	chartW, chartH = 1000, 190
	chartLeft      = 44 // room for the count labels
	chartBottom    = 24 // room for the period labels
	chartTop       = 8
)

type chart struct {
	W, H    int
	Bucket  string
	Bars    []bar
	YLabels []axisLabel
	XLabels []axisLabel
	Caption string
	Max     int64
	Left    int
	Base    float64 // y of the baseline
	Right   float64
}

type bar struct {
	X, Y, W, H float64
	Count      int64
	Label      string // the period, in words
	Href       string // the entries of the period
}

type axisLabel struct {
	X, Y float64
	Text string
}

// newChart lays out the buckets; q is the page's filter, which each bar's
// link narrows to the bar's period.
func newChart(bs []reseller.BucketCount, bucket string, loc *time.Location, q url.Values) *chart {
	c := &chart{W: chartW, H: chartH, Bucket: bucket, Left: chartLeft, Right: chartW}
	for _, b := range bs {
		c.Max = max(c.Max, b.Count)
	}
	top := niceCeil(c.Max)
	plotH := float64(chartH - chartTop - chartBottom)
	c.Base = float64(chartH - chartBottom)
	slot := float64(chartW-chartLeft) / float64(max(len(bs), 1))
	gap := min(slot*0.2, 6)
	for i, b := range bs {
		h := float64(b.Count) / float64(top) * plotH
		if b.Count > 0 {
			h = max(h, 1.5) // a one is still visible
		}
		x := float64(chartLeft) + float64(i)*slot
		c.Bars = append(c.Bars, bar{
			X: round1(x + gap/2), Y: round1(c.Base - h), W: round1(slot - gap), H: round1(h),
			Count: b.Count, Label: periodLabel(b.Start.In(loc), bucket), Href: periodLink(b.Start.In(loc), bucket, q),
		})
	}
	for _, f := range []float64{0, 0.5, 1} {
		n := int64(float64(top) * f)
		if f == 0.5 && top < 2 {
			continue
		}
		c.YLabels = append(c.YLabels, axisLabel{X: chartLeft - 6, Y: round1(c.Base - f*plotH + 4), Text: formatCount(n)})
	}
	// About six period labels, evenly spread.
	step := max(1, (len(bs)+5)/6)
	for i := 0; i < len(bs); i += step {
		c.XLabels = append(c.XLabels, axisLabel{X: round1(float64(chartLeft) + (float64(i)+0.5)*slot), Y: chartH - 6,
			Text: shortPeriod(bs[i].Start.In(loc), bucket)})
	}
	c.Caption = fmt.Sprintf("Entries per %s, in %s; the tallest bar is %s.", bucket, loc, plural(c.Max, "entry", "entries"))
	return c
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten, for axis labels.
func niceCeil(n int64) int64 {
	if n <= 1 {
		return 1
	}
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
	}
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

// periodLabel names a period in full: "Tue 7 Jul 2026", "Week of 6 Jul 2026", "July 2026".
func periodLabel(t time.Time, bucket string) string {
	switch bucket {
	case reseller.BucketDay:
		return t.Format("Mon 2 Jan 2006")
	case reseller.BucketWeek:
		return "Week of " + t.Format("2 Jan 2006")
	case reseller.BucketMonth:
		return t.Format("January 2006")
	}
	return fmt.Sprintf("Q%d %d", (int(t.Month())+2)/3, t.Year())
}

// shortPeriod is the axis label of a period.
func shortPeriod(t time.Time, bucket string) string {
	switch bucket {
	case reseller.BucketDay, reseller.BucketWeek:
		return t.Format("2 Jan")
	case reseller.BucketMonth:
		return t.Format("Jan 2006")
	}
	return periodLabel(t, bucket)
}

// periodLink is the audit page for the same filter narrowed to one period,
// as a custom range of whole days.
func periodLink(start time.Time, bucket string, q url.Values) string {
	var last time.Time
	switch bucket {
	case reseller.BucketDay:
		last = start
	case reseller.BucketWeek:
		last = start.AddDate(0, 0, 6)
	case reseller.BucketMonth:
		last = start.AddDate(0, 1, -1)
	default:
		last = start.AddDate(0, 3, -1)
	}
	n := clone(q)
	n.Set("preset", "custom")
	n.Set("from", start.Format(time.DateOnly))
	n.Set("to", last.Format(time.DateOnly))
	return withQuery("/audit", n)
}
