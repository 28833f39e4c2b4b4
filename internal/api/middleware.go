package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/cors"
)

// accessLog writes one structured line per request: id, user, operation,
// method, path, status, duration; never a header (so never a token) or body.
func accessLog(logger *slog.Logger, metrics *Metrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			start := arrival(r)
			ri := &requestInfo{}
			next.ServeHTTP(ww, r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, ri)))
			if ri.operation == "" && metrics != nil { // answered before any operation (observe counts those)
				metrics.requests.WithLabelValues(noOperation, strconv.Itoa(ww.Status())).Observe(time.Since(start).Seconds())
			}
			if !logger.Enabled(r.Context(), slog.LevelInfo) {
				return
			}
			// A record made here, not by logger.LogAttrs, skips looking up
			// the caller's source line, which the line does not show: a
			// third of the cost of logging it.
			line := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
			line.AddAttrs(
				slog.String("request_id", requestIDOf(r.Context())),
				slog.String("user", ri.user),
				slog.String("operation", ri.operation),
				slog.String("method", r.Method),
				slog.String("path", loggedPath(r.URL.Path)),
				slog.Int("status", ww.Status()),
				slog.Duration("duration", line.Time.Sub(start)))
			_ = logger.Handler().Handle(r.Context(), line)
		})
	}
}

// invitationPaths carry a secret (the invitation token) in the path.
const invitationPaths = "/v1/invitations/"

// loggedPath is path as the access log may keep it: an invitation token is
// replaced by a placeholder. Any path with an "invitations/" segment in it,
// in any case, is cut there: one that routes nowhere (//v1/invitations/...)
// can carry a token too, and the ids of a list's invitations lose nothing.
func loggedPath(path string) string {
	if strings.HasPrefix(path, invitationPaths) {
		return invitationPaths + "{token}/accept"
	}
	const segment = "invitations/"
	for i := 0; i+len(segment) <= len(path); i++ {
		if strings.EqualFold(path[i:i+len(segment)], segment) { // byte offsets of path itself: lower-casing may change them
			return path[:i] + segment + "{redacted}"
		}
	}
	return path
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
		ctx, cancel := context.WithDeadline(r.Context(), arrival(r).Add(requestTimeout)) // its wait for a turn included
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// recoverProblem turns a panic into a bare problem+json 500 and logs the stack;
// the client never sees it. Headers set for the answer that failed (ETag,
// Location...) are dropped: only those set before the handler ran stay.
func recoverProblem(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			before := w.Header().Clone()
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					logger.ErrorContext(r.Context(), "panic", "value", fmt.Sprint(v), "stack", string(debug.Stack()))
					clear(w.Header())
					maps.Copy(w.Header(), before)
					writeProblem(w, http.StatusInternalServerError, http.StatusText(http.StatusInternalServerError))
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// maxHeaderBytes is the most a request line and its header fields may take,
// counted as sent: "METHOD target HTTP/1.1\r\n", then "Name: value\r\n" for
// each field (Host included), then "\r\n". More gets 431.
const maxHeaderBytes = 16 << 10

// headerBytes is the size of r's request line and header fields, as
// maxHeaderBytes counts it.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	if r.Host != "" {
		n += len("Host: ") + len(r.Host) + 2
	}
	for name, values := range r.Header {
		for _, v := range values {
			n += len(name) + 2 + len(v) + 2
		}
	}
	return n + 2
}

