package sqldb

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"math"
	"strings"

	"github.com/resellerconsole/reseller"
)

// The clients table of the console: each client with what its plugins last
// reported (client_state, an activity table) and the product of its newest
// active license. Reads only: on SQLite the read connections have the
// activity file attached.

const clientViewColumns = clientColumns + `, s.score, s.last_seen_us,
	COALESCE((SELECT p.product FROM licenses l JOIN pools p ON p.account_id = l.account_id AND p.id = l.pool_id
		WHERE l.account_id = c.account_id AND l.client_id = c.id AND l.status = 'active' ORDER BY l.id DESC LIMIT 1), '')`

// clientStateJoin joins a client's latest state, if it ever reported.
const clientStateJoin = " LEFT JOIN client_state s ON s.account_id = c.account_id AND s.client_id = c.id"

func scanClientView(row scanner) (*reseller.Client, error) {
	c := &reseller.Client{}
	var created, updated int64
	var score, seen sql.NullInt64
	if err := row.Scan(&c.ID, &c.AccountID, &c.Email, &c.Name, &c.Status, &created, &updated, &c.Licenses, &c.SiteURL,
		&score, &seen, &c.Product); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	if score.Valid {
		n := int(score.Int64)
		c.Score = &n
	}
	c.LastSeen = nullTime(seen)
	return c, nil
}

// ListClients returns a page of the actor's account's clients, newest first
// or in f.Sort's order, with what their plugins last reported.
//
// Sorted by score or last seen, the clients that reported come first, read
// in the order of client_state's indexes, and those that never did follow,
// newest first; a cursor says which of the two parts it is in. So a page
// costs an index range, however many clients the account has.
func (db *DB) ListClients(ctx context.Context, f reseller.ClientFilter) ([]*reseller.Client, string, error) {
	a, err := reseller.Authorize(ctx, reseller.PermViewClients)
	if err != nil {
		return nil, "", err
	}
	if f.Status != "" && !f.Status.Valid() {
		return nil, "", reseller.Errorf(reseller.EINVALID, "Status %q is not one of active, suspended, deleted.", f.Status)
	}
	if err := reseller.CheckLimit(&f.Limit); err != nil {
		return nil, "", err
	}
	if f.NotSeenDays < 0 || f.NotSeenDays > 3650 {
		return nil, "", reseller.Errorf(reseller.EINVALID, "Not seen for %d days: give 1 to 3650 days, or 0 for any.", f.NotSeenDays)
	}
	var col, dir string
	switch f.Sort {
	case reseller.SortNewest, "newest":
	case reseller.SortScore:
		col, dir = "score", "ASC"
	case reseller.SortScoreDesc:
		col, dir = "score", "DESC"
	case reseller.SortLastSeen:
		col, dir = "last_seen_us", "ASC"
	case reseller.SortLastSeenDesc:
		col, dir = "last_seen_us", "DESC"
	default:
		return nil, "", reseller.Errorf(reseller.EINVALID, "Sort %q is not one of %s.", f.Sort, strings.Join(reseller.ClientSorts, ", "))
	}
	search, err := reseller.CleanSearch("Search", f.Search)
	if err != nil {
		return nil, "", err
	}
	// The filters on the client itself, shared by every part.
	where := " AND c.account_id = ?"
	args := []any{a.AccountID}
	if f.Status == "" {
		where += " AND c.status <> 'deleted'"
	} else {
		where += " AND c.status = ?"
		args = append(args, f.Status)
	}
	if s := strings.ToLower(search); s != "" {
		where += ` AND (lower(c.email) LIKE ? ESCAPE '\' OR lower(c.name) LIKE ? ESCAPE '\' OR lower(c.site_url) LIKE ? ESCAPE '\')`
		like := "%" + escapeLike(s) + "%"
		args = append(args, like, like, like)
	}
	cutoff := int64(0)
	if f.NotSeenDays > 0 {
		cutoff = micros(db.Now()) - int64(f.NotSeenDays)*86_400_000_000
	}
	cur, err := decodeSortCursor(f.Cursor, col != "")
	if err != nil {
		return nil, "", err
	}
	var out []*reseller.Client
	next := ""
	if col != "" && cur.phase == 0 {
		// Clients that reported, in index order.
		q := "SELECT " + clientViewColumns + " FROM client_state s CROSS JOIN clients c WHERE c.account_id = s.account_id AND c.id = s.client_id AND s.account_id = ?" + where
		qa := append([]any{a.AccountID}, args...)
		if cutoff > 0 {
			q += " AND s.last_seen_us < ?"
			qa = append(qa, cutoff)
		}
		if cur.set {
			cmp := ">"
			if dir == "DESC" {
				cmp = "<"
			}
			q += fmt.Sprintf(" AND (s.%s %s ? OR (s.%s = ? AND s.client_id %s ?))", col, cmp, col, cmp)
			qa = append(qa, cur.value, cur.value, cur.id)
		}
		q += fmt.Sprintf(" ORDER BY s.%s %s, s.client_id %s LIMIT ?", col, dir, dir)
		qa = append(qa, f.Limit+1)
		rows, err := db.ro.QueryContext(ctx, db.dialect.rebind(q), qa...)
		if out, err = collect(rows, err, scanClientView); err != nil {
			return nil, "", err
		}
		if len(out) > f.Limit {
			out = out[:f.Limit]
			last := out[len(out)-1]
			v := int64(*last.Score)
			if col == "last_seen_us" {
				v = micros(*last.LastSeen)
			}
			return out, encodeSortCursor(0, v, last.ID), nil
		}
		cur = sortCursor{phase: 1}
	}
	// Clients never seen (sorted lists), or every client newest first.
	q := "SELECT " + clientViewColumns + " FROM clients c" + clientStateJoin + " WHERE 1 = 1" + where
	qa := append([]any(nil), args...)
	if col != "" {
		q += " AND s.client_id IS NULL"
	} else if cutoff > 0 {
		q += " AND (s.last_seen_us IS NULL OR s.last_seen_us < ?)"
		qa = append(qa, cutoff)
	}
	if cur.id > 0 {
		q += " AND c.id < ?"
		qa = append(qa, cur.id)
	}
	q += " ORDER BY c.id DESC LIMIT ?"
	want := f.Limit - len(out)
	qa = append(qa, want+1)
	rows, err := db.ro.QueryContext(ctx, db.dialect.rebind(q), qa...)
	more, err := collect(rows, err, scanClientView)
	if err != nil {
		return nil, "", err
	}
	if len(more) > want && want == 0 {
		// The page ended exactly with the clients that reported: the
		// next one starts with those that never did.
		return out, encodeSortCursor(1, 0, math.MaxInt64), nil
	}
	if len(more) > want {
		more = more[:want]
		id := more[len(more)-1].ID
		if col == "" {
			next = encodeCursor(id)
		} else {
			next = encodeSortCursor(1, 0, id)
		}
	}
	return append(out, more...), next, nil
}

