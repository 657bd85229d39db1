package pipeline

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/orcaprep/orcaprep/chatml"
	"github.com/orcaprep/orcaprep/dedupe"
	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/filter"
	"github.com/orcaprep/orcaprep/hub"
	"github.com/orcaprep/orcaprep/orca"
	"github.com/orcaprep/orcaprep/shard"
	"go.yaml.in/yaml/v3"
)

// Output formats.
const (
	FormatMessages  = "messages"  // {"id","messages":[{"role","content"}…]} for Axolotl chat_template
	FormatText      = "text"      // {"id","text"} with the rendered ChatML
	FormatTokenized = "tokenized" // {"input_ids","attention_mask","labels"} per sample
	FormatPacked    = "packed"    // samples packed into sequence_len rows, with position_ids
)

// Formats lists the valid output formats.
var Formats = []string{FormatMessages, FormatText, FormatTokenized, FormatPacked}

// Config is a run recipe: the YAML files in configs/ decode into it, and flags override its fields.
// Every key is documented in the README's config reference; unknown keys are an error.
type Config struct {
	// Inputs are Parquet paths, globs, directories (their *.parquet files) or hf:// references.
	Inputs []string `yaml:"inputs" json:"inputs"`
	// Out is the output directory.
	Out string `yaml:"out" json:"-"`
	// Format is messages, text, tokenized or packed.
	Format string `yaml:"format" json:"format"`
	// Workers is the number of parallel workers; 0 means the number of CPUs. Output does not depend on it.
	Workers int `yaml:"workers" json:"-"`
	// BatchSize is the number of rows handed to a worker at once.
	BatchSize int `yaml:"batch_size" json:"-"`

	Select SelectConfig `yaml:"select" json:"select"`
	ChatML ChatMLConfig `yaml:"chatml" json:"chatml"`
	Output OutputConfig `yaml:"output" json:"output"`
	// Filters drop rows by content (filter package); Dedupe drops exact and near duplicates (dedupe package).
	Filters filter.Config `yaml:"filters" json:"filters"`
	Dedupe  dedupe.Config `yaml:"dedupe" json:"dedupe"`
	// Tokenizer and Packing matter for the token formats (and for too_long with any format).
	Tokenizer TokenizerConfig `yaml:"tokenizer" json:"tokenizer"`
	Packing   PackingConfig   `yaml:"packing" json:"packing"`
}

// TokenizerConfig names the model's tokenizer.
type TokenizerConfig struct {
	// Path is a tokenizer.model / tokenizer.json file or an hf:// reference; empty means no tokenization.
	Path string `yaml:"path" json:"path"`
	// AddedTokens are appended after the vocabulary in order (skipping ones the tokenizer already has).
	AddedTokens []string `yaml:"added_tokens" json:"added_tokens"`
}

// PackingConfig shapes token output.
type PackingConfig struct {
	// SequenceLen is the longest sample (and packed row) in tokens.
	SequenceLen int `yaml:"sequence_len" json:"sequence_len"`
	// Excess says what happens to longer samples: drop (ledger reason too_long) or truncate.
	Excess string `yaml:"excess" json:"excess"`
	// Algorithm is ffd (first-fit-decreasing) or bfd (best-fit-decreasing).
	Algorithm string `yaml:"algorithm" json:"algorithm"`
	// ShuffleSeed, when non-zero, shuffles the packed rows deterministically with this seed.
	ShuffleSeed uint64 `yaml:"shuffle_seed" json:"shuffle_seed"`
}

// SelectConfig chooses which rows are used; the rest are ledgered as not_selected.
type SelectConfig struct {
	// Submixes to keep (cot, flan, niv, t0, other).
	Submixes []string `yaml:"submixes" json:"submixes"`
	// Files are globs on input base names, e.g. "1M-GPT4-Augmented*"; empty means every file.
	Files []string `yaml:"files" json:"files"`
}

