package hub

import (
	"bufio"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeHub is an in-process Hugging Face Hub: an endpoint server speaking the tree, revision and resolve
// APIs, and a second server (another port, so another host for the client) playing the LFS CDN.
// Faults are queued per route and consumed one per request.
type fakeHub struct {
	t        testing.TB
	api, cdn *httptest.Server
	token    string // required for gated repos
	pageSize int    // tree entries per page (Link pagination); set before the first request

	mu      sync.Mutex
	repos   map[string]*fakeRepo // "datasets/Open-Orca/OpenOrca"
	log     []fakeReq
	faults  map[string][]fault // route key → queued faults
	corrupt map[string]bool    // sha256 → serve wrong bytes from the CDN
}

type fakeRepo struct {
	prefix, id string // "datasets/", "Open-Orca/OpenOrca"
	commit     string
	files      []fakeFile
	gated      bool
}

type fakeFile struct {
	path string
	data []byte
	lfs  bool
	// sums caches sha256 and git sha1 (set by addRepo) so that serving a request never rehashes the
	// content, which would make the server, not the client, the subject of the benchmark.
	sums *[2]string
}

func (f fakeFile) sha256() string {
	if f.sums != nil {
		return f.sums[0]
	}
	s := sha256.Sum256(f.data)
	return hex.EncodeToString(s[:])
}

func (f fakeFile) gitSHA1() string {
	if f.sums != nil {
		return f.sums[1]
	}
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(f.data))
	h.Write(f.data)
	return hex.EncodeToString(h.Sum(nil))
}

// fakeReq records what a server saw.
type fakeReq struct {
	server, method, path, rangeHdr, auth string
	at                                   time.Time
}

type faultKind int

const (
	faultReset       faultKind = iota // send n body bytes, then reset the connection
	faultStatus                       // answer status (with retryAfter when set)
	faultShort                        // send n body bytes without Content-Length and end cleanly
	faultHang                         // send n body bytes, then stall until the client goes away
	faultIgnoreRange                  // answer 200 with the whole body even to a Range request
)

type fault struct {
	kind       faultKind
	n          int
	status     int
	retryAfter string
}

func newFakeHub(t testing.TB) *fakeHub {
	t.Helper()
	h := &fakeHub{t: t, pageSize: 1000, repos: map[string]*fakeRepo{}, faults: map[string][]fault{}, corrupt: map[string]bool{}}
	h.api = httptest.NewServer(http.HandlerFunc(h.serveAPI))
	h.cdn = httptest.NewServer(http.HandlerFunc(h.serveCDN))
	t.Cleanup(func() {
		h.api.CloseClientConnections()
		h.cdn.CloseClientConnections()
		h.api.Close()
		h.cdn.Close()
	})
	return h
}

func (h *fakeHub) addRepo(prefix, id string, files ...fakeFile) *fakeRepo {
	for i := range files {
		files[i].sums = &[2]string{files[i].sha256(), files[i].gitSHA1()}
	}
	sum := sha1.Sum([]byte(prefix + id + strconv.Itoa(len(files))))
	r := &fakeRepo{prefix: prefix, id: id, commit: hex.EncodeToString(sum[:]), files: files}
	h.mu.Lock()
	h.repos[prefix+id] = r
	h.mu.Unlock()
	return r
}

// addFault queues f for the route key: "HEAD <resolve path>", "GET tree", "GET revision" or "CDN <sha256>".
func (h *fakeHub) addFault(key string, f ...fault) {
	h.mu.Lock()
	h.faults[key] = append(h.faults[key], f...)
	h.mu.Unlock()
}

func (h *fakeHub) takeFault(key string) (fault, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	q := h.faults[key]
	if len(q) == 0 {
		return fault{}, false
	}
	h.faults[key] = q[1:]
	return q[0], true
}

func (h *fakeHub) pendingFaults() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, q := range h.faults {
		n += len(q)
	}
	return n
}

func (h *fakeHub) record(server string, r *http.Request) {
	h.mu.Lock()
	h.log = append(h.log, fakeReq{server: server, method: r.Method, path: r.URL.Path, rangeHdr: r.Header.Get("Range"), auth: r.Header.Get("Authorization"), at: time.Now()})
	h.mu.Unlock()
}

func (h *fakeHub) requests() []fakeReq {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]fakeReq(nil), h.log...)
}

func (h *fakeHub) resetLog() {
	h.mu.Lock()
	h.log = nil
	h.mu.Unlock()
}

// bodyGETs counts GETs that would transfer file content: resolve URLs on the endpoint and CDN fetches.
func (h *fakeHub) bodyGETs() int {
	n := 0
	for _, r := range h.requests() {
		if r.method == http.MethodGet && (r.server == "cdn" || strings.Contains(r.path, "/resolve/")) {
			n++
		}
	}
	return n
}

