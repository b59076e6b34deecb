package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/alecthomas/kong"
	"github.com/resellerconsole/reseller/internal/witness"
)

type witnessCmd struct {
	Serve witnessServeCmd `cmd:"" help:"Run a witness: cosign the checkpoints of the logs it knows, refusing any that do not extend what it cosigned before."`
	Key   witnessKeyCmd   `cmd:"" help:"Print the witness's verifier key, creating the witness's key if needed."`
}

// defaultWitnessDB is the witness's own state file when --db is not on the
// command line. RESELLER_DB is not used: it names the console's database,
// and a witness must never keep its state there.
const defaultWitnessDB = "witness.db"

// witnessDB is the witness's state file: --db if it was given on the
// command line, else witness.db in the working directory.
func (e *env) witnessDB() string {
	if e.dbGiven {
		return e.dsn
	}
	return defaultWitnessDB
}

const witnessDBHelp = `
--db names the witness's own SQLite file (default witness.db; RESELLER_DB is
not used for it). It holds the witness's secret key and, per log, the latest
checkpoint cosigned: keep it away from the console's database, which the
witness exists to check, and back it up. A witness that loses its file
forgets what it cosigned and starts over with a new key.`

type witnessServeCmd struct {
	Addr      string   `default:"127.0.0.1:8081" placeholder:"HOST:PORT" help:"Address to listen on; port 0 picks a free port (default 127.0.0.1:8081)."`
	LogKey    []string `name:"log-key" required:"" sep:"none" placeholder:"VKEY" help:"Verifier key of a log to witness (NAME+HASH+KEY, as 'reseller key show' prints), or a file holding it; repeatable. Checkpoints of origin NAME/account/ID must be signed by a key named NAME."`
	Name      string   `default:"${witness_name}" placeholder:"NAME" help:"Name of the witness's key when it is created (default ${witness_name}); a schema-less URL such as witness.example.com/w1 is recommended. An existing key keeps its name."`
	LogFormat string   `enum:"text,json" default:"text" help:"Format of the logs on stderr: text or json."`
}

// witnessVars puts the witness package's defaults into the flags' help.
var witnessVars = kong.Vars{"witness_name": witness.DefaultName}

func (c *witnessServeCmd) Help() string {
	return `Serves the C2SP tlog-witness protocol (https://c2sp.org/tlog-witness):
POST /add-checkpoint cosigns a log's new checkpoint when its consistency proof
shows that it extends the latest checkpoint cosigned for that log, and
GET /<hex SHA-256 of the origin>/checkpoint serves that latest checkpoint with
its cosignature. A checkpoint that does not extend it (a rewritten or forked
log) is refused with 422 and logged as a warning. Stops on SIGINT or SIGTERM
after finishing the requests in flight.
` + witnessDBHelp + `

Example:
  reseller witness serve --addr :8081 --db /var/lib/witness/witness.db \
    --log-key "$(reseller key show)"`
}

func (c *witnessServeCmd) Run(e *env) error {
	log := newLogger(e.stderr, c.LogFormat)
	var keys []string
	for _, k := range c.LogKey {
		key, err := readKeyArg(k)
		if err != nil {
			return fmt.Errorf("--log-key: %q is neither a log verifier key nor a readable file", k)
		}
		keys = append(keys, key)
	}
	path := e.witnessDB()
	w, err := witness.Open(e.ctx, path, witness.Options{Name: c.Name, LogKeys: keys, Logger: log})
	if err != nil {
		return err
	}
	defer w.Close()
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	log.Info("listening", "url", "http://"+ln.Addr().String(), "db", path, "verifier_key", w.VerifierKey(), "logs", len(keys))
	if err := w.Serve(e.ctx, ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

type witnessKeyCmd struct {
	Name string `default:"${witness_name}" placeholder:"NAME" help:"Name of the witness's key if it is created now (default ${witness_name})."`
}

func (c *witnessKeyCmd) Help() string {
	return `Prints the witness's public verifier key (NAME+HASH+KEY, algorithm 0x04:
cosignature/v1) alone on stdout, creating the witness's database and key
first if needed. Give it to whoever checks the witness's cosignatures:
'reseller audit verify --witness-key' and 'reseller serve --witness-key'.
` + witnessDBHelp
}

func (c *witnessKeyCmd) Run(e *env) error {
	w, err := witness.Open(e.ctx, e.witnessDB(), witness.Options{Name: c.Name})
	if err != nil {
		return err
	}
	defer w.Close()
	fmt.Fprintln(e.stdout, w.VerifierKey())
	return nil
}
