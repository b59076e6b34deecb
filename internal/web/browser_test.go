package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/resellerconsole/reseller/internal/sqldb/sqldbtest"
)

// Browser tests drive Debian's Chromium through chromedp against a real
// server and database. They skip where Chromium is missing, except under
// CI=true, where a skip would hide a broken setup.

const chromiumPath = "/usr/bin/chromium"

// chrome is a browser tab of a test, which saves a screenshot when a step fails.
type chrome struct {
	t    *testing.T
	ctx  context.Context
	base string
}

func newChrome(t *testing.T, base string) *chrome {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Chromium is required under CI: %v", err)
		}
		t.Skipf("no Chromium at %s: %v", chromiumPath, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	// The whole browser session is bounded, so that a hang fails the test
	// instead of the test binary's deadline.
	parent, cancelAll := context.WithTimeout(context.Background(), 3*time.Minute)
	actx, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc(); cancelAll() })
	// The first action starts the browser, which lives as long as the
	// context of that action: it gets the tab's own context.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return &chrome{t: t, ctx: ctx, base: base}
}

// stepTimeout bounds one step: waits end with a screenshot, not a hang.
const stepTimeout = 30 * time.Second

// do runs the actions as one named step.
func (c *chrome) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		c.fail("%s: %v", step, err)
	}
}

// text returns the visible text of the element with the id.
func (c *chrome) text(id string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
	if err != nil {
		c.fail("text of #%s: %v", id, err)
	}
	return strings.TrimSpace(s)
}

// eval evaluates a JavaScript expression.
func eval[T any](c *chrome, expr string) T {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		c.fail("evaluate %s: %v", expr, err)
	}
	return v
}

func (c *chrome) location() string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, stepTimeout)
	defer cancel()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		c.fail("location: %v", err)
	}
	return strings.TrimPrefix(u, c.base)
}

// fail saves a screenshot of the tab and fails the test.
func (c *chrome) fail(format string, args ...any) {
	c.t.Helper()
	msg := fmt.Sprintf(format, args...)
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		c.t.Fatalf("%s\n(no screenshot: %v)", msg, err)
	}
	dir := os.Getenv("CI_LOG_DIR")
	if dir == "" {
		dir, err = os.MkdirTemp("", "reseller-browser-")
	}
	name := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(c.t.Name())+".png")
	if err == nil {
		err = os.WriteFile(name, png, 0o644)
	}
	if err != nil {
		c.t.Fatalf("%s\n(screenshot not saved: %v)", msg, err)
	}
	c.t.Fatalf("%s\nscreenshot: %s", msg, name)
}

func (c *chrome) want(cond bool, format string, args ...any) {
	c.t.Helper()
	if !cond {
		c.fail(format, args...)
	}
}

// signIn signs in through the form, on the way to the clients page, and
// waits for it.
func (c *chrome) signIn(email, password string) {
	c.t.Helper()
	c.do("sign in",
		chromedp.Navigate(c.base+"/clients"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("new-client-email")),
	)
}

