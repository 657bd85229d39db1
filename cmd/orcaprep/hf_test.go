package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// requireHFLibs returns node and scripts/node when the Hugging Face tokenizer libraries are installed (npm
// `tokenizers` and `@huggingface/transformers`), skipping (failing under ORCAPREP_REQUIRE_TOOLS=1) otherwise.
func requireHFLibs(t *testing.T) (string, string) {
	t.Helper()
	node, dir := requireNode(t)
	for _, m := range []string{"tokenizers", filepath.Join("@huggingface", "transformers")} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", m, "package.json")); err != nil {
			if os.Getenv("ORCAPREP_REQUIRE_TOOLS") != "" {
				t.Fatalf("npm %s is required (scripts/install-test-deps.sh): %v", m, err)
			}
			t.Skipf("npm %s missing; run scripts/install-test-deps.sh", m)
		}
	}
	return node, dir
}

// hfRun is one orcaprep output to check against the Hugging Face libraries.
type hfRun struct {
	Name, Out, Format, Style string
}

type hfSummary struct {
	Runs []struct {
		Name       string `json:"name"`
		Style      string `json:"style"`
		Cases      int    `json:"cases"`
		Samples    int    `json:"samples"`
		IDs        int    `json:"ids"`
		Texts      int    `json:"texts"`
		Mismatches int    `json:"mismatches"`
	} `json:"runs"`
	Controls map[string]map[string]struct {
		Compared   int `json:"compared"`
		Mismatched int `json:"mismatched"`
	} `json:"controls"`
}

// outLines returns the data lines of an output directory (all shards, in order) and, for token formats, the
// index lines, decompressing .zst shards.
func outLines(t *testing.T, out string) (format string, data, index [][]byte) {
	t.Helper()
	var m struct {
		Format string                  `json:"format"`
		Shards []struct{ Path string } `json:"shards"`
		Index  []struct{ Path string } `json:"index"`
	}
	b, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, s := range m.Shards {
		data = append(data, fileLines(t, filepath.Join(out, s.Path))...)
	}
	for _, s := range m.Index {
		index = append(index, fileLines(t, filepath.Join(out, s.Path))...)
	}
	return m.Format, data, index
}

