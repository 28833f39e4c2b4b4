package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/todoapi/todoapi/internal/todo"
)

func init() {
	// Huma has no per-API setting for these two; they are process-wide.
	// Lists are never null in the schema: handlers always return a slice.
	huma.DefaultArrayNullable = false
	// Member names are matched exactly when a body is validated (Huma
	// defaults to ignoring case, and encoding/json would then fill a field
	// from "Title" as well as from "title").
	huma.ValidateStrictCasing = true
}

// jsonFormat is the API's one JSON format, for every request and response
// body: bodies are decoded by decodeJSON, and responses arrive already
// encoded by encodeFirst.
var jsonFormat = huma.Format{
	Marshal: func(w io.Writer, v any) error {
		if b, ok := v.(*encoded); ok {
			_, err := w.Write(b.Bytes())
			encodedBuffers.Put(b)
			return err
		}
		return huma.DefaultJSONFormat.Marshal(w, v)
	},
	Unmarshal: decodeJSON,
}

// encoded is a response body already turned into JSON.
type encoded struct{ bytes.Buffer }

// encodedBuffers keeps the buffers of bodies written, for the next ones.
var encodedBuffers = sync.Pool{New: func() any { return new(encoded) }}

// responseJSON is how responses are encoded: as encoding/json would (no HTML
// escaping, map keys sorted, invalid UTF-8 replaced), with encoding/json/v2,
// which writes a page of todos several times faster (no MarshalJSON calls
// and re-compacting for each time).
var responseJSON = jsonv2.JoinOptions(jsonv2.Deterministic(true), jsontext.AllowInvalidUTF8(true), jsontext.EscapeForHTML(false))

// errNotEncodable is the panic of a response that cannot be encoded.
var errNotEncodable = errors.New("the response could not be encoded")

// encodeFirst is the API's one response transformer. It runs before Huma
// writes the status line: it trims error bodies to what a client should hear
// (forClient) and encodes the body, so a body that cannot be encoded (a time
// JSON cannot hold) is a panic, which recoverProblem answers with a bare 500
// that the access log and metrics count as 500, never a 2xx with half a body.
// Its length is known then, so the body is sent with a Content-Length, not
// in chunks.
func encodeFirst(ctx huma.Context, _ string, v any) (any, error) {
	if e, ok := v.(*huma.ErrorModel); ok {
		v = forClient(e)
	}
	b := encode(v)
	ctx.SetHeader("Content-Length", strconv.Itoa(b.Len()))
	return b, nil
}

// encode turns a response body into JSON, in a buffer of encodedBuffers; a
// value that cannot be encoded panics (errNotEncodable).
func encode(v any) *encoded {
	b := encodedBuffers.Get().(*encoded)
	b.Reset()
	if err := jsonv2.MarshalWrite(&b.Buffer, v, responseJSON); err != nil {
		panic(fmt.Errorf("%w: %w", errNotEncodable, err))
	}
	b.WriteByte('\n')
	return b
}

// maxEcho caps the part of a client's value or member name that an error
// echoes back.
const maxEcho = 64

// forClient is the problem a client sees: a 5xx says only its status (the
// cause is logged, never sent), and a 4xx echoes at most maxEcho bytes of a
// text value or location, and no objects or arrays (which could be the whole
// body).
func forClient(e *huma.ErrorModel) *huma.ErrorModel {
	out := *e
	if out.Status >= http.StatusInternalServerError {
		out.Detail, out.Errors = http.StatusText(out.Status), nil
		return &out
	}
	out.Errors = make([]*huma.ErrorDetail, len(e.Errors))
	for i, d := range e.Errors {
		d := *d
		d.Location = truncate(d.Location, maxEcho)
		if strings.HasPrefix(d.Message, uuidMessage) { // Huma adds the uuid library's own words
			d.Message = uuidMessage
		}
		switch v := d.Value.(type) {
		case nil, bool, float64, int, int64, json.Number:
		case string:
			d.Value = truncate(v, maxEcho)
		default:
			d.Value = nil
		}
		out.Errors[i] = &d
	}
	return &out
}

