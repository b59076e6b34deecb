package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/sqldb"
	"github.com/resellerconsole/reseller/internal/web"
	"golang.org/x/mod/sumdb/note"
)

// loadAccountPrefix starts the name of the accounts --baseline creates; it
// refuses a database with any other account, so that it cannot be pointed
// at a real one by mistake.
const loadAccountPrefix = "Load test"

// runBaseline measures, on one database, the API next to plain inserts.
func (c *loadCmd) runBaseline(e *env) error {
	workers := c.Workers
	if len(workers) == 0 {
		workers = []int{1, 16, 64}
	}
	mix := c.Mix
	if len(mix) == 0 {
		mix = []string{"create"}
	}
	db, err := e.open(true)
	if err != nil {
		return err
	}
	defer db.Close()
	skey, vkey, err := auditlog.GenerateKey(auditlog.DefaultKeyName)
	if err != nil {
		return err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return err
	}
	db.SetSigner(signer, vkey) // the server signs checkpoints as it runs, as serve does
	token, pool, err := provisionLoad(e.ctx, db)
	if err != nil {
		return err
	}
	if _, err := db.SQL().ExecContext(e.ctx, plainTable(db.Dialect())); err != nil {
		return fmt.Errorf("create the baseline table: %w", err)
	}

	// The API, served by this process, and the minimal server.
	ctx, stop := context.WithCancel(e.ctx)
	defer stop()
	apiURL, err := serveLocal(ctx, func(ln net.Listener) error {
		srv := web.New(web.Config{Store: db, RateLimit: -1,
			Logger: slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
		return srv.Serve(ctx, ln)
	})
	if err != nil {
		return err
	}
	batcher := newInsertBatcher(ctx, db.SQL(), db.Dialect())
	go batcher.run()
	minURL, err := serveLocal(ctx, func(ln net.Listener) error {
		return (&http.Server{Handler: batcher.handler()}).Serve(ln)
	})
	if err != nil {
		return err
	}

	fmt.Fprintf(e.stderr, "load: baselines on %s (%s), %s per run, writers %v, API mix %s\n",
		redact(e.dsn), db.Dialect(), c.Duration, workers, strings.Join(mix, ","))
	type row struct{ api, plain, batched, http *loadResult }
	var rows []row
	var logErrs []error
	b := make([]byte, 4)
	rand.Read(b)
	run := hex.EncodeToString(b)
	for _, n := range workers {
		api := newLoadAPI(apiURL, token, n)
		ra, err := api.run(e.ctx, e.stderr, n, c.Duration, mix, pool)
		if err != nil {
			return err
		}
		if err := ra.checkLog(); err != nil {
			logErrs = append(logErrs, fmt.Errorf("%d writers: %w", n, err))
		}
		plain := runLoad(e.ctx, e.stderr, "plain insert", n, c.Duration, func(w, i int) (int64, string, bool) {
			return 1, dbCode(insertPlain(db.SQL(), db.Dialect(), fmt.Sprintf("plain-%s-%d-%d-%d@load.test", run, n, w, i))), true
		})
		batched := runLoad(e.ctx, e.stderr, "batched insert", n, c.Duration, func(w, i int) (int64, string, bool) {
			return 1, dbCode(batcher.insert(fmt.Sprintf("batched-%s-%d-%d-%d@load.test", run, n, w, i))), true
		})
		minimal := newLoadAPI(minURL, "", n)
		httpBatched := runLoad(e.ctx, e.stderr, "HTTP batched insert", n, c.Duration, func(w, i int) (int64, string, bool) {
			code, ok := minimal.call("POST", "/rows", map[string]string{"email": fmt.Sprintf("http-%s-%d-%d-%d@load.test", run, n, w, i)}, nil)
			return 1, code, ok
		})
		rows = append(rows, row{ra, plain, batched, httpBatched})
		if e.ctx.Err() != nil {
			break
		}
	}

	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "writers\tAPI/s\tAPI p99\tplain insert/s\tbatched insert/s\tHTTP batched/s\tHTTP p99\tAPI÷plain\tAPI÷HTTP batched\tAPI÷API at %d\terrors\t\n", rows[0].api.workers)
	for _, r := range rows {
		errs := 0
		for _, x := range []*loadResult{r.api, r.plain, r.batched, r.http} {
			for _, k := range x.errors {
				errs += int(k)
			}
			errs += int(x.unknown)
		}
		fmt.Fprintf(tw, "%d\t%.0f\t%s\t%.0f\t%.0f\t%.0f\t%s\t%.2f\t%.2f\t%.2f\t%d\t\n", r.api.workers, r.api.rate(), ms(r.api.percentile(0.99)),
			r.plain.rate(), r.batched.rate(), r.http.rate(), ms(r.http.percentile(0.99)),
			r.api.rate()/r.plain.rate(), r.api.rate()/r.http.rate(), r.api.rate()/rows[0].api.rate(), errs)
	}
	tw.Flush()
	return errors.Join(logErrs...)
}

// provisionLoad gives the database a load-test account with an owner, an
// API token and a large pool, and returns the token and the pool's id. It
// refuses a database that has accounts of another kind.
func provisionLoad(ctx context.Context, db *sqldb.DB) (token string, pool int64, err error) {
	accounts, err := db.ListAccounts(ctx)
	if err != nil {
		return "", 0, err
	}
	for _, a := range accounts {
		if !strings.HasPrefix(a.Name, loadAccountPrefix) {
			return "", 0, fmt.Errorf("the database has account %q: --baseline writes test data, so give it a scratch database (a new SQLite file, or an empty PostgreSQL database)", a.Name)
		}
	}
	acc, err := db.CreateAccount(ctx, fmt.Sprintf("%s %s", loadAccountPrefix, time.Now().UTC().Format(time.RFC3339)))
	if err != nil {
		return "", 0, err
	}
	op := reseller.NewContext(ctx, reseller.OperatorActor(acc.ID))
	u, err := db.AddUser(op, fmt.Sprintf("owner-%d@load.test", acc.ID), reseller.RoleOwner)
	if err != nil {
		return "", 0, err
	}
	if _, token, err = db.CreateTokenFor(op, u.ID, "load"); err != nil {
		return "", 0, err
	}
	p, err := db.CreatePool(ctx, acc.ID, "Load", "", 1_000_000)
	if err != nil {
		return "", 0, err
	}
	return token, p.ID, nil
}

// serveLocal serves on a loopback port until ctx is done and returns its URL.
func serveLocal(ctx context.Context, serve func(net.Listener) error) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go serve(ln)
	context.AfterFunc(ctx, func() { ln.Close() })
	return "http://" + ln.Addr().String(), nil
}