// The main flow of the console, in a browser set to Tokyo time: sign in,
// create a client, allocate a license, suspend the client, find the
// suspension in the audit log, download it as CSV, sign out.
func TestBrowserConsole(t *testing.T) {
	db := sqldbtest.MustOpen(t, "sqlite")
	e := newEnv(t, db)
	e.setPassword(t, owner)
	c := newChrome(t, e.srv.URL)
	if _, err := chromedp.Call(c.ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"}); err != nil {
		t.Fatal(err)
	}

	c.signIn("owner@acme.test", goodPassword)
	c.want(strings.HasPrefix(c.location(), "/clients"), "after sign-in at %s", c.location())

	c.do("create a client",
		chromedp.SendKeys(chromedp.ID("new-client-email"), "browser@example.org"),
		chromedp.SendKeys(chromedp.ID("new-client-name"), "Browser Test"),
		chromedp.Click(chromedp.ID("add-client-button")),
		chromedp.WaitVisible(chromedp.ID("allocate-button")),
	)
	flash := c.text("main")
	c.want(strings.Contains(flash, "Client browser@example.org created."), "no confirmation in %q", flash)

	c.do("allocate a license",
		chromedp.SendKeys(chromedp.ID("label"), "www.browser.example"),
		chromedp.Click(chromedp.ID("allocate-button")),
		chromedp.WaitVisible(chromedp.ID("secret")),
	)
	key := eval[string](c, `document.getElementById("secret").value`)
	c.want(strings.HasPrefix(key, "rlk_"), "the allocation shows key %q", key)
	c.do("back to the client",
		chromedp.Click(chromedp.ID("secret-back")),
		chromedp.WaitVisible(chromedp.ID("licenses")),
	)
	lic := c.text("licenses")
	c.want(strings.Contains(lic, "www.browser.example") && strings.Contains(lic, "Pro 10"), "licenses: %q", lic)

	c.do("suspend the client",
		chromedp.SendKeys(chromedp.ID("reason"), "Testing suspension"),
		chromedp.Click(chromedp.ID("suspend-button")),
		chromedp.WaitVisible(chromedp.ID("reactivate-button")),
	)
	heading := eval[string](c, `document.querySelector("h1").innerText`)
	c.want(strings.Contains(heading, "Suspended"), "heading after suspend: %q", heading)

	c.do("filter the audit log by action",
		chromedp.Navigate(c.base+"/audit"),
		chromedp.WaitVisible(chromedp.ID("filters")),
		chromedp.Click(chromedp.ID("action-client-suspended")),
		chromedp.Click(chromedp.ID("apply-filters")),
		// "Clear all" shows once a filter applies: the new page is there.
		chromedp.WaitVisible(chromedp.CSS(`#filters a[href="/audit"]`)),
	)
	c.want(c.location() == "/audit?action=client.suspended", "filtered URL %q", c.location())
	count := c.text("match-count")
	c.want(strings.HasPrefix(count, "1 entry matches"), "count %q", count)
	rows := eval[[]string](c, `Array.from(document.querySelectorAll("table.entries tbody tr")).map(r => r.innerText)`)
	c.want(len(rows) == 1, "rows %q", rows)
	for _, want := range []string{"Client suspended", "browser@example.org", "Testing suspension", "owner@acme.test"} {
		c.want(strings.Contains(rows[0], want), "row %q lacks %q", rows[0], want)
	}

	// Times are Tokyo's (UTC+9), named, with UTC on hover.
	tz := c.text("tzline")
	c.want(strings.Contains(tz, "Times in Asia/Tokyo"), "zone line %q", tz)
	shown := eval[[]string](c, `(t => [t.innerText, t.title, t.dateTime])(document.querySelector("table.entries time"))`)
	want := []string{"1 Jul 2026, 19:00:00", "2026-07-01 10:00:00 UTC", "2026-07-01T10:00:00Z"}
	c.want(fmt.Sprint(shown) == fmt.Sprint(want), "time shown as %q, want %q", shown, want)

	// The CSV export carries the filter.
	dir := t.TempDir()
	dl, cancel := context.WithTimeout(c.ctx, stepTimeout)
	defer cancel()
	progress := chromedp.Events(dl, browser.DownloadProgress)
	c.do("download the CSV",
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: new(true),
			})
			return err
		}),
		chromedp.Click(chromedp.ID("export-csv")),
	)
	var file string
	for ev, err := range progress {
		if err != nil {
			c.fail("waiting for the download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			c.fail("download canceled")
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			file = filepath.Join(dir, ev.GUID)
			break
		}
	}
	b, err := os.ReadFile(file)
	if err != nil {
		c.fail("reading the download: %v", err)
	}
	records, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	c.want(err == nil && len(records) == 2, "CSV: %v\n%s", err, b)
	c.want(records[1][2] == "client.suspended" && records[1][5] == "browser@example.org" && records[1][10] == "web",
		"CSV row %q", records[1])

	c.do("sign out",
		chromedp.Click(chromedp.CSS(`form.signout button`)),
		chromedp.WaitVisible(chromedp.ID("email")),
	)
	msg := c.text("main")
	c.want(strings.Contains(msg, "You have signed out."), "after sign-out: %q", msg)
	c.do("signed-out visit", chromedp.Navigate(c.base+"/clients"), chromedp.WaitVisible(chromedp.ID("email")))
	c.want(c.location() == "/signin?next=%2Fclients", "signed-out visit ended at %q", c.location())
}