// uuidMessage begins Huma's message for a value that is not a UUID; what
// follows it is the parsing library's text.
const uuidMessage = "expected string to be RFC 4122 uuid"

// truncate cuts s to at most n bytes of whole characters, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// decodeJSON decodes a request body into v. A member name may appear only once
// in an object, also ignoring case (encoding/json would silently keep one of
// them), and its errors name what is wrong in JSON terms, never Go's.
func decodeJSON(data []byte, v any) error {
	if err := uniqueMembers(data); err != nil {
		return err
	}
	err := json.Unmarshal(data, v)
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Errorf("member %q: expected %s, got %s", typ.Field, jsonType(typ.Type), typ.Value)
	case errors.As(err, &typ):
		return fmt.Errorf("expected %s, got %s", jsonType(typ.Type), typ.Value)
	case errors.As(err, &syntax):
		return fmt.Errorf("the body is not valid JSON (at byte %d)", syntax.Offset)
	}
	return errors.New("the body does not have the expected members and types")
}

// uniqueMembers walks the JSON tokens of data and refuses an object that
// names a member twice, ignoring case.
func uniqueMembers(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type object struct {
		names     map[string]bool
		expectKey bool
	}
	var stack []*object // nil entries are arrays
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1] != nil {
			stack[n-1].expectKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return fmt.Errorf("the body is not valid JSON (at byte %d)", syntax.Offset)
		} else if err != nil {
			return errors.New("the body is not valid JSON: it ends too early")
		}
		if n := len(stack); n > 0 && stack[n-1] != nil && stack[n-1].expectKey {
			if name, ok := tok.(string); ok {
				folded := strings.ToLower(name)
				if stack[n-1].names[folded] {
					return fmt.Errorf("member %q appears more than once in an object (names are compared ignoring case)", truncate(name, maxEcho))
				}
				stack[n-1].names[folded] = true
				stack[n-1].expectKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &object{names: map[string]bool{}, expectKey: true})
		case json.Delim('['):
			stack = append(stack, nil)
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
		default:
			valueDone()
		}
	}
}

// jsonType names a Go type as the JSON a client should send for it.
func jsonType(t reflect.Type) string {
	if t == reflect.TypeFor[time.Time]() {
		return "an RFC 3339 date-time string"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

// problem maps a store error onto the HTTP error a client sees. Anything it
// does not know is logged and becomes a bare 500.
func (s *server) problem(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, todo.ErrNotFound):
		return huma.Error404NotFound("not found: it does not exist or is not shared with you")
	case errors.Is(err, todo.ErrInvalid):
		s.Logger.InfoContext(ctx, "the database refused a value", "err", err)
		return huma.Error422UnprocessableEntity("a value is out of range or not valid text")
	case errors.Is(err, todo.ErrForbidden):
		return huma.Error403Forbidden("not allowed: your role in this list does not let you do this")
	case errors.Is(err, todo.ErrLastOwner):
		return huma.Error409Conflict("a list must keep at least one owner: make someone else an owner first")
	case errors.Is(err, todo.ErrPersonalOwner):
		return huma.Error409Conflict("a personal list keeps its person as an owner")
	case errors.Is(err, todo.ErrConflict):
		return huma.Error409Conflict("it exists already")
	case errors.Is(err, todo.ErrInvitationUnusable):
		return huma.Error410Gone(err.Error())
	case errors.Is(err, todo.ErrPreconditionFailed):
		return huma.Error412PreconditionFailed("it changed since you read it: get it again and retry")
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

// writeProblem answers with a problem+json body from outside Huma (the router's
// own 404 and 405, framing errors, a panic). Its texts are fixed, never a
// client's value or a Go error.
func writeProblem(w http.ResponseWriter, status int, detail string) {
	body, _ := json.Marshal(huma.ErrorModel{Title: http.StatusText(status), Status: status, Detail: detail})
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
