package web

import (
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// get sends one request to Handler and returns the recorded response.
func get(t *testing.T, method, target string, header map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	return rec.Result()
}

func TestIndex(t *testing.T) {
	res := get(t, http.MethodGet, "http://chat.example:8080/", nil)
	if got, want := res.StatusCode, http.StatusOK; got != want {
		t.Fatalf("GET / status = %d, want %d", got, want)
	}
	if got, want := res.Header.Get("Content-Type"), "text/html; charset=utf-8"; got != want {
		t.Errorf("Content-Type = %q, want %q", got, want)
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self'",
		"connect-src 'self' ws://chat.example:8080 wss://chat.example:8080",
		"frame-ancestors 'none'",
		"base-uri 'none'",
	} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy = %q, want it to contain %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("Content-Security-Policy = %q, want no unsafe-*", csp)
	}
	for name, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"Cache-Control":          "no-cache",
	} {
		if got := res.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if res.Header.Get("ETag") == "" {
		t.Error("ETag is empty, want a validator")
	}
}

func TestAssetTypes(t *testing.T) {
	for path, want := range map[string]string{
		"/index.html":  "text/html; charset=utf-8",
		"/app.js":      "text/javascript; charset=utf-8",
		"/gqlws.js":    "text/javascript; charset=utf-8",
		"/util.js":     "text/javascript; charset=utf-8",
		"/style.css":   "text/css; charset=utf-8",
		"/favicon.svg": "image/svg+xml",
		"/favicon.ico": "image/svg+xml",
	} {
		res := get(t, http.MethodGet, path, nil)
		if got := res.StatusCode; got != http.StatusOK {
			t.Errorf("GET %s status = %d, want 200", path, got)
			continue
		}
		if got := res.Header.Get("Content-Type"); got != want {
			t.Errorf("GET %s Content-Type = %q, want %q", path, got, want)
		}
		if got := res.Header.Get("Content-Security-Policy"); got == "" {
			t.Errorf("GET %s has no Content-Security-Policy", path)
		}
	}
}

func TestNotFound(t *testing.T) {
	for _, path := range []string{"/nope", "/static/index.html", "/../web.go", "/app.js/", "/graphql"} {
		res := get(t, http.MethodGet, path, nil)
		if got, want := res.StatusCode, http.StatusNotFound; got != want {
			t.Errorf("GET %s status = %d, want %d", path, got, want)
		}
		if res.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s has no Content-Security-Policy", path)
		}
	}
}

func TestMethodNotAllowed(t *testing.T) {
	res := get(t, http.MethodPost, "/", nil)
	if got, want := res.StatusCode, http.StatusMethodNotAllowed; got != want {
		t.Errorf("POST / status = %d, want %d", got, want)
	}
}

func TestRevalidation(t *testing.T) {
	first := get(t, http.MethodGet, "/app.js", nil)
	etag := first.Header.Get("ETag")
	res := get(t, http.MethodGet, "/app.js", map[string]string{"If-None-Match": etag})
	if got, want := res.StatusCode, http.StatusNotModified; got != want {
		t.Errorf("GET /app.js with its ETag: status = %d, want %d", got, want)
	}
	other := get(t, http.MethodGet, "/style.css", nil)
	if got := other.Header.Get("ETag"); got == etag {
		t.Errorf("app.js and style.css share ETag %q, want distinct", got)
	}
}

func TestCSPHostInjection(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Host = "evil;script-src *"
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	csp := rec.Header().Get("Content-Security-Policy")
	if strings.Contains(csp, "evil") {
		t.Errorf("Content-Security-Policy = %q, want the bad Host left out", csp)
	}
	if got, want := strings.Count(csp, "script-src"), 1; got != want {
		t.Errorf("script-src appears %d times in %q, want %d", got, csp, want)
	}
}

