package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/orcaprep/orcaprep/internal/slurmtest"
	"github.com/orcaprep/orcaprep/internal/stagedtest"
	"github.com/orcaprep/orcaprep/synth"
	"go.yaml.in/yaml/v3"
)

// The test binary doubles as the orcaprep binary for the stage tasks that executors start
// (`orcaprep.test map --work …` with ORCAPREP_TEST_MAIN=1).
// stagedEnv makes executor subprocesses (local, or Slurm jobs: sbatch exports the environment) run this test
// binary as orcaprep.
func stagedEnv(t *testing.T) {
	t.Setenv("ORCAPREP_TEST_MAIN", "1")
	t.Setenv("GORACE", "atexit_sleep_ms=0") // race-enabled children would each sleep 1 s at exit
}

// sameOutput fails unless got holds want's data/, index/, rejected/ and manifest.json byte for byte.
func sameOutput(t *testing.T, label, want, got string) {
	t.Helper()
	stagedtest.Same(t, label, stagedtest.Outputs(t, want), nil, got)
}

func runCLI(t *testing.T, args ...string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := executeWith(args, &stdout, &stderr); code != 0 {
		t.Fatalf("orcaprep %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	}
}

// stagedInputs writes two synth files: one with 80-row groups (so tasks split it, and ranges cross into the
// next file), one of a single row group (most tasks of a large N get no rows from it).
func stagedInputs(t *testing.T, dir string) []string {
	t.Helper()
	var paths []string
	for i, shape := range [][2]int{{700, 80}, {400, 400}} {
		p := filepath.Join(dir, "synth"+strconv.Itoa(i)+".parquet")
		if err := synth.WriteParquetWith(context.Background(), synth.DefaultConfig(shape[0], uint64(i+11)), synth.WriteOptions{RowGroupSize: int64(shape[1])}, p, ""); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// stagedVariants are recipes that exercise every path of the staged body: shard rotation by rows and by bytes
// (many shards, so several write tasks write some), zstd, an unselected input (rows read by id only), every
// format, the token formats' index/, packing with a shuffle, and template-aware near dedupe (the defaults).
var stagedVariants = []struct {
	name  string
	yaml  string
	tasks []int
}{
	{"text", "output: {compression: zstd, max_rows: 97}\n", []int{1, 4, 7}},
	{"messages", "format: messages\nselect: {files: [synth0.parquet]}\noutput: {max_bytes: 200000}\n", []int{3}},
	{"tokenized", "format: tokenized\ntokenizer: {path: TINY}\npacking: {sequence_len: 2048}\noutput: {compression: zstd, max_bytes: 300000}\n", []int{4}},
	{"packed", "format: packed\ntokenizer: {path: TINY}\npacking: {sequence_len: 2048, shuffle_seed: 7}\noutput: {max_bytes: 400000}\n", []int{3}},
}

// TestStagedLocalMatchesRun runs the staged pipeline with --executor local for several task counts and recipes
// and checks data/, index/, rejected/ and manifest.json against `orcaprep run`, byte for byte, and stats.json
// but for its timing.
func TestStagedLocalMatchesRun(t *testing.T) {
	stagedEnv(t)
	dir := t.TempDir()
	inputs := stagedInputs(t, dir)
	tiny, _ := filepath.Abs("../../testdata/tokenizer/tiny.model")
	for _, v := range stagedVariants {
		cfg := filepath.Join(dir, v.name+".yaml")
		if err := os.WriteFile(cfg, []byte(strings.ReplaceAll(v.yaml, "TINY", tiny)), 0o644); err != nil {
			t.Fatal(err)
		}
		args := []string{"run", "-q", "-c", cfg}
		for _, in := range inputs {
			args = append(args, "-i", in)
		}
		ref := filepath.Join(dir, v.name+"-run")
		runCLI(t, append(args, "-o", ref)...)
		for _, n := range v.tasks {
			out := filepath.Join(dir, v.name+"-"+strconv.Itoa(n))
			runCLI(t, append(args, "-o", out, "--executor", "local", "--tasks", strconv.Itoa(n), "--parallel", "2",
				"--work", filepath.Join(dir, "work-"+v.name+strconv.Itoa(n)), "--poll", "50ms")...)
			label := v.name + " N=" + strconv.Itoa(n)
			stagedtest.Same(t, label, stagedtest.Outputs(t, ref), stagedtest.StatsWithoutTiming(t, ref), out)
		}
	}
}

// TestStagedSlurmMatchesRun runs the staged pipeline as Slurm job arrays on a real one-node cluster and checks it
// against `orcaprep run`; then the same command again, which finds everything done and submits nothing.
func TestStagedSlurmMatchesRun(t *testing.T) {
	slurmtest.Start(t, slurmtest.Options{})
	stagedEnv(t)
	dir := t.TempDir()
	args := []string{"run", "-q", "--compression", "zstd"}
	for _, in := range stagedInputs(t, dir) {
		args = append(args, "-i", in)
	}
	ref, out, work := filepath.Join(dir, "run"), filepath.Join(dir, "slurm"), filepath.Join(dir, "work")
	runCLI(t, append(args, "-o", ref)...)
	staged := append(args, "-o", out, "--executor", "slurm", "--tasks", "4", "--work", work, "--poll", "200ms",
		"--sbatch-arg=--time=10", "--sbatch-arg=reduce:--mem=100M")
	runCLI(t, staged...)
	sameOutput(t, "slurm N=4", ref, out)
	log, err := os.ReadFile(filepath.Join(work, "slurm", "submissions.log"))
	if err != nil || strings.Count(string(log), "\n") != 6 {
		t.Fatalf("submissions.log (%v):\n%s", err, log)
	}
	reduce, _ := os.ReadFile(filepath.Join(work, "slurm", "reduce.sbatch"))
	if !strings.Contains(string(reduce), "#SBATCH --mem=100M\n") || !strings.Contains(string(reduce), "#SBATCH --time=10\n") {
		t.Fatalf("reduce.sbatch:\n%s", reduce)
	}
	runCLI(t, staged...)
	if again, _ := os.ReadFile(filepath.Join(work, "slurm", "submissions.log")); !bytes.Equal(again, log) {
		t.Fatalf("a complete run submitted again:\n%s", again)
	}
}

// TestKubernetesManifestCommands runs the commands of configs/kubernetes/orcaprep-indexed-jobs.yaml in order, each
// Indexed Job once per JOB_COMPLETION_INDEX as Kubernetes would, with the manifest's paths mapped to temp dirs
// and its recipe to the sample, and checks the result against `orcaprep run`.
func TestKubernetesManifestCommands(t *testing.T) {
	raw, err := os.ReadFile("../../configs/kubernetes/orcaprep-indexed-jobs.yaml")
	if err != nil {
		t.Fatal(err)
	}
	type job struct {
		Metadata struct{ Name string }
		Spec     struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    int
			Template       struct {
				Spec struct {
					Containers []struct{ Command []string }
				}
			}
		}
	}
	dir := t.TempDir()
	sample, _ := filepath.Abs("../../configs/sample.yaml")
	repo, _ := filepath.Abs("../..")
	t.Chdir(repo) // the sample config names its input relative to the repository
	ref := filepath.Join(dir, "run")
	runCLI(t, "run", "-q", "-c", sample, "-o", ref)
	mapPath := strings.NewReplacer("/data/configs/llongorca-7b-16k.yaml", sample, "/data/out/llongorca-16k", filepath.Join(dir, "out"),
		"/work/llongorca-16k", filepath.Join(dir, "work"))
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var names []string
	for {
		var j job
		if err := dec.Decode(&j); err != nil {
			break
		}
		names = append(names, j.Metadata.Name)
		cmd := j.Spec.Template.Spec.Containers[0].Command
		if cmd[0] != "orcaprep" {
			t.Fatalf("%s runs %q", j.Metadata.Name, cmd[0])
		}
		var args []string
		for _, a := range cmd[1:] {
			if a == "64" {
				a = "3" // the plan's --tasks; the Indexed Jobs' completions follow it
			}
			args = append(args, mapPath.Replace(a))
		}
		n := 1
		if j.Spec.CompletionMode == "Indexed" {
			if j.Spec.Completions != 64 {
				t.Fatalf("%s: completions %d, plan --tasks 64", j.Metadata.Name, j.Spec.Completions)
			}
			n = 3
		}
		for i := 0; i < n; i++ {
			if j.Spec.CompletionMode == "Indexed" {
				t.Setenv("JOB_COMPLETION_INDEX", strconv.Itoa(i))
			}
			runCLI(t, args...)
		}
	}
	if strings.Join(names, ",") != "orcaprep-plan,orcaprep-df,orcaprep-templates,orcaprep-map,orcaprep-reduce,orcaprep-write,orcaprep-finalize" {
		t.Fatalf("jobs %v", names)
	}
	sameOutput(t, "kubernetes", ref, filepath.Join(dir, "out"))
}