// Without JavaScript the core flows still work: the forms are plain HTML,
// and times are in UTC (the browser cannot tell its zone) until pinned.
func TestBrowserWithoutJavaScript(t *testing.T) {
	db := sqldbtest.MustOpen(t, "sqlite")
	e := newEnv(t, db)
	e.setPassword(t, operator)
	c := newChrome(t, e.srv.URL)
	if _, err := chromedp.Call(c.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	c.signIn("operator@acme.test", goodPassword)
	c.do("create and suspend a client",
		chromedp.SendKeys(chromedp.ID("new-client-email"), "nojs@example.org"),
		chromedp.Click(chromedp.ID("add-client-button")),
		chromedp.WaitVisible(chromedp.ID("suspend-button")),
		chromedp.Click(chromedp.ID("suspend-button")),
		chromedp.WaitVisible(chromedp.ID("reactivate-button")),
	)
	c.do("filter the audit log with the query box and a preset",
		chromedp.Navigate(c.base+"/audit"),
		chromedp.WaitVisible(chromedp.ID("q")),
		chromedp.SendKeys(chromedp.ID("q"), "action:client.suspended"),
		chromedp.SetValue(chromedp.ID("preset"), "30d"),
		chromedp.Click(chromedp.ID("apply-filters")),
		chromedp.WaitVisible(chromedp.CSS(`#filters a[href="/audit"]`)),
	)
	count := c.text("match-count")
	c.want(strings.HasPrefix(count, "1 entry matches"), "count %q", count)
	c.want(strings.Contains(c.text("tzline"), "Times in UTC"), "zone line %q", c.text("tzline"))
	c.do("pin a zone in settings",
		chromedp.Navigate(c.base+"/settings"),
		chromedp.WaitVisible(chromedp.ID("zone")),
		chromedp.Click(chromedp.ID("tz-pinned")),
		chromedp.SendKeys(chromedp.ID("zone"), "Europe/Paris"),
		chromedp.Submit(chromedp.ID("zone")),
		chromedp.WaitVisible(chromedp.CSS(`.flash-ok`)),
	)
	c.want(strings.Contains(c.text("current-zone"), "Europe/Paris"), "zone after pinning: %q", c.text("current-zone"))
}

// The protected-sites pages in a browser set to Tokyo time: the dashboard
// after sign-in, onboarding with a pool and its key, the clients list, a
// client's activity, and dismissing an alert.
func TestBrowserSites(t *testing.T) {
	db := sqldbtest.MustOpen(t, "sqlite")
	e := newEnv(t, db)
	e.setPassword(t, operator)
	low, _ := e.seedSite(t, "low@example.org", "https://low.example.org", 30, 44)
	e.seedSite(t, "fine@example.org", "https://fine.example.org", 3, 95)
	e.clock.Add(3 * time.Hour)
	c := newChrome(t, e.srv.URL)
	if _, err := chromedp.Call(c.ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"}); err != nil {
		t.Fatal(err)
	}
	c.do("sign in to the dashboard",
		chromedp.Navigate(c.base+"/"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "operator@acme.test"),
		chromedp.SendKeys(chromedp.ID("password"), goodPassword),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("stat-total")),
	)
	c.want(c.location() == "/", "after sign-in at %s", c.location())
	c.want(strings.Contains(c.text("stat-total"), "2"), "total: %q", c.text("stat-total"))
	c.want(strings.HasPrefix(c.text("lowest-scores"), "low@example.org"), "lowest: %q", c.text("lowest-scores"))
	c.want(strings.Contains(c.text("critical"), "Unresolved malware"), "critical: %q", c.text("critical"))

	c.do("onboard with a pool",
		chromedp.Navigate(c.base+"/clients"),
		chromedp.WaitVisible(chromedp.ID("new-client-email")),
		chromedp.SendKeys(chromedp.ID("new-client-email"), "new@example.org"),
		chromedp.SendKeys(chromedp.ID("new-client-site"), "https://new.example.org"),
		chromedp.SetValue(chromedp.ID("new-client-pool"), fmt.Sprint(e.pool.ID)),
		chromedp.Click(chromedp.ID("add-client-button")),
		chromedp.WaitVisible(chromedp.ID("secret")),
	)
	key := eval[string](c, `document.getElementById("secret").value`)
	c.want(strings.HasPrefix(key, "rlk_"), "key %q", key)
	c.want(eval[bool](c, `!document.querySelector("[data-copy=secret]").hidden`), "no copy button")
	c.want(strings.Contains(c.text("secret-note"), "shown only now"), "note %q", c.text("secret-note"))

	c.do("clients by score", chromedp.Navigate(c.base+"/clients?sort=score"), chromedp.WaitVisible(chromedp.ID("clients")))
	rows := eval[[]string](c, `Array.from(document.querySelectorAll("#clients tbody tr")).map(r => r.innerText)`)
	c.want(len(rows) == 3 && strings.Contains(rows[0], "low@example.org") && strings.Contains(rows[0], "3 h ago"), "rows %q", rows)
	seen := eval[string](c, `document.querySelector("#clients tbody tr time").title`)
	c.want(strings.Contains(seen, "Asia/Tokyo") && strings.Contains(seen, "UTC"), "last seen title %q", seen)

	c.do("a client's activity", chromedp.Navigate(c.base+fmt.Sprintf("/clients/%d", low.ID)), chromedp.WaitVisible(chromedp.ID("activity")))
	c.want(eval[int](c, `document.querySelectorAll("#activity tbody tr").length`) == 30, "activity rows")
	c.want(eval[int](c, `document.querySelectorAll(".scorechart svg rect").length`) == 30, "chart bars")
	c.want(eval[bool](c, `document.querySelector(".scorechart svg a") === null`), "a link in the chart")

	c.do("dismiss the critical alert",
		chromedp.Click(chromedp.ID("client-alerts-link")),
		chromedp.WaitVisible(chromedp.ID("alerts")),
		chromedp.Click(chromedp.CSS(`#alerts form[action$="/dismiss"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash-ok`)),
	)
	c.want(strings.Contains(c.text("alerts"), "by operator@acme.test"), "alerts after dismissing: %q", c.text("alerts"))
	c.want(strings.HasPrefix(c.location(), "/alerts?client_id="), "back at %q", c.location())
}
