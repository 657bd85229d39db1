package hub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/progress"
)

const (
	bigName   = "1M-GPT4-Augmented.parquet"
	testToken = "hf_SeCrEtToKeN1234567890"
)

func TestMain(m *testing.M) {
	// Helper-process mode: the kill-and-rerun test runs a real pull in a child it can SIGKILL.
	if os.Getenv("ORCAPREP_HUB_TEST_HELPER") == "pull" {
		o := PullOptions{Options: OptionsFromEnv(), Include: strings.Split(os.Getenv("ORCAPREP_HUB_TEST_INCLUDE"), ",")}
		o.Progress = progress.Never
		err := RunPull(context.Background(), o, os.Stdout)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		os.Exit(exitcode.Code(err))
	}
	os.Exit(m.Run())
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// orcaHub is a fake Hub holding a miniature Open-Orca/OpenOrca: two LFS parquet files, a nested LFS
// file and a small git-stored README.
func orcaHub(t *testing.T) (*fakeHub, *fakeRepo) {
	h := newFakeHub(t)
	repo := h.addRepo("datasets/", "Open-Orca/OpenOrca",
		fakeFile{path: ".gitattributes", data: []byte("*.parquet filter=lfs diff=lfs merge=lfs -text\n")},
		fakeFile{path: "README.md", data: []byte("# OpenOrca\nfake card\n")},
		fakeFile{path: bigName, data: randBytes(1, 2_500_000), lfs: true},
		fakeFile{path: "3_5M-GPT3_5-Augmented.parquet", data: randBytes(2, 300_000), lfs: true},
		fakeFile{path: "data/sub/extra.parquet", data: randBytes(3, 5_000), lfs: true},
	)
	return h, repo
}

func fileOf(repo *fakeRepo, path string) fakeFile {
	for _, f := range repo.files {
		if f.path == path {
			return f
		}
	}
	panic("no file " + path)
}

// testOptions points at the fake Hub with fast retries; stderr collects notices.
func testOptions(t *testing.T, h *fakeHub, stderr *bytes.Buffer) Options {
	t.Helper()
	return Options{
		Endpoint:     h.api.URL,
		CacheDir:     t.TempDir(),
		Progress:     progress.Plain,
		Stderr:       stderr,
		MaxAttempts:  4,
		RetryBase:    time.Millisecond,
		RetryMaxWait: 30 * time.Millisecond,
		StallTimeout: 10 * time.Second,
	}
}

func pull(t *testing.T, o PullOptions) ([]string, error) {
	t.Helper()
	var out bytes.Buffer
	err := RunPull(context.Background(), o, &out)
	lines := strings.Fields(out.String())
	return lines, err
}

// assertCached checks the huggingface_hub layout for one file and returns its snapshot path.
func assertCached(t *testing.T, cache string, repo *fakeRepo, f fakeFile) string {
	t.Helper()
	dir := filepath.Join(cache, "datasets--"+strings.ReplaceAll(repo.id, "/", "--"))
	etag := f.gitSHA1()
	if f.lfs {
		etag = f.sha256()
	}
	blob := filepath.Join(dir, "blobs", etag)
	got, err := os.ReadFile(blob)
	if err != nil || !bytes.Equal(got, f.data) {
		t.Fatalf("blob %s: err=%v, equal=%v", blob, err, bytes.Equal(got, f.data))
	}
	pointer := filepath.Join(dir, "snapshots", repo.commit, filepath.FromSlash(f.path))
	target, err := os.Readlink(pointer)
	if err != nil {
		t.Fatalf("snapshot entry %s is not a symlink: %v", pointer, err)
	}
	depth := strings.Count(f.path, "/")
	want := strings.Repeat("../", depth+2) + "blobs/" + etag
	if filepath.ToSlash(target) != want {
		t.Fatalf("symlink %s -> %s, want %s", pointer, target, want)
	}
	if _, err := os.Stat(blob + ".incomplete"); !os.IsNotExist(err) {
		t.Fatalf("%s.incomplete left behind", blob)
	}
	return pointer
}

func TestPullLandsVerifiedFileInCacheLayout(t *testing.T) {
	h, repo := orcaHub(t)
	var stderr bytes.Buffer
	o := PullOptions{Options: testOptions(t, h, &stderr), Include: []string{bigName}}
	paths, err := pull(t, o)
	if err != nil {
		t.Fatal(err)
	}
	pointer := assertCached(t, o.CacheDir, repo, fileOf(repo, bigName))
	if len(paths) != 1 || paths[0] != pointer {
		t.Fatalf("printed %q, want [%s]", paths, pointer)
	}
	ref, err := os.ReadFile(filepath.Join(o.CacheDir, "datasets--Open-Orca--OpenOrca", "refs", "main"))
	if err != nil || string(ref) != repo.commit {
		t.Fatalf("refs/main = %q (%v), want %q without newline", ref, err, repo.commit)
	}
	// The lock file lives where huggingface_hub puts it, so both tools serialise on the same blob.
	if _, err := os.Stat(filepath.Join(o.CacheDir, ".locks", "datasets--Open-Orca--OpenOrca", fileOf(repo, bigName).sha256()+".lock")); err != nil {
		t.Fatalf("lock file: %v", err)
	}
	if !strings.Contains(stderr.String(), bigName+":") {
		t.Fatalf("no progress line for %s on stderr: %q", bigName, stderr.String())
	}
}

func TestPullAllFilesNestedAndGitVerified(t *testing.T) {
	h, repo := orcaHub(t)
	h.pageSize = 2 // force several pages: the listing must follow Link headers
	o := PullOptions{Options: testOptions(t, h, &bytes.Buffer{}), Exclude: []string{"3_5M*"}, Concurrency: 3}
	paths, err := pull(t, o)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".gitattributes", bigName, "README.md", "data/sub/extra.parquet"}
	if len(paths) != len(want) {
		t.Fatalf("printed %d paths %q, want %d", len(paths), paths, len(want))
	}
	for i, p := range want {
		if got := assertCached(t, o.CacheDir, repo, fileOf(repo, p)); paths[i] != got {
			t.Fatalf("line %d = %s, want %s", i, paths[i], got)
		}
	}
	treePages := 0
	for _, r := range h.requests() {
		if strings.Contains(r.path, "/tree/") {
			treePages++
		}
	}
	if treePages != 3 { // 5 files + 1 directory entry, 2 per page
		t.Fatalf("tree pages fetched = %d, want 3 with pageSize 2", treePages)
	}
}

