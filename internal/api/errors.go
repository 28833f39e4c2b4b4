package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/todoapi/todoapi/internal/todo"
)

func init() {
	// Huma puts the Go error text into the body of every error it makes,
	// 500s included. Server errors keep only their fixed message: the cause is
	// logged by problem, never sent.
	base := huma.NewError
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		if status >= http.StatusInternalServerError {
			return base(status, http.StatusText(status))
		}
		return base(status, msg, errs...)
	}
	// Lists are never null in the schema: handlers always return a slice.
	huma.DefaultArrayNullable = false
}

// problem maps a store error onto the HTTP error a client sees. Anything it
// does not know is logged and becomes a bare 500.
func (s *server) problem(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, todo.ErrNotFound):
		return huma.Error404NotFound("not found: it does not exist or is not shared with you")
	case errors.Is(err, todo.ErrInvalid):
		return huma.Error422UnprocessableEntity("a value is out of range or not valid text")
	case errors.Is(err, todo.ErrForbidden):
		return huma.Error403Forbidden("not allowed: your role in this list does not let you do this")
	case errors.Is(err, todo.ErrLastOwner):
		return huma.Error409Conflict("a list must keep at least one owner: make someone else an owner first")
	case errors.Is(err, todo.ErrConflict):
		return huma.Error409Conflict("it exists already")
	case errors.Is(err, todo.ErrInvitationUnusable):
		return huma.Error410Gone(err.Error())
	case errors.Is(err, todo.ErrPreconditionFailed):
		return huma.Error412PreconditionFailed("the todo changed since you read it: get it again and retry")
	case errors.Is(err, todo.ErrKeyReused):
		return huma.Error422UnprocessableEntity("this Idempotency-Key was used with a different request")
	case errors.Is(err, todo.ErrBadCursor):
		return huma.Error400BadRequest("invalid cursor: pass next_cursor of the previous page, with the same sort")
	case errors.Is(err, todo.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		s.Logger.WarnContext(ctx, "database unavailable", "err", err)
		return unavailable("the database is unavailable: retry shortly")
	case errors.Is(err, context.Canceled):
		s.Logger.InfoContext(ctx, "client went away", "err", err)
		return unavailable("request cancelled")
	}
	s.Logger.ErrorContext(ctx, "request failed", "err", err)
	return huma.Error500InternalServerError("")
}

// problemFor is problem for a write to t: a 412 carries t's current ETag.
func (s *server) problemFor(ctx context.Context, t todo.Todo, err error) error {
	if errors.Is(err, todo.ErrPreconditionFailed) {
		return huma.ErrorWithHeaders(s.problem(ctx, err), http.Header{"ETag": {etag(t)}})
	}
	return s.problem(ctx, err)
}

// retryAfter is how soon a client may retry a 503, in seconds.
const retryAfter = "1"

// unavailable is a 503 that tells the client when to retry.
func unavailable(msg string) error {
	return huma.ErrorWithHeaders(huma.Error503ServiceUnavailable(msg), http.Header{"Retry-After": {retryAfter}})
}
