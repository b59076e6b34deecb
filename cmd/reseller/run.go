package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/alecthomas/kong"
	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
)

// Exit codes. Scripts can tell a mistyped command line from a refused action.
const (
	exitOK    = 0
	exitError = 1 // the command ran and failed: bad input, refused action, database error
	exitUsage = 2 // the command line itself is wrong
)

// cli is the whole command line. Each subcommand lives in its own file.
type cli struct {
	DB         string `name:"db" env:"RESELLER_DB" default:"reseller.db" placeholder:"PATH|URL" help:"Database: the path of a SQLite file, or a postgres:// URL."`
	KeyFile    string `name:"key-file" env:"RESELLER_KEY_FILE" placeholder:"PATH" help:"File holding the checkpoint signing key; created on first use. Default: reseller-signing.key beside a SQLite database, or in the working directory for PostgreSQL."`
	SigningKey string `name:"signing-key" env:"RESELLER_SIGNING_KEY" placeholder:"KEY" help:"The signing key itself (PRIVATE+KEY+...), instead of --key-file; for instances that share one key through a secret store."`

	Serve   serveCmd   `cmd:"" help:"Run the web console and the JSON API."`
	Migrate migrateCmd `cmd:"" help:"Create the database, or bring its schema up to date; set up the app's PostgreSQL role."`
	Backup  backupCmd  `cmd:"" help:"Back up a SQLite database while it is in use."`
	Account accountCmd `cmd:"" help:"Create and list reseller accounts."`
	User    userCmd    `cmd:"" help:"Add and list an account's users, and set their passwords."`
	Pool    poolCmd    `cmd:"" help:"Create, resize and list license pools."`
	Token   tokenCmd   `cmd:"" help:"Issue API tokens."`
	Audit   auditCmd   `cmd:"" help:"Export, verify and check audit logs."`
	Key     keyCmd     `cmd:"" help:"Show the key that checkpoints are verified with."`
	Witness witnessCmd `cmd:"" help:"Run a witness that cosigns checkpoints and refuses forked logs, or show its key."`
	Load    loadCmd    `cmd:"" help:"Load a deployment's API with concurrent writers and report throughput and latency; or measure the baselines."`
	Sites   sitesCmd   `cmd:"" help:"Simulate the plugins of protected sites against a running server."`
	Version versionCmd `cmd:"" help:"Print the version of this binary."`
}

const description = `Reseller Console: the web console, JSON API and operator tools for reseller
accounts, their clients, license pools and verifiable audit log.

Commands that create something print only the new id or token on stdout, so
scripts can capture it; messages for people go to stderr. Exit status is 0 on
success, 1 when the command failed, 2 when the command line is wrong.`

// env is what every command runs with: the process's streams and context
// (passed in so that tests run the real wiring) and the --db flag.
type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	dsn    string
	// dbGiven: --db was on the command line (not from RESELLER_DB or the
	// default), which the witness commands need to know.
	dbGiven bool

	keyFile, signingKey string
}

// Validate checks --db before any command runs: a command line naming no
// database, or one of a kind this binary does not speak, is a usage error.
func (c *cli) Validate() error {
	switch {
	case strings.TrimSpace(c.DB) == "":
		return errors.New("--db is empty: give the path of a SQLite file or a postgres:// URL")
	case sqldb.Scheme(c.DB) != "" && !sqldb.IsPostgres(c.DB):
		return fmt.Errorf("--db %s: %s:// databases are not supported; give the path of a SQLite file or a postgres:// URL", redact(c.DB), sqldb.Scheme(c.DB))
	}
	return nil
}

// usage turns a validation error into a command-line error: kong reports
// it with the usage hint, and the exit status is 2.
func usage[T any](_ T, err error) error {
	if err == nil {
		return nil
	}
	return errors.New(strings.TrimSuffix(errorText(err), "."))
}

// joinNegatives lets a flag take a negative number as its own argument
// ("--rate-limit -1"), which the parser would otherwise read as a flag.
func joinNegatives(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "--") && !strings.Contains(a, "=") && i+1 < len(args) && isNegativeNumber(args[i+1]) {
			out = append(out, a+"="+args[i+1])
			i++
			continue
		}
		out = append(out, a)
	}
	return out
}

func isNegativeNumber(s string) bool {
	if len(s) < 2 || s[0] != '-' {
		return false
	}
	_, err := strconv.ParseFloat(s[1:], 64)
	return err == nil
}

// exitPanic carries kong's exit code (after --help, for example) out of
// Parse, so that run returns it instead of the process ending.
type exitPanic int