func TestPullRecoversFromResetServerErrorAndRateLimit(t *testing.T) {
	h, repo := orcaHub(t)
	big := fileOf(repo, bigName)
	headPath := "/datasets/Open-Orca/OpenOrca/resolve/" + repo.commit + "/" + bigName
	h.addFault("HEAD "+headPath, fault{kind: faultStatus, status: 500})
	h.addFault("GET tree", fault{kind: faultStatus, status: 429, retryAfter: "1"})
	h.addFault("CDN "+big.sha256(), fault{kind: faultReset, n: 1_200_000}, fault{kind: faultShort, n: 100_000})
	var stderr bytes.Buffer
	opts := testOptions(t, h, &stderr)
	opts.RetryMaxWait = 150 * time.Millisecond
	o := PullOptions{Options: opts, Include: []string{bigName}}
	paths, err := pull(t, o)
	if err != nil {
		t.Fatalf("pull: %v\nstderr:\n%s", err, stderr.String())
	}
	if n := h.pendingFaults(); n != 0 {
		t.Fatalf("%d injected faults never hit", n)
	}
	if paths[0] != assertCached(t, o.CacheDir, repo, big) {
		t.Fatalf("printed %q", paths)
	}
	var cdn []fakeReq
	var treeTimes []time.Time
	for _, r := range h.requests() {
		if r.server == "cdn" {
			cdn = append(cdn, r)
		}
		if strings.Contains(r.path, "/tree/") {
			treeTimes = append(treeTimes, r.at)
		}
	}
	// Reset after 1.2 MB: the second GET resumes from what reached the disk (an RST may drop data the
	// kernel had buffered, so anything in (0, 1.2 MB]); the short body then adds exactly 100 kB and the
	// third GET resumes after it.
	if len(cdn) != 3 || cdn[0].rangeHdr != "" {
		t.Fatalf("CDN requests: %+v", cdn)
	}
	var r1, r2 int
	if _, err := fmt.Sscanf(cdn[1].rangeHdr, "bytes=%d-", &r1); err != nil || r1 <= 0 || r1 > 1_200_000 {
		t.Fatalf("second CDN request Range %q", cdn[1].rangeHdr)
	}
	if _, err := fmt.Sscanf(cdn[2].rangeHdr, "bytes=%d-", &r2); err != nil || r2 != r1+100_000 {
		t.Fatalf("third CDN request Range %q, want bytes=%d-", cdn[2].rangeHdr, r1+100_000)
	}
	// Retry-After: 1 was honoured up to the configured cap of 150 ms (backoff alone would be ~1 ms).
	if len(treeTimes) != 2 || treeTimes[1].Sub(treeTimes[0]) < 150*time.Millisecond {
		t.Fatalf("tree requests %d, gap %v: Retry-After not honoured", len(treeTimes), treeTimes[len(treeTimes)-1].Sub(treeTimes[0]))
	}
	if !strings.Contains(stderr.String(), "retrying") {
		t.Fatalf("no retry notice on stderr: %q", stderr.String())
	}
}