func (h *fakeHub) findRepo(prefix, org, name string) *fakeRepo {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.repos[prefix+org+"/"+name]
}

func hubError(w http.ResponseWriter, code int, errCode, msg string) {
	w.Header().Set("X-Error-Code", errCode)
	w.Header().Set("X-Error-Message", msg)
	http.Error(w, msg, code)
}

// setCorrupt makes the CDN serve wrong bytes for the LFS file with this sha256.
func (h *fakeHub) setCorrupt(sha string) {
	h.mu.Lock()
	h.corrupt[sha] = true
	h.mu.Unlock()
}

// gate makes repo require token. Tests must not touch fakeHub fields unlocked: the race detector
// cannot see the ordering that a child process's requests imply.
func (h *fakeHub) gate(repo *fakeRepo, token string) {
	h.mu.Lock()
	repo.gated, h.token = true, token
	h.mu.Unlock()
}

func (h *fakeHub) authorized(w http.ResponseWriter, r *http.Request, repo *fakeRepo) bool {
	h.mu.Lock()
	gated, token := repo.gated, h.token
	h.mu.Unlock()
	if !gated || r.Header.Get("Authorization") == "Bearer "+token {
		return true
	}
	// Echo what was sent, as a careless server might: the client must redact it.
	hubError(w, http.StatusUnauthorized, "GatedRepo", "Access to this repo is restricted; you sent "+r.Header.Get("Authorization"))
	return false
}

