package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/cors"
)

// accessLog writes one structured line per request: id, user, operation,
// method, path, status, duration; never a header (so never a token) or body.
func accessLog(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			start := time.Now()
			ri := &requestInfo{}
			next.ServeHTTP(ww, r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, ri)))
			logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("request_id", requestIDOf(r.Context())),
				slog.String("user", ri.user),
				slog.String("operation", ri.operation),
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", ww.Status()),
				slog.Duration("duration", time.Since(start)))
		})
	}
}

// requestID gives every request an id: the client's X-Request-Id when it is
// short printable ASCII, else a random one. It is echoed in the response,
// logged, and recorded in the audit trail with every change.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if len(id) == 0 || len(id) > 64 || strings.ContainsFunc(id, func(c rune) bool { return c < '!' || c > '~' }) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

type requestIDKey struct{}

// requestIDOf is the id requestID gave the request, or "".
func requestIDOf(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// requestTimeout bounds a whole request, database work included (each
// statement also has its own statement_timeout).
const requestTimeout = 10 * time.Second

// deadline gives every request but the event stream a context deadline; a client that goes away
// cancels it too, and with it any query in flight.
func deadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == eventsPath { // a stream lasts until its token expires
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// recoverProblem turns a panic into a bare problem+json 500 and logs the stack;
// the client never sees it.
func recoverProblem(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					logger.ErrorContext(r.Context(), "panic", "value", fmt.Sprint(v), "stack", string(debug.Stack()))
					w.Header().Set("Content-Type", "application/problem+json")
					w.WriteHeader(http.StatusInternalServerError)
					_, _ = w.Write([]byte(`{"title":"Internal Server Error","status":500}`))
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// secureHeaders marks every response as not to be sniffed, and user data as
// not to be cached by browsers or proxies.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if strings.HasPrefix(r.URL.Path, "/v1/") {
			w.Header().Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// formAsJSON reads a body sent as application/x-www-form-urlencoded as JSON:
// that is what `curl -d '{"title":"x"}'` sends, and this API has no forms.
// It opens no CSRF hole: every write needs an Authorization header, which a
// browser never adds to a cross-site form post. A body that is not JSON still
// gets 400.
func formAsJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
			r.Header.Set("Content-Type", "application/json")
		}
		next.ServeHTTP(w, r)
	})
}

// corsFor lets browser apps on origins call the API with bearer tokens:
// preflights are answered with the methods and headers the API uses, and the
// response headers a client needs are exposed. Credentials (cookies) are never
// allowed, so no origin is ever told `*` with credentials; an origin not
// listed, or null, gets no Access-Control-Allow-Origin.
func corsFor(origins []string) func(http.Handler) http.Handler {
	if len(origins) == 0 { // go-chi/cors would read an empty list as "*"
		return func(next http.Handler) http.Handler { return next }
	}
	return cors.Handler(cors.Options{
		AllowedOrigins:   origins,
		AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
		AllowedHeaders:   []string{"Authorization", "Content-Type", "If-Match", "If-None-Match", "Idempotency-Key", "X-Request-Id", "Last-Event-ID"},
		ExposedHeaders:   []string{"ETag", "Location", "Link", "X-Request-Id", "Retry-After", "WWW-Authenticate"},
		AllowCredentials: false,
		MaxAge:           600,
	})
}
