package pipeline

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// nodeScripts returns scripts/node, skipping (or failing under ORCAPREP_REQUIRE_TOOLS=1) without node.
func nodeScripts(t *testing.T) string {
	t.Helper()
	dir, _ := filepath.Abs("../scripts/node")
	_, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "parquet-wasm"))
	}
	if err != nil {
		if os.Getenv("ORCAPREP_REQUIRE_TOOLS") == "1" {
			t.Fatalf("node and scripts/node/node_modules are required (scripts/install-test-deps.sh): %v", err)
		}
		t.Skip("node or scripts/node/node_modules missing; run scripts/install-test-deps.sh")
	}
	return dir
}

// The same rows written by parquet-go, by DuckDB in one row group (one ~5 MB page per column: the
// reader streams it in pieces) and by arrow-rs in one-row row groups give byte-identical output, for
// any number of workers.
func TestRunSameOutputWhateverWriterAndWorkers(t *testing.T) {
	scripts := nodeScripts(t)
	dir := t.TempDir()
	rows := genRows(3000)
	words := strings.Fields("the quick brown fox jumps over the lazy dog while seven wizards quietly hex bold jugglers and café naïve 日本語")
	for i := range rows {
		var b strings.Builder
		for j := 0; j < 300+i%150; j++ {
			b.WriteString(words[(i*7+j*j)%len(words)])
			b.WriteByte(' ')
		}
		q := fmt.Sprintf("Question %d: %s", i, b.String())
		rows[i].Question = &q
		if i%50 == 7 {
			rows[i].Response = nil
		}
	}
	src := filepath.Join(dir, "parquetgo.parquet")
	writeParquet(t, src, rows, 700)
	run := func(script string, args ...string) {
		t.Helper()
		cmd := exec.Command("node", append([]string{filepath.Join(scripts, script)}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
	}
	duck := filepath.Join(dir, "duckdb.parquet")
	run("duckdb-rewrite.mjs", src, duck, "--compression", "snappy", "--row-group-size", "1000000")
	arrowRs := filepath.Join(dir, "arrowrs.parquet")
	run("arrowrs-rewrite.mjs", src, arrowRs, "--row-group-size", "1", "--batch-rows", "500")

	var first map[string][]byte
	firstName := ""
	for _, in := range []string{src, duck, arrowRs} {
		for _, w := range []int{1, 2, 5} {
			cfg := DefaultConfig()
			cfg.Inputs, cfg.Workers, cfg.Format, cfg.BatchSize = []string{in}, w, FormatText, 100
			cfg.Out = filepath.Join(dir, fmt.Sprintf("out-%s-%d", filepath.Base(in), w))
			if _, err := runOnce(t, cfg); err != nil {
				t.Fatal(err)
			}
			got := map[string][]byte{}
			for _, rel := range []string{"data/train-00000.jsonl", "rejected/rejected-00000.jsonl"} {
				b, err := os.ReadFile(filepath.Join(cfg.Out, rel))
				if err != nil {
					t.Fatal(err)
				}
				// rejected lines name their input file; the rows are the same
				got[rel] = bytes.ReplaceAll(b, []byte(filepath.Base(in)), []byte("IN"))
			}
			if len(got["data/train-00000.jsonl"]) < 5<<20 {
				t.Fatalf("only %d bytes of output", len(got["data/train-00000.jsonl"]))
			}
			name := fmt.Sprintf("%s with %d workers", filepath.Base(in), w)
			if first == nil {
				first, firstName = got, name
				continue
			}
			for k, v := range got {
				if !bytes.Equal(v, first[k]) {
					t.Fatalf("%s: %s differs from %s", name, k, firstName)
				}
			}
		}
	}
}
