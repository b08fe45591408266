// Package web is the browser chat page bundled with the server.
//
// The page is plain HTML, CSS and JavaScript with no framework, no build step
// and no external asset, embedded into the binary with go:embed so that it
// works offline. It talks to the server on its own origin: GraphQL queries
// and mutations over POST /graphql, and subscriptions over a WebSocket at
// /graphql speaking the graphql-transport-ws protocol.
//
// Handler serves the files with a strict Content-Security-Policy (only the
// page's own scripts, styles and connections), nosniff, no referrer, and
// revalidation caching (ETag + Cache-Control: no-cache) so that the files of
// a new binary are picked up on the next load.
//
// The package uses the standard library only.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var embedded embed.FS

// Files returns the embedded files of the page, rooted at the directory that
// holds index.html.
func Files() fs.FS {
	sub, err := fs.Sub(embedded, "static")
	if err != nil {
		// fs.Sub only fails on an invalid path, and "static" is valid.
		panic(err)
	}
	return sub
}

// asset is one embedded file, read once at start-up.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// contentTypes fixes the types of the files we ship, so that the answer does
// not depend on the host's mime tables (which differ between systems, e.g.
// for .js).
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".json": "application/json",
	".txt":  "text/plain; charset=utf-8",
	".png":  "image/png",
	".ico":  "image/x-icon",
}

// aliases maps request paths to the embedded file they serve.
var aliases = map[string]string{
	"/":            "/index.html",
	"/favicon.ico": "/favicon.svg",
}

// loadAssets reads every embedded file into memory with its type and ETag.
func loadAssets(fsys fs.FS) (map[string]*asset, error) {
	assets := make(map[string]*asset)
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		ext := path.Ext(name)
		ctype, ok := contentTypes[ext]
		if !ok {
			ctype = mime.TypeByExtension(ext)
		}
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		sum := sha256.Sum256(body)
		assets["/"+name] = &asset{
			body:        body,
			contentType: ctype,
			etag:        `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`,
		}
		return nil
	})
	return assets, err
}

// Handler returns an http.Handler that serves the embedded page. "/" serves
// index.html; unknown paths answer 404. Only GET and HEAD are allowed.
func Handler() http.Handler {
	assets, err := loadAssets(Files())
	if err != nil {
		// The files are compiled in; failing to read them is a build bug.
		panic("web: reading embedded files: " + err.Error())
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy(r))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")

		name := r.URL.Path
		if alias, ok := aliases[name]; ok {
			name = alias
		}
		a, ok := assets[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h.Set("Content-Type", a.contentType)
		// no-cache: the browser may keep a copy but must revalidate it, which
		// the ETag makes cheap (304); a new binary's files change the ETag.
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", a.etag)
		// ServeContent answers If-None-Match with 304, handles HEAD and
		// ranges. The zero time leaves Last-Modified out: embedded files
		// have no modification time, the ETag is the validator.
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
	})
}

// contentSecurityPolicy allows only the page's own files and connections to
// its own origin. The WebSocket origin is spelled out from the Host header
// because not every browser lets 'self' cover ws: and wss:.
func contentSecurityPolicy(r *http.Request) string {
	connect := "'self'"
	if host := r.Host; validHost(host) {
		connect += " ws://" + host + " wss://" + host
	} else {
		// A Host we cannot safely put into the header: fall back to any
		// WebSocket endpoint rather than breaking the page.
		connect += " ws: wss:"
	}
	return "default-src 'none'; " +
		"script-src 'self'; " +
		"style-src 'self'; " +
		"img-src 'self' data:; " +
		"connect-src " + connect + "; " +
		"manifest-src 'self'; " +
		"base-uri 'none'; " +
		"form-action 'none'; " +
		"frame-ancestors 'none'"
}

// validHost reports whether host is a plain host name or IP literal with an
// optional port, so that it cannot add anything else to the policy.
func validHost(host string) bool {
	if host == "" || len(host) > 255 {
		return false
	}
	for _, c := range host {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.ContainsRune(".-:[]", c):
		default:
			return false
		}
	}
	return true
}
