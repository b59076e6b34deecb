package web

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/resellerconsole/reseller"
)

// auditPageSize is how many entries the audit page shows at once.
const auditPageSize = 50

// printLimit is how many entries the print view of the audit log holds at
// most; its header says so, and points to the export for the rest.
const printLimit = 5000

// filterKeys are the query parameters that make up an audit filter in the
// console's URLs; paging (cursor, back) comes on top.
var filterKeys = []string{"action", "preset", "from", "to", "target", "actor", "client_id", "q", "order"}

// Time range presets, computed in the viewer's zone.
var presets = []struct{ Value, Label string }{
	{"", "All time"},
	{"today", "Today"},
	{"7d", "Last 7 days"},
	{"30d", "Last 30 days"},
	{"this-quarter", "This quarter"},
	{"last-quarter", "Last quarter"},
	{"custom", "Custom range"},
}

type auditData struct {
	page
	Presets []struct{ Value, Label string }
	// The filter as the form shows it.
	Checked                 map[reseller.Action]bool
	Preset, From, To        string
	Target, Actor, Query    string
	ClientID                string
	Order                   string
	Filtered                bool
	RangeText               string // the time range in words, "" for all time
	Summary                 []string
	Err                     string // a filter problem other than the query's
	QueryErr                *queryErrorView
	Entries                 []*reseller.Entry
	Count                   int64
	Chart                   *chart
	Pager                   pager
	NewerLink, OlderLink    string
	ExportCSV, ExportJSONL  string
	ExportBundle            string
	OrderLink               string // the same filter in the other order
	Checkpoint              *reseller.Checkpoint
	CheckpointRoot          string
	CheckpointUnavailable   bool
	TimelineOf, ClearClient string
	// DistinctTargets is how many clients the matching entries are about.
	DistinctTargets int64
	// Print is the print view: every matching entry up to printLimit on
	// one page. PrintLink is the print view of this filter.
	Print      bool
	PrintLimit int
	PrintLink  string
	ScreenLink string // the print view's way back: the same filter on screen
	// Contradiction says why nothing can match when the query box and the
	// other filters ask for things no entry can be at once.
	Contradiction string
}

// queryErrorView shows a query box error in place: the query with the bad
// part marked, and the message.
type queryErrorView struct {
	Before, Bad, After string
	Msg                string
}

// auditPage is the audit log: filters, the match count, counts per period,
// the entries, paging and exports; printable.
func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	v := viewerFrom(ctx)
	q := r.URL.Query()
	if seq, ok := seqJump(q.Get("q")); ok {
		// "#1234" or "seq:1234" in the query box: that entry's own page.
		http.Redirect(w, r, fmt.Sprintf("/audit/%d", seq), http.StatusSeeOther)
		return nil
	}
	d := &auditData{page: s.newPage(w, r, "Audit log", "audit"), Presets: presets, Checked: map[reseller.Action]bool{}}
	for _, a := range q["action"] {
		for _, s := range strings.Split(a, ",") {
			d.Checked[reseller.Action(strings.TrimSpace(s))] = true
		}
	}
	d.Preset, d.From, d.To = q.Get("preset"), q.Get("from"), q.Get("to")
	if d.Preset == "" && (d.From != "" || d.To != "") {
		d.Preset = "custom"
	}
	d.Target, d.Actor, d.Query, d.ClientID, d.Order = q.Get("target"), q.Get("actor"), q.Get("q"), q.Get("client_id"), q.Get("order")
	d.Filtered = len(d.Checked) > 0 || d.Preset != "" || d.Target != "" || d.Actor != "" || d.Query != "" || d.ClientID != ""
	if d.ClientID != "" {
		d.TimelineOf = d.ClientID
		n := clone(q)
		n.Del("client_id")
		n.Del("cursor")
		n.Del("back")
		d.ClearClient = withQuery("/audit", n)
	}

	status := http.StatusOK
	f, err := s.consoleFilter(q, v.Loc, s.now(), reseller.OrderDesc)
	var qe *reseller.QueryError
	switch {
	case errors.As(err, &qe):
		d.QueryErr = newQueryErrorView(d.Query, qe)
		status = http.StatusBadRequest
	case reseller.ErrorCode(err) == reseller.EINVALID:
		d.Err = reseller.ErrorMessage(err)
		status = http.StatusBadRequest
	case err != nil:
		return err
	}
	d.Summary, d.RangeText = s.filterSummary(d, f, v.Loc)
	d.Print, d.PrintLimit = q.Get("print") != "", printLimit
	if err == nil && f.None {
		d.Contradiction = s.contradiction(q, v.Loc)
	}
	if err == nil {
		if err := s.fillAudit(r, d, f, q); err != nil {
			if reseller.ErrorCode(err) != reseller.EINVALID {
				return err
			}
			d.Err, status = reseller.ErrorMessage(err), http.StatusBadRequest
		}
	}
	if cp, err := s.store.Checkpoint(ctx); err == nil {
		d.Checkpoint, d.CheckpointRoot = cp, base64.StdEncoding.EncodeToString(cp.Root)
	} else if reseller.ErrorCode(err) == reseller.ELOGINCONSISTENT {
		// Nothing is signed for a log that failed its check; the banner says why.
		d.CheckpointUnavailable = true
		d.ExportBundle = ""
	} else if errors.Is(err, reseller.ErrNoSigner) {
		// No signing key on this server: no checkpoint, and no bundles.
		s.log.LogAttrs(ctx, slog.LevelDebug, "no checkpoint for the audit page", slog.String("error", err.Error()))
		d.CheckpointUnavailable = true
		d.ExportBundle = ""
	} else {
		return err
	}
	return s.render(w, r, status, "audit.html", d)
}

