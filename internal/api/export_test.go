package api

import (
	"io"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// What the external tests (package api_test) need of the package's insides.

// RequestTimeout bounds a whole request.
const RequestTimeout = requestTimeout

// Public is the security of operations anyone may call.
var Public = public

// NewServerAPI is NewServer and the Huma API it serves, on which a test may
// register an operation of its own.
func NewServerAPI(deps Deps) (http.Handler, huma.API) {
	s := newServer(deps)
	return s.handler, s.api
}

// EncodeBody encodes a response body as the API does, and writes it to w as
// the API's JSON format does.
func EncodeBody(w io.Writer, v any) error { return jsonFormat.Marshal(w, encode(v)) }

// Admit is admit, for a test of the gate alone.
func Admit(limit int, wait time.Duration, busy http.Handler) func(http.Handler) http.Handler {
	return admit(limit, wait, busy)
}

// LoggedPath is loggedPath, for a test of the access log's redaction alone.
var LoggedPath = loggedPath