// ChatMLConfig chooses the rendering.
type ChatMLConfig struct {
	// Style is chatml (Axolotl chat_template: chatml) or openorca-2023 (LlongOrca's 2023 loader).
	Style string `yaml:"style" json:"style"`
	// EmptySystem keeps an empty system turn when system_prompt is empty (chatml style).
	EmptySystem bool `yaml:"empty_system" json:"empty_system"`
}

// OutputConfig shapes the shard files.
type OutputConfig struct {
	// Compression is none or zstd.
	Compression string `yaml:"compression" json:"compression"`
	// MaxRows and MaxBytes rotate shards; 0 means unlimited.
	MaxRows  int64 `yaml:"max_rows" json:"max_rows"`
	MaxBytes int64 `yaml:"max_bytes" json:"max_bytes"`
	// Prefix names shards, e.g. train-00000.jsonl.
	Prefix string `yaml:"prefix" json:"prefix"`
}

// DefaultConfig is the configuration used when a key is not set.
func DefaultConfig() Config {
	return Config{
		Out:       "out",
		Format:    FormatText,
		BatchSize: 512,
		Select:    SelectConfig{Submixes: append([]string(nil), orca.Submixes...)},
		ChatML:    ChatMLConfig{Style: string(chatml.StyleChatML)},
		Output:    OutputConfig{Compression: "none", Prefix: "train"},
		Filters:   filter.DefaultConfig(),
		Dedupe:    dedupe.DefaultConfig(),
		Tokenizer: TokenizerConfig{AddedTokens: []string{"<pad>", chatml.ImStart, chatml.ImEnd}},
		Packing:   PackingConfig{SequenceLen: 16384, Excess: "drop", Algorithm: "bfd"},
	}
}

// LoadConfig reads a YAML recipe over the defaults. Unknown keys are errors naming the key and line.
func LoadConfig(file string) (Config, error) {
	c := DefaultConfig()
	b, err := os.ReadFile(file)
	if err != nil {
		return c, exitcode.Errorf(exitcode.Usage, "config: %w", err)
	}
	if err := decodeYAML(b, &c); err != nil {
		return c, exitcode.Errorf(exitcode.Usage, "config %s: %w", file, err)
	}
	return c, nil
}

