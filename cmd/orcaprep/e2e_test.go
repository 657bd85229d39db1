package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/orcaprep/orcaprep/chatml"
	"github.com/orcaprep/orcaprep/orca"
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

// requireLlama returns the real Llama-2 tokenizer.model and Debian's python3 with sentencepiece,
// skipping (failing under ORCAPREP_REQUIRE_TOOLS=1) when scripts/install-test-deps.sh has not run.
func requireLlama(t *testing.T) string {
	t.Helper()
	model, _ := filepath.Abs("../../testdata/llama2/tokenizer.model")
	_, err := os.Stat(model)
	if err == nil {
		err = exec.Command("/usr/bin/python3", "-c", "import sentencepiece").Run()
	}
	if err != nil {
		if os.Getenv("ORCAPREP_REQUIRE_TOOLS") != "" {
			t.Fatalf("Llama-2 model and python3-sentencepiece are required (scripts/install-test-deps.sh): %v", err)
		}
		t.Skip("Llama-2 model or python3-sentencepiece missing; run scripts/install-test-deps.sh")
	}
	return model
}

type refTok struct {
	Key        string  `json:"key"`
	IDs        []int32 `json:"ids"`
	TrainStart int     `json:"train_start"`
	TrainEnd   int     `json:"train_end"`
}

// TestLlongOrcaRecipeMatchesSentencePiece runs the shipped LlongOrca recipe (packed, openorca-2023 and chatml
// styles) on the sample with the real Llama-2 model, validates the output, and checks every packed sample cut
// out at its position_ids reset against C++ SentencePiece's ids of its rendered row, and the label mask.
func TestLlongOrcaRecipeMatchesSentencePiece(t *testing.T) {
	model := requireLlama(t)
	tmp := t.TempDir()
	// The recipe selects files named 1M-GPT4-Augmented*: name the sample so.
	sample := filepath.Join(tmp, "1M-GPT4-Augmented-sample.parquet")
	b, err := os.ReadFile("../../testdata/sample/openorca-sample.parquet")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(sample, b, 0o644)
	recs := map[string]orca.Record{}
	seen := map[string]int{}
	f, err := orca.Open(sample, 0)
	if err != nil {
		t.Fatal(err)
	}
	for rg := 0; rg < f.NumRowGroups(); rg++ {
		f.ReadRowGroup(rg, 256, false, func(rs []orca.Record) error {
			for _, r := range rs {
				recs[r.ID] = r
				seen[r.ID]++
			}
			return nil
		})
	}
	f.Close()

	for _, style := range []string{"openorca-2023", "chatml"} {
		out := filepath.Join(tmp, style)
		cfgPath := filepath.Join(tmp, style+".yaml")
		cfg, _ := os.ReadFile("../../configs/llongorca-7b-16k.yaml")
		cfg = []byte(strings.Replace(string(cfg), "style: openorca-2023", "style: "+style, 1))
		os.WriteFile(cfgPath, cfg, 0o644)
		if code := execute([]string{"run", "--config", cfgPath, "--input", sample, "--tokenizer", model, "--out", out, "--sequence-len", "4096", "-q"}); code != 0 {
			t.Fatalf("%s: run exited %d", style, code)
		}
		if code := execute([]string{"validate", out}); code != 0 {
			t.Fatalf("%s: validate exited %d", style, code)
		}
		var man struct {
			Shards []struct{ Path string } `json:"shards"`
			Index  []struct{ Path string } `json:"index"`
		}
		mb, _ := os.ReadFile(filepath.Join(out, "manifest.json"))
		json.Unmarshal(mb, &man)

		// Reference ids for every sample whose id is unique in the sample.
		var in strings.Builder
		o := chatml.Options{Style: chatml.Style(style)}
		for id, r := range recs {
			if seen[id] != 1 {
				continue
			}
			line, _ := json.Marshal(map[string]string{"key": id, "style": style,
				"prompt": string(chatml.AppendPrompt(nil, &r, o)), "completion": string(chatml.AppendCompletion(nil, &r, o))})
			in.Write(line)
			in.WriteByte('\n')
		}
		cmd := exec.Command("/usr/bin/python3", "../../scripts/reference-tokenize.py", model)
		cmd.Stdin = strings.NewReader(in.String())
		refOut, err := cmd.Output()
		if err != nil {
			t.Fatalf("reference tokenizer: %v", err)
		}
		ref := map[string]refTok{}
		for _, l := range strings.Split(strings.TrimSpace(string(refOut)), "\n") {
			var r refTok
			json.Unmarshal([]byte(l), &r)
			ref[r.Key] = r
		}

		checked := 0
		for s := range man.Shards {
			rows := readZstdLines(t, filepath.Join(out, man.Shards[s].Path))
			idx := readZstdLines(t, filepath.Join(out, man.Index[s].Path))
			for i := range rows {
				var row struct {
					InputIDs    []int32 `json:"input_ids"`
					Labels      []int32 `json:"labels"`
					PositionIDs []int32 `json:"position_ids"`
				}
				var ix struct {
					IDs []string `json:"ids"`
				}
				json.Unmarshal(rows[i], &row)
				json.Unmarshal(idx[i], &ix)
				var starts []int
				for p, v := range row.PositionIDs {
					if v == 0 {
						starts = append(starts, p)
					}
				}
				for k, st := range starts {
					end := len(row.InputIDs)
					if k+1 < len(starts) {
						end = starts[k+1]
					}
					want, ok := ref[ix.IDs[k]]
					if !ok {
						continue // duplicated id in the sample: ambiguous source row
					}
					got := row.InputIDs[st:end]
					if !slices.Equal(got, want.IDs) {
						t.Fatalf("%s %s: ids differ from SentencePiece\n got %v\nwant %v", style, ix.IDs[k], got, want.IDs)
					}
					for p, l := range row.Labels[st:end] {
						trained := p >= want.TrainStart && p < want.TrainEnd
						if (trained && l != got[p]) || (!trained && l != -100) {
							t.Fatalf("%s %s: label %d at %d, trained span [%d,%d)", style, ix.IDs[k], l, p, want.TrainStart, want.TrainEnd)
						}
					}
					checked++
				}
			}
		}
		if checked < 1800 {
			t.Fatalf("%s: only %d samples checked", style, checked)
		}
	}
}

