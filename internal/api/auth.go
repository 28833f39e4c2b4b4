package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"

	"github.com/todoapi/todoapi/internal/auth"
	"github.com/todoapi/todoapi/internal/todo"
)

type userKey struct{}

// userID is the verified subject of the request's token. Only operations that
// declare bearer security reach a handler, and only with a verified subject.
func userID(ctx context.Context) string {
	id, _ := ctx.Value(userKey{}).(string)
	return id
}

// caller is who the store acts for: the verified user and this request's id.
func caller(ctx context.Context) todo.Caller {
	return todo.Caller{UserID: userID(ctx), RequestID: requestIDOf(ctx)}
}

// authenticate verifies the bearer token of every operation whose security
// requires it, before the handler runs and so before any database work.
func (s *server) authenticate(ctx huma.Context, next func(huma.Context)) {
	if !requiresToken(ctx.Operation().Security) {
		next(ctx)
		return
	}
	sub, err := s.Verifier.Verify(ctx.Context(), bearerToken(ctx.Header("Authorization")))
	if err != nil {
		challenge, msg := s.refused(ctx.Context(), err)
		ctx.SetHeader("WWW-Authenticate", challenge)
		_ = huma.WriteErr(s.api, ctx, http.StatusUnauthorized, msg)
		return
	}
	info(ctx.Context()).user = sub
	next(huma.WithValue(ctx, userKey{}, sub))
}

// singleValued refuses a request that repeats a parameter the operation takes
// once (any query or header parameter whose schema is not an array, and
// Authorization where a token is needed): which of the values was meant is
// not for the server to guess. It reads the operation's own parameters, so
// every operation gets it. It also refuses a query string that does not
// parse (a bad %-escape, a ";"): Huma would read such a parameter as absent,
// and a filter dropped silently widens a bulk change to everything.
func (s *server) singleValued(ctx huma.Context, next func(huma.Context)) {
	op := ctx.Operation()
	r, _ := humachi.Unwrap(ctx)
	repeated := ""
	if requiresToken(op.Security) && len(r.Header.Values("Authorization")) > 1 {
		repeated = "header Authorization"
	}
	var query url.Values
	if strings.ContainsAny(r.URL.RawQuery, "&%;") { // else no parameter can be repeated or malformed
		var err error
		if query, err = url.ParseQuery(r.URL.RawQuery); err != nil {
			_ = huma.WriteErr(s.api, ctx, http.StatusBadRequest, "the query string is malformed: "+
				"escape %, & and ; in values as %25, %26 and %3B")
			return
		}
	}
	for _, p := range op.Parameters {
		if p.Schema != nil && p.Schema.Type == "array" {
			if values := r.Header.Values(p.Name); p.In == "header" && len(values) > 1 {
				// One list sent on several lines is one list (RFC 9110
				// section 5.3); Huma would read the first line only.
				r.Header.Set(p.Name, strings.Join(values, ", "))
			}
			continue
		}
		if p.In == "query" && len(query[p.Name]) > 1 || p.In == "header" && len(r.Header.Values(p.Name)) > 1 {
			repeated = p.In + " " + p.Name
		}
	}
	if repeated != "" {
		_ = huma.WriteErr(s.api, ctx, http.StatusBadRequest, repeated+" is given more than once: give it once")
		return
	}
	next(ctx)
}

// refused counts and logs a token the verifier refused, and returns the
// 401's WWW-Authenticate challenge and message.
func (s *server) refused(ctx context.Context, err error) (challenge, msg string) {
	s.Logger.DebugContext(ctx, "unauthenticated", "err", err)
	challenge = `Bearer realm="todoapi"`
	msg, reason := auth.ErrMissing.Error(), "missing"
	if !errors.Is(err, auth.ErrMissing) {
		challenge += `, error="invalid_token"`
		msg, reason = auth.ErrInvalid.Error(), "invalid"
		if errors.Is(err, auth.ErrExpired) {
			msg, reason = auth.ErrExpired.Error(), "expired"
		}
	}
	if s.Metrics != nil {
		s.Metrics.authFailures.WithLabelValues(reason).Inc()
	}
	return challenge, msg
}

// bearerToken takes the token from an `Authorization: Bearer` header (the
// scheme is case-insensitive); anything else yields "".
func bearerToken(header string) string {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// requiresToken: every alternative of the operation's security requirement
// names the bearer scheme (an empty alternative means "no credentials").
func requiresToken(security []map[string][]string) bool {
	for _, alternative := range security {
		if _, ok := alternative[bearerScheme]; !ok {
			return false
		}
	}
	return len(security) > 0
}
