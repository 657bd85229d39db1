package hub

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orcaprep/orcaprep/exitcode"
)

// childEnv is a clean Hub environment for a child process: nothing from the developer's own
// HF_* settings (or token file) may leak into a test.
func childEnv(t *testing.T, h *fakeHub, cache string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HF_") && !strings.HasPrefix(kv, "HUGGING") && !strings.HasPrefix(kv, "ORCAPREP_") {
			env = append(env, kv)
		}
	}
	env = append(env, "HF_ENDPOINT="+h.api.URL, "HF_HUB_CACHE="+cache, "HF_HOME="+t.TempDir(),
		"ORCAPREP_HUB_RETRY_BASE=1ms", "ORCAPREP_HUB_RETRY_MAX_WAIT=50ms")
	return append(env, extra...)
}

func TestResumeAfterKill(t *testing.T) {
	h, repo := orcaHub(t)
	big := fileOf(repo, bigName)
	const landed = 900_000
	h.addFault("CDN "+big.sha256(), fault{kind: faultHang, n: landed})
	cache := t.TempDir()
	env := childEnv(t, h, cache, "ORCAPREP_HUB_TEST_HELPER=pull", "ORCAPREP_HUB_TEST_INCLUDE="+bigName)

	child := exec.Command(os.Args[0])
	child.Env = env
	var stderr bytes.Buffer
	child.Stderr = &stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	incomplete := filepath.Join(cache, "datasets--Open-Orca--OpenOrca", "blobs", big.sha256()+".incomplete")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if fi, err := os.Stat(incomplete); err == nil && fi.Size() >= landed {
			break
		}
		if time.Now().After(deadline) {
			child.Process.Kill()
			child.Wait()
			t.Fatalf("child never wrote %d bytes to %s; stderr:\n%s", landed, incomplete, stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	if _, err := os.Stat(filepath.Join(cache, "datasets--Open-Orca--OpenOrca", "snapshots", repo.commit, bigName)); !os.IsNotExist(err) {
		t.Fatal("a killed download left a snapshot entry")
	}

	h.resetLog()
	rerun := exec.Command(os.Args[0])
	rerun.Env = env
	out, err := rerun.Output()
	if err != nil {
		t.Fatalf("rerun: %v", err)
	}
	pointer := assertCached(t, cache, repo, big)
	if strings.TrimSpace(string(out)) != pointer {
		t.Fatalf("rerun printed %q, want %s", out, pointer)
	}
	var cdn []fakeReq
	for _, r := range h.requests() {
		if r.server == "cdn" {
			cdn = append(cdn, r)
		}
	}
	if len(cdn) != 1 || cdn[0].rangeHdr != "bytes=900000-" {
		t.Fatalf("rerun CDN requests %+v, want one resuming at byte %d", cdn, landed)
	}
}

var (
	cliOnce sync.Once
	cliPath string
	cliErr  error
)

// buildCLI builds the real orcaprep binary once for the end-to-end tests.
func buildCLI(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the orcaprep binary; skipped with -short")
	}
	cliOnce.Do(func() {
		dir, err := os.MkdirTemp("", "orcaprep-hub-cli-")
		if err != nil {
			cliErr = err
			return
		}
		cliPath = filepath.Join(dir, "orcaprep")
		out, err := exec.Command("go", "build", "-o", cliPath, "github.com/orcaprep/orcaprep/cmd/orcaprep").CombinedOutput()
		if err != nil {
			cliErr = errors.New(string(out))
		}
	})
	if cliErr != nil {
		t.Fatalf("building orcaprep: %v", cliErr)
	}
	return cliPath
}

type cliResult struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, env []string, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command(buildCLI(t), args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return cliResult{code, stdout.String(), stderr.String()}
}

// TestCLIPull is the "Done when" list, run against the real binary.
func TestCLIPull(t *testing.T) {
	h, repo := orcaHub(t)
	h.gate(repo, testToken)
	big := fileOf(repo, bigName)
	h.addFault("HEAD /datasets/Open-Orca/OpenOrca/resolve/"+repo.commit+"/"+bigName, fault{kind: faultStatus, status: 500})
	h.addFault("GET tree", fault{kind: faultStatus, status: 429, retryAfter: "1"})
	h.addFault("CDN "+big.sha256(), fault{kind: faultReset, n: 1_000_000})
	cache := t.TempDir()
	env := childEnv(t, h, cache, "HF_TOKEN="+testToken)

	res := runCLI(t, env, "pull", "Open-Orca/OpenOrca", "--include", bigName)
	t.Logf("stderr of a pull through faults:\n%s", res.stderr)
	if res.code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", res.code, res.stderr)
	}
	pointer := assertCached(t, cache, repo, big)
	if res.stdout != pointer+"\n" {
		t.Fatalf("stdout %q, want %q", res.stdout, pointer+"\n")
	}
	if h.pendingFaults() != 0 {
		t.Fatal("not every injected fault was hit")
	}
	if strings.Contains(res.stdout+res.stderr, testToken) {
		t.Fatal("token printed")
	}
	for _, r := range h.requests() {
		if r.server == "cdn" && r.auth != "" {
			t.Fatalf("token sent to the redirect host: %+v", r)
		}
		if r.server == "api" && r.auth != "Bearer "+testToken {
			t.Fatalf("endpoint request without the token: %+v", r)
		}
	}

	// Second pull: a cache hit, no body GET.
	h.resetLog()
	res = runCLI(t, env, "pull", "--include", bigName, "--quiet")
	if res.code != 0 || res.stdout != pointer+"\n" || res.stderr != "" {
		t.Fatalf("second pull: exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	}
	if n := h.bodyGETs(); n != 0 {
		t.Fatalf("second pull made %d body GETs", n)
	}

	// A gated refusal: exit 5, advice, and the (echoed) token redacted.
	res = runCLI(t, childEnv(t, h, t.TempDir(), "HF_TOKEN=hf_notTheRightOne42"), "pull", "--include", bigName)
	t.Logf("gated stderr:\n%s", res.stderr)
	if res.code != exitcode.Network || !strings.Contains(res.stderr, "set HF_TOKEN") || strings.Contains(res.stderr, "hf_notTheRightOne42") {
		t.Fatalf("gated: exit %d stderr %q", res.code, res.stderr)
	}
}

func TestCLIShaMismatch(t *testing.T) {
	h, repo := orcaHub(t)
	big := fileOf(repo, bigName)
	h.setCorrupt(big.sha256())
	cache := t.TempDir()
	res := runCLI(t, childEnv(t, h, cache), "pull", "Open-Orca/OpenOrca", "--include", bigName)
	t.Logf("stderr:\n%s", res.stderr)
	if res.code != exitcode.Integrity || res.stdout != "" || !strings.Contains(res.stderr, "sha256 mismatch") {
		t.Fatalf("exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	}
	entries, _ := os.ReadDir(filepath.Join(cache, "datasets--Open-Orca--OpenOrca", "snapshots"))
	if len(entries) != 0 {
		t.Fatalf("snapshots/ not empty after a mismatch: %v", entries)
	}
}

func TestCLIUsage(t *testing.T) {
	h, _ := orcaHub(t)
	env := childEnv(t, h, t.TempDir())
	for _, args := range [][]string{
		{"pull", "--concurrency", "0"},
		{"pull", "--repo-type", "dataset-ish"},
		{"pull", "--no-such-flag"},
		{"pull", "a", "b"},
		{"pull", "not-a-repo"},
	} {
		if res := runCLI(t, env, args...); res.code != exitcode.Usage {
			t.Errorf("%q: exit %d, stderr %q", args, res.code, res.stderr)
		}
	}
}
