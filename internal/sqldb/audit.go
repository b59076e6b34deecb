package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
)

// The audit log is read by seq ranges. Appends never let time go backwards
// (see appendEntry), so a time range is one seq range, found with two index
// seeks; every filtered query then walks one (account_id, column, seq) index.

// auditQuery is a filter turned into SQL over one consistent snapshot.
type auditQuery struct {
	accountID int64
	where     strings.Builder
	args      []any
	lo, hi    int64 // seq range [lo, hi)
	filtered  bool  // whether anything but the seq range filters rows
}

// seqAt returns the first seq whose time is at or after t, or size+1.
func (tx *Tx) seqAt(ctx context.Context, accountID int64, t time.Time, size int64) (int64, error) {
	var seq int64
	err := tx.queryRow(ctx, "SELECT seq FROM audit_entries WHERE account_id = ? AND time_us >= ? ORDER BY time_us, seq LIMIT 1",
		accountID, micros(t)).Scan(&seq)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return size + 1, nil
		}
		return 0, err
	}
	return seq, nil
}

func (tx *Tx) logSize(ctx context.Context, accountID int64) (int64, error) {
	var size int64
	err := tx.queryRow(ctx, "SELECT size FROM audit_heads WHERE account_id = ?", accountID).Scan(&size)
	return size, notFound(err, "Account", accountID)
}

// newAuditQuery builds the WHERE clause of f, without cursor and order.
func (tx *Tx) newAuditQuery(ctx context.Context, accountID int64, f *reseller.AuditFilter) (*auditQuery, error) {
	size, err := tx.logSize(ctx, accountID)
	if err != nil {
		return nil, err
	}
	q := &auditQuery{accountID: accountID, lo: 1, hi: size + 1}
	if !f.From.IsZero() {
		if q.lo, err = tx.seqAt(ctx, accountID, f.From, size); err != nil {
			return nil, err
		}
	}
	if !f.To.IsZero() {
		if q.hi, err = tx.seqAt(ctx, accountID, f.To, size); err != nil {
			return nil, err
		}
	}
	if f.None {
		q.hi = q.lo // an empty range of seqs: nothing to read
	}
	q.where.WriteString("account_id = ?")
	q.args = append(q.args, accountID)
	in := func(col string, not bool, vals []string) {
		if len(vals) == 0 {
			return
		}
		q.filtered = true
		q.where.WriteString(" AND " + col)
		if not {
			q.where.WriteString(" NOT")
		}
		q.where.WriteString(" IN (")
		for i, v := range vals {
			if i > 0 {
				q.where.WriteString(", ")
			}
			q.where.WriteString("?")
			q.args = append(q.args, v)
		}
		q.where.WriteString(")")
	}
	in("action", false, reseller.ActionStrings(f.Actions))
	in("action", true, reseller.ActionStrings(f.NotActions))
	q.emails("target_email", false, f.Targets, in)
	q.emails("target_email", true, f.NotTargets, in)
	q.emails("actor_email", false, f.Actors, in)
	q.emails("actor_email", true, f.NotActors, in)
	if f.ClientID != 0 {
		q.filtered = true
		q.where.WriteString(" AND client_id = ?")
		q.args = append(q.args, f.ClientID)
	}
	for _, s := range f.TargetSearch {
		// A name is no column of the log: look the clients up (tombstones
		// included), then walk the log's (account_id, client_id) index.
		q.filtered = true
		like := "%" + escapeLike(s) + "%"
		q.where.WriteString(` AND client_id IN (SELECT c.id FROM clients c WHERE c.account_id = ?` +
			` AND (lower(c.name) LIKE ? ESCAPE '\' OR lower(c.email) LIKE ? ESCAPE '\'))`)
		q.args = append(q.args, accountID, like, like)
	}
	return q, nil
}

