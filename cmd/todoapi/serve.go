package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/todoapi/todoapi/db"
	"github.com/todoapi/todoapi/internal/api"
	"github.com/todoapi/todoapi/internal/auth"
	"github.com/todoapi/todoapi/internal/config"
	"github.com/todoapi/todoapi/internal/event"
)

// shutdownGrace is how long in-flight requests may take after SIGTERM.
const shutdownGrace = 15 * time.Second

func serve(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		return errors.New("DATABASE_URL must be set")
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	jwksFetches := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "todoapi_jwks_fetches_total", Help: "JWKS fetches, by result: ok or error.",
	}, []string{"result"})
	reg.MustRegister(jwksFetches)
	cfg.Auth.Logger = logger
	cfg.Auth.OnJWKSFetch = func(err error) {
		result := "ok"
		if err != nil {
			result = "error"
		}
		jwksFetches.WithLabelValues(result).Inc()
	}
	verifier, err := auth.NewVerifier(ctx, cfg.Auth)
	if err != nil {
		return err
	}

	database, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer database.Close()
	// The safety check needs the database. If it is down at boot the API
	// serves anyway (not ready: 503) and checks again until it answers; an
	// unsafe answer, now or then, stops the process.
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var safe atomic.Bool
	if err := database.CheckSafety(ctx); errors.Is(err, db.ErrUnsafe) {
		return fmt.Errorf("refusing to serve: %w", err)
	} else if err != nil {
		logger.Warn("database not reachable yet; not ready until it is", "err", err)
		go func() {
			for ctx.Err() == nil {
				time.Sleep(time.Second)
				err := database.CheckSafety(ctx)
				switch {
				case errors.Is(err, db.ErrUnsafe):
					stop(fmt.Errorf("refusing to serve: %w", err))
					return
				case err == nil:
					safe.Store(true)
					logger.Info("database reachable and safe")
					return
				default:
					logger.Debug("database still not reachable", "err", err)
				}
			}
		}()
	} else {
		safe.Store(true)
	}

	cfg.Events.Logger = logger
	hub := event.NewHub(db.NewEventStore(database), cfg.Events)
	go hub.Run(ctx)
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "todoapi_event_streams", Help: "Event streams open on this instance."},
		func() float64 { return float64(hub.Subscribers()) }))
	registerPoolMetrics(reg, database)
	metricsHandler := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	deps := api.Deps{
		Todos:    db.NewTodoStore(database),
		Verifier: verifier,
		Ready: func(ctx context.Context) error {
			if !safe.Load() {
				return errors.New("the database's safety check has not passed yet")
			}
			return errors.Join(database.Ready(ctx), verifier.Ready(ctx))
		},
		Logger:      logger,
		CORSOrigins: cfg.CORSOrigins,
		Metrics:     api.NewMetrics(reg),
		Events:      hub,
	}
	if cfg.MetricsAddr == "" {
		deps.MetricsHandler = metricsHandler
	}
	handler := api.NewServer(deps)
	if cfg.MetricsAddr != "" {
		go serveOps(cfg.MetricsAddr, metricsHandler, handler, logger)
	}
	listener, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10, // a larger header (a huge token) gets 431
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(hub.Close) // streams end, so that shutdown need not wait for them
	if cfg.DebugAddr != "" {
		go serveDebug(cfg.DebugAddr, logger)
	}
	base := "http://" + listener.Addr().String()
	fmt.Fprintf(stdout, "todoapi listening on %s (docs: %s/docs, OpenAPI: %s/openapi.json)\n", base, base, base)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(listener) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if cause := context.Cause(ctx); !errors.Is(cause, context.Canceled) {
		return cause // the safety check failed once the database answered
	}
	return nil
}

// serveDebug serves Go's profiler (net/http/pprof) on its own address, which
// should not be reachable from outside (e.g. 127.0.0.1:6060).
func serveDebug(addr string, logger *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	logger.Info("debug server (pprof)", "addr", addr, "err", srv.ListenAndServe())
}

// serveOps serves /metrics and the health endpoints on an address of their
// own, for operators (METRICS_ADDR).
func serveOps(addr string, metrics, api http.Handler, logger *slog.Logger) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", metrics)
	mux.Handle("/healthz", api)
	mux.Handle("/readyz", api)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	logger.Info("ops server (metrics, health)", "addr", addr, "err", srv.ListenAndServe())
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
