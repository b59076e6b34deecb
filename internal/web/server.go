// Package web serves Reseller Console over HTTP: the web console (server-
// rendered pages, session cookies), the JSON API under /api/v1 (bearer
// tokens, problem+json errors, an OpenAPI document generated from the route
// table in routes.go), and the operations endpoints /healthz and /metrics.
// Handlers are thin: the store behind the Store interface checks roles and
// rules, and records every action in the audit log with the actor that this
// package puts in the request context.
package web

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
	_ "time/tzdata" // the tz parameter must work where the system has no zone database

	"github.com/resellerconsole/reseller"
)

// Store is what the server needs of the store; *sqldb.DB satisfies it.
type Store interface {
	reseller.AccountService
	reseller.UserService
	reseller.TokenService
	reseller.ClientService
	reseller.PoolService
	reseller.LicenseService
	reseller.AuditService
	reseller.LogService
	reseller.SiteService
	ConsoleStore
}

// Pruner is what a store that keeps raw check-ins for a limited time
// offers; *sqldb.DB satisfies it. Serve calls it in the background.
type Pruner interface {
	// PruneCheckIns deletes the raw check-ins older than before.
	PruneCheckIns(ctx context.Context, before time.Time) (int64, error)
}

// Config configures a Server.
type Config struct {
	Store  Store
	Logger *slog.Logger // nil for slog.Default()
	// RateLimit is the sustained requests per second allowed per API token
	// (per IP address for requests without a valid token): 0 means the
	// default of 20, a negative value turns limiting off.
	RateLimit float64
	RateBurst int // requests allowed at once; 0 means the default of 40
	// TrustProxy takes the client's IP address from X-Forwarded-For (the
	// address our proxy appended). Set it only behind a proxy that sets it.
	TrustProxy bool
	// Now is the console's clock, for ranges such as "today" and "last
	// quarter" and for sign-in limits; nil means time.Now. Tests set it.
	Now reseller.Clock
	// CheckpointEvery is how often Serve signs a checkpoint of every log
	// that grew (0 means every second; negative, never), if the store
	// signs (Signer).
	CheckpointEvery time.Duration
	// CheckInRate is the sustained check-ins a minute allowed per license
	// key, CheckInBurst how many at once: 0 means the defaults (6 and 10),
	// a negative rate turns the limit off.
	CheckInRate  float64
	CheckInBurst int
	// ActivityRetention is how long raw check-ins are kept (0 means
	// DefaultActivityRetention, negative forever); Serve prunes older ones
	// every PruneEvery (0 means an hour). Daily roll-ups are kept.
	ActivityRetention time.Duration
	PruneEvery        time.Duration
}

// DefaultActivityRetention is how long raw check-ins are kept by default.
const DefaultActivityRetention = 90 * 24 * time.Hour

// Signer is what a store that signs checkpoints in the background offers;
// *sqldb.DB satisfies it.
type Signer interface {
	// SignCheckpoints signs a checkpoint of each log that grew (of every
	// log when all is set).
	SignCheckpoints(ctx context.Context, all bool) error
	// OnInconsistent sets what to do when a log is found inconsistent.
	OnInconsistent(func(accountID int64, cause error))
	// LogHealth returns ELOGINCONSISTENT when the actor's log was found inconsistent.
	LogHealth(ctx context.Context) error
}

// Defaults of Config.
const (
	DefaultRateLimit = 20
	DefaultRateBurst = 40
)

// ShutdownTimeout bounds how long Serve waits for in-flight requests.
const ShutdownTimeout = 30 * time.Second

// Server is the HTTP server of Reseller Console.
type Server struct {
	store      Store
	log        *slog.Logger
	trustProxy bool
	limits     *limiters
	metrics    *metrics
	routes     []*route
	mux        *http.ServeMux
	handler    http.Handler
	openapi    []byte

	// The web console (console.go).
	tmpl      map[string]*template.Template
	assets    map[string]*asset // by hashed name
	assetURLs map[string]string // plain name → hashed URL
	rendered  sync.Map          // template names rendered, for tests
	cop       *http.CrossOriginProtection
	logins    *loginLimiter
	now       reseller.Clock

	signer          Signer // nil when the store does not sign in the background
	checkpointEvery time.Duration

	checkIns   *limiters // per license key (api_plugin.go)
	retention  time.Duration
	pruneEvery time.Duration
}

