package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path"

	"github.com/orcaprep/orcaprep/chatml"
	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/tokenizer"
)

// TokenizerDirName is the folder under OUT that holds the Hugging Face tokenizer the run used.
const TokenizerDirName = "tokenizer"

// TokenizerDir is manifest.json's record of OUT/tokenizer: its files with checksums, and how a sample's token ids
// are made from the text with it, so that a trainer reproduces the shards' ids exactly.
type TokenizerDir struct {
	Path         string       `json:"path"`
	Files        []FileSum    `json:"files"`
	Tokenization Tokenization `json:"tokenization"`
}

// FileSum is one file with its size and sha256.
type FileSum struct {
	Path   string `json:"path"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Tokenization is the tokenization scheme of a run.
type Tokenization struct {
	// TokenizerClass is tokenizer_config.json's tokenizer_class: the one that loads tokenizer.json as written.
	TokenizerClass string `json:"tokenizer_class"`
	// Legacy is tokenizer_config.json's legacy flag (Hugging Face's legacy Llama behaviour).
	Legacy bool `json:"legacy"`
	// AddedTokensFirst: control and added tokens ("<s>", "<|im_end|>") are split out of the text before BPE.
	AddedTokensFirst bool `json:"added_tokens_first"`
	// DummyPrefix is the tokenizer's dummy-prefix scheme (tokenizer.Prefix*).
	DummyPrefix string `json:"dummy_prefix"`
	// AddBOS and AddEOS are add_bos_token/add_eos_token: what tokenizer(text) adds by default.
	AddBOS bool `json:"add_bos_token"`
	AddEOS bool `json:"add_eos_token"`
	// Sample says how a sample's ids are built from the style's rendering.
	Sample string `json:"sample"`
	// ChatTemplate names tokenizer_config.json's chat_template.
	ChatTemplate string `json:"chat_template"`
}

// tokenizerFiles builds OUT/tokenizer's files for tok and the style (none when tok is nil), before any row is read,
// so a tokenizer that no tokenizer.json can express fails the run at once (exit 3). For a tokenizer.model input the model is copied as
// well (slow tokenizers and SentencePiece users read it); tokenizer.json is written from the loaded tokenizer in both
// cases, so it is exactly the one the shards were made with, added tokens included.
func tokenizerFiles(cfg *Config, tok *tokenizer.Tokenizer) ([]tokenizer.HFFile, Tokenization, error) {
	if tok == nil {
		return nil, Tokenization{}, nil
	}
	style := chatml.Style(cfg.ChatML.Style)
	o := tokenizer.HFDirOptions{AddBOS: style == chatml.StyleOpenOrca2023, ChatTemplate: chatml.JinjaTemplate}
	if _, ok := tok.TokenID("<pad>"); ok {
		o.PadToken = "<pad>"
	}
	tz := Tokenization{
		TokenizerClass: tokenizer.HFTokenizerClass, Legacy: tok.PrefixScheme() == tokenizer.PrefixEveryPiece,
		AddedTokensFirst: true, DummyPrefix: tok.PrefixScheme(), AddBOS: o.AddBOS, AddEOS: o.AddEOS, ChatTemplate: "chatml",
		Sample: "tokenizer(chatml_text, add_special_tokens=False): no BOS; trained: assistant content + <|im_end|>",
	}
	if style == chatml.StyleOpenOrca2023 {
		tz.Sample = "tokenizer(prompt) (adds <s>) + tokenizer(response, add_special_tokens=False) + [eos_token_id]; trained: response + EOS"
	}
	files, err := tok.HFDir(o)
	if err != nil {
		return nil, tz, exitcode.Errorf(exitcode.Input, "tokenizer %s: cannot write it as a Hugging Face tokenizer.json: %w", cfg.Tokenizer.Path, err)
	}
	if tok.Format() == tokenizer.FormatSentencePiece && tok.Source() != "" {
		b, err := os.ReadFile(tok.Source())
		if err != nil {
			return nil, tz, exitcode.Errorf(exitcode.Input, "tokenizer: %w", err)
		}
		files = append([]tokenizer.HFFile{{Name: "tokenizer.model", Data: b}}, files...)
	}
	return files, tz, nil
}

// tokenOut is what a run writes about its tokenizer: the manifest's record and OUT/tokenizer's files.
type tokenOut struct {
	info   *TokenizerInfo
	files  []tokenizer.HFFile
	scheme Tokenization
}

// tokenizerDir is manifest.json's record of OUT/tokenizer (nil without a tokenizer).
func tokenizerDir(t tokenOut) *TokenizerDir {
	if t.files == nil {
		return nil
	}
	d := &TokenizerDir{Path: TokenizerDirName, Tokenization: t.scheme, Files: []FileSum{}}
	for _, f := range t.files {
		sum := sha256.Sum256(f.Data)
		d.Files = append(d.Files, FileSum{Path: path.Join(TokenizerDirName, f.Name), Bytes: int64(len(f.Data)), SHA256: hex.EncodeToString(sum[:])})
	}
	return d
}

// writeTokenizerDir writes OUT/tokenizer into the staging directory.
func writeTokenizerDir(st *staging, t tokenOut) error {
	for _, f := range t.files {
		p, err := st.path(path.Join(TokenizerDirName, f.Name))
		if err != nil {
			return err
		}
		if err := writeFileAtomic(p, f.Data); err != nil {
			return err
		}
	}
	return nil
}
