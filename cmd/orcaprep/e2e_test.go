package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/orcaprep/orcaprep/synth"
)

// requireNode returns the node binary and the scripts/node folder, skipping (or failing under
// ORCAPREP_REQUIRE_TOOLS=1, as in CI) when the npm packages are not installed.
func requireNode(t *testing.T) (string, string) {
	t.Helper()
	dir, _ := filepath.Abs("../../scripts/node")
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "@duckdb", "node-api"))
	}
	if err != nil {
		if os.Getenv("ORCAPREP_REQUIRE_TOOLS") != "" {
			t.Fatalf("node and scripts/node/node_modules are required (scripts/install-test-deps.sh): %v", err)
		}
		t.Skip("node or scripts/node/node_modules missing; run scripts/install-test-deps.sh")
	}
	return node, dir
}

func runNode(t *testing.T, node, dir, script string, args ...string) {
	t.Helper()
	cmd := exec.Command(node, append([]string{filepath.Join(dir, script)}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
}

func jsonLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<26)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: invalid JSON line: %v", path, err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRunOnDuckDBWrittenFileMatchesAxolotlRendering is issue 2's acceptance check: a 20k-row OpenOrca-shaped file
// written by DuckDB, run through the CLI; every kept row's text equals the reference rendering of Axolotl's
// chatml.jinja (by Hugging Face's Jinja engine, from rows read by DuckDB), the ledger adds up, and output is
// byte-identical across repeated runs and worker counts.
func TestRunOnDuckDBWrittenFileMatchesAxolotlRendering(t *testing.T) {
	node, dir := requireNode(t)
	tmp := t.TempDir()
	pq := filepath.Join(tmp, "synth.parquet")
	if err := synth.WriteParquet(context.Background(), synth.DefaultConfig(20000, 7), pq, ""); err != nil {
		t.Fatal(err)
	}
	duck := filepath.Join(tmp, "duck.parquet")
	runNode(t, node, dir, "duckdb-rewrite.mjs", pq, duck)

	out := filepath.Join(tmp, "D")
	if code := execute([]string{"run", "--input", duck, "--out", out, "--format", "text", "-q", "--workers", "4"}); code != 0 {
		t.Fatalf("run exited %d", code)
	}
	var st struct {
		RowsRead int64            `json:"rows_read"`
		RowsKept int64            `json:"rows_kept"`
		Dropped  map[string]int64 `json:"dropped"`
	}
	b, _ := os.ReadFile(filepath.Join(out, "stats.json"))
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	var dropped int64
	for _, n := range st.Dropped {
		dropped += n
	}
	if st.RowsRead != 20000 || st.RowsKept+dropped != st.RowsRead || st.RowsKept < 18000 {
		t.Fatalf("ledger: %+v", st)
	}

	ref := filepath.Join(tmp, "ref.jsonl")
	runNode(t, node, dir, "chatml-render-parquet.mjs", duck, ref)
	refRows := jsonLines(t, ref)
	rejected := map[int]bool{}
	for _, r := range jsonLines(t, filepath.Join(out, "rejected", "rejected-00000.jsonl")) {
		rejected[int(r["row"].(float64))] = true
	}
	kept := jsonLines(t, filepath.Join(out, "data", "train-00000.jsonl"))
	k := 0
	for _, r := range refRows {
		if rejected[int(r["row"].(float64))] {
			continue
		}
		if k >= len(kept) {
			t.Fatalf("fewer shard lines than kept rows")
		}
		if kept[k]["id"] != r["id"] || kept[k]["text"] != r["text"] {
			t.Fatalf("row %v (%v): text differs from Axolotl's rendering:\n got %q\nwant %q", r["row"], r["id"], kept[k]["text"], r["text"])
		}
		k++
	}
	if k != len(kept) || int64(k) != st.RowsKept {
		t.Fatalf("%d reference rows kept, %d shard lines, rows_kept %d", k, len(kept), st.RowsKept)
	}

	// Same bytes again, and with one worker.
	first, _ := os.ReadFile(filepath.Join(out, "data", "train-00000.jsonl"))
	for i, w := range []string{"4", "1"} {
		o2 := filepath.Join(tmp, "again", w)
		if code := execute([]string{"run", "--input", duck, "--out", o2, "--format", "text", "-q", "--workers", w}); code != 0 {
			t.Fatalf("rerun %d exited %d", i, code)
		}
		again, _ := os.ReadFile(filepath.Join(o2, "data", "train-00000.jsonl"))
		if string(again) != string(first) {
			t.Fatalf("run with --workers %s is not byte-identical", w)
		}
	}
}