// fillAudit reads the page of entries, the count and the chart.
func (s *Server) fillAudit(r *http.Request, d *auditData, f reseller.AuditFilter, q url.Values) error {
	ctx := r.Context()
	v := viewerFrom(ctx)
	f.Limit = auditPageSize
	var next string
	var err error
	if d.Print {
		f.Cursor = ""
		d.Entries, err = s.firstEntries(ctx, f, printLimit)
	} else {
		d.Entries, next, err = s.store.ListEntries(ctx, f)
	}
	if err != nil {
		return err
	}
	if d.Targets, err = s.entryClients(ctx, d.Entries); err != nil {
		return err
	}
	d.Pager = newPager("/audit", q, next)
	if f.Order == reseller.OrderAsc {
		d.NewerLink, d.OlderLink = d.Pager.Next, d.Pager.Prev
	} else {
		d.NewerLink, d.OlderLink = d.Pager.Prev, d.Pager.Next
	}

	bucket, err := s.chooseBucket(r, f)
	if err != nil {
		return err
	}
	c, err := s.store.CountEntries(ctx, f, bucket, v.Loc)
	if err != nil {
		return err
	}
	d.Count, d.DistinctTargets = c.Total, c.DistinctTargets
	if bucket != "" && c.Total > 0 {
		d.Chart = newChart(c.Buckets, bucket, v.Loc, filterOnly(q))
	}

	fq := filterOnly(q)
	fq.Del("order")
	if f.Order == reseller.OrderAsc {
		fq.Set("order", reseller.OrderAsc)
	}
	d.ExportCSV = withQuery("/audit/export.csv", fq)
	d.ExportJSONL = withQuery("/audit/export.jsonl", fq)
	d.ExportBundle = withQuery("/audit/export.bundle", fq)
	oq := filterOnly(q)
	if f.Order == reseller.OrderAsc {
		oq.Del("order")
	} else {
		oq.Set("order", reseller.OrderAsc)
	}
	d.OrderLink = withQuery("/audit", oq)
	pq := filterOnly(q)
	pq.Set("print", "1")
	d.PrintLink = withQuery("/audit", pq)
	d.ScreenLink = withQuery("/audit", filterOnly(q))
	return nil
}

// errEnough stops an export early.
var errEnough = errors.New("enough entries")

