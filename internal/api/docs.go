package api

import (
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/go-chi/chi/v5"
	swaggerui "github.com/swaggest/swgui/v5/static"
)

// The docs UI is Swagger UI, served from the binary: its assets come
// gzipped from github.com/swaggest/swgui (pinned in go.mod), so /docs works
// with no internet access and under a Content-Security-Policy that allows
// nothing but this origin. The page has no inline script or style.
const (
	docsPath = "/docs"
	docsCSP  = "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

const docsPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Todo API: docs</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`

// docsInit starts Swagger UI on this server's OpenAPI document. Try-it-out
// requests go to this origin only; the online validator is off.
const docsInit = `window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
});
`

// docsRoutes serves the docs UI on router, and sends a person who opens the
// server's root there.
func docsRoutes(router chi.Router) {
	getHead(router, "/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, docsPath, http.StatusFound)
	})
	router.Route(docsPath, func(r chi.Router) {
		r.Use(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Security-Policy", docsCSP)
				next.ServeHTTP(w, r)
			})
		})
		getHead(r, "/", text("text/html; charset=utf-8", docsPage))
		getHead(r, "/init.js", text("text/javascript; charset=utf-8", docsInit))
		files, _ := fs.Glob(swaggerui.FS, "*")
		for _, file := range files {
			getHead(r, "/"+strings.TrimSuffix(file, ".gz"), docsAsset(file))
		}
	})
}

// getHead routes GET and HEAD of pattern to h (net/http drops the body of a
// HEAD answer).
func getHead(r chi.Router, pattern string, h http.HandlerFunc) {
	r.Get(pattern, h)
	r.Head(pattern, h)
}

func text(contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		_, _ = io.WriteString(w, body)
	}
}

// assetTypes are the media types of Swagger UI's files, by extension (Go's
// mime package would read the system's tables, half a megabyte, for these).
var assetTypes = map[string]string{
	".css":  "text/css; charset=utf-8",
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".png":  "image/png",
}

// docsAsset serves one of Swagger UI's files: a gzipped one as stored to
// clients that accept gzip, else decompressed. The files are read from the
// binary on each request, never copied into memory ahead (about 700 KB).
func docsAsset(file string) http.HandlerFunc {
	name, gzipped := strings.CutSuffix(file, ".gz")
	contentType := assetTypes[path.Ext(name)]
	return func(w http.ResponseWriter, r *http.Request) {
		f, err := swaggerui.FS.Open(file)
		if err != nil {
			panic(err) // listed by fs.Glob; recoverProblem answers 500
		}
		defer f.Close()
		w.Header().Set("Content-Type", contentType)
		var body io.Reader = f
		if gzipped {
			w.Header().Set("Vary", "Accept-Encoding")
			if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
				w.Header().Set("Content-Encoding", "gzip")
			} else if body, err = gzip.NewReader(f); err != nil {
				panic(err) // a corrupt build; recoverProblem answers 500
			}
		}
		_, _ = io.Copy(w, body)
	}
}
