// Package api serves the HTTP API: Huma operations on a chi router, an
// OpenAPI 3.1 document and a docs UI. It decides nothing about who may see a
// row; it passes the verified user to the store, and Postgres decides.
package api

import (
	"context"
	"log"
	"log/slog"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/go-chi/chi/v5"

	"github.com/todoapi/todoapi/internal/auth"
	"github.com/todoapi/todoapi/internal/event"
	"github.com/todoapi/todoapi/internal/todo"
)

// Version is the API's version in the OpenAPI document.
const Version = "1.0.0"

// maxBodyBytes caps request bodies: the largest valid todo is about 42 KB.
const maxBodyBytes = 64 << 10

// NewHTTPServer is the HTTP server for handler: timeouts, and room for the
// headers that framing refuses with a problem+json 431 (past MaxHeaderBytes,
// plus the 4 KB Go adds, Go's server itself answers a plain-text 431).
func NewHTTPServer(handler http.Handler, errorLog *log.Logger) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    4 * maxHeaderBytes,
		ErrorLog:          errorLog,
	}
}

// Deps are what the server needs from the rest of the program.
type Deps struct {
	Todos    todo.Store
	Lists    todo.ListStore
	Verifier *auth.Verifier
	// Cursors seals and checks the list's page cursors (required).
	Cursors *todo.CursorKey
	// Ready reports whether the service can serve requests (database reachable,
	// schema current); nil means always ready.
	Ready  func(context.Context) error
	Logger *slog.Logger
	// CORSOrigins are the browser origins (scheme://host[:port]) allowed to
	// call the API; none by default.
	CORSOrigins []string
	// Metrics, when set, records every request.
	Metrics *Metrics
	// Events, when set, serves live updates (GET /v1/events); else they are 503.
	Events *event.Hub
	// MetricsHandler, when set, is served at /metrics.
	MetricsHandler http.Handler
	// MaxActive is how many API requests may run at once (see admit); the
	// others wait their turn. 0 admits every request.
	MaxActive int
}

type server struct {
	Deps
	api     huma.API
	handler http.Handler // the router behind admit
}

// NewServer returns the whole HTTP API as one handler.
func NewServer(deps Deps) http.Handler { return newServer(deps).handler }

func newServer(deps Deps) *server {
	if deps.Cursors == nil {
		panic("api: Deps.Cursors is required")
	}
	if deps.Ready == nil {
		deps.Ready = func(context.Context) error { return nil }
	}
	router := chi.NewMux()
	// Every answer has an id, a log line and the headers every answer needs
	// (nosniff, CORS...), the 503 of a request that waited too long for its
	// turn included. recoverProblem comes after them: a 500 keeps those
	// headers and drops the rest.
	answer := chi.Chain(requestID, accessLog(deps.Logger, deps.Metrics), secureHeaders, corsFor(deps.CORSOrigins))
	router.Use(answer...)
	router.Use(deadline, recoverProblem(deps.Logger), framing, formAsJSON)
	router.NotFound(notFound)
	router.MethodNotAllowed(methodNotAllowed(router))

	config := huma.DefaultConfig("Todo API", Version)
	config.Info.Description = "Each person's todos, kept apart by PostgreSQL row-level security. " +
		"Every /v1 operation needs `Authorization: Bearer <JWT>`."
	config.CreateHooks = nil // no $schema links in bodies
	config.Formats = map[string]huma.Format{"application/json": jsonFormat, "json": jsonFormat}
	config.Transformers = append(config.Transformers, encodeFirst) // last: it encodes
	config.Servers = []*huma.Server{{URL: "/", Description: "This server"}}
	config.DocsPath = "" // docsRoutes serves the docs UI from the binary
	config.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		bearerScheme: {Type: "http", Scheme: "bearer", BearerFormat: "JWT"},
		ticketScheme: {Type: "apiKey", In: "query", Name: "ticket", Description: "A single-use ticket from POST /v1/events/tickets (EventSource only)."},
	}
	s := &server{Deps: deps, api: humachi.New(router, config)}
	// admit is in front of everything: a request waiting its turn holds
	// only its connection and what net/http parsed, not a context, log
	// state or router state, and its goroutine's stack stays small.
	s.handler = admit(deps.MaxActive, queueTimeout, answer.HandlerFunc(busy))(router)
	s.api.UseMiddleware(s.observe, s.singleValued, s.authenticate)
	s.routes()
	applyLimits(s.api.OpenAPI())
	docsRoutes(router)
	if deps.MetricsHandler != nil {
		router.Handle("/metrics", deps.MetricsHandler)
	}
	return s
}
