package validate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orcaprep/orcaprep/pipeline"
	"github.com/orcaprep/orcaprep/progress"
	"github.com/orcaprep/orcaprep/synth"
)

// realOutput runs the pipeline on synthetic OpenOrca rows with the tiny test tokenizer.
func realOutput(t *testing.T, format, style string) string {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.parquet")
	if err := synth.WriteParquet(context.Background(), synth.DefaultConfig(300, 3), in, ""); err != nil {
		t.Fatal(err)
	}
	cfg := pipeline.DefaultConfig()
	cfg.Inputs, cfg.Out, cfg.Format = []string{in}, filepath.Join(dir, "out"), format
	cfg.Tokenizer.Path = "../testdata/tokenizer/tiny.model"
	cfg.ChatML.Style = style
	cfg.Packing.SequenceLen = 2048
	cfg.Output.MaxRows = 80
	if _, err := pipeline.Run(context.Background(), pipeline.Options{Config: cfg, Progress: progress.Never}); err != nil {
		t.Fatal(err)
	}
	return cfg.Out
}

// editTokenizerJSON rewrites OUT/tokenizer/tokenizer.json and records its new checksum in the manifest, so that
// only the tokenizer checks (not the checksum) can notice.
func editTokenizerJSON(t *testing.T, out string, edit func(doc map[string]any)) {
	t.Helper()
	p := filepath.Join(out, "tokenizer", "tokenizer.json")
	b, _ := os.ReadFile(p)
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	b, _ = json.Marshal(doc)
	os.WriteFile(p, b, 0o644)
	editManifest(t, out, func(m map[string]any) {
		for _, f := range m["tokenizer_dir"].(map[string]any)["files"].([]any) {
			f := f.(map[string]any)
			if f["path"] == "tokenizer/tokenizer.json" {
				sum := sha256.Sum256(b)
				f["sha256"], f["bytes"] = hex.EncodeToString(sum[:]), len(b)
			}
		}
	})
}

func editManifest(t *testing.T, out string, edit func(m map[string]any)) {
	t.Helper()
	p := filepath.Join(out, "manifest.json")
	b, _ := os.ReadFile(p)
	var m map[string]any
	json.Unmarshal(b, &m)
	var raw struct {
		Config json.RawMessage `json:"config"`
	}
	json.Unmarshal(b, &raw)
	m["config"] = raw.Config // as written: the manifest's config_sha256 covers these bytes
	edit(m)
	writeJSON(t, p, m)
}

func TestTokenizerDirOfRealRunsPasses(t *testing.T) {
	for _, format := range []string{FormatTokenized, FormatPacked, FormatText, FormatMessages} {
		for _, style := range []string{"chatml", "openorca-2023"} {
			if format == FormatMessages && style == "openorca-2023" {
				continue
			}
			out := realOutput(t, format, style)
			_, err, msg := run(t, out, Options{})
			if err != nil {
				t.Fatalf("%s/%s: %v\n%s", format, style, err, msg)
			}
			if !strings.Contains(msg, "OUT/tokenizer matches the manifest") {
				t.Fatalf("%s/%s: %s", format, style, msg)
			}
			if (format == FormatTokenized || format == FormatPacked) && !strings.Contains(msg, "sampled samples to the shard ids") {
				t.Fatalf("%s/%s: no re-encoding: %s", format, style, msg)
			}
		}
	}
}

// The Metaspace pre-tokenizer transformers v5 builds for legacy=False, swapped in with a valid checksum: the
// shards' ids no longer come out of OUT/tokenizer.
func TestReencodeCatchesAnotherTokenization(t *testing.T) {
	for _, style := range []string{"chatml", "openorca-2023"} {
		out := realOutput(t, FormatPacked, style)
		editTokenizerJSON(t, out, func(doc map[string]any) {
			doc["normalizer"] = nil
			doc["pre_tokenizer"] = map[string]any{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false}
		})
		mustFail(t, out, "puts the dummy prefix metaspace_first, the manifest's tokenization says every_piece",
			"OUT/tokenizer encodes its text differently", "the shards were not made with this tokenizer")
	}
}

// <|im_start|> and <|im_end|> swapped in tokenizer.json (what Axolotl's special_tokens-before-tokens order can
// do): the added-token check names it.
func TestAddedTokenIDsMustMatchTheManifest(t *testing.T) {
	out := realOutput(t, FormatTokenized, "chatml")
	editTokenizerJSON(t, out, func(doc map[string]any) {
		for _, a := range doc["added_tokens"].([]any) {
			a := a.(map[string]any)
			switch a["content"] {
			case "<|im_start|>":
				a["content"] = "<|im_end|>"
			case "<|im_end|>":
				a["content"] = "<|im_start|>"
			}
		}
	})
	mustFail(t, out, `added token "<|im_end|>" has id`, `added token "<|im_start|>" has id`)

	out = realOutput(t, FormatText, "chatml")
	editManifest(t, out, func(m map[string]any) {
		m["tokenizer"].(map[string]any)["vocab_size"] = 5000
	})
	mustFail(t, out, "manifest.json tokenizer.vocab_size is 5000")
}

func TestTokenizerFilesAgainstTheManifest(t *testing.T) {
	out := realOutput(t, FormatTokenized, "openorca-2023")
	p := filepath.Join(out, "tokenizer", "tokenizer_config.json")
	b, _ := os.ReadFile(p)
	os.WriteFile(p, []byte(strings.Replace(string(b), `"add_bos_token": true`, `"add_bos_token": false`, 1)), 0o644)
	os.WriteFile(filepath.Join(out, "tokenizer", "added_tokens.json"), []byte(`{"<x>": 1003}`), 0o644)
	mustFail(t, out, "tokenizer/tokenizer_config.json: size", "tokenizer/added_tokens.json: file is not listed in manifest.json")

	out = realOutput(t, FormatTokenized, "chatml")
	os.Remove(filepath.Join(out, "tokenizer", "special_tokens_map.json"))
	mustFail(t, out, "tokenizer/special_tokens_map.json: listed in manifest.json but missing")
}

// axolotl.yaml's absolute paths break when OUT is moved; validate says so.
func TestAxolotlPathsMustBeThisOutput(t *testing.T) {
	out := realOutput(t, FormatMessages, "chatml")
	moved := out + "-moved"
	if err := os.Rename(out, moved); err != nil {
		t.Fatal(err)
	}
	mustFail(t, moved, "axolotl.yaml: tokenizer_config "+filepath.Join(out, "tokenizer")+" does not exist: was OUT moved?",
		"datasets[0].path")

	out = realOutput(t, FormatPacked, "chatml")
	os.Remove(filepath.Join(out, "axolotl.yaml"))
	mustFail(t, out, "axolotl.yaml: missing")
}