// firstEntries returns the first n entries f matches, in f's order, read
// in one snapshot as an export is.
func (s *Server) firstEntries(ctx context.Context, f reseller.AuditFilter, n int) ([]*reseller.Entry, error) {
	var es []*reseller.Entry
	err := s.store.ExportEntries(ctx, f, func(e *reseller.Entry) error {
		if len(es) == n {
			return errEnough
		}
		es = append(es, e)
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, err
	}
	return es, nil
}

// entryClients looks up the clients of entries, to tell apart the clients
// that had the same email (one deleted, the next with its email reused).
func (s *Server) entryClients(ctx context.Context, es []*reseller.Entry) (map[int64]*reseller.Client, error) {
	var ids []int64
	seen := map[int64]bool{}
	for _, e := range es {
		if !seen[e.Target.ID] {
			seen[e.Target.ID] = true
			ids = append(ids, e.Target.ID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return s.store.FindClients(ctx, ids)
}

// seqJump reads a query that names one entry: #1234 or seq:1234.
func seqJump(q string) (int64, bool) {
	q = strings.TrimSpace(q)
	if rest, ok := strings.CutPrefix(q, "#"); ok {
		return reseller.ParseID(rest)
	}
	if rest, ok := strings.CutPrefix(strings.ToLower(q), "seq:"); ok {
		return reseller.ParseID(rest)
	}
	return 0, false
}

// contradiction explains a filter that can match nothing because the query
// box and the other filters (boxes, range, people) disagree: each alone
// could match, together they cannot. "" when that is not the reason.
func (s *Server) contradiction(q url.Values, loc *time.Location) string {
	text := q.Get("q")
	if text == "" {
		return ""
	}
	form := clone(q)
	form.Del("q")
	ff, err := s.consoleFilter(form, loc, s.now(), reseller.OrderDesc)
	if err != nil || ff.None {
		return ""
	}
	qf, err := reseller.ParseAuditQuery(text, loc)
	if err != nil || qf.None {
		return ""
	}
	labels := func(as []reseller.Action) string {
		var ls []string
		for _, a := range as {
			ls = append(ls, a.Label())
		}
		return strings.Join(ls, ", ")
	}
	switch both := reseller.Intersect(ff, qf); {
	case len(ff.Actions) > 0 && len(qf.Actions) > 0 && both.None && !slices.ContainsFunc(qf.Actions, func(a reseller.Action) bool { return slices.Contains(ff.Actions, a) }):
		return fmt.Sprintf("Your query asks for %s but the boxes only allow %s, so nothing can match. Change the query or the boxes.", labels(qf.Actions), labels(ff.Actions))
	case len(ff.Actions) > 0 && both.None && len(qf.NotActions) > 0:
		return fmt.Sprintf("Your query leaves out %s, and the boxes allow only %s, so nothing can match. Change the query or the boxes.", labels(qf.NotActions), labels(ff.Actions))
	case ff.ClientID != 0 && qf.ClientID != 0 && ff.ClientID != qf.ClientID:
		return fmt.Sprintf("Your query asks for client %d but the page is filtered to client %d, so nothing can match.", qf.ClientID, ff.ClientID)
	case both.None:
		return "Your query and the filters below it (action boxes, time range, people) ask for things no entry can be at once, so nothing can match. Change one of them."
	}
	return ""
}

// filterOnly returns the filter parameters of q, without paging.
func filterOnly(q url.Values) url.Values {
	n := url.Values{}
	for _, k := range filterKeys {
		if vs, ok := q[k]; ok {
			n[k] = append([]string(nil), vs...)
		}
	}
	return n
}

// consoleFilter turns the console's query parameters into a filter: the
// API's parameters (parsed by the API's own code), plus a preset range
// computed in the viewer's zone.
func (s *Server) consoleFilter(q url.Values, loc *time.Location, now time.Time, defaultOrder string) (reseller.AuditFilter, error) {
	p := params{}
	for _, k := range []string{"action", "target", "actor", "client_id", "q", "order", "cursor"} {
		if vs, ok := q[k]; ok {
			p[k] = vs
		}
	}
	switch preset := q.Get("preset"); preset {
	case "", "custom":
		for _, k := range []string{"from", "to"} {
			if v := strings.TrimSpace(q.Get(k)); v != "" {
				p[k] = []string{v}
			}
		}
	default:
		from, to, ok := presetRange(preset, now, loc)
		if !ok {
			return reseller.AuditFilter{}, reseller.Errorf(reseller.EINVALID, "Unknown time range %q; choose one from the list.", preset)
		}
		p["from"] = []string{from.Format(time.RFC3339)}
		p["to"] = []string{to.Format(time.RFC3339)}
	}
	return filterFromParams(p, loc, defaultOrder)
}

// presetRange returns the [from, to) of a preset at now in loc. "Last
// quarter" is the calendar quarter before the current one.
func presetRange(name string, now time.Time, loc *time.Location) (from, to time.Time, ok bool) {
	n := now.In(loc)
	y, m, d := n.Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, loc)
	tomorrow := today.AddDate(0, 0, 1)
	quarter := time.Date(y, m-(m-1)%3, 1, 0, 0, 0, 0, loc)
	switch name {
	case "today":
		return today, tomorrow, true
	case "7d":
		return today.AddDate(0, 0, -6), tomorrow, true
	case "30d":
		return today.AddDate(0, 0, -29), tomorrow, true
	case "this-quarter":
		return quarter, quarter.AddDate(0, 3, 0), true
	case "last-quarter":
		return quarter.AddDate(0, -3, 0), quarter, true
	}
	return time.Time{}, time.Time{}, false
}

// chooseBucket picks the period of the chart from the filter's range: days
// up to about two months, weeks up to a year, months beyond.
func (s *Server) chooseBucket(r *http.Request, f reseller.AuditFilter) (string, error) {
	from, to := f.From, f.To
	if to.IsZero() {
		to = s.now()
	}
	if from.IsZero() {
		first := f
		first.Order, first.Cursor, first.Limit = reseller.OrderAsc, "", 1
		es, _, err := s.store.ListEntries(r.Context(), first)
		if err != nil {
			return "", err
		}
		if len(es) == 0 {
			return "", nil
		}
		from = es[0].Time
	}
	switch span := to.Sub(from); {
	case span <= 62*24*time.Hour:
		return reseller.BucketDay, nil
	case span <= 366*24*time.Hour:
		return reseller.BucketWeek, nil
	}
	return reseller.BucketMonth, nil
}

func newQueryErrorView(q string, e *reseller.QueryError) *queryErrorView {
	pos := min(max(e.Pos, 0), len(q))
	end := min(pos+max(e.Len, 0), len(q))
	v := &queryErrorView{Before: q[:pos], Bad: q[pos:end], After: q[end:], Msg: e.Msg}
	if v.Bad == "" {
		v.Bad = " " // mark the place even when the problem is something missing
	}
	return v
}

// filterSummary says in words what the page shows, for the print header
// and the screen: one item per filter.
func (s *Server) filterSummary(d *auditData, f reseller.AuditFilter, loc *time.Location) (items []string, rangeText string) {
	var labels []string
	for _, a := range reseller.Actions {
		if d.Checked[a] {
			labels = append(labels, a.Label())
		}
	}
	if len(labels) > 0 {
		items = append(items, "Actions: "+strings.Join(labels, ", "))
	}
	if d.Target != "" {
		items = append(items, "Target: "+d.Target)
	}
	if d.Actor != "" {
		items = append(items, "Performed by: "+d.Actor)
	}
	if d.ClientID != "" {
		items = append(items, "Client id: "+d.ClientID)
	}
	if d.Query != "" {
		items = append(items, "Query: "+d.Query)
	}
	if !f.From.IsZero() || !f.To.IsZero() {
		rangeText = rangeWords(f.From, f.To, loc)
		items = append(items, "Time: "+rangeText)
	}
	if f.Order == reseller.OrderAsc {
		items = append(items, "Oldest first")
	}
	if len(items) == 0 {
		items = []string{"All entries, newest first"}
	}
	return items, rangeText
}

// rangeWords writes [from, to) as people read it: whole days as dates
// (the end day included), other bounds as times.
func rangeWords(from, to time.Time, loc *time.Location) string {
	day := func(t time.Time) bool {
		l := t.In(loc)
		return l.Hour() == 0 && l.Minute() == 0 && l.Second() == 0 && l.Nanosecond() == 0
	}
	format := func(t time.Time, end bool) string {
		if day(t) {
			if end {
				t = t.In(loc).AddDate(0, 0, -1)
			}
			return t.In(loc).Format("2 Jan 2006")
		}
		return t.In(loc).Format("2 Jan 2006 15:04")
	}
	switch {
	case from.IsZero():
		return "until " + format(to, true)
	case to.IsZero():
		return "since " + format(from, false)
	}
	a, b := format(from, false), format(to, true)
	if a == b {
		return a
	}
	return fmt.Sprintf("%s – %s", a, b)
}
