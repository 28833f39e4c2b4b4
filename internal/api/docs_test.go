package api_test

import (
	"bytes"
	"io/fs"
	"net/http"
	"strings"
	"testing"

	swaggerui "github.com/swaggest/swgui/v5/static"
)

// TestDocsAssets: every file of Swagger UI is served under /docs with its
// media type (a script served untyped is refused under nosniff), gzipped
// only to clients that accept it.
func TestDocsAssets(t *testing.T) {
	t.Parallel()
	s := newStubServer(t, echoStore{})
	files, err := fs.Glob(swaggerui.FS, "*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Swagger UI files: %v", err)
	}
	gzipMagic := []byte{0x1f, 0x8b}
	for _, file := range files {
		name, gzipped := strings.CutSuffix(file, ".gz")
		plain := s.do(http.MethodGet, "/docs/"+name, "")
		if plain.Status != http.StatusOK || len(plain.Body) == 0 {
			t.Errorf("%s: %d, %d bytes", name, plain.Status, len(plain.Body))
			continue
		}
		if ct := plain.Header.Get("Content-Type"); ct == "" || strings.HasPrefix(ct, "application/octet-stream") {
			t.Errorf("%s: Content-Type %q", name, ct)
		}
		if bytes.HasPrefix(plain.Body, gzipMagic) || plain.Header.Get("Content-Encoding") != "" {
			t.Errorf("%s: gzipped to a client that did not ask for it", name)
		}
		if gzipped {
			zipped := s.do(http.MethodGet, "/docs/"+name, "", "Accept-Encoding", "gzip")
			if zipped.Header.Get("Content-Encoding") != "gzip" || !bytes.HasPrefix(zipped.Body, gzipMagic) {
				t.Errorf("%s: not gzipped to a client that accepts it", name)
			}
		}
	}
}