func (h *fakeHub) serveAPI(w http.ResponseWriter, r *http.Request) {
	h.record("api", r)
	segs := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(segs) > 0 && segs[0] == "api" {
		h.serveAPIJSON(w, r, segs[1:])
		return
	}
	prefix := ""
	if len(segs) > 0 && (segs[0] == "datasets" || segs[0] == "spaces") {
		prefix, segs = segs[0]+"/", segs[1:]
	}
	if len(segs) < 5 || segs[2] != "resolve" {
		http.NotFound(w, r)
		return
	}
	repo := h.findRepo(prefix, segs[0], segs[1])
	if repo == nil && segs[0] == "Old-Org" {
		// A renamed repo: the Hub answers with a relative redirect to the new name.
		w.Header().Set("Location", "/"+prefix+"Open-Orca/"+strings.Join(segs[1:], "/"))
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	if repo == nil {
		hubError(w, http.StatusNotFound, "RepoNotFound", "Repository not found")
		return
	}
	if !h.authorized(w, r, repo) {
		return
	}
	if rev := segs[3]; rev != "main" && rev != repo.commit {
		hubError(w, http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+rev)
		return
	}
	path := strings.Join(segs[4:], "/")
	var file *fakeFile
	for i := range repo.files {
		if repo.files[i].path == path {
			file = &repo.files[i]
		}
	}
	if file == nil {
		hubError(w, http.StatusNotFound, "EntryNotFound", "Entry not found")
		return
	}
	if f, ok := h.headFault(r); ok {
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		http.Error(w, "injected", f.status)
		return
	}
	w.Header().Set("X-Repo-Commit", repo.commit)
	if file.lfs {
		w.Header().Set("X-Linked-Etag", `"`+file.sha256()+`"`)
		w.Header().Set("X-Linked-Size", strconv.Itoa(len(file.data)))
		w.Header().Set("ETag", `"`+file.gitSHA1()+`"`) // the pointer file's oid, which the client must ignore
		w.Header().Set("Location", h.cdn.URL+"/lfs/"+file.sha256()+"?signature=abc")
		w.WriteHeader(http.StatusFound)
		return
	}
	w.Header().Set("ETag", `W/"`+file.gitSHA1()+`"`)
	key := "GET " + r.URL.Path
	if r.Method == http.MethodHead {
		key = "" // HEAD faults were taken above
	}
	h.serveBytes(w, r, file.data, key)
}

// headFault takes the next queued fault of a HEAD on this resolve URL (GETs have their own queue).
func (h *fakeHub) headFault(r *http.Request) (fault, bool) {
	if r.Method != http.MethodHead {
		return fault{}, false
	}
	return h.takeFault("HEAD " + r.URL.Path)
}

func (h *fakeHub) serveAPIJSON(w http.ResponseWriter, r *http.Request, segs []string) {
	// segs: datasets ORG NAME (revision|tree) REV
	if len(segs) < 5 {
		http.NotFound(w, r)
		return
	}
	prefix := ""
	if segs[0] != "models" {
		prefix = segs[0] + "/"
	}
	repo := h.findRepo(prefix, segs[1], segs[2])
	if repo == nil {
		hubError(w, http.StatusNotFound, "RepoNotFound", "Repository not found")
		return
	}
	if !h.authorized(w, r, repo) {
		return
	}
	if rev := segs[4]; rev != "main" && rev != repo.commit {
		hubError(w, http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+rev)
		return
	}
	if f, ok := h.takeFault("GET " + segs[3]); ok && f.kind == faultStatus {
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		http.Error(w, "injected", f.status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch segs[3] {
	case "revision":
		sib := []map[string]string{}
		for _, f := range repo.files {
			sib = append(sib, map[string]string{"rfilename": f.path})
		}
		json.NewEncoder(w).Encode(map[string]any{"id": repo.id, "sha": repo.commit, "siblings": sib})
	case "tree":
		if r.URL.Query().Get("recursive") != "true" {
			http.Error(w, "want recursive=true", http.StatusBadRequest)
			return
		}
		start, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
		var entries []map[string]any
		dirs := map[string]bool{}
		for _, f := range repo.files {
			if i := strings.LastIndexByte(f.path, '/'); i > 0 && !dirs[f.path[:i]] {
				dirs[f.path[:i]] = true
				entries = append(entries, map[string]any{"type": "directory", "oid": "0", "size": 0, "path": f.path[:i]})
			}
			e := map[string]any{"type": "file", "oid": f.gitSHA1(), "size": len(f.data), "path": f.path}
			if f.lfs {
				e["lfs"] = map[string]any{"oid": f.sha256(), "size": len(f.data), "pointerSize": 134}
			}
			entries = append(entries, e)
		}
		h.mu.Lock()
		pageSize := h.pageSize
		h.mu.Unlock()
		end := min(start+pageSize, len(entries))
		if end < len(entries) {
			next := fmt.Sprintf("%s%s?recursive=true&expand=false&cursor=%d", h.api.URL, r.URL.Path, end)
			w.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next"`, next))
		}
		json.NewEncoder(w).Encode(entries[start:end])
	default:
		http.NotFound(w, r)
	}
}

func (h *fakeHub) serveCDN(w http.ResponseWriter, r *http.Request) {
	h.record("cdn", r)
	sha := strings.TrimPrefix(r.URL.Path, "/lfs/")
	var data []byte
	h.mu.Lock()
	for _, repo := range h.repos {
		for _, f := range repo.files {
			if f.lfs && f.sha256() == sha {
				data = f.data
			}
		}
	}
	bad := h.corrupt[sha]
	h.mu.Unlock()
	if data == nil {
		http.NotFound(w, r)
		return
	}
	if bad {
		data = append([]byte(nil), data...)
		data[len(data)/2] ^= 0xff
	}
	h.serveBytes(w, r, data, "CDN "+sha)
}

// serveBytes answers GET/HEAD for data with Range support and the next queued fault for key.
func (h *fakeHub) serveBytes(w http.ResponseWriter, r *http.Request, data []byte, key string) {
	f, faulty := h.takeFault(key)
	if faulty && f.kind == faultStatus {
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		http.Error(w, "injected", f.status)
		return
	}
	start := 0
	if rh := r.Header.Get("Range"); rh != "" && !(faulty && f.kind == faultIgnoreRange) {
		v, ok := strings.CutPrefix(rh, "bytes=")
		n, err := strconv.Atoi(strings.TrimSuffix(v, "-"))
		if !ok || !strings.HasSuffix(v, "-") || err != nil {
			http.Error(w, "bad range", http.StatusBadRequest)
			return
		}
		if n >= len(data) {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", len(data)))
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		start = n
	}
	status := http.StatusOK
	if start > 0 {
		status = http.StatusPartialContent
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, len(data)-1, len(data)))
	}
	body := data[start:]
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		return
	}
	if faulty && (f.kind == faultReset || f.kind == faultHang) {
		n := min(f.n, len(body))
		conn, bw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			h.t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\nContent-Length: %d\r\n", status, http.StatusText(status), len(body))
		if cr := w.Header().Get("Content-Range"); cr != "" {
			fmt.Fprintf(bw, "Content-Range: %s\r\n", cr)
		}
		bw.WriteString("\r\n")
		bw.Write(body[:n])
		bw.Flush()
		if f.kind == faultHang {
			// Stall until the client hangs up (killed, or its stall timeout fired).
			io.Copy(io.Discard, bufio.NewReader(conn))
			return
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0) // RST, not FIN: a real mid-body reset
		}
		return
	}
	if faulty && f.kind == faultShort {
		// No Content-Length: chunked, so the early end looks like a clean EOF to the client.
		w.WriteHeader(status)
		w.Write(body[:min(f.n, len(body))])
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}