func TestShaMismatchFailsAndLeavesNothing(t *testing.T) {
	h, repo := orcaHub(t)
	big := fileOf(repo, bigName)
	h.setCorrupt(big.sha256())
	var stderr bytes.Buffer
	o := PullOptions{Options: testOptions(t, h, &stderr), Include: []string{bigName}}
	paths, err := pull(t, o)
	if exitcode.Code(err) != exitcode.Integrity {
		t.Fatalf("exit code %d (%v), want %d", exitcode.Code(err), err, exitcode.Integrity)
	}
	if len(paths) != 0 {
		t.Fatalf("printed paths for a corrupt file: %q", paths)
	}
	if !strings.Contains(err.Error(), "sha256 mismatch") || !strings.Contains(err.Error(), big.sha256()) {
		t.Fatalf("unclear error: %v", err)
	}
	dir := filepath.Join(o.CacheDir, "datasets--Open-Orca--OpenOrca")
	for _, sub := range []string{"snapshots", "blobs"} {
		var found []string
		filepath.WalkDir(filepath.Join(dir, sub), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				found = append(found, p)
			}
			return nil
		})
		if len(found) != 0 {
			t.Fatalf("files left under %s: %q", sub, found)
		}
	}
}

func TestCorruptResumePrefixIsCaught(t *testing.T) {
	// Bytes already in .incomplete are hashed too: a bad prefix (say, from a faulty disk or an older
	// tool) must fail verification even though every byte this process fetched was right.
	h, repo := orcaHub(t)
	big := fileOf(repo, bigName)
	o := PullOptions{Options: testOptions(t, h, &bytes.Buffer{}), Include: []string{bigName}}
	blobs := filepath.Join(o.CacheDir, "datasets--Open-Orca--OpenOrca", "blobs")
	os.MkdirAll(blobs, 0o755)
	prefix := append([]byte(nil), big.data[:1000]...)
	prefix[10] ^= 1
	os.WriteFile(filepath.Join(blobs, big.sha256()+".incomplete"), prefix, 0o644)
	_, err := pull(t, o)
	if exitcode.Code(err) != exitcode.Integrity {
		t.Fatalf("exit code %d (%v), want Integrity", exitcode.Code(err), err)
	}
	reqs := h.requests()
	if last := reqs[len(reqs)-1]; last.server != "cdn" || last.rangeHdr != "bytes=1000-" {
		t.Fatalf("last request %+v, want a resumed CDN GET from byte 1000", last)
	}
	if _, err := os.Stat(filepath.Join(blobs, big.sha256()+".incomplete")); !os.IsNotExist(err) {
		t.Fatal("bad partial file not deleted")
	}
}

