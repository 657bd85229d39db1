package pipeline

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/orcaprep/orcaprep/chatml"
	"github.com/orcaprep/orcaprep/orca"
	"github.com/orcaprep/orcaprep/tokenizer"
	"go.yaml.in/yaml/v3"
)

// The tiny SentencePiece model is licence-free (trained with Debian's spm_train); see testdata/tokenizer.
const tinyModel = "../testdata/tokenizer/tiny.model"

type tokRow struct {
	InputIDs      []int32 `json:"input_ids"`
	AttentionMask []int32 `json:"attention_mask"`
	Labels        []int32 `json:"labels"`
	PositionIDs   []int32 `json:"position_ids"`
}

type idxRow struct {
	Shard string   `json:"shard"`
	Row   int64    `json:"row"`
	IDs   []string `json:"ids"`
}

func readJSONL[T any](t *testing.T, path string) []T {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []T
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		var v T
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, v)
	}
	return out
}

func tokenCfg(t *testing.T, in, out, format, style string) Config {
	cfg := DefaultConfig()
	cfg.Inputs, cfg.Out, cfg.Format = []string{in}, out, format
	cfg.Tokenizer.Path = tinyModel
	cfg.ChatML.Style = style
	cfg.Packing.SequenceLen = 256
	return cfg
}

// TestTokenizedLabelsMaskExactlyThePrompt checks, for both styles, that input_ids are the tokenizer's ids of the
// rendering and that the trained labels decode to the response (+ <|im_end|> in chatml style, + EOS in 2023 style).
func TestTokenizedLabelsMaskExactlyThePrompt(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.parquet")
	rows := genRows(300)
	rows[5].Response = sp(strings.Repeat("long answer ", 400)) // > 256 tokens → too_long
	writeParquet(t, in, rows, 100)
	tok, err := tokenizer.Load(tinyModel)
	if err != nil {
		t.Fatal(err)
	}
	added := tok.AddTokens(DefaultConfig().Tokenizer.AddedTokens...)
	imEnd := added[2]
	enc := tok.NewEncoder()
	for _, style := range []string{"chatml", "openorca-2023"} {
		out := filepath.Join(dir, "out-"+style)
		res, err := runOnce(t, tokenCfg(t, in, out, FormatTokenized, style))
		if err != nil {
			t.Fatal(err)
		}
		if res.Stats.Dropped["too_long"] != 1 || res.Manifest.Tokenizer.AddedTokens["<|im_end|>"] != imEnd {
			t.Fatalf("%s: dropped %v tokenizer %+v", style, res.Stats.Dropped, res.Manifest.Tokenizer)
		}
		data := readJSONL[tokRow](t, filepath.Join(out, res.Manifest.Shards[0].Path))
		index := readJSONL[idxRow](t, filepath.Join(out, res.Manifest.Index[0].Path))
		if len(data) != len(index) || int64(len(data)) != res.Stats.RowsKept {
			t.Fatalf("%s: %d data rows, %d index rows, kept %d", style, len(data), len(index), res.Stats.RowsKept)
		}
		byID := map[string]pqRow{}
		for _, r := range rows {
			byID[*r.ID] = r
		}
		for k, d := range data {
			src := byID[index[k].IDs[0]]
			r := recOf(src)
			var wantIDs, wantTrained []int32
			if style == "chatml" {
				wantIDs = enc.Encode(chatml.Text(&r, chatml.Options{Style: chatml.StyleChatML}))
			} else {
				wantIDs = append([]int32{tok.BOS()}, enc.Encode(string(chatml.AppendPrompt(nil, &r, chatml.Options{Style: chatml.StyleOpenOrca2023})))...)
				wantTrained = append(enc.Encode(r.Response), tok.EOS())
				wantIDs = append(wantIDs, wantTrained...)
			}
			if !slices.Equal(d.InputIDs, wantIDs) || len(d.Labels) != len(d.InputIDs) || len(d.AttentionMask) != len(d.InputIDs) {
				t.Fatalf("%s row %d: ids differ from the tokenizer's", style, k)
			}
			var trained []int32
			for i, l := range d.Labels {
				if l != IgnoreIndex {
					if l != d.InputIDs[i] {
						t.Fatalf("label != input id")
					}
					trained = append(trained, l)
				}
			}
			if style == "chatml" {
				got := tok.Decode(trained)
				if !strings.HasSuffix(got, "<|im_end|>") || trained[len(trained)-1] != imEnd || !strings.Contains(got, strings.TrimSpace(r.Response[:min(10, len(r.Response))])) {
					t.Fatalf("chatml row %d: trained part %q", k, got)
				}
				if d.Labels[len(d.Labels)-1] != IgnoreIndex {
					t.Fatal("the newline after the last <|im_end|> must be masked")
				}
			} else if !slices.Equal(trained, wantTrained) {
				t.Fatalf("2023 row %d: trained %v want %v", k, trained, wantTrained)
			}
		}
	}
}