// sortCursor is where a page of a sorted client list starts: in the part
// of clients that reported (phase 0) after (value, id), or in the part of
// those that never did (phase 1) after id.
type sortCursor struct {
	set   bool
	phase int
	value int64
	id    int64
}

const sortCursorTag = "s1."

func encodeSortCursor(phase int, value, id int64) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%s%d.%d.%d", sortCursorTag, phase, value, id))
}

// decodeSortCursor reads a cursor of a sorted list (sorted) or of the
// newest-first one.
func decodeSortCursor(c string, sorted bool) (sortCursor, error) {
	if c == "" {
		return sortCursor{}, nil
	}
	if !sorted {
		id, err := decodeCursor(c)
		return sortCursor{set: true, phase: 1, id: id}, err
	}
	bad := reseller.Errorf(reseller.EINVALID, "Cursor %q is not valid for this order; use next_cursor from a previous page of the same list.", c)
	b, err := base64.RawURLEncoding.DecodeString(c)
	s, ok := strings.CutPrefix(string(b), sortCursorTag)
	if err != nil || !ok {
		return sortCursor{}, bad
	}
	var sc sortCursor
	if n, err := fmt.Sscanf(s, "%d.%d.%d", &sc.phase, &sc.value, &sc.id); err != nil || n != 3 || sc.phase < 0 || sc.phase > 1 || sc.id < 1 {
		return sortCursor{}, bad
	}
	sc.set = true
	return sc, nil
}