// Patterns that must not appear in any shipped file: HTML parsing of strings
// (a way for message text to become markup) and inline code or styles, which
// the Content-Security-Policy would block anyway.
var forbidden = []struct {
	what string
	re   *regexp.Regexp
}{
	{"innerHTML", regexp.MustCompile(`innerHTML`)},
	{"outerHTML", regexp.MustCompile(`outerHTML`)},
	{"insertAdjacentHTML", regexp.MustCompile(`insertAdjacentHTML`)},
	{"document.write", regexp.MustCompile(`document\.write`)},
	{"createContextualFragment", regexp.MustCompile(`createContextualFragment`)},
	{"eval", regexp.MustCompile(`\beval\s*\(|new\s+Function\s*\(`)},
	{"inline style attribute", regexp.MustCompile(`(?i)[\s"']style\s*=`)},
	{"setAttribute style", regexp.MustCompile(`(?i)setAttribute\(\s*["']style["']`)},
	{"<style> element", regexp.MustCompile(`(?i)<style[\s>]`)},
	{"inline event handler attribute", regexp.MustCompile(`(?i)<[a-z][^<>]*\son[a-z]+\s*=`)},
	{"javascript: URL", regexp.MustCompile(`(?i)javascript:`)},
	{"external resource", regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//`)},
}

// scriptTag matches a whole <script ...>body</script> element.
var scriptTag = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script\s*>`)

// checkFile returns the forbidden things found in one file's content.
func checkFile(content string) []string {
	var found []string
	for _, f := range forbidden {
		if f.re.MatchString(content) {
			found = append(found, f.what)
		}
	}
	for _, m := range scriptTag.FindAllStringSubmatch(content, -1) {
		if strings.TrimSpace(m[2]) != "" {
			found = append(found, "inline <script> body")
		}
		if !regexp.MustCompile(`(?i)\bsrc\s*=`).MatchString(m[1]) {
			found = append(found, "<script> without src")
		}
	}
	return found
}

func TestNoUnsafeMarkup(t *testing.T) {
	files := 0
	err := fs.WalkDir(Files(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := fs.ReadFile(Files(), name)
		if err != nil {
			return err
		}
		if found := checkFile(string(b)); len(found) > 0 {
			t.Errorf("%s contains %s", name, strings.Join(found, ", "))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := files, 5; got < want {
		t.Errorf("embedded files = %d, want at least %d", got, want)
	}
}

// TestCheckFileCatches makes sure the checker above can fail.
func TestCheckFileCatches(t *testing.T) {
	for _, bad := range []string{
		`el.innerHTML = msg.text;`,
		`node.outerHTML = x`,
		`el.insertAdjacentHTML("beforeend", s)`,
		`document.write(s)`,
		`<script>alert(1)</script>`,
		`<script type="module">import "./x.js"</script>`,
		`<div style="color: red">`,
		`<button onclick="go()">`,
		`<style>p{}</style>`,
		`<script src="https://cdn.example/x.js"></script>`,
	} {
		if got := checkFile(bad); len(got) == 0 {
			t.Errorf("checkFile(%q) found nothing, want a complaint", bad)
		}
	}
	for _, good := range []string{
		`<script type="module" src="app.js"></script>`,
		`node.textContent = msg.text; node.style.setProperty("--hue", "3");`,
		`<link rel="stylesheet" href="style.css">`,
	} {
		if got := checkFile(good); len(got) != 0 {
			t.Errorf("checkFile(%q) = %v, want nothing", good, got)
		}
	}
}

// TestPageLabels pins the labels and roles that browser tests rely on.
func TestPageLabels(t *testing.T) {
	b, err := fs.ReadFile(Files(), "index.html")
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, want := range []string{
		`<label for="name-input">Name</label>`,
		`id="name-input"`,
		`>Join</button>`,
		`for="message-input" class="visually-hidden">Message</label>`,
		`id="message-input"`,
		`maxlength="2000"`,
		`>Send</button>`,
		`role="log"`,
		`aria-live="polite"`,
		`aria-label="Messages"`,
		`<ul id="users" class="users" aria-label="Users">`,
		`role="status"`,
		`>Load older messages</button>`,
		`>Change name</button>`,
		`<link rel="icon" href="favicon.svg"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	// Every file the page refers to must be served.
	refs := regexp.MustCompile(`(?:src|href)="([^"#?]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) == 0 {
		t.Fatal("index.html refers to no file")
	}
	for _, m := range refs {
		res := get(t, http.MethodGet, "/"+m[1], nil)
		if got := res.StatusCode; got != http.StatusOK {
			t.Errorf("index.html refers to %q, which answers %d, want 200", m[1], got)
		}
	}
}

// TestStandardLibraryOnly keeps the package free of project and third-party
// imports, so that it can be embedded anywhere.
func TestStandardLibraryOnly(t *testing.T) {
	names, err := filepath.Glob("*.go")
	if err != nil || len(names) == 0 {
		t.Fatalf("listing Go files: %v (%d files)", err, len(names))
	}
	for _, name := range names {
		file, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range file.Imports {
			path := strings.Trim(imp.Path.Value, `"`)
			if first, _, _ := strings.Cut(path, "/"); strings.Contains(first, ".") {
				t.Errorf("%s imports %s, want the standard library only", name, path)
			}
		}
	}
}