func TestSecondPullMakesNoBodyRequest(t *testing.T) {
	h, repo := orcaHub(t)
	o := PullOptions{Options: testOptions(t, h, &bytes.Buffer{}), Include: []string{"*.parquet", "README.md"}}
	first, err := pull(t, o)
	if err != nil {
		t.Fatal(err)
	}
	if h.bodyGETs() == 0 {
		t.Fatal("first pull made no body GET: the counter is broken")
	}
	h.resetLog()
	second, err := pull(t, o)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(first, "\n") != strings.Join(second, "\n") {
		t.Fatalf("second pull printed %q, first %q", second, first)
	}
	if n := h.bodyGETs(); n != 0 {
		t.Fatalf("second pull made %d body GETs: %+v", n, h.requests())
	}
	// A single-file Resolve on a branch needs one HEAD, no body.
	h.resetLog()
	p, err := Resolve(context.Background(), "hf://datasets/Open-Orca/OpenOrca/"+bigName, o.Options)
	if err != nil || p != first[0] {
		t.Fatalf("Resolve = %q, %v; want %q", p, err, first[0])
	}
	if n := h.bodyGETs(); n != 0 {
		t.Fatalf("Resolve of a cached file made %d body GETs", n)
	}
	_ = repo
}

func TestTokenGoesToEndpointOnlyAndIsNeverShown(t *testing.T) {
	h, repo := orcaHub(t)
	h.gate(repo, testToken)
	var stderr bytes.Buffer
	opts := testOptions(t, h, &stderr)
	opts.Token = testToken
	o := PullOptions{Options: opts, Include: []string{bigName, "README.md"}}
	h.addFault("CDN "+fileOf(repo, bigName).sha256(), fault{kind: faultReset, n: 1000})
	if _, err := pull(t, o); err != nil {
		t.Fatal(err)
	}
	var apiAuth, cdnReqs int
	for _, r := range h.requests() {
		switch {
		case r.server == "cdn" && r.auth != "":
			t.Fatalf("Authorization %q sent to the redirect host: %+v", r.auth, r)
		case r.server == "cdn":
			cdnReqs++
		case r.auth == "Bearer "+testToken:
			apiAuth++
		default:
			t.Fatalf("endpoint request without the token: %+v", r)
		}
	}
	if apiAuth == 0 || cdnReqs < 2 {
		t.Fatalf("endpoint requests with token %d, CDN requests %d", apiAuth, cdnReqs)
	}
	if strings.Contains(stderr.String(), testToken) {
		t.Fatal("token printed on stderr")
	}

	// Without the right token: a gated refusal that says what to do, and the echoed token redacted.
	opts.Token = "hf_wrongTOKENvalue99"
	opts.CacheDir = t.TempDir()
	_, err := pull(t, PullOptions{Options: opts, Include: []string{bigName}})
	if exitcode.Code(err) != exitcode.Network {
		t.Fatalf("exit code %d, want Network", exitcode.Code(err))
	}
	msg := err.Error()
	if !strings.Contains(msg, "accept the terms on the Hub and set HF_TOKEN") || strings.Contains(msg, "hf_wrongTOKENvalue99") || !strings.Contains(msg, "[REDACTED]") {
		t.Fatalf("gated error not helpful or not redacted: %s", msg)
	}
}

func TestNotFoundErrors(t *testing.T) {
	h, _ := orcaHub(t)
	o := testOptions(t, h, &bytes.Buffer{})
	for _, ref := range []string{
		"hf://datasets/Open-Orca/NoSuchRepo/x.parquet",
		"hf://datasets/Open-Orca/OpenOrca/no-such-file.parquet",
		"hf://datasets/Open-Orca/OpenOrca@no-such-branch/" + bigName,
	} {
		_, err := Resolve(context.Background(), ref, o)
		if exitcode.Code(err) != exitcode.Network || !strings.Contains(err.Error(), "check the repo name") {
			t.Errorf("%s: code %d, err %v", ref, exitcode.Code(err), err)
		}
	}
	_, err := pull(t, PullOptions{Options: o, Repo: "Open-Orca/OpenOrca", RepoType: TypeModel})
	if exitcode.Code(err) != exitcode.Network || !strings.Contains(err.Error(), "repo-type") {
		t.Errorf("model repo of a dataset: code %d, err %v", exitcode.Code(err), err)
	}
}

