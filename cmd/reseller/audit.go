package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/export"
)

type auditCmd struct {
	Export auditExportCmd `cmd:"" help:"Export an account's audit log, or part of it, as CSV, JSON Lines or a verification bundle."`
	Verify auditVerifyCmd `cmd:"" help:"Verify a bundle offline, with no database."`
	Check  auditCheckCmd  `cmd:"" help:"Check the stored logs: hashes, sequence, filter columns, every checkpoint, and a replay against the current state."`
}

type auditExportCmd struct {
	Account int64  `required:"" placeholder:"ID" help:"Id of the account whose log to export."`
	Format  string `enum:"csv,jsonl,bundle" default:"csv" help:"csv for spreadsheets; jsonl: the stored record bytes, one per line; bundle: a verification bundle for 'reseller audit verify'."`
	Since   int64  `placeholder:"SIZE" help:"With --format bundle: also prove that the log of this older size (from a checkpoint the auditor kept) is a prefix of today's. 0 (the default): no such proof."`
	Out     string `short:"o" placeholder:"FILE" help:"Write to FILE instead of stdout. FILE appears only once the export is complete; an existing FILE is refused unless --force."`
	Force   bool   `help:"Overwrite --out if it exists."`

	Action []string `placeholder:"ACTION" help:"Only these actions (repeatable, or comma-separated): client.created, client.suspended, client.reactivated, client.deleted, license.allocated, license.revoked."`
	Target []string `sep:"none" placeholder:"EMAIL" help:"Only entries whose target client had this email (repeatable)."`
	Actor  []string `sep:"none" placeholder:"EMAIL" help:"Only entries performed by the user with this email (repeatable)."`
	Client int64    `placeholder:"ID" help:"Only entries about the client with this id."`
	From   string   `placeholder:"TIME" help:"Only entries at or after TIME: a date (2026-07-01, midnight in --tz) or an RFC 3339 time."`
	To     string   `placeholder:"TIME" help:"Only entries before TIME: an RFC 3339 time is excluded, a date includes that whole day (in --tz); the same rule as the API's to= and the query's created:A..B."`
	TZ     string   `name:"tz" default:"UTC" placeholder:"ZONE" help:"IANA time zone for the dates of --from and --to, e.g. Europe/Berlin (default UTC)."`
	Order  string   `enum:"asc,desc" default:"asc" help:"asc: oldest first, in log order; desc: newest first."`
	Query  string   `short:"q" placeholder:"QUERY" help:"Select with the console's query syntax instead of the flags above, e.g. 'action:client.suspended created:2026-07-01..2026-09-30 -actor:bot@acme.test' (dates in --tz)."`
}

func (c *auditExportCmd) Help() string {
	return `Streams the matching entries of an account's audit log, with flat memory
however long the log. Times are RFC 3339 in UTC.

CSV has a header row and neutralises cells that a spreadsheet would run as a
formula. JSON Lines prints each entry's canonical record bytes exactly as
stored and hashed into the account's Merkle tree, one per line, so that an
auditor can hash the lines themselves.

Examples:
  reseller audit export --account 1 --out audit.csv
  reseller audit export --account 1 --format jsonl --action client.suspended \
      --from 2026-07-01 --to 2026-09-30 --tz Europe/Berlin > q3-suspensions.jsonl
  reseller audit export --account 1 -q 'action:license.revoked -actor:bot@acme.test'
  reseller audit export --account 1 --format bundle --since 1200 --out q3.bundle.json`
}

