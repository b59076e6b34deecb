package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/resellerconsole/reseller"
)

// metrics are the server's Prometheus metrics, in a registry of its own so
// that several servers (tests) do not collide. Labels are bounded: routes
// are patterns of the table, methods a fixed set.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	actions  *prometheus.CounterVec
	// inconsistent counts the logs found inconsistent before signing.
	inconsistent prometheus.Counter
	handler      http.Handler
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "reseller_http_requests_total",
		Help: "HTTP requests served, by route pattern, method and status.",
	}, []string{"route", "method", "status"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "reseller_http_request_duration_seconds",
		Help:    "Time to serve HTTP requests, by route pattern and method.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"route", "method"})
	m.actions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "reseller_actions_recorded_total",
		Help: "Actions that succeeded through the API, by the audit action they record (a client deletion counts once, as client.deleted, whatever licenses it revoked).",
	}, []string{"action"})
	m.inconsistent = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "reseller_audit_logs_inconsistent_total",
		Help: "Accounts whose audit log failed the check made before signing a checkpoint; each is refused changes until an operator has looked at it.",
	})
	for _, a := range reseller.Actions {
		m.actions.WithLabelValues(string(a)) // show zeros before the first action
	}
	m.reg.MustRegister(m.requests, m.duration, m.actions, m.inconsistent,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

var knownMethods = map[string]bool{
	"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true,
}

// observe counts a served request.
func (m *metrics) observe(route, method string, status int, d time.Duration) {
	if !knownMethods[method] {
		method = "other"
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(d.Seconds())
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	s.metrics.handler.ServeHTTP(w, r)
	return nil
}