func readZstdLines(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := zstd.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var out [][]byte
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<26)
	for sc.Scan() {
		out = append(out, append([]byte(nil), sc.Bytes()...))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLlongOrcaRecipeFromHub runs configs/llongorca-7b-16k.yaml unchanged, its inputs and tokenizer being hf://
// references, against a Hub-compatible server on 127.0.0.1 (HF_ENDPOINT): the dataset file and the tokenizer are
// downloaded into a fresh huggingface_hub cache, verified, and the run validates. A second run is served from the
// cache without any body download.
func TestLlongOrcaRecipeFromHub(t *testing.T) {
	model := requireLlama(t)
	sample, err := os.ReadFile("../../testdata/sample/openorca-sample.parquet")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"/datasets/Open-Orca/OpenOrca/resolve/main/1M-GPT4-Augmented.parquet": sample,
		"/conceptofmind/LLongMA-2-7b-16k/resolve/main/tokenizer.model":        tok,
	}
	var gets atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The client may ask for the branch or for the commit it resolved to.
		body, ok := files[strings.Replace(r.URL.Path, "/resolve/"+strings.Repeat("ab", 20)+"/", "/resolve/main/", 1)]
		if !ok {
			http.NotFound(w, r)
			return
		}
		sum := sha256.Sum256(body)
		w.Header().Set("X-Repo-Commit", strings.Repeat("ab", 20))
		w.Header().Set("X-Linked-Etag", `"`+hex.EncodeToString(sum[:])+`"`)
		w.Header().Set("X-Linked-Size", strconv.Itoa(len(body)))
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		if r.Method == http.MethodHead {
			return
		}
		gets.Add(1)
		w.Write(body)
	}))
	defer srv.Close()
	tmp := t.TempDir()
	t.Setenv("HF_ENDPOINT", srv.URL)
	t.Setenv("HF_HUB_CACHE", filepath.Join(tmp, "cache"))
	t.Setenv("HF_TOKEN", "")
	out := filepath.Join(tmp, "out")
	args := []string{"run", "--config", "../../configs/llongorca-7b-16k.yaml", "--out", out, "--sequence-len", "4096", "-q"}
	if code := execute(args); code != 0 {
		t.Fatalf("run exited %d", code)
	}
	if gets.Load() != 2 {
		t.Fatalf("%d file downloads, want 2", gets.Load())
	}
	if code := execute([]string{"validate", out}); code != 0 {
		t.Fatalf("validate exited %d", code)
	}
	snap := filepath.Join(tmp, "cache", "datasets--Open-Orca--OpenOrca", "snapshots", strings.Repeat("ab", 20), "1M-GPT4-Augmented.parquet")
	if b, err := os.ReadFile(snap); err != nil || len(b) != len(sample) {
		t.Fatalf("dataset not in the huggingface_hub cache layout: %v", err)
	}
	if code := execute(append(args, "--overwrite")); code != 0 || gets.Load() != 2 {
		t.Fatalf("second run: exit %d, %d downloads (want none new)", code, gets.Load())
	}
}

