package web

import (
	"fmt"
	"time"

	"github.com/resellerconsole/reseller"
)

// A client's security score per day, drawn on the server as an SVG bar
// chart: one bar per day at the day's last score, on a fixed 0–100 scale.
// The page's table holds the same numbers; the chart has no links.

const (
	scoreW, scoreH = 600, 220
	scoreLeft      = 34
	scoreBottom    = 24
	scoreTop       = 8
)

type scoreChart struct {
	W, H    int
	Left    int
	Right   int
	Base    float64
	Bars    []scoreBar
	Grid    []axisLabel // the 0, 50 and 100 lines, with their labels
	XLabels []axisLabel
	Caption string
}

type scoreBar struct {
	X, Y, W, H float64
	Class      string
}

// newScoreChart lays out days (oldest first); nil when no day has a score.
func newScoreChart(days []reseller.ActivityDay) *scoreChart {
	c := &scoreChart{W: scoreW, H: scoreH, Left: scoreLeft, Right: scoreW, Base: scoreH - scoreBottom}
	plotH := float64(scoreH - scoreTop - scoreBottom)
	slot := float64(scoreW-scoreLeft) / float64(max(len(days), 1))
	gap := min(slot*0.25, 6)
	n, low, high, sum := 0, 101, -1, 0
	for i, d := range days {
		if d.ScoreLast == nil {
			continue
		}
		v := *d.ScoreLast
		n, sum, low, high = n+1, sum+v, min(low, v), max(high, v)
		h := max(float64(v)/100*plotH, 1.5)
		class := "bar"
		switch {
		case v < 50:
			class += " bar-poor"
		case v < 80:
			class += " bar-fair"
		}
		c.Bars = append(c.Bars, scoreBar{X: round1(float64(scoreLeft) + float64(i)*slot + gap/2), Y: round1(c.Base - h),
			W: round1(slot - gap), H: round1(h), Class: class})
	}
	if n == 0 {
		return nil
	}
	for _, v := range []int{0, 50, 100} {
		c.Grid = append(c.Grid, axisLabel{X: scoreLeft - 6, Y: round1(c.Base - float64(v)/100*plotH), Text: fmt.Sprint(v)})
	}
	step := max(1, (len(days)+4)/5)
	for i := 0; i < len(days); i += step {
		c.XLabels = append(c.XLabels, axisLabel{X: round1(float64(scoreLeft) + (float64(i)+0.5)*slot), Y: scoreH - 6, Text: shortDay(days[i].Day)})
	}
	c.Caption = fmt.Sprintf("Security score at the end of each day, %s to %s (UTC days): lowest %d, highest %d, average %d over %s with a report.",
		shortDay(days[0].Day), shortDay(days[len(days)-1].Day), low, high, (sum+n/2)/n, plural(n, "day", "days"))
	return c
}

// shortDay writes a 2006-01-02 day as "7 Jul".
func shortDay(day string) string {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return day
	}
	return t.Format("2 Jan")
}

// longDay writes a 2006-01-02 day as "Tue 7 Jul 2026".
func longDay(day string) string {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return day
	}
	return t.Format("Mon 2 Jan 2006")
}