func decodeYAML(b []byte, c *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// Validate checks the values that YAML typing cannot.
func (c *Config) Validate() error {
	bad := func(format string, a ...any) error { return exitcode.Errorf(exitcode.Usage, "config: "+format, a...) }
	if len(c.Inputs) == 0 {
		return bad("no inputs (set inputs: in the config or pass --input)")
	}
	if c.Out == "" {
		return bad("out is empty")
	}
	okFormat := false
	for _, f := range Formats {
		okFormat = okFormat || f == c.Format
	}
	if !okFormat {
		return bad("format %q: want one of %v", c.Format, Formats)
	}
	if (c.Format == FormatTokenized || c.Format == FormatPacked) && c.Tokenizer.Path == "" {
		return bad("format %q needs a tokenizer: pass --tokenizer (tokenizer.path in a config file) with a tokenizer.model, tokenizer.json or hf:// reference, e.g. --tokenizer hf://conceptofmind/LLongMA-2-7b-16k/tokenizer.model", c.Format)
	}
	if c.Packing.SequenceLen <= 0 {
		return bad("packing.sequence_len %d: must be > 0", c.Packing.SequenceLen)
	}
	if c.Packing.Excess != "drop" && c.Packing.Excess != "truncate" {
		return bad("packing.excess %q: want drop or truncate", c.Packing.Excess)
	}
	if c.Packing.Algorithm != "ffd" && c.Packing.Algorithm != "bfd" {
		return bad("packing.algorithm %q: want ffd or bfd", c.Packing.Algorithm)
	}
	if c.Workers < 0 {
		return bad("workers %d: must be ≥ 0", c.Workers)
	}
	if c.BatchSize <= 0 {
		return bad("batch_size %d: must be > 0", c.BatchSize)
	}
	if _, err := chatml.ParseStyle(c.ChatML.Style); err != nil {
		return bad("chatml.style: %v", err)
	}
	if c.Format == FormatMessages && c.ChatML.Style == string(chatml.StyleOpenOrca2023) {
		// Axolotl's chat_template tokenizes the whole conversation at once, without BOS, and trains the turn's
		// end token; the 2023 loader put a BOS first, tokenized the response on its own (its own dummy prefix)
		// and ended it with </s>. No messages stanza reproduces those ids, so refuse rather than train others.
		return bad("format messages cannot carry chatml.style openorca-2023: Axolotl's chat_template would tokenize " +
			"the conversation as ChatML (no <s>, response not tokenized on its own, <|im_end|> instead of </s>); " +
			"use --format tokenized or packed for the 2023 loader's exact ids and labels, or chatml.style: chatml for messages")
	}
	if _, err := shard.ParseCompression(c.Output.Compression); err != nil {
		return bad("output.compression: %v", err)
	}
	if c.Output.MaxRows < 0 || c.Output.MaxBytes < 0 {
		return bad("output.max_rows and output.max_bytes must be ≥ 0")
	}
	valid := map[string]bool{orca.SubmixOther: true}
	for _, s := range orca.Submixes {
		valid[s] = true
	}
	for _, s := range c.Select.Submixes {
		if !valid[s] {
			return bad("select.submixes: unknown submix %q (want cot, flan, niv, t0 or other)", s)
		}
	}
	if _, err := filter.New(c.Filters); err != nil {
		return bad("filters: %v", err)
	}
	if err := c.Dedupe.Validate(); err != nil {
		return bad("dedupe: %v", err)
	}
	for _, g := range c.Select.Files {
		if _, err := path.Match(g, ""); err != nil {
			return bad("select.files: bad glob %q: %v", g, err)
		}
	}
	return nil
}

// Canonical returns the effective config as canonical JSON and its sha256; the manifest records both
// so a run can be matched to the exact recipe. Fields that cannot change the output (workers) are left out.
func (c *Config) Canonical() (json.RawMessage, string) {
	b, _ := marshalJSON(c, "") // only plain fields: cannot fail
	b = b[:len(b)-1]           // the newline the encoder adds
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:])
}

// checkFilesSelected fails when select.files matches none of the input names: every row would be ledgered
// not_selected and the run would write nothing, so this is a configuration mistake, reported before any work.
func (c *Config) checkFilesSelected(names []string) error {
	if len(c.Select.Files) == 0 || len(names) == 0 {
		return nil
	}
	for _, n := range names {
		if c.fileSelected(n) {
			return nil
		}
	}
	return exitcode.Errorf(exitcode.Usage, "select.files %q matches none of the inputs (%s): every row would be dropped as not_selected; "+
		"rename the input to match, or change select.files (an empty list selects every file)",
		c.Select.Files, strings.Join(names, ", "))
}

// inputNames are the file names of the configured inputs when they are known without listing a directory,
// expanding a glob or downloading (hf:// references are named by their path), so that checkFilesSelected can
// run before a download; nil when some input is a glob or a directory.
func inputNames(inputs []string) []string {
	var names []string
	for _, in := range inputs {
		switch {
		case hub.IsRef(in):
			r, err := hub.ParseRef(in)
			if err != nil || r.Path == "" {
				return nil
			}
			names = append(names, path.Base(r.Path))
		case strings.ContainsAny(in, "*?["):
			return nil
		default:
			if st, err := os.Stat(in); err == nil && st.IsDir() {
				return nil
			}
			names = append(names, filepath.Base(in))
		}
	}
	return names
}

func (c *Config) fileSelected(base string) bool {
	if len(c.Select.Files) == 0 {
		return true
	}
	for _, g := range c.Select.Files {
		if ok, _ := path.Match(g, base); ok {
			return true
		}
	}
	return false
}
