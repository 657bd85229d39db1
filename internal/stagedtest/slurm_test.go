package stagedtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orcaprep/orcaprep/internal/slurmtest"
)

// repo is the repository root, from this package's directory.
const repo = "../.."

// build compiles orcaprep once, without the race detector (the acceptance runs read 200k rows many times).
func build(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "orcaprep")
	start := time.Now()
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/orcaprep")
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built %s in %.1fs", bin, time.Since(start).Seconds())
	return bin
}

type result struct {
	code           int
	stdout, stderr string
}

func run(bin string, env []string, args ...string) result {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		code = -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
	}
	return result{code, stdout.String(), stderr.String()}
}

func mustRun(t *testing.T, bin string, args ...string) {
	t.Helper()
	if r := run(bin, nil, args...); r.code != 0 {
		t.Fatalf("orcaprep %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
}

// stageLine summarizes stats.json's per-stage timing, for the log.
func stageLine(t *testing.T, out string) string {
	b, _ := os.ReadFile(filepath.Join(out, "stats.json"))
	var d struct {
		Timing struct {
			Stages []struct {
				Name     string  `json:"name"`
				Seconds  float64 `json:"seconds"`
				Rows     int64   `json:"rows"`
				MaxRSSMB float64 `json:"max_rss_mb"`
			} `json:"stages"`
		} `json:"timing"`
	}
	json.Unmarshal(b, &d)
	var parts []string
	for _, s := range d.Timing.Stages {
		parts = append(parts, fmt.Sprintf("%s %.1fs %.0fMB", s.Name, s.Seconds, s.MaxRSSMB))
	}
	return strings.Join(parts, ", ")
}

// recipe writes the recipe of a format for an input: zstd shards rotated by max_rows, the rest defaults
// (filters, exact and template-aware near dedupe; packed: the Llama-2 tokenizer, sequence_len 16,384).
func recipe(t *testing.T, dir string, in input, format, llama string) string {
	t.Helper()
	cfg := filepath.Join(dir, in.name+"-"+format+".yaml")
	yaml := fmt.Sprintf("output: {compression: zstd, max_rows: %d}\n", in.textRows)
	if format == "packed" {
		yaml = fmt.Sprintf("format: packed\ntokenizer: {path: %s}\noutput: {compression: zstd, max_rows: %d}\n", llama, in.packedRows)
	}
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

type input struct {
	name, path string
	// max_rows for text and packed output: several shards, so that several write tasks write some
	textRows, packedRows int
}

// TestSlurmStagedRunsMatchRun is issue 14's acceptance on a real one-node Slurm with the built binary: the
// sample and a 200k-row synth, text and packed (the real Llama-2 tokenizer), through --executor slurm with
// 1, 3, 4 and 7 tasks, each byte-identical to `orcaprep run`; then a map task cancelled with scancel mid-range,
// and the same command again: only that index is resubmitted, and the output is run's.
func TestSlurmStagedRunsMatchRun(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the staged acceptance runs take minutes")
	}
	llama, _ := filepath.Abs(filepath.Join(repo, "testdata/llama2/tokenizer.model"))
	if _, err := os.Stat(llama); err != nil {
		if os.Getenv("ORCAPREP_REQUIRE_TOOLS") != "" {
			t.Fatalf("the real Llama-2 tokenizer is required (scripts/install-test-deps.sh fetches it): %v", err)
		}
		t.Skipf("no Llama-2 tokenizer (scripts/install-test-deps.sh fetches it): %v", err)
	}
	slurmtest.Start(t, slurmtest.Options{})
	dir := t.TempDir()
	bin := build(t, dir)
	synth := filepath.Join(dir, "synth-200k.parquet")
	mustRun(t, bin, "synth", "--rows", "200000", "--out", synth)
	sample, _ := filepath.Abs(filepath.Join(repo, "testdata/sample/openorca-sample.parquet"))
	inputs := []input{{"sample", sample, 250, 20}, {"synth200k", synth, 25000, 500}}

	t.Run("matrix", func(t *testing.T) {
		for _, in := range inputs {
			for _, format := range []string{"text", "packed"} {
				label := in.name + "/" + format
				cfg := recipe(t, dir, in, format, llama)
				base := []string{"run", "-q", "-c", cfg, "-i", in.path}
				ref := filepath.Join(dir, "ref")
				start := time.Now()
				mustRun(t, bin, append(base, "-o", ref)...)
				t.Logf("%s: run %.1fs", label, time.Since(start).Seconds())
				want, wantStats := Outputs(t, ref), StatsWithoutTiming(t, ref)
				// The four task counts run at once: their drivers wait on Slurm's scheduling together.
				var wg sync.WaitGroup
				results := map[int]result{}
				var mu sync.Mutex
				start = time.Now()
				for _, n := range []int{1, 3, 4, 7} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						r := run(bin, nil, append(base, "-o", filepath.Join(dir, "out-"+strconv.Itoa(n)), "--executor", "slurm",
							"--tasks", strconv.Itoa(n), "--work", filepath.Join(dir, "work-"+strconv.Itoa(n)), "--poll", "200ms")...)
						mu.Lock()
						results[n] = r
						mu.Unlock()
					}()
				}
				wg.Wait()
				t.Logf("%s: N=1,3,4,7 on Slurm together %.1fs", label, time.Since(start).Seconds())
				for _, n := range []int{1, 3, 4, 7} {
					if r := results[n]; r.code != 0 {
						t.Fatalf("%s N=%d: exit %d\n%s", label, n, r.code, r.stderr)
					}
					out := filepath.Join(dir, "out-"+strconv.Itoa(n))
					Same(t, fmt.Sprintf("%s N=%d", label, n), want, wantStats, out)
					t.Logf("%s N=%d: %s", label, n, stageLine(t, out))
					os.RemoveAll(out)
					os.RemoveAll(filepath.Join(dir, "work-"+strconv.Itoa(n)))
				}
				if len(want) < 3 {
					t.Fatalf("%s: only %d files compared", label, len(want))
				}
				os.RemoveAll(ref)
			}
		}
	})

	t.Run("scancel", func(t *testing.T) {
		cfg := recipe(t, dir, inputs[1], "text", llama)
		base := []string{"run", "-q", "-c", cfg, "-i", synth}
		ref := filepath.Join(dir, "ref-scancel")
		mustRun(t, bin, append(base, "-o", ref)...)
		out, work := filepath.Join(dir, "out-scancel"), filepath.Join(dir, "work-scancel")
		staged := append(base, "-o", out, "--executor", "slurm", "--tasks", "4", "--work", work, "--poll", "200ms")
		// Map task 2 stops after its first batch (test hook, exported to the jobs by sbatch) until cancelled.
		cmd := exec.Command(bin, staged...)
		cmd.Env = append(os.Environ(), "ORCAPREP_TEST_PAUSE_AT=map-2")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill() // a no-op once it exited
		deadline := time.Now().Add(3 * time.Minute)
		var job string
		for {
			logs, _ := filepath.Glob(filepath.Join(work, "logs", "map-*_2.log"))
			if len(logs) == 1 {
				if b, _ := os.ReadFile(logs[0]); strings.Contains(string(b), "paused in phase map-2") {
					job = regexp.MustCompile(`map-(\d+)_2\.log$`).FindStringSubmatch(logs[0])[1]
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("map task 2 did not pause within 3 minutes; driver:\n%s", stderr.String())
			}
			time.Sleep(200 * time.Millisecond)
		}
		if b, err := exec.Command("scancel", job+"_2").CombinedOutput(); err != nil {
			t.Fatalf("scancel %s_2: %v %s", job, err, b)
		}
		err := cmd.Wait()
		ee, _ := err.(*exec.ExitError)
		if ee == nil || ee.ExitCode() != 130 || !strings.Contains(stderr.String(), "map task 2 failed") || !strings.Contains(stderr.String(), "interrupted") {
			t.Fatalf("driver after scancel of map task 2: %v\n%s", err, stderr.String())
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Fatal("a failed staged run created OUT")
		}
		before, _ := os.ReadFile(filepath.Join(work, "slurm", "submissions.log"))
		start := time.Now()
		mustRun(t, bin, staged...)
		t.Logf("resumed in %.1fs", time.Since(start).Seconds())
		after, _ := os.ReadFile(filepath.Join(work, "slurm", "submissions.log"))
		var resub []string
		for _, l := range strings.Split(strings.TrimSpace(strings.TrimPrefix(string(after), string(before))), "\n") {
			f := strings.Fields(l)
			resub = append(resub, f[2]+" "+f[4])
		}
		want := []string{"stage=map array=2", "stage=reduce array=-", "stage=write array=0-3", "stage=finalize array=-"}
		if !reflect.DeepEqual(resub, want) {
			t.Fatalf("re-run submitted %q, want %q", resub, want)
		}
		Same(t, "scancel+resume", Outputs(t, ref), StatsWithoutTiming(t, ref), out)
	})
}