// emails adds a target or actor filter: whole addresses with IN, patterns
// (reseller.EmailPattern) with LIKE; included values are ORed, excluded ones
// all apply.
func (q *auditQuery) emails(col string, not bool, vals []string, in func(string, bool, []string)) {
	var exact, like []string
	for _, v := range vals {
		if reseller.IsPattern(v) {
			like = append(like, strings.ReplaceAll(escapeLike(v), "*", "%"))
		} else {
			exact = append(exact, v)
		}
	}
	if len(like) == 0 {
		in(col, not, exact)
		return
	}
	q.filtered = true
	if not {
		in(col, true, exact)
		for _, l := range like {
			q.where.WriteString(" AND " + col + ` NOT LIKE ? ESCAPE '\'`)
			q.args = append(q.args, l)
		}
		return
	}
	q.where.WriteString(" AND (")
	for i, l := range like {
		if i > 0 {
			q.where.WriteString(" OR ")
		}
		q.where.WriteString(col + ` LIKE ? ESCAPE '\'`)
		q.args = append(q.args, l)
	}
	for _, e := range exact {
		q.where.WriteString(" OR " + col + " = ?")
		q.args = append(q.args, e)
	}
	q.where.WriteString(")")
}

// rangeSQL returns the WHERE clause restricted to seqs [lo, hi).
func (q *auditQuery) rangeSQL(lo, hi int64) (string, []any) {
	args := append(append([]any{}, q.args...), lo, hi)
	return q.where.String() + " AND seq >= ? AND seq < ?", args
}