func TestRetriesAreBounded(t *testing.T) {
	h, repo := orcaHub(t)
	sha := fileOf(repo, bigName).sha256()
	for range 10 {
		h.addFault("CDN "+sha, fault{kind: faultStatus, status: 503})
	}
	o := testOptions(t, h, &bytes.Buffer{})
	o.MaxAttempts = 3
	_, err := Resolve(context.Background(), "hf://datasets/Open-Orca/OpenOrca/"+bigName, o)
	if exitcode.Code(err) != exitcode.Network || !strings.Contains(err.Error(), "giving up after 3") {
		t.Fatalf("code %d, err %v", exitcode.Code(err), err)
	}
	if got := h.pendingFaults(); got != 7 {
		t.Fatalf("%d faults left, want 7 (3 attempts)", got)
	}
}

func TestStalledBodyIsRetriedAndResumed(t *testing.T) {
	h, repo := orcaHub(t)
	big := fileOf(repo, bigName)
	h.addFault("CDN "+big.sha256(), fault{kind: faultHang, n: 400_000})
	o := testOptions(t, h, &bytes.Buffer{})
	o.StallTimeout = 200 * time.Millisecond
	p, err := Resolve(context.Background(), "hf://datasets/Open-Orca/OpenOrca/"+bigName, o)
	if err != nil {
		t.Fatal(err)
	}
	if p != assertCached(t, o.CacheDir, repo, big) {
		t.Fatalf("path %s", p)
	}
	reqs := h.requests()
	if last := reqs[len(reqs)-1]; last.rangeHdr != "bytes=400000-" {
		t.Fatalf("last request %+v, want resume from 400000", last)
	}
}

func TestServerIgnoringRangeRestartsCleanly(t *testing.T) {
	h, repo := orcaHub(t)
	big := fileOf(repo, bigName)
	h.addFault("CDN "+big.sha256(), fault{kind: faultReset, n: 50_000}, fault{kind: faultIgnoreRange})
	o := testOptions(t, h, &bytes.Buffer{})
	p, err := Resolve(context.Background(), "hf://datasets/Open-Orca/OpenOrca/"+bigName, o)
	if err != nil {
		t.Fatal(err)
	}
	assertCached(t, o.CacheDir, repo, big)
	_ = p
}

func TestOffline(t *testing.T) {
	h, repo := orcaHub(t)
	o := testOptions(t, h, &bytes.Buffer{})
	ref := "hf://datasets/Open-Orca/OpenOrca/" + bigName
	o.Offline = true
	_, err := Resolve(context.Background(), ref, o)
	if exitcode.Code(err) != exitcode.Network || !strings.Contains(err.Error(), "HF_HUB_OFFLINE") {
		t.Fatalf("uncached offline: code %d, err %v", exitcode.Code(err), err)
	}
	o.Offline = false
	want, err := Resolve(context.Background(), ref, o)
	if err != nil {
		t.Fatal(err)
	}
	h.resetLog()
	o.Offline = true
	got, err := Resolve(context.Background(), ref, o)
	if err != nil || got != want {
		t.Fatalf("offline Resolve = %q, %v; want %q", got, err, want)
	}
	paths, err := pull(t, PullOptions{Options: o, Include: []string{"*.parquet"}})
	if err != nil || len(paths) != 1 || paths[0] != want {
		t.Fatalf("offline pull = %q, %v", paths, err)
	}
	if n := len(h.requests()); n != 0 {
		t.Fatalf("offline mode made %d requests", n)
	}
	_ = repo
}