func fileLines(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".zst") {
		zr, err := zstd.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	}
	var out [][]byte
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<28)
	for sc.Scan() {
		out = append(out, append([]byte(nil), sc.Bytes()...))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

type sampleIDs struct {
	ID  string
	IDs []int32
}

// tokenSamples cuts a token output into its samples: one per tokenized line, one per position_ids reset of a
// packed line, named by the index.
func tokenSamples(t *testing.T, out string) []sampleIDs {
	t.Helper()
	_, data, index := outLines(t, out)
	if len(data) != len(index) {
		t.Fatalf("%s: %d data lines, %d index lines", out, len(data), len(index))
	}
	var s []sampleIDs
	for i := range data {
		var row struct {
			InputIDs    []int32 `json:"input_ids"`
			PositionIDs []int32 `json:"position_ids"`
		}
		var ix struct {
			IDs []string `json:"ids"`
		}
		if json.Unmarshal(data[i], &row) != nil || json.Unmarshal(index[i], &ix) != nil {
			t.Fatalf("%s line %d: bad JSON", out, i+1)
		}
		if row.PositionIDs == nil {
			s = append(s, sampleIDs{ix.IDs[0], row.InputIDs})
			continue
		}
		var starts []int
		for p, v := range row.PositionIDs {
			if v == 0 {
				starts = append(starts, p)
			}
		}
		if len(starts) != len(ix.IDs) {
			t.Fatalf("%s line %d: %d samples, index names %d", out, i+1, len(starts), len(ix.IDs))
		}
		for k, st := range starts {
			end := len(row.InputIDs)
			if k+1 < len(starts) {
				end = starts[k+1]
			}
			s = append(s, sampleIDs{ix.IDs[k], row.InputIDs[st:end]})
		}
	}
	return s
}

// hfCheck writes the cases of every run and has scripts/node/hf-tokenizer-check.mjs recompute them with npm
// `tokenizers` and transformers.js from OUT/tokenizer. Text and messages runs are matched row for row with the
// tokenized run of the same style (same recipe, so the same kept rows in the same order).
func hfCheck(t *testing.T, parquet []string, runs []hfRun) hfSummary {
	t.Helper()
	node, dir := requireHFLibs(t)
	tmp := t.TempDir()
	tokenized := map[string][]sampleIDs{}
	texts := map[string][][]byte{}
	for _, r := range runs {
		if r.Format == "tokenized" {
			tokenized[r.Style] = tokenSamples(t, r.Out)
		}
		if r.Format == "text" {
			_, texts[r.Style], _ = outLines(t, r.Out)
		}
	}
	type jobRun struct {
		Name         string `json:"name"`
		TokenizerDir string `json:"tokenizer_dir"`
		Style        string `json:"style"`
		EmptySystem  bool   `json:"empty_system"`
		Cases        string `json:"cases"`
	}
	var job struct {
		Parquet []string `json:"parquet"`
		Runs    []jobRun `json:"runs"`
	}
	job.Parquet = parquet
	for _, r := range runs {
		cases := filepath.Join(tmp, r.Name+".jsonl")
		f, err := os.Create(cases)
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriter(f)
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		switch r.Format {
		case "tokenized", "packed":
			for _, s := range tokenSamples(t, r.Out) {
				enc.Encode(map[string]any{"kind": "tokens", "id": s.ID, "ids": s.IDs})
			}
		case "text", "messages":
			_, data, _ := outLines(t, r.Out)
			tok, txt := tokenized[r.Style], texts[r.Style]
			if len(tok) != len(data) || (r.Format == "messages" && len(txt) != len(data)) {
				t.Fatalf("%s: %d rows, but the tokenized run has %d and the text run %d", r.Name, len(data), len(tok), len(txt))
			}
			for i, line := range data {
				var row struct {
					ID       string            `json:"id"`
					Text     string            `json:"text"`
					Messages []json.RawMessage `json:"messages"`
				}
				if err := json.Unmarshal(line, &row); err != nil {
					t.Fatal(err)
				}
				if tok[i].ID != row.ID {
					t.Fatalf("%s row %d is %s, the tokenized run's is %s", r.Name, i, row.ID, tok[i].ID)
				}
				c := map[string]any{"kind": r.Format, "id": row.ID, "ids": tok[i].IDs, "text": row.Text}
				if r.Format == "messages" {
					var tr struct {
						ID, Text string
					}
					json.Unmarshal(txt[i], &tr)
					if tr.ID != row.ID {
						t.Fatalf("%s row %d is %s, the text run's is %s", r.Name, i, row.ID, tr.ID)
					}
					c["messages"], c["text"] = row.Messages, tr.Text
				}
				enc.Encode(c)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		abs, _ := filepath.Abs(filepath.Join(r.Out, "tokenizer"))
		job.Runs = append(job.Runs, jobRun{Name: r.Name, TokenizerDir: abs, Style: r.Style, Cases: cases})
	}
	jb, _ := json.Marshal(job)
	jobFile := filepath.Join(tmp, "job.json")
	os.WriteFile(jobFile, jb, 0o644)
	cmd := exec.Command(node, filepath.Join(dir, "hf-tokenizer-check.mjs"), jobFile)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hf-tokenizer-check: %v\n%s", err, stderr.String())
	}
	var s hfSummary
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatalf("hf-tokenizer-check output %q: %v", out, err)
	}
	t.Logf("Hugging Face libraries: %s", out)
	for _, r := range s.Runs {
		if r.Mismatches != 0 || r.Samples == 0 {
			t.Fatalf("%s: %+v", r.Name, r)
		}
	}
	// The check must be able to fail: the tokenizer.json transformers v5's LlamaTokenizer would build with
	// legacy=False gets chatml samples wrong.
	if c, ok := s.Controls["chatml"]; ok && c["v5_llama_legacy_false"].Mismatched == 0 {
		t.Fatalf("control: a legacy=False tokenizer reproduced every chatml sample; the check cannot fail: %+v", c)
	}
	return s
}

// TestHFLibrariesReproduceShardIDs runs the shipped sample recipe with the real Llama-2 tokenizer in all four
// formats and both styles (messages + openorca-2023 is refused) and checks every output with npm `tokenizers` and
// transformers.js loading OUT/tokenizer: the token formats' ids, the text rendering through the directory's chat
// template, and the ids of text and messages rows; and the LlongOrca recipe (packed, zstd) in both styles the same
// way (TestLlongOrcaRecipeMatchesSentencePiece checks those runs against C++ SentencePiece and validate; running
// them here again costs less than a second node process re-encoding the same texts). validate's OUT/tokenizer
// checks are tested in the validate package.
func TestHFLibrariesReproduceShardIDs(t *testing.T) {
	model := requireLlama(t)
	requireHFLibs(t)
	tmp := t.TempDir()
	const sample = "../../testdata/sample/openorca-sample.parquet"
	base, err := os.ReadFile("../../configs/sample.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var runs []hfRun
	for _, style := range []string{"chatml", "openorca-2023"} {
		cfg := filepath.Join(tmp, style+".yaml")
		os.WriteFile(cfg, []byte(strings.Replace(string(base), "style: chatml", "style: "+style, 1)), 0o644)
		for _, format := range []string{"tokenized", "packed", "text", "messages"} {
			out := filepath.Join(tmp, style+"-"+format)
			code := execute([]string{"run", "--config", cfg, "--input", sample, "--tokenizer", model, "--format", format, "--out", out, "-q"})
			if format == "messages" && style == "openorca-2023" {
				if code != 2 {
					t.Fatalf("messages + openorca-2023: exit %d, want 2 (refused)", code)
				}
				continue
			}
			if code != 0 {
				t.Fatalf("%s %s: run exited %d", style, format, code)
			}
			runs = append(runs, hfRun{Name: style + "-" + format, Out: out, Format: format, Style: style})
		}
	}
	// The LlongOrca recipe selects files named 1M-GPT4-Augmented*: name the sample so.
	renamed := filepath.Join(tmp, "1M-GPT4-Augmented-sample.parquet")
	b, _ := os.ReadFile(sample)
	os.WriteFile(renamed, b, 0o644)
	recipe, _ := os.ReadFile("../../configs/llongorca-7b-16k.yaml")
	for _, style := range []string{"openorca-2023", "chatml"} {
		cfg := filepath.Join(tmp, "llongorca-"+style+".yaml")
		os.WriteFile(cfg, []byte(strings.Replace(string(recipe), "style: openorca-2023", "style: "+style, 1)), 0o644)
		out := filepath.Join(tmp, "llongorca-"+style)
		if code := execute([]string{"run", "--config", cfg, "--input", renamed, "--tokenizer", model, "--out", out, "--sequence-len", "4096", "-q"}); code != 0 {
			t.Fatalf("LlongOrca recipe %s: run exited %d", style, code)
		}
		runs = append(runs, hfRun{Name: "llongorca-" + style, Out: out, Format: "packed", Style: style})
	}
	abs, _ := filepath.Abs(sample)
	s := hfCheck(t, []string{abs}, runs)
	if len(s.Runs) != 9 {
		t.Fatalf("%d runs checked", len(s.Runs))
	}
	for _, r := range s.Runs {
		if r.Samples < 1900 { // 2,000 rows: 1,911 kept by the sample recipe, 1,910 by the LlongOrca one at 4,096 tokens
			t.Fatalf("%s: only %d samples compared", r.Name, r.Samples)
		}
	}
}