func recOf(r pqRow) (rec orca.Record) {
	rec.ID, rec.SystemPrompt, rec.Question = *r.ID, *r.SystemPrompt, *r.Question
	if r.Response != nil {
		rec.Response = *r.Response
	}
	return rec
}

// TestPackedRowsAreTheTokenizedSamples checks packed output against tokenized output of the same run:
// every sample cut out at its position_ids reset equals its tokenized row, rows fit, the index matches.
func TestPackedRowsAreTheTokenizedSamples(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.parquet")
	writeParquet(t, in, genRows(400), 100)
	tokOut, packOut := filepath.Join(dir, "tok"), filepath.Join(dir, "pack")
	rt, err := runOnce(t, tokenCfg(t, in, tokOut, FormatTokenized, "chatml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := tokenCfg(t, in, packOut, FormatPacked, "chatml")
	cfg.Output.MaxRows = 7
	rp, err := runOnce(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	tokData := readJSONL[tokRow](t, filepath.Join(tokOut, rt.Manifest.Shards[0].Path))
	tokIdx := readJSONL[idxRow](t, filepath.Join(tokOut, rt.Manifest.Index[0].Path))
	want := map[string]tokRow{}
	for i := range tokData {
		want[tokIdx[i].IDs[0]] = tokData[i]
	}
	if len(rp.Manifest.Shards) != len(rp.Manifest.Index) || len(rp.Manifest.Shards) < 2 {
		t.Fatalf("index must mirror data file for file: %d vs %d", len(rp.Manifest.Shards), len(rp.Manifest.Index))
	}
	seen := 0
	var tokens int64
	for s := range rp.Manifest.Shards {
		data := readJSONL[tokRow](t, filepath.Join(packOut, rp.Manifest.Shards[s].Path))
		idx := readJSONL[idxRow](t, filepath.Join(packOut, rp.Manifest.Index[s].Path))
		if len(data) != len(idx) {
			t.Fatalf("shard %d: %d rows, %d index rows", s, len(data), len(idx))
		}
		for r, row := range data {
			if len(row.InputIDs) > 256 || len(row.PositionIDs) != len(row.InputIDs) || idx[r].Row != int64(r) ||
				idx[r].Shard != filepath.Base(rp.Manifest.Shards[s].Path) {
				t.Fatalf("shard %d row %d malformed", s, r)
			}
			tokens += int64(len(row.InputIDs))
			var starts []int
			for i, p := range row.PositionIDs {
				if p == 0 {
					starts = append(starts, i)
				} else if p != row.PositionIDs[i-1]+1 {
					t.Fatalf("position_ids do not count up")
				}
			}
			if len(starts) != len(idx[r].IDs) {
				t.Fatalf("%d samples by position_ids, %d in index", len(starts), len(idx[r].IDs))
			}
			for k, st := range starts {
				end := len(row.InputIDs)
				if k+1 < len(starts) {
					end = starts[k+1]
				}
				w := want[idx[r].IDs[k]]
				if !slices.Equal(row.InputIDs[st:end], w.InputIDs) || !slices.Equal(row.Labels[st:end], w.Labels) {
					t.Fatalf("sample %s differs from its tokenized row", idx[r].IDs[k])
				}
				seen++
			}
		}
	}
	if int64(seen) != rp.Stats.RowsKept || seen != len(tokData) || rp.Stats.Packing.Tokens != tokens {
		t.Fatalf("packed %d samples, kept %d, tokenized %d; tokens %d vs %d", seen, rp.Stats.RowsKept, len(tokData), tokens, rp.Stats.Packing.Tokens)
	}
	if _, err := os.Stat(filepath.Join(packOut, ".spill")); !os.IsNotExist(err) {
		t.Fatal("token spill left in OUT")
	}
}

func TestAxolotlYAMLNamesEveryShard(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.parquet")
	writeParquet(t, in, genRows(100), 50)
	for _, format := range []string{FormatMessages, FormatPacked} {
		cfg := tokenCfg(t, in, filepath.Join(dir, format), format, "chatml")
		cfg.Output.MaxRows = 20
		res, err := runOnce(t, cfg)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(cfg.Out, "axolotl.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			SequenceLen   int  `yaml:"sequence_len"`
			SamplePacking bool `yaml:"sample_packing"`
			Datasets      []struct {
				Path   string `yaml:"path"`
				DSType string `yaml:"ds_type"`
				Type   string `yaml:"type"`
			} `yaml:"datasets"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: axolotl.yaml is not YAML: %v\n%s", format, err, b)
		}
		if len(doc.Datasets) != len(res.Manifest.Shards) || doc.SequenceLen != 256 || doc.SamplePacking != (format != FormatPacked) {
			t.Fatalf("%s: %+v", format, doc)
		}
		for i, d := range doc.Datasets {
			if _, err := os.Stat(d.Path); err != nil || !strings.HasSuffix(d.Path, res.Manifest.Shards[i].Path) || d.DSType != "json" {
				t.Fatalf("%s: dataset %d %+v", format, i, d)
			}
		}
		if format == FormatMessages && doc.Datasets[0].Type != "chat_template" {
			t.Fatalf("messages must use chat_template, got %q", doc.Datasets[0].Type)
		}
	}
}

// README: JSON is written without HTML escaping. manifest.json (config, tokenizer) and stats.json hold
// "<|im_start|>" as it is, and config_sha256 is the hash of the config exactly as written.
func TestJSONFilesAreNotHTMLEscaped(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.parquet")
	rows := genRows(50)
	rows[3].Question = sp("literal <|im_start|> in a question & more")
	writeParquet(t, in, rows, 50)
	cfg := DefaultConfig()
	cfg.Inputs, cfg.Out, cfg.Format, cfg.Tokenizer.Path = []string{in}, filepath.Join(dir, "out"), FormatTokenized, tinyModel
	if _, err := runOnce(t, cfg); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"manifest.json", "stats.json"} {
		b, err := os.ReadFile(filepath.Join(cfg.Out, name))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(`\u003c`)) || bytes.Contains(b, []byte(`\u0026`)) || !bytes.Contains(b, []byte("<|im_start|>")) {
			t.Fatalf("%s is HTML-escaped or lacks <|im_start|>:\n%.600s", name, b)
		}
	}
	var m struct {
		Config       json.RawMessage `json:"config"`
		ConfigSHA256 string          `json:"config_sha256"`
	}
	b, _ := os.ReadFile(filepath.Join(cfg.Out, "manifest.json"))
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	json.Compact(&compact, m.Config)
	if sum := sha256.Sum256(compact.Bytes()); hex.EncodeToString(sum[:]) != m.ConfigSHA256 {
		t.Fatal("config_sha256 is not the hash of the recorded config")
	}
}

// OUT/tokenizer is written for every format when a tokenizer is configured, listed in the manifest with
// checksums, and loads back as the same tokenizer; axolotl.yaml points at it and adds no tokens.
func TestTokenizerDirForEveryFormat(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.parquet")
	writeParquet(t, in, genRows(60), 30)
	for _, format := range Formats {
		for _, style := range []string{"chatml", "openorca-2023"} {
			if format == FormatMessages && style == "openorca-2023" {
				continue // refused by Validate
			}
			cfg := tokenCfg(t, in, filepath.Join(dir, format+"-"+style), format, style)
			res, err := runOnce(t, cfg)
			if err != nil {
				t.Fatal(err)
			}
			td := res.Manifest.TokenizerDir
			if td == nil || len(td.Files) != 4 || td.Tokenization.AddBOS != (style == "openorca-2023") {
				t.Fatalf("%s/%s: tokenizer_dir %+v", format, style, td)
			}
			for _, f := range td.Files {
				b, err := os.ReadFile(filepath.Join(cfg.Out, f.Path))
				if err != nil || int64(len(b)) != f.Bytes || fmt.Sprintf("%x", sha256.Sum256(b)) != f.SHA256 {
					t.Fatalf("%s: %v", f.Path, err)
				}
			}
			back, err := tokenizer.Load(filepath.Join(cfg.Out, "tokenizer", "tokenizer.json"))
			if err != nil {
				t.Fatal(err)
			}
			for s, id := range res.Manifest.Tokenizer.AddedTokens {
				if got, _ := back.TokenID(s); got != id {
					t.Fatalf("%s: %s is %d in OUT/tokenizer, %d in the manifest", format, s, got, id)
				}
			}
			y, _ := os.ReadFile(filepath.Join(cfg.Out, "axolotl.yaml"))
			var doc struct {
				TokenizerConfig string         `yaml:"tokenizer_config"`
				Legacy          bool           `yaml:"tokenizer_legacy"`
				Tokens          []string       `yaml:"tokens"`
				Special         map[string]any `yaml:"special_tokens"`
				Datasets        []any          `yaml:"datasets"`
				Attn            string         `yaml:"attn_implementation"`
				Flash           *bool          `yaml:"flash_attention"`
			}
			if err := yaml.Unmarshal(y, &doc); err != nil {
				t.Fatal(err)
			}
			abs, _ := filepath.Abs(filepath.Join(cfg.Out, "tokenizer"))
			if doc.TokenizerConfig != abs || !doc.Legacy || doc.Tokens != nil || doc.Special != nil || doc.Flash != nil {
				t.Fatalf("%s/%s: axolotl.yaml %+v\n%s", format, style, doc, y)
			}
			if (format == FormatText) != (doc.Datasets == nil) || (format != FormatText && doc.Attn != "flash_attention_2") {
				t.Fatalf("%s: datasets %v, attention %q", format, doc.Datasets, doc.Attn)
			}
		}
	}
	// Without a tokenizer: no OUT/tokenizer; messages lets Axolotl add the ChatML tokens itself.
	cfg := DefaultConfig()
	cfg.Inputs, cfg.Out, cfg.Format = []string{in}, filepath.Join(dir, "plain"), FormatMessages
	res, err := runOnce(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cfg.Out, "tokenizer")); !os.IsNotExist(err) || res.Manifest.TokenizerDir != nil {
		t.Fatal("OUT/tokenizer written without a tokenizer")
	}
	y, _ := os.ReadFile(filepath.Join(cfg.Out, "axolotl.yaml"))
	if !strings.Contains(string(y), "tokens: [\"<|im_start|>\", \"<|im_end|>\"]") || strings.Contains(string(y), "\ntokenizer_config:") {
		t.Fatalf("messages without tokenizer:\n%s", y)
	}
}

// A tokenizer.json input: OUT/tokenizer has no tokenizer.model, and its tokenizer.json (written from what was
// loaded) encodes the shards' samples the same way.
func TestTokenizerDirFromTokenizerJSON(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.parquet")
	writeParquet(t, in, genRows(40), 20)
	cfg := tokenCfg(t, in, filepath.Join(dir, "out"), FormatTokenized, "openorca-2023")
	cfg.Tokenizer.Path = "../testdata/tokenizer/tiny_tokenizer.json"
	res, err := runOnce(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range res.Manifest.TokenizerDir.Files {
		names = append(names, f.Path)
	}
	if !slices.Equal(names, []string{"tokenizer/tokenizer.json", "tokenizer/tokenizer_config.json", "tokenizer/special_tokens_map.json"}) {
		t.Fatal(names)
	}
	orig, err := tokenizer.Load(cfg.Tokenizer.Path)
	if err != nil {
		t.Fatal(err)
	}
	orig.AddTokens(cfg.Tokenizer.AddedTokens...)
	back, err := tokenizer.Load(filepath.Join(cfg.Out, "tokenizer", "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	e1, e2 := orig.NewEncoder(), back.NewEncoder()
	for _, r := range genRows(40) {
		s := *r.Question + " " + *r.Response + "<|im_end|>\n  x"
		if a, b := e1.Encode(s), e2.Encode(s); !slices.Equal(a, b) {
			t.Fatalf("%q: %v vs %v", s, a, b)
		}
	}
}