// framing refuses what is not a well-framed, bounded request, before any
// handler reads it, and reads the body here, once, for every operation (for
// one admit queued, from memory: see prefetch):
//   - a Transfer-Encoding: bodies are framed by Content-Length only, so a
//     request with both can never be read two ways (RFC 9112 section 6.1;
//     Go's server would drop the Content-Length and go on);
//   - headers over maxHeaderBytes (431);
//   - a body over maxBodyBytes (413), or one that cannot be read whole: shorter
//     than its Content-Length, the client gone or too slow (400).
//
// After a refused body the connection is closed, as its bytes are not read:
// by framing itself, once the answer is sent (lingerClose), so that Go's
// server does not try to read past a body it cannot frame (a "chunked" one
// that is not) for as long as its read timeout.
func framing(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		refuse := func(status int, detail string) {
			rc := http.NewResponseController(w)
			// A body that stopped arriving fails at the server's ReadTimeout,
			// when its WriteTimeout (the same) has passed too: the answer
			// gets a deadline of its own.
			_ = rc.SetWriteDeadline(time.Now().Add(lingerFor))
			w.Header().Set("Connection", "close")
			writeProblem(w, status, detail)
			if rc.Flush() == nil {
				if conn, _, err := rc.Hijack(); err == nil { // HTTP/1 only; HTTP/2 frames its own bodies
					go lingerClose(conn)
				}
			}
		}
		if status, detail := refusedUnread(r); status != 0 {
			refuse(status, detail)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			body, err := readBody(r)
			switch {
			case err != nil:
				refuse(http.StatusBadRequest, "the body could not be read whole: it is shorter than its Content-Length, or it stopped arriving")
				return
			case len(body) > maxBodyBytes:
				refuse(http.StatusRequestEntityTooLarge, bodyTooLarge)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(w, r)
	})
}

var bodyTooLarge = fmt.Sprintf("the body is larger than %d bytes", maxBodyBytes)

// A connection closed with request bytes still unread is reset by the
// kernel, and a client still sending its body may never read the answer.
// lingerClose ends one whose answer has been sent: it says so (FIN), reads
// and drops what the client still sends, for at most lingerFor or
// lingerBytes, then closes, as a lingering close does in web servers.
const (
	lingerFor   = 2 * time.Second
	lingerBytes = 1 << 20
)

func lingerClose(conn net.Conn) {
	defer conn.Close()
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_ = conn.SetReadDeadline(time.Now().Add(lingerFor))
	_, _ = io.Copy(io.Discard, io.LimitReader(conn, lingerBytes))
}

// refusedUnread is why framing refuses r without reading its body, if it
// does (else status 0), in the order framing checks: a Transfer-Encoding,
// headers over maxHeaderBytes, a Content-Length over maxBodyBytes.
func refusedUnread(r *http.Request) (status int, detail string) {
	switch {
	case len(r.TransferEncoding) > 0:
		return http.StatusBadRequest, "send the body with a Content-Length: Transfer-Encoding is not accepted"
	case headerBytes(r) > maxHeaderBytes:
		return http.StatusRequestHeaderFieldsTooLarge, fmt.Sprintf("the request line and headers take more than %d bytes", maxHeaderBytes)
	case r.ContentLength > maxBodyBytes:
		return http.StatusRequestEntityTooLarge, bodyTooLarge
	}
	return 0, ""
}

// notFound answers a path the API does not serve.
func notFound(w http.ResponseWriter, _ *http.Request) {
	writeProblem(w, http.StatusNotFound, "no such path: /openapi.json lists them")
}

// methodNotAllowed answers a method the path does not serve, saying in Allow
// which ones it does.
func methodNotAllowed(router *chi.Mux) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var allowed []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			if router.Match(chi.NewRouteContext(), m, r.URL.Path) {
				allowed = append(allowed, m)
			}
		}
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeProblem(w, http.StatusMethodNotAllowed, "this path does not serve this method: see Allow")
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
// gets 400. Media types are compared as RFC 9110 says, case-insensitively
// (Huma compares them as written). A body's Content-Type that does not parse
// (a parameter twice, one without a value) or names a charset that is not
// UTF-8 (or its ASCII subset) is refused (415) rather than read as UTF-8.
func formAsJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); ct != "" && r.ContentLength != 0 {
			mt, params, err := mime.ParseMediaType(ct)
			if charset, ok := params["charset"]; err != nil || ok && !utf8Charsets[strings.ToLower(charset)] {
				writeProblem(w, http.StatusUnsupportedMediaType, "send the body in UTF-8, with a Content-Type such as application/json")
				return
			}
			switch {
			case mt == "application/x-www-form-urlencoded":
				r.Header.Set("Content-Type", "application/json")
			case mt != ct:
				r.Header.Set("Content-Type", mt)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// utf8Charsets are the charset labels a body read as UTF-8 may carry: UTF-8's
// own (WHATWG Encoding) and ASCII, a subset of it.
var utf8Charsets = map[string]bool{"utf-8": true, "utf8": true, "unicode-1-1-utf-8": true, "us-ascii": true, "ascii": true}

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
