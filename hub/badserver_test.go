package hub

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orcaprep/orcaprep/exitcode"
)

// A server that is not a Hub, or a hostile one, must produce a clear Network error and write nothing
// outside the cache: server-supplied names (paths, etags, commits) become file names.
func TestBadServerResponses(t *testing.T) {
	const commit = "0123456789abcdef0123456789abcdef01234567"
	cases := []struct {
		name    string
		handler http.HandlerFunc
		pull    bool
		wantMsg string
	}{
		{"not a hub", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>hello</html>")) }, false, "X-Repo-Commit"},
		{"etag escapes blobs/", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Repo-Commit", commit)
			w.Header().Set("ETag", `"../../../evil"`)
			w.Header().Set("Content-Length", "3")
		}, false, "bad ETag"},
		{"commit escapes snapshots/", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Repo-Commit", "../x")
			w.Header().Set("ETag", `"abc"`)
			w.Header().Set("Content-Length", "3")
		}, false, "bad X-Repo-Commit"},
		{"no size", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Repo-Commit", commit)
			w.Header().Set("X-Linked-Etag", `"abc"`)
			w.Header().Set("X-Linked-Size", "lots")
		}, false, "no usable size"},
		{"tree path escapes", func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/revision/") {
				w.Write([]byte(`{"sha":"` + commit + `"}`))
				return
			}
			w.Write([]byte(`[{"type":"file","path":"../../../../tmp/evil","size":3,"oid":"x"}]`))
		}, true, "not a clean relative path"},
		{"tree not JSON", func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/revision/") {
				w.Write([]byte(`{"sha":"` + commit + `"}`))
				return
			}
			w.Write([]byte(`[{"type":`))
		}, true, "bad JSON"},
		{"revision without sha", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{}`)) }, true, "no commit sha"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(c.handler)
			defer srv.Close()
			cache := t.TempDir()
			o := Options{Endpoint: srv.URL, CacheDir: cache, Stderr: &bytes.Buffer{}, MaxAttempts: 2}
			var err error
			if c.pull {
				err = RunPull(context.Background(), PullOptions{Options: o}, &bytes.Buffer{})
			} else {
				_, err = Resolve(context.Background(), "hf://datasets/Open-Orca/OpenOrca/x.parquet", o)
			}
			if exitcode.Code(err) != exitcode.Network || !strings.Contains(err.Error(), c.wantMsg) {
				t.Fatalf("code %d, err %v; want Network and %q", exitcode.Code(err), err, c.wantMsg)
			}
			var files []string
			filepath.WalkDir(filepath.Dir(cache), func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() && strings.Contains(p, "evil") {
					files = append(files, p)
				}
				return nil
			})
			if len(files) != 0 {
				t.Fatalf("hostile names written: %q", files)
			}
		})
	}
}