// ListEntries returns a page of the actor's account's entries.
func (db *DB) ListEntries(ctx context.Context, f reseller.AuditFilter) ([]*reseller.Entry, string, error) {
	a, err := reseller.Authorize(ctx, reseller.PermViewAudit)
	if err != nil {
		return nil, "", err
	}
	if err := f.Validate(); err != nil {
		return nil, "", err
	}
	after, err := decodeCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	var es []*reseller.Entry
	err = db.view(ctx, func(tx *Tx) error {
		q, err := tx.newAuditQuery(ctx, a.AccountID, &f)
		if err != nil {
			return err
		}
		lo, hi, order := q.lo, q.hi, "DESC"
		if f.Order == reseller.OrderAsc {
			order = "ASC"
			if after > 0 {
				lo = max(lo, after+1)
			}
		} else if after > 0 {
			hi = min(hi, after)
		}
		where, args := q.rangeSQL(lo, hi)
		rows, err := tx.query(ctx, "SELECT record FROM audit_entries WHERE "+where+" ORDER BY seq "+order+" LIMIT ?", append(args, f.Limit+1)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanEntry(rows, a.AccountID)
			if err != nil {
				return err
			}
			es = append(es, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(es) > f.Limit {
		es = es[:f.Limit]
		next = encodeCursor(es[len(es)-1].Seq)
	}
	return es, next, nil
}

func scanEntry(rows interface{ Scan(...any) error }, accountID int64) (*reseller.Entry, error) {
	var rec []byte
	if err := rows.Scan(&rec); err != nil {
		return nil, err
	}
	return decodeEntry(rec, accountID)
}

// decodeEntry reads the entry that stored record bytes hold, as
// encoding/json would (auditlog.ParseTrusted, fast for canonical bytes). The
// bytes were checked when written; verification (auditlog.DecodeCanonical) is
// stricter.
func decodeEntry(rec []byte, accountID int64) (*reseller.Entry, error) {
	e, err := auditlog.ParseTrusted(rec)
	if err != nil {
		return nil, fmt.Errorf("account %d: %w", accountID, err)
	}
	e.AccountID = accountID
	return e, nil
}

// CountEntries counts the entries f matches, and per bucket period in loc.
func (db *DB) CountEntries(ctx context.Context, f reseller.AuditFilter, bucket string, loc *time.Location) (*reseller.AuditCount, error) {
	a, err := reseller.Authorize(ctx, reseller.PermViewAudit)
	if err != nil {
		return nil, err
	}
	f.Limit, f.Cursor = 0, ""
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if loc == nil {
		loc = time.UTC
	}
	if bucket != "" && bucketStart(time.Time{}, bucket) == nil {
		return nil, reseller.Errorf(reseller.EINVALID, "Bucket %q is not one of day, week, month, quarter.", bucket)
	}
	res := &reseller.AuditCount{Buckets: []reseller.BucketCount{}}
	err = db.view(ctx, func(tx *Tx) error {
		q, err := tx.newAuditQuery(ctx, a.AccountID, &f)
		if err != nil {
			return err
		}
		if res.Total, err = tx.countRange(ctx, q, q.lo, q.hi); err != nil || res.Total == 0 {
			return err
		}
		if res.DistinctTargets, err = tx.countTargets(ctx, q); err != nil || bucket == "" {
			return err
		}
		from, to := f.From, f.To
		if from.IsZero() || to.IsZero() {
			first, last, err := tx.timeSpan(ctx, q)
			if err != nil {
				return err
			}
			if from.IsZero() {
				from = first
			}
			if to.IsZero() {
				to = last.Add(time.Microsecond)
			}
		}
		start := *bucketStart(from.In(loc), bucket)
		for n := 0; start.Before(to); n++ {
			if n == reseller.MaxBuckets {
				return reseller.Errorf(reseller.EINVALID, "The range spans more than %d %ss; choose a larger bucket or a shorter range.", reseller.MaxBuckets, bucket)
			}
			end := nextBucket(start, bucket)
			lo, err := tx.seqAt(ctx, a.AccountID, maxTime(start, from), q.hi-1)
			if err != nil {
				return err
			}
			hi, err := tx.seqAt(ctx, a.AccountID, minTime(end, to), q.hi-1)
			if err != nil {
				return err
			}
			c, err := tx.countRange(ctx, q, max(lo, q.lo), min(hi, q.hi))
			if err != nil {
				return err
			}
			res.Buckets = append(res.Buckets, reseller.BucketCount{Start: start, Count: c})
			start = end
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// countRange counts the rows q matches with seq in [lo, hi).
func (tx *Tx) countRange(ctx context.Context, q *auditQuery, lo, hi int64) (int64, error) {
	if hi <= lo {
		return 0, nil
	}
	if !q.filtered {
		return hi - lo, nil // seqs are gapless
	}
	where, args := q.rangeSQL(lo, hi)
	var n int64
	err := tx.queryRow(ctx, "SELECT count(*) FROM audit_entries WHERE "+where, args...).Scan(&n)
	return n, err
}

// countTargets counts the distinct clients of the rows q matches.
func (tx *Tx) countTargets(ctx context.Context, q *auditQuery) (int64, error) {
	where, args := q.rangeSQL(q.lo, q.hi)
	var n int64
	err := tx.queryRow(ctx, "SELECT count(DISTINCT client_id) FROM audit_entries WHERE "+where, args...).Scan(&n)
	return n, err
}

// FindEntry returns the entry seq of the actor's account's log. ENOTFOUND
// for a seq the log does not have; EFORBIDDEN without PermViewAudit.
func (db *DB) FindEntry(ctx context.Context, seq int64) (*reseller.Entry, error) {
	a, err := reseller.Authorize(ctx, reseller.PermViewAudit)
	if err != nil {
		return nil, err
	}
	var rec []byte
	err = db.ro.QueryRowContext(ctx, db.dialect.rebind("SELECT record FROM audit_entries WHERE account_id = ? AND seq = ?"), a.AccountID, seq).Scan(&rec)
	if err != nil {
		return nil, notFound(err, "Entry", seq)
	}
	return decodeEntry(rec, a.AccountID)
}

// FindClients returns the clients of the actor's account with these ids,
// tombstones included, by id; ids it does not know are left out. It tells
// the clients of entries apart, as an email can be reused after a delete.
func (db *DB) FindClients(ctx context.Context, ids []int64) (map[int64]*reseller.Client, error) {
	a, err := reseller.Authorize(ctx, reseller.PermViewClients)
	if err != nil {
		return nil, err
	}
	res := map[int64]*reseller.Client{}
	for len(ids) > 0 {
		batch := ids[:min(len(ids), 500)]
		ids = ids[len(batch):]
		q := "SELECT " + clientColumns + " FROM clients c WHERE c.account_id = ? AND c.id IN (?" + strings.Repeat(", ?", len(batch)-1) + ")"
		args := []any{a.AccountID}
		for _, id := range batch {
			args = append(args, id)
		}
		rows, err := db.ro.QueryContext(ctx, db.dialect.rebind(q), args...)
		cs, err := collect(rows, err, scanClient)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			res[c.ID] = c
		}
	}
	return res, nil
}

// timeSpan returns the times of the first and last entries q matches.
func (tx *Tx) timeSpan(ctx context.Context, q *auditQuery) (first, last time.Time, err error) {
	where, args := q.rangeSQL(q.lo, q.hi)
	var f, l int64
	if err = tx.queryRow(ctx, "SELECT time_us FROM audit_entries WHERE "+where+" ORDER BY seq LIMIT 1", args...).Scan(&f); err != nil {
		return
	}
	if err = tx.queryRow(ctx, "SELECT time_us FROM audit_entries WHERE "+where+" ORDER BY seq DESC LIMIT 1", args...).Scan(&l); err != nil {
		return
	}
	return fromMicros(f), fromMicros(l), nil
}

// bucketStart returns the start of the period of kind bucket containing t
// (in t's location), or nil for an unknown kind.
func bucketStart(t time.Time, bucket string) *time.Time {
	y, m, d := t.Date()
	var s time.Time
	switch bucket {
	case reseller.BucketDay:
		s = time.Date(y, m, d, 0, 0, 0, 0, t.Location())
	case reseller.BucketWeek:
		wd := (int(t.Weekday()) + 6) % 7 // Monday = 0
		s = time.Date(y, m, d-wd, 0, 0, 0, 0, t.Location())
	case reseller.BucketMonth:
		s = time.Date(y, m, 1, 0, 0, 0, 0, t.Location())
	case reseller.BucketQuarter:
		s = time.Date(y, m-(m-1)%3, 1, 0, 0, 0, 0, t.Location())
	default:
		return nil
	}
	return &s
}

// nextBucket returns the start of the period after the one starting at s.
// Calendar arithmetic keeps midnights right across daylight-saving changes.
func nextBucket(s time.Time, bucket string) time.Time {
	switch bucket {
	case reseller.BucketDay:
		return s.AddDate(0, 0, 1)
	case reseller.BucketWeek:
		return s.AddDate(0, 0, 7)
	case reseller.BucketMonth:
		return s.AddDate(0, 1, 0)
	default:
		return s.AddDate(0, 3, 0)
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// exportBatch is how many entries an export reads per query, so that memory
// stays flat and no query holds the database for long.
const exportBatch = 2000

// ExportEntries calls fn for every entry f matches, in f.Order, reading one
// snapshot in batches.
func (db *DB) ExportEntries(ctx context.Context, f reseller.AuditFilter, fn func(*reseller.Entry) error) error {
	a := reseller.ActorFrom(ctx) // ExportRecords authorises it before fn runs
	return db.ExportRecords(ctx, f, func(rec []byte) error {
		e, err := decodeEntry(rec, a.AccountID)
		if err != nil {
			return err
		}
		return fn(e)
	})
}

// ExportRecords calls fn with the record bytes of every entry f matches,
// in f.Order, without decoding them.
func (db *DB) ExportRecords(ctx context.Context, f reseller.AuditFilter, fn func(record []byte) error) error {
	a, err := reseller.Authorize(ctx, reseller.PermViewAudit)
	if err != nil {
		return err
	}
	f.Limit, f.Cursor = 0, ""
	if err := f.Validate(); err != nil {
		return err
	}
	return db.view(ctx, func(tx *Tx) error {
		q, err := tx.newAuditQuery(ctx, a.AccountID, &f)
		if err != nil {
			return err
		}
		return tx.scanRows(ctx, q, f.Order, true, func(_ int64, rec []byte) error { return fn(rec) })
	})
}

// scanRows walks q's rows in order, a batch at a time, giving fn each seq
// and (when records is set) record bytes, which are fn's to keep.
func (tx *Tx) scanRows(ctx context.Context, q *auditQuery, order string, records bool, fn func(seq int64, rec []byte) error) error {
	cols := "seq, NULL"
	if records {
		cols = "seq, record"
	}
	lo, hi := q.lo, q.hi
	for lo < hi {
		where, args := q.rangeSQL(lo, hi)
		if order == reseller.OrderAsc {
			where += " ORDER BY seq ASC"
		} else {
			where += " ORDER BY seq DESC"
		}
		rows, err := tx.query(ctx, "SELECT "+cols+" FROM audit_entries WHERE "+where+" LIMIT ?", append(args, exportBatch)...)
		if err != nil {
			return err
		}
		n := 0
		var seq int64
		for rows.Next() {
			var rec []byte
			if err := rows.Scan(&seq, &rec); err != nil {
				rows.Close()
				return err
			}
			if err := fn(seq, rec); err != nil {
				rows.Close()
				return err
			}
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if n < exportBatch {
			return nil
		}
		if order == reseller.OrderAsc {
			lo = seq + 1
		} else {
			hi = seq
		}
	}
	return nil
}
