package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kong"
	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/demo"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/web"
)

type serveCmd struct {
	Addr       string   `default:"127.0.0.1:8080" placeholder:"HOST:PORT" help:"Address to listen on; port 0 picks a free port (default 127.0.0.1:8080)."`
	Demo       bool     `help:"If the database has no account yet, fill it with a demo account and print how to sign in."`
	LogFormat  string   `enum:"text,json" default:"text" help:"Format of the logs on stderr: text or json."`
	TrustProxy bool     `env:"RESELLER_TRUST_PROXY" help:"Take the client IP from X-Forwarded-For. Set this only behind a reverse proxy that you run."`
	RateLimit  float64  `default:"${rate_limit}" placeholder:"N" help:"Sustained requests per second allowed per API token, or per IP address without one (default ${rate_limit}); negative turns limiting off."`
	RateBurst  int      `default:"${rate_burst}" placeholder:"N" help:"Requests one client may send at once before the rate applies (default ${rate_burst})."`
	Witness    []string `sep:"none" placeholder:"URL" help:"A witness (C2SP tlog-witness, such as 'reseller witness serve') to send every new checkpoint to, for its cosignature; repeatable, each with its --witness-key in the same order."`
	WitnessKey []string `name:"witness-key" sep:"none" placeholder:"VKEY" help:"Verifier key of the --witness in the same position (as 'reseller witness key' prints), or a file holding it."`

	ActivityRetention string  `default:"90d" placeholder:"AGE" help:"How long raw plugin check-ins are kept, as 90d or 720h; older ones are pruned in the background (daily roll-ups and alerts are kept). 0 keeps them forever."`
	CheckInRate       float64 `name:"checkin-rate" default:"${checkin_rate}" placeholder:"N" help:"Check-ins a minute allowed per license key (default ${checkin_rate}); negative turns the limit off."`
	Profile           string  `name:"cpu-profile" placeholder:"FILE" help:"Write a CPU profile of the server while it runs (the demo's writing included) to FILE, for go tool pprof (docs/performance.md)."`
}

// parseAge reads a duration written as Go does (720h) or in days (90d).
func parseAge(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("--activity-retention %q: give a number of days (90d) or a duration (720h)", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("--activity-retention %q: give a number of days (90d) or a duration (720h)", s)
	}
	return d, nil
}

// serveVars puts the web package's defaults into the flags' help, so that
// the two cannot drift apart.
var serveVars = kong.Vars{
	"rate_limit":   strconv.FormatFloat(web.DefaultRateLimit, 'f', -1, 64),
	"rate_burst":   strconv.Itoa(web.DefaultRateBurst),
	"checkin_rate": strconv.Itoa(web.DefaultCheckInRate),
}

func (c *serveCmd) Help() string {
	return `Opens the database (creating a SQLite file if needed), applies pending
migrations and serves the web console and the JSON API (/api/v1) until it
receives SIGINT or SIGTERM, then finishes the requests in flight and exits.

With --demo on an empty database it first writes a demo account: one user per
role, three pools, about 200 clients and six months of audit history, and
prints each demo user's password and API token. On a database that already has
data, --demo adds nothing.

While an account's log grows, a checkpoint of it is signed every second.
Before signing, the server proves that the new tree extends the last
checkpoint it trusts; a log that fails (someone rewrote it in the database)
is stopped: changes and signing for that account answer 503
log_inconsistent, reads go on, and an ERROR line is logged. With --witness,
every new checkpoint also goes to each witness, which cosigns only a tree
that extends the one it saw last; a witness that refuses stops the log too.

Several instances may serve one PostgreSQL database; the audit log stays
gapless and in order. Give them all the same signing key (one --key-file, or
RESELLER_SIGNING_KEY), and connect as the role that 'reseller migrate
--app-role' set up rather than the tables' owner. See docs/operations.md.`
}

// Validate checks what kong cannot: each --witness has its key.
func (c *serveCmd) Validate() error {
	if len(c.Witness) != len(c.WitnessKey) {
		return fmt.Errorf("give one --witness-key for each --witness (%d witnesses, %d keys)", len(c.Witness), len(c.WitnessKey))
	}
	return nil
}