// TestStatsInputTokensMatchRun checks that profiling raw input with a tokenizer counts exactly the tokens a run
// writes: `stats --input --tokenizer` and `run --format tokenized` (with every filter and dedupe off) must agree.
func TestStatsInputTokensMatchRun(t *testing.T) {
	tmp := t.TempDir()
	const tiny = "../../testdata/tokenizer/tiny.model"
	const sample = "../../testdata/sample/openorca-sample.parquet"
	cfg := filepath.Join(tmp, "all.yaml")
	os.WriteFile(cfg, []byte(`filters:
  empty_question: {enabled: false}
  empty_response: {enabled: false}
  refusal: {enabled: false}
  special_token_text: {enabled: false}
dedupe:
  exact: {enabled: false}
  near: {enabled: false}
packing:
  sequence_len: 1000000
`), 0o644)
	out := filepath.Join(tmp, "out")
	if code := execute([]string{"run", "--config", cfg, "--input", sample, "--format", "tokenized", "--tokenizer", tiny, "--out", out, "-q"}); code != 0 {
		t.Fatalf("run exited %d", code)
	}
	var stdout, stderr strings.Builder
	if code := executeWith([]string{"stats", "--input", sample, "--tokenizer", tiny, "--format", "json", "-q"}, &stdout, &stderr); code != 0 {
		t.Fatalf("stats exited %d: %s", code, stderr.String())
	}
	sum := func(doc []byte) (rows, tokens float64) {
		var d struct {
			Distributions struct {
				Lengths []struct {
					Measure string  `json:"measure"`
					Rows    string  `json:"rows"`
					Count   float64 `json:"count"`
					Sum     float64 `json:"sum"`
				} `json:"lengths"`
			} `json:"distributions"`
		}
		if err := json.Unmarshal(doc, &d); err != nil {
			t.Fatal(err)
		}
		for _, l := range d.Distributions.Lengths {
			if l.Measure == "sample_tokens" && l.Rows == "kept" {
				return l.Count, l.Sum
			}
		}
		t.Fatal("no sample_tokens distribution")
		return 0, 0
	}
	runDoc, _ := os.ReadFile(filepath.Join(out, "stats.json"))
	r1, t1 := sum(runDoc)
	r2, t2 := sum([]byte(stdout.String()))
	if r1 != 2000 || r1 != r2 || t1 != t2 || t1 == 0 {
		t.Fatalf("run counted %v rows / %v tokens, stats --input %v / %v", r1, t1, r2, t2)
	}
}