func (c *auditExportCmd) filter() (reseller.AuditFilter, error) {
	loc, err := time.UTC, error(nil)
	if c.TZ != "" {
		if loc, err = reseller.LoadZone(c.TZ); err != nil {
			return reseller.AuditFilter{}, err
		}
	}
	if c.Query != "" {
		// One way to say it at a time: merging a query with flags would
		// leave the reader to guess whether they widen or narrow each other.
		if len(c.Action)+len(c.Target)+len(c.Actor) > 0 || c.Client != 0 || c.From != "" || c.To != "" {
			return reseller.AuditFilter{}, reseller.Errorf(reseller.EINVALID, "Give either --query or the filter flags (--action, --target, --actor, --client, --from, --to), not both.")
		}
		f, err := reseller.ParseAuditQuery(c.Query, loc)
		if err != nil {
			return f, reseller.Errorf(reseller.EINVALID, "Query: %v.", err)
		}
		f.Order = c.Order
		return f, f.Validate()
	}
	f := reseller.AuditFilter{Targets: c.Target, Actors: c.Actor, ClientID: c.Client, Order: c.Order}
	for _, s := range c.Action {
		a, err := reseller.ParseAction(s)
		if err != nil {
			return f, err
		}
		f.Actions = append(f.Actions, a)
	}
	if c.From != "" {
		if f.From, err = reseller.ParseTimeBound("--from", c.From, loc, false); err != nil {
			return f, err
		}
	}
	if c.To != "" {
		if f.To, err = reseller.ParseTimeBound("--to", c.To, loc, true); err != nil {
			return f, err
		}
	}
	return f, f.Validate()
}

// Validate refuses a malformed command line (exit 2): flags and query are
// parsed before anything is opened.
func (c *auditExportCmd) Validate() error {
	_, err := c.filter()
	return usage("", err)
}

func (c *auditExportCmd) Run(e *env) (err error) {
	f, err := c.filter()
	if err != nil {
		return err
	}
	if c.Since != 0 && c.Format != "bundle" {
		return reseller.Errorf(reseller.EINVALID, "--since goes with --format bundle.")
	}
	open := e.open
	if c.Format == "bundle" {
		open = e.openSigned
	}
	db, err := open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, err := operatorContext(e.ctx, db, c.Account)
	if err != nil {
		return err
	}

	var w io.Writer = e.stdout
	var tmp *os.File
	if c.Out != "" && !c.Force {
		if _, err := os.Lstat(c.Out); err == nil {
			return reseller.Errorf(reseller.EINVALID, "%s already exists; pass --force to overwrite it.", c.Out)
		}
	}
	if c.Out != "" {
		// Write beside the target and rename at the end, so that a failed
		// or interrupted export never leaves a truncated file behind.
		if tmp, err = os.CreateTemp(filepath.Dir(c.Out), "."+filepath.Base(c.Out)+".*.tmp"); err != nil {
			return fmt.Errorf("create output file: %w", err)
		}
		defer func() {
			if err != nil {
				tmp.Close()
				os.Remove(tmp.Name())
			}
		}()
		w = tmp
	}
	var ew export.Writer
	n := 0
	switch c.Format {
	case "bundle":
		ew = &flushOnly{}
		if n, err = db.WriteBundle(ctx, w, f, c.Since); err != nil {
			return err
		}
		ctx = nil
	case "jsonl":
		ew = export.NewJSONL(w)
	default:
		ew = export.NewCSV(w)
	}
	if ctx != nil { // an account without users has an empty log
		if n, err = export.Stream(ctx, db, f, ew); err != nil {
			return err
		}
	}
	if err := ew.Flush(); err != nil {
		return fmt.Errorf("write export: %w", err)
	}
	if tmp != nil {
		if err := tmp.Sync(); err != nil {
			return fmt.Errorf("write %s: %w", c.Out, err)
		}
		if err := tmp.Close(); err != nil {
			return fmt.Errorf("write %s: %w", c.Out, err)
		}
		if err := os.Rename(tmp.Name(), c.Out); err != nil {
			return fmt.Errorf("write %s: %w", c.Out, err)
		}
		fmt.Fprintf(e.stderr, "Exported %d entries of account %d to %s.\n", n, c.Account, c.Out)
	} else if c.Format == "bundle" {
		// A bundle says how many entries it holds, but not in a way a person
		// reads at a glance; CSV and JSON Lines count their lines.
		fmt.Fprintf(e.stderr, "Exported %d entries of account %d as a bundle.\n", n, c.Account)
	}
	return nil
}

// flushOnly stands in for an entry writer when the export wrote itself.
type flushOnly struct{}

func (flushOnly) Write(*reseller.Entry) error { return nil }
func (flushOnly) Flush() error                { return nil }