func (c *serveCmd) Run(e *env) error {
	log := newLogger(e.stderr, c.LogFormat)
	retention, err := parseAge(c.ActivityRetention)
	if err != nil {
		return err
	}
	if retention == 0 {
		retention = -1 // kept forever
	}
	if c.Profile != "" {
		f, err := os.Create(c.Profile)
		if err != nil {
			return fmt.Errorf("--cpu-profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	db, err := e.openSigned(true)
	if err != nil {
		return err
	}
	defer db.Close()
	for i, u := range c.Witness {
		key, err := readWitnessKeyArg(c.WitnessKey[i])
		if err != nil {
			return err
		}
		v, err := auditlog.NewCosignatureVerifier(key)
		if err != nil {
			return fmt.Errorf("--witness-key %q: %w", c.WitnessKey[i], err)
		}
		if pu, err := neturl.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return fmt.Errorf("--witness %q is not an http:// or https:// URL", u)
		}
		db.AddWitness(u, v)
	}
	db.OnWitnessError(func(accountID int64, url string, err error) {
		log.Warn("witness unavailable; the checkpoint goes out without its cosignature", "account", accountID, "witness", url, "error", err)
	})

	var seeded *demo.Result
	var existing []*reseller.Account
	if c.Demo {
		if existing, err = db.ListAccounts(e.ctx); err != nil {
			return err
		}
		if len(existing) == 0 {
			start := time.Now()
			if seeded, err = demo.Seed(e.ctx, db, time.Now()); err != nil {
				return fmt.Errorf("demo data: %w", err)
			}
			log.Info("demo data written", "account", seeded.Account.ID, "clients", seeded.Clients,
				"entries", seeded.Entries, "took", time.Since(start).Round(time.Millisecond))
		}
	}

	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	url := "http://" + ln.Addr().String()
	switch {
	case seeded != nil:
		printDemo(e.stdout, url, seeded)
		demoKeysFile := demoKeysFile(e.dsn)
		if err := os.WriteFile(demoKeysFile, []byte(strings.Join(seeded.Keys, "\n")+"\n"), 0o600); err != nil {
			log.Warn("could not write the demo's license keys", "file", demoKeysFile, "error", err)
		} else {
			fmt.Fprintf(e.stdout, "The demo sites' %d license keys are in %s. Make their plugins check in:\n"+
				"  reseller sites simulate --url %s --keys %s --interval 2s --duration 1m\n\n", len(seeded.Keys), demoKeysFile, url, demoKeysFile)
		}
	case len(existing) > 0:
		printExisting(e.stdout, url, existing)
	}

	srv := web.New(web.Config{
		Store:      db,
		Logger:     log,
		RateLimit:  c.RateLimit,
		RateBurst:  c.RateBurst,
		TrustProxy: c.TrustProxy,

		ActivityRetention: retention,
		CheckInRate:       c.CheckInRate,
	})
	log.Info("listening", "url", url, "db", redact(e.dsn), "dialect", db.Dialect(), "verifier_key", db.VerifierKey())
	if err := srv.Serve(e.ctx, ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// selfCommand is how to run this binary again, as the operator started it:
// "go run ./cmd/reseller" when it was built by go run (a temporary
// binary), else its name.
func selfCommand() string {
	exe := os.Args[0]
	if strings.Contains(exe, "go-build") {
		return "go run ./cmd/reseller"
	}
	if filepath.Base(exe) == exe {
		return exe
	}
	return "reseller"
}

// demoKeysFile is where serve --demo writes the demo sites' license keys:
// beside a SQLite database, in the working directory for PostgreSQL.
func demoKeysFile(dsn string) string {
	if sqldb.IsPostgres(dsn) {
		return "demo-license-keys.txt"
	}
	return strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:") + "-demo-keys.txt"
}

// printExisting explains why --demo did nothing, and how to get in anyway:
// the demo's passwords were shown once, when it was written.
func printExisting(w io.Writer, url string, as []*reseller.Account) {
	plural := "s"
	if len(as) == 1 {
		plural = ""
	}
	fmt.Fprintf(w, "\nThe database already has data (%d account%s), so --demo added nothing.\n", len(as), plural)
	for _, a := range as {
		if a.Name == demo.AccountName {
			fmt.Fprintf(w, "The demo account %q is there (id %d); its users are %s.\n", a.Name, a.ID, strings.Join(demo.Emails(), ", "))
			break
		}
	}
	self := selfCommand()
	fmt.Fprintf(w, "Open %s and sign in. To get in without the old password, from this directory:\n"+
		"  %s user set-password --email EMAIL     (reads the new password from stdin)\n"+
		"  %s token create --user EMAIL           (prints a new API token)\n\n", url, self, self)
}

func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// printDemo tells how to sign in to the demo account. The passwords and
// tokens exist nowhere else in clear, so this is the one chance to see them.
func printDemo(w io.Writer, url string, r *demo.Result) {
	fmt.Fprintf(w, "\nDemo account %q (id %d): %d pools, %d clients, %d audit entries since %s.\n",
		r.Account.Name, r.Account.ID, r.Pools, r.Clients, r.Entries, r.First.Format("2 January 2006"))
	fmt.Fprintf(w, "Open %s and sign in as one of these users:\n\n", url)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  ROLE\tEMAIL\tPASSWORD\tAPI TOKEN")
	for _, u := range r.Users {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", u.Role, u.Email, u.Password, u.Token)
	}
	tw.Flush()
	if len(r.Users) > 0 {
		fmt.Fprintf(w, "\nTry the API:\n  curl -H 'Authorization: Bearer %s' %s/api/v1/clients\n", r.Users[0].Token, url)
	}
	fmt.Fprintf(w, "\nPasswords and tokens are stored only as hashes: this is the one time they are shown.\n\n")
}
