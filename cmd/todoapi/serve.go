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
	"time"

	"github.com/todoapi/todoapi/db"
	"github.com/todoapi/todoapi/internal/api"
	"github.com/todoapi/todoapi/internal/auth"
	"github.com/todoapi/todoapi/internal/config"
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
	cfg.Auth.Logger = logger
	verifier, err := auth.NewVerifier(ctx, cfg.Auth)
	if err != nil {
		return err
	}

	database, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer database.Close()
	if err := database.CheckSafety(ctx); err != nil {
		return fmt.Errorf("refusing to serve: %w", err)
	}

	handler := api.NewServer(api.Deps{
		Todos:    db.NewTodoStore(database),
		Verifier: verifier,
		Ready: func(ctx context.Context) error {
			return errors.Join(database.Ready(ctx), verifier.Ready(ctx))
		},
		Logger: logger,
	})
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
	return srv.Shutdown(shutdownCtx)
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
