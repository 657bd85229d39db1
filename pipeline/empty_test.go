package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orcaprep/orcaprep/exitcode"
)

// A recipe whose select.files matches no input is a usage error before any file is opened: the input here
// is not even Parquet, so reaching orca.Open would give exit 3 instead.
func TestSelectFilesMatchingNoInputFailsBeforeWork(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "some.parquet")
	os.WriteFile(in, []byte("not parquet"), 0o644)
	cfg := DefaultConfig()
	cfg.Inputs, cfg.Out = []string{in}, filepath.Join(dir, "out")
	cfg.Select.Files = []string{"1M-GPT4-Augmented*", "3_5M*"}
	_, err := runOnce(t, cfg)
	if exitcode.Code(err) != exitcode.Usage {
		t.Fatalf("want exit %d, got %v", exitcode.Usage, err)
	}
	for _, want := range []string{`"1M-GPT4-Augmented*"`, `"3_5M*"`, "some.parquet", "not_selected"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
	if _, err := os.Stat(cfg.Out); !os.IsNotExist(err) {
		t.Fatal("OUT was created")
	}
	// One matching input is enough.
	good := filepath.Join(dir, "1M-GPT4-Augmented.parquet")
	writeParquet(t, good, genRows(10), 10)
	cfg.Inputs = []string{good}
	if _, err := runOnce(t, cfg); err != nil {
		t.Fatal(err)
	}
}

// A run that keeps nothing fails with exit 3 naming the biggest drop reason, and leaves OUT as it was (absent,
// or the previous run's output under --overwrite).
func TestRunKeepingNoRowFails(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.parquet")
	writeParquet(t, in, genRows(50), 20)
	cfg := DefaultConfig()
	cfg.Inputs, cfg.Out = []string{in}, filepath.Join(dir, "out")
	cfg.Filters.Length.Enabled = true
	cfg.Filters.Length.Response.Max = 3 // every response is longer
	_, err := runOnce(t, cfg)
	if exitcode.Code(err) != exitcode.Input {
		t.Fatalf("want exit %d, got %v", exitcode.Input, err)
	}
	// genRows: 10 of 50 rows are submix "weird" (not_selected by default), the other 40 fail the length filter.
	if !strings.Contains(err.Error(), "kept 0 of 50 rows") || !strings.Contains(err.Error(), "as length (40 rows") {
		t.Fatalf("error does not name the biggest drop reason: %v", err)
	}
	if _, err := os.Stat(cfg.Out); !os.IsNotExist(err) {
		t.Fatal("OUT was created")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("staging left behind: %v", ents)
	}

	cfg.Filters.Length.Enabled = false
	if _, err := runOnce(t, cfg); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(cfg.Out, "manifest.json"))
	cfg.Filters.Length.Enabled = true
	if _, err := Run(t.Context(), Options{Config: cfg, Overwrite: true}); exitcode.Code(err) != exitcode.Input {
		t.Fatalf("overwrite run: %v", err)
	}
	after, _ := os.ReadFile(filepath.Join(cfg.Out, "manifest.json"))
	if len(before) == 0 || string(before) != string(after) {
		t.Fatal("a failed --overwrite run changed OUT")
	}
}

func TestMessagesWithOpenOrca2023IsRefused(t *testing.T) {
	c := DefaultConfig()
	c.Inputs, c.Format, c.ChatML.Style = []string{"x.parquet"}, FormatMessages, "openorca-2023"
	err := c.Validate()
	if exitcode.Code(err) != exitcode.Usage || !strings.Contains(err.Error(), "tokenized or packed") {
		t.Fatalf("want a usage error pointing to the token formats, got %v", err)
	}
	c.Format = FormatTokenized
	c.Tokenizer.Path = tinyModel
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

// An hf:// input whose file name select.files does not match fails before the download (Resolve is not called).
func TestSelectFilesCheckedBeforeDownload(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Inputs, cfg.Out = []string{"hf://datasets/Open-Orca/OpenOrca/3_5M-GPT3_5-Augmented.parquet"}, filepath.Join(t.TempDir(), "out")
	cfg.Select.Files = []string{"1M-GPT4-Augmented*"}
	resolve := func(context.Context, string) (string, error) { t.Fatal("downloaded"); return "", nil }
	_, err := Run(context.Background(), Options{Config: cfg, Resolve: resolve})
	if exitcode.Code(err) != exitcode.Usage || !strings.Contains(err.Error(), "3_5M-GPT3_5-Augmented.parquet") {
		t.Fatalf("want a usage error naming the file, got %v", err)
	}
}

// A tokenizer that no tokenizer.json expresses exactly stops the run before any row is read.
func TestTokenizerWithoutHFFormFailsBeforeWork(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.parquet")
	writeParquet(t, in, genRows(10), 10)
	cfg := tokenCfg(t, in, filepath.Join(dir, "out"), FormatTokenized, "chatml")
	cfg.Tokenizer.Path = "../testdata/tokenizer/tiny_ud.model"
	_, err := runOnce(t, cfg)
	if exitcode.Code(err) != exitcode.Input || !strings.Contains(err.Error(), "USER_DEFINED") {
		t.Fatalf("want exit 3 naming USER_DEFINED pieces, got %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("left behind: %v", ents)
	}
}
