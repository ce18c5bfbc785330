package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

// The console: plain HTML, CSS and ES modules, no build step.
//
//go:embed console
var consoleFiles embed.FS

// Console is the console's files, for tests that inspect them.
func Console() fs.FS {
	sub, _ := fs.Sub(consoleFiles, "console")
	return sub
}

type asset struct {
	body        []byte
	etag        string
	contentType string
}

// console serves the embedded files. Each gets an ETag of its content,
// so a browser revalidates cheaply and never runs a stale module after an
// upgrade.
type console map[string]asset

func newConsole() (console, error) {
	c := console{}
	err := fs.WalkDir(Console(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Console(), p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		if path.Ext(p) == ".js" {
			ct = "text/javascript; charset=utf-8" // not every system's mime table knows .js
		}
		c["/"+p] = asset{body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, contentType: ct}
		return nil
	})
	return c, err
}

func (c console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	if p == "/" {
		p = "/index.html" // pages are #/fragments of the one document
	}
	a, ok := c[p]
	if !ok || strings.HasSuffix(p, "/") {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", a.contentType)
	w.Header().Set("ETag", a.etag)
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, p, time.Time{}, bytes.NewReader(a.body))
}