func TestLocalDir(t *testing.T) {
	h, repo := orcaHub(t)
	o := PullOptions{Options: testOptions(t, h, &bytes.Buffer{}), Include: []string{bigName, "data/"}, LocalDir: t.TempDir()}
	paths, err := pull(t, o)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(o.LocalDir, bigName), filepath.Join(o.LocalDir, "data", "sub", "extra.parquet")}
	if strings.Join(paths, "|") != strings.Join(want, "|") {
		t.Fatalf("printed %q, want %q", paths, want)
	}
	for i, p := range []string{bigName, "data/sub/extra.parquet"} {
		got, err := os.ReadFile(want[i])
		if err != nil || !bytes.Equal(got, fileOf(repo, p).data) {
			t.Fatalf("%s: %v", want[i], err)
		}
		fi, _ := os.Lstat(want[i])
		if !fi.Mode().IsRegular() {
			t.Fatalf("%s is not a plain file", want[i])
		}
	}
	meta, err := os.ReadFile(filepath.Join(o.LocalDir, ".cache", "huggingface", "download", bigName+".metadata"))
	lines := strings.Split(string(meta), "\n")
	if err != nil || len(lines) < 3 || lines[0] != repo.commit || lines[1] != fileOf(repo, bigName).sha256() {
		t.Fatalf("metadata %q, %v", meta, err)
	}
	if _, err := os.Stat(filepath.Join(o.CacheDir, "datasets--Open-Orca--OpenOrca")); !os.IsNotExist(err) {
		t.Fatal("--local-dir also filled the cache")
	}
	h.resetLog()
	if _, err := pull(t, o); err != nil {
		t.Fatal(err)
	}
	if n := h.bodyGETs(); n != 0 {
		t.Fatalf("second local-dir pull made %d body GETs", n)
	}
	// A file already in the cache is copied into a new local dir rather than downloaded again.
	if _, err := pull(t, PullOptions{Options: o.Options, Include: []string{bigName}}); err != nil {
		t.Fatal(err)
	}
	h.resetLog()
	o.LocalDir = t.TempDir()
	o.Include = []string{bigName}
	if _, err := pull(t, o); err != nil {
		t.Fatal(err)
	}
	if n := h.bodyGETs(); n != 0 {
		t.Fatalf("local-dir pull of a cached blob made %d body GETs", n)
	}
	// Offline, the local dir answers from its own download records.
	h.resetLog()
	o.Offline = true
	o.Include = nil
	paths, err = pull(t, o)
	if err != nil || len(paths) != 1 || paths[0] != filepath.Join(o.LocalDir, bigName) {
		t.Fatalf("offline local-dir pull = %q, %v", paths, err)
	}
	if n := len(h.requests()); n != 0 {
		t.Fatalf("offline local-dir pull made %d requests", n)
	}
}

func TestConcurrentDownloadsOfOneBlobShareTheLock(t *testing.T) {
	h, repo := orcaHub(t)
	big := fileOf(repo, bigName)
	// Hold the first transfer for a moment so the second caller certainly arrives while it runs.
	h.addFault("CDN "+big.sha256(), fault{kind: faultHang, n: 100_000})
	o := testOptions(t, h, nil)
	o.Stderr = nil // two independent calls: a shared bytes.Buffer would need its own lock
	o.StallTimeout = 300 * time.Millisecond
	ref := "hf://datasets/Open-Orca/OpenOrca/" + bigName
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := Resolve(context.Background(), ref, o)
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	assertCached(t, o.CacheDir, repo, big)
	var cdn int
	for _, r := range h.requests() {
		if r.server == "cdn" {
			cdn++
		}
	}
	if cdn != 2 { // the stalled GET and its resume; the second caller waited and reused the blob
		t.Fatalf("CDN GETs = %d, want 2", cdn)
	}
}

func TestCDNRefusalIsRetriedWithFreshRedirect(t *testing.T) {
	h, repo := orcaHub(t)
	big := fileOf(repo, bigName)
	h.addFault("CDN "+big.sha256(), fault{kind: faultStatus, status: 403})
	o := testOptions(t, h, &bytes.Buffer{})
	if _, err := Resolve(context.Background(), "hf://datasets/Open-Orca/OpenOrca/"+bigName, o); err != nil {
		t.Fatal(err)
	}
	assertCached(t, o.CacheDir, repo, big)
}