// New returns a server for cfg. It panics if cfg has no store or if the
// route table cannot be described, both programming errors.
func New(cfg Config) *Server {
	if cfg.Store == nil {
		panic("web: Config.Store is nil")
	}
	s := &Server{store: cfg.Store, log: cfg.Logger, trustProxy: cfg.TrustProxy, mux: http.NewServeMux(), now: cfg.Now}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	rl, burst := cfg.RateLimit, cfg.RateBurst
	if rl == 0 {
		rl = DefaultRateLimit
	}
	if burst <= 0 {
		burst = DefaultRateBurst
	}
	s.limits = newLimiters(rl, burst)
	cr, cb := cfg.CheckInRate, cfg.CheckInBurst
	if cr == 0 {
		cr = DefaultCheckInRate
	}
	if cb <= 0 {
		cb = DefaultCheckInBurst
	}
	s.checkIns = newLimiters(cr/60, cb)
	s.retention, s.pruneEvery = cfg.ActivityRetention, cfg.PruneEvery
	if s.retention == 0 {
		s.retention = DefaultActivityRetention
	}
	if s.pruneEvery <= 0 {
		s.pruneEvery = time.Hour
	}
	s.metrics = newMetrics()
	s.checkpointEvery = cfg.CheckpointEvery
	if s.checkpointEvery == 0 {
		s.checkpointEvery = time.Second
	}
	if sg, ok := cfg.Store.(Signer); ok {
		s.signer = sg
		sg.OnInconsistent(s.logInconsistent)
	}
	s.routes = s.routeTable()
	s.register()
	if err := s.initConsole(); err != nil {
		panic("web: console: " + err.Error())
	}
	doc, err := s.openAPIDocument()
	if err != nil {
		panic("web: OpenAPI document: " + err.Error())
	}
	s.openapi = doc
	s.handler = compress(s.observe(secure(s.recoverPanics(http.HandlerFunc(s.dispatch)))))
	return s
}

// Handler returns the server's root handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve serves HTTP on ln until ctx is done, then shuts down gracefully:
// it stops accepting connections and lets in-flight requests finish, for up
// to ShutdownTimeout, after which it closes what is left. Requests keep
// running after ctx is done (their contexts do not derive from its
// cancellation). It returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute, // a body trickling in must not hold a connection forever
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	sctx, stopSigning := context.WithCancel(ctx)
	signing := make(chan struct{})
	go func() { defer close(signing); s.signCheckpoints(sctx) }()
	pruning := make(chan struct{})
	go func() { defer close(pruning); s.pruneCheckIns(sctx) }()
	defer func() { stopSigning(); <-signing; <-pruning }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down", slog.String("addr", ln.Addr().String()))
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		srv.Close()
		err = errors.Join(errors.New("web: shutdown: in-flight requests did not finish in time"), err)
	}
	if serr := <-done; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// signCheckpoints signs, every checkpointEvery until ctx is done, a
// checkpoint of each log that grew, so that the part of a log that no
// signature covers is never more than about one interval of writes. The
// first round looks at every log, which checks each once at start-up.
func (s *Server) signCheckpoints(ctx context.Context) {
	if s.signer == nil || s.checkpointEvery < 0 {
		return
	}
	t := time.NewTicker(s.checkpointEvery)
	defer t.Stop()
	for all := true; ; all = false {
		if err := s.signer.SignCheckpoints(ctx, all); err != nil && ctx.Err() == nil {
			s.log.Warn("signing checkpoints", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pruneCheckIns deletes, every pruneEvery until ctx is done, the raw
// check-ins older than the retention period, starting at once.
func (s *Server) pruneCheckIns(ctx context.Context) {
	p, ok := s.store.(Pruner)
	if !ok || s.retention < 0 {
		return
	}
	t := time.NewTicker(s.pruneEvery)
	defer t.Stop()
	for {
		n, err := p.PruneCheckIns(ctx, s.now().Add(-s.retention))
		if err != nil && ctx.Err() == nil {
			s.log.Warn("pruning check-ins", slog.Any("error", err))
		} else if n > 0 {
			s.log.Info("pruned check-ins", slog.Int64("deleted", n), slog.String("retention", s.retention.String()))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// logInconsistent reports a log that failed its check before signing: an
// ERROR line and a metric, for an operator to look at. Nothing is repaired.
func (s *Server) logInconsistent(accountID int64, cause error) {
	s.metrics.inconsistent.Inc()
	s.log.Error("audit log inconsistent: signing and changes refused for the account until an operator has looked at it (reseller audit check)",
		slog.Int64("account", accountID), slog.String("cause", cause.Error()))
}

// health answers ok when the database answers and, as far as the last
// write could tell, can store changes. Looking up account 0 costs one
// indexed read and must come back "not found".
func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if _, err := s.store.FindAccountByID(r.Context(), 0); reseller.ErrorCode(err) != reseller.ENOTFOUND {
		s.log.LogAttrs(r.Context(), slog.LevelError, "health check failed",
			slog.String("request_id", infoFrom(r.Context()).id), slog.Any("error", err))
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("database unavailable\n"))
		return nil
	}
	if wr, ok := s.store.(interface{ Writable() error }); ok {
		if err := wr.Writable(); err != nil {
			w.Header().Set("Retry-After", retryStorage)
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("database not writable: the last write could not be stored (disk full or read-only)\n"))
			return nil
		}
	}
	w.Write([]byte("ok\n"))
	return nil
}
