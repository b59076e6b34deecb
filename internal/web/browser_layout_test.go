package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

// axePath is axe-core's script, installed by .ci/run with
// npm install --prefix internal/web/testdata/axe (testdata/axe/package.json).
var axePath = filepath.Join("testdata", "axe", "node_modules", "axe-core", "axe.min.js")

// tourPages fills an account with what makes pages long and wide (long
// emails, labels and reasons, a deleted client, a reused email) and returns
// the signed-in pages to check.
func tourPages(t *testing.T, e *env) []string {
	t.Helper()
	op, ad := e.as(operator), e.as(admin)
	long := e.client(t, "accounts-payable.department@a-very-long-subdomain.red-pine-garage.example", "Red Pine Garage and Body Shop of Greater Springfield")
	for i := range 3 {
		must(e.db.AllocateLicense(op, long.ID, e.pool.ID, fmt.Sprintf("www.a-rather-long-site-name-%d.red-pine-garage.example", i)))
	}
	must(e.db.SuspendClient(op, long.ID, "Invoice 2026-0042 is ninety days overdue; reminders went to accounts-payable twice"))
	old := e.client(t, "reused@example.org", "Old")
	must(e.db.DeleteClientWithReason(ad, old.ID, "Closed"))
	e.client(t, "reused@example.org", "New")
	for i := range 60 {
		e.clock.Add(37 * 60 * 1e9)
		e.client(t, fmt.Sprintf("client-%02d@example.org", i), "")
	}
	lic := must(e.db.AllocateLicense(op, old.ID+1, e.pool.ID, "site"))
	site, _ := e.seedSite(t, "owner.of.a.rather.long.address@protected-site.example", "https://www.a-very-long-host-name-for-a-shop.protected-site.example/store", 30, 58)
	return []string{
		"/", "/alerts", "/alerts?dismissed=all&severity=critical", fmt.Sprintf("/alerts?client_id=%d", site.ID),
		"/clients?sort=score&not_seen_days=1", fmt.Sprintf("/clients/%d", site.ID), fmt.Sprintf("/licenses/%d/reissue", lic.ID),
		"/clients", fmt.Sprintf("/clients/%d", long.ID), fmt.Sprintf("/clients/%d", old.ID), fmt.Sprintf("/clients/%d", old.ID+1),
		fmt.Sprintf("/clients/%d/delete", old.ID+1), fmt.Sprintf("/licenses/%d/revoke", lic.ID),
		"/pools", "/team", "/audit", "/audit?print=1", "/audit?q=action%3Aclient.suspended&action=license.revoked",
		"/audit?q=bad%3Aterm", "/audit/3", "/settings", "/help",
	}
}