// plainTable is a row comparable to a client's: an id, the account, a
// unique email and a time.
func plainTable(dialect string) string {
	id := "INTEGER PRIMARY KEY"
	if dialect == "postgres" {
		id = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
	}
	return "CREATE TABLE IF NOT EXISTS load_plain (id " + id + ", account_id BIGINT NOT NULL, email TEXT NOT NULL, created_at BIGINT NOT NULL, UNIQUE (account_id, email))"
}

func plainInsert(dialect string) string {
	if dialect == "postgres" {
		return "INSERT INTO load_plain (account_id, email, created_at) VALUES (1, $1, $2)"
	}
	return "INSERT INTO load_plain (account_id, email, created_at) VALUES (1, ?, ?)"
}

// insertPlain inserts one row in a transaction of its own.
func insertPlain(db *sql.DB, dialect, email string) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	if _, err := tx.Exec(plainInsert(dialect), email, time.Now().UnixMicro()); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func dbCode(err error) string {
	if err != nil {
		return "db_error"
	}
	return ""
}

// insertBatcher inserts rows for many callers with one committer: whatever
// rows wait are inserted in one transaction with one commit, the plain form
// of the store's group commit.
type insertBatcher struct {
	ctx     context.Context // the batcher stops when it is done
	db      *sql.DB
	dialect string
	rows    chan batchedRow
}

type batchedRow struct {
	email string
	done  chan error
}

func newInsertBatcher(ctx context.Context, db *sql.DB, dialect string) *insertBatcher {
	return &insertBatcher{ctx: ctx, db: db, dialect: dialect, rows: make(chan batchedRow, 256)}
}

func (b *insertBatcher) insert(email string) error {
	r := batchedRow{email: email, done: make(chan error, 1)}
	select {
	case b.rows <- r:
	case <-b.ctx.Done():
		return b.ctx.Err()
	}
	select {
	case err := <-r.done:
		return err
	case <-b.ctx.Done():
		return b.ctx.Err()
	}
}

func (b *insertBatcher) run() {
	for {
		var batch []batchedRow
		select {
		case r := <-b.rows:
			batch = append(batch, r)
		case <-b.ctx.Done():
			return
		}
	drain:
		for len(batch) < 256 {
			select {
			case r := <-b.rows:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		err := b.commit(batch)
		for _, r := range batch {
			r.done <- err
		}
	}
}

func (b *insertBatcher) commit(batch []batchedRow) error {
	tx, err := b.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st, err := tx.Prepare(plainInsert(b.dialect))
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now().UnixMicro()
	for _, r := range batch {
		if _, err := st.Exec(r.email, now); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// handler is the minimal HTTP server: POST /api/v1/rows with {"email": ...}
// inserts a row through the batcher and answers 201 with it.
func (b *insertBatcher) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/rows", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Email string }
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in); err != nil || in.Email == "" {
			http.Error(w, `{"code":"invalid"}`, http.StatusBadRequest)
			return
		}
		if err := b.insert(in.Email); err != nil {
			http.Error(w, `{"code":"db_error"}`, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(in)
	})
	return mux
}
