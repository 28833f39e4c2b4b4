package main

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/todoapi/todoapi/db"
	"github.com/todoapi/todoapi/internal/api"
)

// metrics are all the series the process exports, on one registry: Go's and
// the process's, the API's requests and auth failures, JWKS fetches and the
// connection pool's counters.
type metrics struct {
	reg         *prometheus.Registry
	api         *api.Metrics
	jwksFetches *prometheus.CounterVec
	handler     http.Handler // serves /metrics
}

func newMetrics(database *db.DB) *metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &metrics{
		reg: reg,
		api: api.NewMetrics(reg),
		jwksFetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "todoapi_jwks_fetches_total", Help: "JWKS fetches, by result: ok or error.",
		}, []string{"result"}),
		handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
	}
	reg.MustRegister(m.jwksFetches)
	registerPoolMetrics(reg, database)
	return m
}

// streams exports how many event streams are open on this instance.
func (m *metrics) streams(open func() int) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "todoapi_event_streams", Help: "Event streams open on this instance."},
		func() float64 { return float64(open()) }))
}

// jwksFetched counts one JWKS fetch (auth.Config.OnJWKSFetch).
func (m *metrics) jwksFetched(err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.jwksFetches.WithLabelValues(result).Inc()
}

// registerPoolMetrics exposes the connection pool's counters.
func registerPoolMetrics(reg prometheus.Registerer, database *db.DB) {
	gauge := func(name, help string, value func() float64) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "todoapi_db_pool_" + name, Help: help}, value))
	}
	counter := func(name, help string, value func() float64) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "todoapi_db_pool_" + name, Help: help}, value))
	}
	gauge("max_connections", "Most connections the pool opens.", func() float64 { return float64(database.Stat().MaxConns()) })
	gauge("connections", "Connections open now.", func() float64 { return float64(database.Stat().TotalConns()) })
	gauge("connections_in_use", "Connections serving a request now.", func() float64 { return float64(database.Stat().AcquiredConns()) })
	gauge("connections_idle", "Connections idle now.", func() float64 { return float64(database.Stat().IdleConns()) })
	counter("acquires_total", "Connections handed to requests.", func() float64 { return float64(database.Stat().AcquireCount()) })
	counter("acquires_waited_total", "Acquires that had to wait for a connection.", func() float64 { return float64(database.Stat().EmptyAcquireCount()) })
	counter("acquires_cancelled_total", "Acquires given up (timeout or client gone).", func() float64 { return float64(database.Stat().CanceledAcquireCount()) })
	counter("acquire_wait_seconds_total", "Time spent waiting for connections.", func() float64 { return database.Stat().AcquireDuration().Seconds() })
}