func TestModelRefAndRevision(t *testing.T) {
	h := newFakeHub(t)
	tok := fakeFile{path: "tokenizer.model", data: randBytes(9, 50_000), lfs: true}
	repo := h.addRepo("", "conceptofmind/LLongMA-2-7b-16k", tok, fakeFile{path: "config.json", data: []byte(`{"a":1}`)})
	o := testOptions(t, h, &bytes.Buffer{})
	p, err := Resolve(context.Background(), "hf://conceptofmind/LLongMA-2-7b-16k@"+repo.commit+"/tokenizer.model", o)
	if err != nil {
		t.Fatal(err)
	}
	wantPath := filepath.Join(o.CacheDir, "models--conceptofmind--LLongMA-2-7b-16k", "snapshots", repo.commit, "tokenizer.model")
	if p != wantPath {
		t.Fatalf("path %s, want %s", p, wantPath)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, tok.data) {
		t.Fatal("content differs")
	}
	// A commit revision already cached needs no request at all.
	h.resetLog()
	if _, err := Resolve(context.Background(), "hf://conceptofmind/LLongMA-2-7b-16k@"+repo.commit+"/tokenizer.model", o); err != nil {
		t.Fatal(err)
	}
	if n := len(h.requests()); n != 0 {
		t.Fatalf("%d requests for a cached commit", n)
	}
	if got, err := Resolve(context.Background(), "local/file.parquet", o); err != nil || got != "local/file.parquet" {
		t.Fatalf("non-ref: %q %v", got, err)
	}
}

func TestUsageErrors(t *testing.T) {
	h, _ := orcaHub(t)
	o := testOptions(t, h, &bytes.Buffer{})
	cases := []PullOptions{
		{Options: o, Repo: "not-a-repo"},
		{Options: o, Repo: "a/b/c"},
		{Options: o, RepoType: "dataset-ish"},
		{Options: o, Revision: "../../etc"},
		{Options: o, Include: []string{"nothing-matches-*"}},
	}
	for i, c := range cases {
		if _, err := pull(t, c); exitcode.Code(err) != exitcode.Usage {
			t.Errorf("case %d: code %d, err %v", i, exitcode.Code(err), err)
		}
	}
	bad := o
	bad.Endpoint = "ftp://x"
	if _, err := Resolve(context.Background(), "hf://a/b/c", bad); exitcode.Code(err) != exitcode.Usage {
		t.Errorf("bad endpoint: %v", err)
	}
}

func TestContextCancelStops(t *testing.T) {
	h, repo := orcaHub(t)
	h.addFault("CDN "+fileOf(repo, bigName).sha256(), fault{kind: faultHang, n: 10})
	o := testOptions(t, h, &bytes.Buffer{})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := Resolve(ctx, "hf://datasets/Open-Orca/OpenOrca/"+bigName, o)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want deadline exceeded", err)
	}
}

func TestOptionsFromEnv(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HF_HOME", home)
	t.Setenv("HF_HUB_CACHE", "")
	t.Setenv("HUGGINGFACE_HUB_CACHE", "")
	t.Setenv("HF_TOKEN", "")
	t.Setenv("HUGGING_FACE_HUB_TOKEN", "")
	t.Setenv("HF_TOKEN_PATH", "")
	t.Setenv("HF_ENDPOINT", "http://127.0.0.1:9/")
	t.Setenv("HF_HUB_OFFLINE", "yes")
	os.WriteFile(filepath.Join(home, "token"), []byte("hf_fromfile\n"), 0o600)
	o := OptionsFromEnv()
	if o.CacheDir != filepath.Join(home, "hub") || o.Token != "hf_fromfile" || o.Endpoint != "http://127.0.0.1:9" || !o.Offline {
		t.Fatalf("%+v", o)
	}
	t.Setenv("HF_HUB_CACHE", "/x/cache")
	t.Setenv("HF_TOKEN", "hf_env")
	t.Setenv("HF_HUB_OFFLINE", "0")
	t.Setenv("HF_HUB_DOWNLOAD_TIMEOUT", "2.5")
	o = OptionsFromEnv()
	if o.CacheDir != "/x/cache" || o.Token != "hf_env" || o.Offline || o.StallTimeout != 2500*time.Millisecond {
		t.Fatalf("%+v", o)
	}
}