// run parses args, runs the chosen command and returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	var c cli
	e := &env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr}
	parser, err := kong.New(&c,
		kong.Name("reseller"),
		kong.Description(description),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { panic(exitPanic(code)) }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.Bind(e),
		serveVars,
		witnessVars,
	)
	if err != nil {
		panic(err) // the grammar above is wrong: a bug, not a user error
	}
	defer func() {
		if r := recover(); r != nil {
			c, ok := r.(exitPanic)
			if !ok {
				panic(r)
			}
			code = int(c)
		}
	}()
	if len(args) == 0 {
		// A bare `reseller` shows what there is, but is not a success.
		parser.Stdout = stderr
		func() {
			defer func() {
				if r := recover(); r != nil {
					if _, ok := r.(exitPanic); !ok {
						panic(r)
					}
				}
			}()
			parser.Parse([]string{"--help"})
		}()
		return exitUsage
	}
	kctx, err := parser.Parse(joinNegatives(args))
	if err != nil {
		fmt.Fprintf(stderr, "reseller: %v\n", err)
		var pe *kong.ParseError
		if errors.As(err, &pe) && pe.Context != nil {
			if cmd := pe.Context.Command(); cmd != "" {
				fmt.Fprintf(stderr, "Run 'reseller %s --help' for usage.\n", commandPath(cmd))
				return exitUsage
			}
		}
		fmt.Fprintln(stderr, "Run 'reseller --help' for usage.")
		return exitUsage
	}
	e.dsn, e.keyFile, e.signingKey = c.DB, c.KeyFile, c.SigningKey
	for _, p := range kctx.Path {
		if p.Flag != nil && p.Flag.Name == "db" && !p.Resolved {
			e.dbGiven = true
		}
	}
	if err := kctx.Run(); err != nil {
		fmt.Fprintf(stderr, "reseller: %s\n", errorText(err))
		return exitError
	}
	return exitOK
}

// commandPath drops kong's placeholders ("user add <email>") from a command.
func commandPath(cmd string) string {
	out := []rune{}
	depth := 0
	for _, r := range cmd {
		switch {
		case r == '<':
			depth++
		case r == '>':
			depth--
		case depth == 0:
			out = append(out, r)
		}
	}
	return string(out)
}

// errorText is what the operator reads for err: a domain error's message,
// which names the problem, or else the error itself. The operator runs the
// binary on the server, so unlike the API the CLI may show internal detail.
func errorText(err error) string {
	var e *reseller.Error
	if errors.As(err, &e) {
		return reseller.ErrorMessage(err)
	}
	return err.Error()
}

// open opens the database. With create (serve, migrate) it creates a SQLite
// file that does not exist and migrates the schema; the other commands only
// check that the schema is there and current: for them a missing file or an
// empty database is almost always a wrong --db or working directory, and
// silently giving it a schema would hide that.
func (e *env) open(create bool) (*sqldb.DB, error) {
	if !sqldb.IsPostgres(e.dsn) {
		// The same prefixes sqldb.Open accepts.
		path := strings.TrimPrefix(strings.TrimPrefix(e.dsn, "sqlite:"), "file:")
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			if !create {
				return nil, fmt.Errorf("database %s does not exist; create it with 'reseller migrate' (or point --db / RESELLER_DB at the right file)", redact(e.dsn))
			}
			if dir := filepath.Dir(path); dir != "" {
				if _, err := os.Stat(dir); err != nil {
					return nil, fmt.Errorf("cannot create database %s: directory %s does not exist", redact(e.dsn), dir)
				}
			}
		}
	}
	db, err := sqldb.Open(e.ctx, e.dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", redact(e.dsn), err)
	}
	if !create {
		if err := db.SchemaCurrent(e.ctx); err != nil {
			db.Close()
			return nil, err
		}
		return db, nil
	}
	if err := db.Migrate(e.ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate database %s: %w", redact(e.dsn), err)
	}
	return db, nil
}

// redact hides the password of a database's DSN, in any of its forms, for
// messages and logs.
func redact(dsn string) string { return sqldb.Redact(dsn) }

// asOperator returns a context acting as the platform operator in an
// account: what the operator's commands do is recorded as the operator's,
// never as some user's.
func asOperator(ctx context.Context, accountID int64) context.Context {
	return reseller.NewContext(ctx, reseller.OperatorActor(accountID))
}

// operatorContext returns a context acting as the platform operator in an
// existing account; ENOTFOUND for an unknown account.
func operatorContext(ctx context.Context, db *sqldb.DB, accountID int64) (context.Context, error) {
	if _, err := db.FindAccountByID(ctx, accountID); err != nil {
		return nil, err
	}
	return asOperator(ctx, accountID), nil
}
