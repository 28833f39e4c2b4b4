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
	"sync"
	"time"

	"github.com/todoapi/todoapi/db"
	"github.com/todoapi/todoapi/internal/api"
	"github.com/todoapi/todoapi/internal/auth"
	"github.com/todoapi/todoapi/internal/config"
	"github.com/todoapi/todoapi/internal/event"
	"github.com/todoapi/todoapi/internal/todo"
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
	logs := newBufferedLog(stderr)
	defer logs.Close()
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: cfg.LogLevel}))
	cursors, err := todo.NewCursorKey(cfg.CursorSecret)
	if err != nil {
		return err
	}
	apiLn, opsLn, debugLn, err := listenAll(cfg)
	if err != nil {
		return err
	}
	defer closeAll(apiLn, opsLn, debugLn)

	database, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer database.Close()
	m := newMetrics(database)
	cfg.Auth.Logger = logger
	cfg.Auth.OnJWKSFetch = m.jwksFetched
	verifier, err := auth.NewVerifier(ctx, cfg.Auth)
	if err != nil {
		return err
	}
	ctx, stop := context.WithCancel(ctx) // ends the guard's re-checks
	defer stop()
	guard, err := db.NewGuard(ctx, database, logger)
	if err != nil {
		return fmt.Errorf("refusing to serve: %w", err)
	}

	// The event poller has a pool of its own: it never waits for a request's
	// connection nor keeps one busy, and a request never gets a connection
	// the poller used a moment ago and a restart may have cut since (the
	// pool checks connections that have been idle).
	eventsDB, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer eventsDB.Close()
	cfg.Events.Logger = logger
	hub := event.NewHub(db.NewEventStore(eventsDB), cfg.Events)
	go hub.Run(ctx)
	m.streams(hub.Subscribers)

	deps := api.Deps{
		Events:   hub,
		Todos:    db.NewTodoStore(database),
		Lists:    db.NewListStore(database),
		Cursors:  cursors,
		Verifier: verifier,
		Ready: func(ctx context.Context) error {
			return errors.Join(guard.Ready(ctx), verifier.Ready(ctx))
		},
		Logger:      logger,
		CORSOrigins: cfg.CORSOrigins,
		Metrics:     m.api,
		// Twice the pool: while some requests wait on the database, as many
		// can be decoding, checking tokens and encoding.
		MaxActive: 2 * int(database.Stat().MaxConns()),
	}
	if opsLn == nil {
		deps.MetricsHandler = m.handler
	}
	handler := api.NewServer(deps)
	// The API's listener makes the few answers Go's server writes itself
	// problem+json too.
	apiSrv := api.NewHTTPServer(handler, slog.NewLogLogger(logger.Handler(), slog.LevelWarn))
	apiSrv.RegisterOnShutdown(hub.Close) // streams end, so that shutdown need not wait for them
	servers := []server{{api.ProblemListener(apiLn), apiSrv}}
	if opsLn != nil {
		servers = append(servers, server{opsLn, sideServer(opsMux(m.handler, handler), logger)})
		fmt.Fprintf(stdout, "metrics on http://%s/metrics (and /healthz, /readyz)\n", opsLn.Addr())
	}
	if debugLn != nil {
		servers = append(servers, server{debugLn, sideServer(debugMux(), logger)})
		fmt.Fprintf(stdout, "profiler on http://%s/debug/pprof/\n", debugLn.Addr())
	}
	base := "http://" + apiLn.Addr().String()
	fmt.Fprintf(stdout, "todoapi listening on %s (docs: %s/docs, OpenAPI: %s/openapi.json)\n", base, base, base)
	return serveAll(ctx, servers, guard.Unsafe(), logger)
}

// listenAll binds every address the configuration names (METRICS_ADDR and
// DEBUG_ADDR may be empty: nil listeners) before anything is served, so that
// an address taken fails the start rather than leaving a server missing.
func listenAll(cfg config.Config) (apiLn, opsLn, debugLn net.Listener, err error) {
	var lns [3]net.Listener
	for i, a := range [3][2]string{{"LISTEN_ADDR", cfg.ListenAddr}, {"METRICS_ADDR", cfg.MetricsAddr}, {"DEBUG_ADDR", cfg.DebugAddr}} {
		if a[1] == "" {
			continue
		}
		if lns[i], err = net.Listen("tcp", a[1]); err != nil {
			closeAll(lns[:]...)
			return nil, nil, nil, fmt.Errorf("%s: %w", a[0], err)
		}
	}
	return lns[0], lns[1], lns[2], nil
}

// closeAll closes the listeners that are not nil; after a shutdown they are
// closed already.
func closeAll(lns ...net.Listener) {
	for _, ln := range lns {
		if ln != nil {
			_ = ln.Close()
		}
	}
}

// server is one of the process's HTTP servers and its open listener.
type server struct {
	ln  net.Listener
	srv *http.Server
}

// serveAll serves every server until ctx ends (SIGTERM), the guard finds the
// database unsafe or a server fails, then shuts them all down together,
// letting requests in flight finish within shutdownGrace.
func serveAll(ctx context.Context, servers []server, unsafe <-chan error, logger *slog.Logger) error {
	errc := make(chan error, len(servers))
	for _, s := range servers {
		go func() { errc <- s.srv.Serve(s.ln) }()
	}
	var cause error
	select {
	case cause = <-errc:
	case err := <-unsafe:
		cause = fmt.Errorf("refusing to serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "cause", cause)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	errs := make([]error, len(servers)+1)
	errs[0] = cause
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Go(func() { errs[i+1] = s.srv.Shutdown(shutdownCtx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// sideServer serves an operator's endpoint (metrics, profiler), which has no
// slow clients to wait for.
func sideServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
}

// opsMux serves /metrics and the health endpoints, for operators, on an
// address of their own (METRICS_ADDR).
func opsMux(metrics, api http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", metrics)
	mux.Handle("/healthz", api)
	mux.Handle("/readyz", api)
	return mux
}

// debugMux serves Go's profiler (net/http/pprof), on an address that should
// not be reachable from outside (DEBUG_ADDR, e.g. 127.0.0.1:6060).
func debugMux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
