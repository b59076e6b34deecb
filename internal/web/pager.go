package web

import (
	"net/url"
	"strings"
)

// Lists in the console page by keyset cursors, as the store does. The store
// only pages forward, so a page's URL also carries the cursors of the pages
// before it ("back", dot-separated): "newer" pops one off. A shared link
// therefore pages both ways, and the browser's back button works as well.

// maxBack bounds the cursors kept; past it the oldest are dropped, and
// "newer" eventually lands on the first page a little early.
const maxBack = 100

// pager holds the links to the neighbouring pages, "" where there is none.
type pager struct {
	Prev, Next string
}

// newPager returns the links around the page that q (the current query)
// shows, given the store's cursor of the page after it ("" at the end).
func newPager(path string, q url.Values, next string) pager {
	cur := q.Get("cursor")
	back := parseBack(q.Get("back"))
	var p pager
	if next != "" {
		n := clone(q)
		n.Set("cursor", next)
		nb := back
		if cur != "" {
			nb = append(nb, cur)
		}
		if len(nb) > maxBack {
			nb = nb[len(nb)-maxBack:]
		}
		setOrDel(n, "back", strings.Join(nb, "."))
		p.Next = path + "?" + n.Encode()
	}
	if cur != "" {
		n := clone(q)
		if len(back) > 0 {
			n.Set("cursor", back[len(back)-1])
			setOrDel(n, "back", strings.Join(back[:len(back)-1], "."))
		} else {
			n.Del("cursor")
			n.Del("back")
		}
		p.Prev = path + "?" + n.Encode()
		if len(n) == 0 {
			p.Prev = path
		}
	}
	return p
}

func parseBack(s string) []string {
	var out []string
	for _, c := range strings.Split(s, ".") {
		if c != "" && len(c) <= 64 && strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == "" {
			out = append(out, c)
		}
	}
	return out
}

func clone(q url.Values) url.Values {
	n := url.Values{}
	for k, v := range q {
		n[k] = append([]string(nil), v...)
	}
	return n
}

func setOrDel(q url.Values, k, v string) {
	if v == "" {
		q.Del(k)
	} else {
		q.Set(k, v)
	}
}

// withQuery returns path with q's non-empty values, or path alone.
func withQuery(path string, q url.Values) string {
	n := url.Values{}
	for k, vs := range q {
		for _, v := range vs {
			if v != "" {
				n.Add(k, v)
			}
		}
	}
	if len(n) == 0 {
		return path
	}
	return path + "?" + n.Encode()
}