func TestBackoff(t *testing.T) {
	c := &client{o: Options{RetryBase: 100 * time.Millisecond, RetryMaxWait: time.Second}}
	for failures, lo := range map[int]time.Duration{1: 50 * time.Millisecond, 2: 100 * time.Millisecond, 3: 200 * time.Millisecond, 10: 500 * time.Millisecond} {
		for range 50 {
			d := c.backoff(failures, 0)
			if d < lo || d > 2*lo {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", failures, d, lo, 2*lo)
			}
		}
	}
	if d := c.backoff(1, 3*time.Second); d != time.Second {
		t.Fatalf("Retry-After not capped: %v", d)
	}
	if d := c.backoff(1, 300*time.Millisecond); d != 300*time.Millisecond {
		t.Fatalf("Retry-After not honoured: %v", d)
	}
	if d := retryAfter(http.TimeFormat); d != 0 {
		t.Fatalf("garbage Retry-After = %v", d)
	}
	if d := retryAfter(time.Now().Add(time.Minute).UTC().Format(http.TimeFormat)); d < 55*time.Second || d > time.Minute {
		t.Fatalf("HTTP-date Retry-After = %v", d)
	}
}

func TestRenamedRepoFollowsRelativeRedirect(t *testing.T) {
	h, repo := orcaHub(t)
	h.gate(repo, testToken)
	o := testOptions(t, h, &bytes.Buffer{})
	o.Token = testToken
	p, err := Resolve(context.Background(), "hf://datasets/Old-Org/OpenOrca/README.md", o)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(o.CacheDir, "datasets--Old-Org--OpenOrca", "snapshots", repo.commit, "README.md")
	if p != want {
		t.Fatalf("path %s, want %s", p, want)
	}
	if got, _ := os.ReadFile(p); string(got) != string(fileOf(repo, "README.md").data) {
		t.Fatalf("content %q", got)
	}
}

func TestOneBadFileDoesNotStopTheOthers(t *testing.T) {
	h, repo := orcaHub(t)
	h.setCorrupt(fileOf(repo, "3_5M-GPT3_5-Augmented.parquet").sha256())
	o := PullOptions{Options: testOptions(t, h, &bytes.Buffer{}), Include: []string{"*.parquet"}, Concurrency: 2}
	paths, err := pull(t, o)
	if exitcode.Code(err) != exitcode.Integrity || !strings.Contains(err.Error(), "3_5M-GPT3_5-Augmented.parquet") {
		t.Fatalf("code %d, err %v", exitcode.Code(err), err)
	}
	want := []string{
		assertCached(t, o.CacheDir, repo, fileOf(repo, bigName)),
		assertCached(t, o.CacheDir, repo, fileOf(repo, "data/sub/extra.parquet")),
	}
	if strings.Join(paths, "|") != strings.Join(want, "|") {
		t.Fatalf("printed %q, want %q", paths, want)
	}
}

// A failed name lookup is not retried (it used to cost 12–14 s of backoff), and the message says what to do.
func TestDNSFailureIsFinalAndSuggestsOffline(t *testing.T) {
	var dials atomic.Int32
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: "huggingface.co", IsNotFound: true}}
	}}
	var stderr bytes.Buffer
	o := Options{Endpoint: "https://huggingface.co", CacheDir: t.TempDir(), Progress: progress.Plain, Stderr: &stderr,
		MaxAttempts: 5, RetryBase: time.Second, RetryMaxWait: time.Minute, HTTPClient: &http.Client{Transport: tr}}
	_, err := Resolve(context.Background(), "hf://datasets/Open-Orca/OpenOrca/"+bigName, o)
	if exitcode.Code(err) != exitcode.Network {
		t.Fatalf("code %d: %v", exitcode.Code(err), err)
	}
	for _, want := range []string{"cannot resolve the host name huggingface.co: no network?", "HF_HUB_OFFLINE=1", "orcaprep pull"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("message lacks %q: %v", want, err)
		}
	}
	if dials.Load() != 1 || strings.Contains(stderr.String(), "retrying") {
		t.Fatalf("%d dials, stderr %q: a DNS failure must not be retried", dials.Load(), stderr.String())
	}
}