// No page scrolls sideways from 320 px up, nothing is cut off at 1440 px,
// and on a phone a client's actions come before its long tables.
func TestBrowserLayout(t *testing.T) {
	db := sqldbtest.MustOpen(t, "sqlite")
	e := newEnv(t, db)
	e.setPassword(t, owner)
	pages := tourPages(t, e)
	c := newChrome(t, e.srv.URL)
	c.signIn("owner@acme.test", goodPassword)
	for _, width := range []int64{320, 390, 1440} {
		c.do("resize", chromedp.EmulateViewport(width, 900))
		for _, p := range pages {
			c.do("open "+p, chromedp.Navigate(c.base+p), chromedp.WaitReady("body"))
			sw := eval[[]int](c, `[document.documentElement.scrollWidth, document.documentElement.clientWidth]`)
			if sw[0] > sw[1] {
				wide := eval[[]string](c, `Array.from(document.querySelectorAll("body *")).filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5).slice(0, 8).map(el => el.tagName + "." + el.className + "#" + el.id + " " + Math.round(el.getBoundingClientRect().right))`)
				c.fail("%d px: %s is %d px wide, the window %d: %q", width, p, sw[0], sw[1], wide)
			}
			// Nothing cut off: no table or box hides part of its content
			// behind a scrollbar of its own.
			cut := eval[[]string](c, `Array.from(document.querySelectorAll(".table-wrap, .card, .filters, pre")).
				filter(el => el.offsetParent && !el.closest("details:not([open])") && el.scrollWidth > el.clientWidth + 1).
				map(el => el.className + " " + el.scrollWidth + ">" + el.clientWidth)`)
			c.want(len(cut) == 0, "%d px: %s cuts off %q", width, p, cut)
		}
	}
	// Printed, the print view holds every matching entry and says so.
	c.do("print view", chromedp.EmulateViewport(1440, 900), chromedp.Navigate(c.base+"/audit?print=1"), chromedp.WaitReady("body"),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
			return err
		}))
	rows := eval[int](c, `Array.from(document.querySelectorAll("table.entries tbody tr")).filter(r => r.offsetParent).length`)
	head := eval[string](c, `document.getElementById("print-coverage").innerText`)
	c.want(rows == len(e.entries(t)) && strings.Contains(head, fmt.Sprintf("All %d matching entries", rows)), "printed %d rows under %q", rows, head)
	c.want(eval[bool](c, `getComputedStyle(document.getElementById("filters")).display === "none"`), "the filters print")
	c.do("screen again", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: ""})
		return err
	}))

	c.do("phone", chromedp.EmulateViewport(390, 900), chromedp.Navigate(c.base+"/clients/3"), chromedp.WaitReady("body"))
	order := eval[bool](c, `document.getElementById("suspend-button").getBoundingClientRect().top < document.getElementById("licenses").getBoundingClientRect().top`)
	c.want(order, "on a phone Suspend comes after the licenses table")
}

// axe-core finds no accessibility violation on any page, at desktop and
// phone widths. axe-core comes from the npm registry (see axePath); the test
// skips without it, except under CI=true.
func TestBrowserAccessibility(t *testing.T) {
	script, err := os.ReadFile(axePath)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("axe-core is required under CI (npm install --prefix internal/web/testdata/axe): %v", err)
		}
		t.Skipf("no axe-core (npm install --prefix internal/web/testdata/axe): %v", err)
	}
	db := sqldbtest.MustOpen(t, "sqlite")
	e := newEnv(t, db)
	e.setPassword(t, owner)
	pages := tourPages(t, e)
	c := newChrome(t, e.srv.URL)
	type violation struct {
		ID    string `json:"id"`
		Help  string `json:"help"`
		Nodes []struct {
			Target  []any  `json:"target"`
			Summary string `json:"failureSummary"`
		} `json:"nodes"`
	}
	check := func(width int64, p string) {
		c.do("open "+p, chromedp.Navigate(c.base+p), chromedp.WaitReady("body"))
		if !eval[bool](c, `typeof axe === "object"`) {
			eval[bool](c, string(script)+";true")
		}
		out := eval2[string](c, `axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations))`)
		var vs []violation
		if err := json.Unmarshal([]byte(out), &vs); err != nil {
			c.fail("axe result %q: %v", out, err)
		}
		var msgs []string
		for _, v := range vs {
			for _, n := range v.Nodes {
				msgs = append(msgs, fmt.Sprintf("%s (%s) at %v: %s", v.ID, v.Help, n.Target, strings.ReplaceAll(n.Summary, "\n", " ")))
			}
		}
		c.want(len(msgs) == 0, "%d px %s: %d axe violations:\n%s", width, p, len(msgs), strings.Join(msgs, "\n"))
	}
	for _, width := range []int64{1440, 390} {
		c.do("resize", chromedp.EmulateViewport(width, 900))
		check(width, "/signin")
		check(width, "/help")
		if width == 1440 {
			c.signIn("owner@acme.test", goodPassword)
		}
		for _, p := range pages {
			check(width, p)
		}
	}
}

// eval2 evaluates a JavaScript expression whose value is a promise.
func eval2[T any](c *chrome, expr string) T {
	c.t.Helper()
	v, err := chromedp.Run(c.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		c.fail("evaluate %s: %v", expr, err)
	}
	return v
}
