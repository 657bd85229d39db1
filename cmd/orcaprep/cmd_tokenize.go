package main

import (
	"context"
	"strings"

	"github.com/orcaprep/orcaprep/chatml"
	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/tokenizer"
	"github.com/spf13/cobra"
)

func init() {
	var (
		o       tokenizer.TokenizeOptions
		noAdded bool
	)
	c := &cobra.Command{
		Use:   "tokenize --tokenizer PATH|hf://REPO/FILE",
		Short: "Tokenize JSON lines with a Llama-2 SentencePiece tokenizer (exact SentencePiece ids)",
		Long: `tokenize reads JSON lines with a "text" field (stdin, or --input FILE) and writes one
{"ids":[...]} line per input line, in input order, encoding on all cores. Blank lines are skipped.

--tokenizer is a SentencePiece tokenizer.model (an added_tokens.json beside it is read too) or a
Hugging Face tokenizer.json of the Llama kind. Added tokens get the next ids in order: by default
LlongOrca's <pad> <|im_start|> <|im_end|> → 32000 32001 32002 for Llama-2, as in run and stats, so
orcaprep's own shards tokenize as the run did; --added-token (repeatable) replaces the list,
--no-added-tokens empties it. Special and added
tokens are split out of the text first and each remaining piece is encoded with the dummy prefix,
as Hugging Face's legacy Llama tokenizer does; literal "<s>" or "<|im_end|>" in the text therefore
becomes that token's id. No BOS/EOS unless --bos/--eos.

` + exitcode.Help,
		Example: `  echo '{"text":"Hello world"}' | orcaprep tokenize --tokenizer testdata/llama2/tokenizer.model
  orcaprep run --config configs/sample.yaml --format text --out out/sample-text   # shards with a "text" field
  orcaprep tokenize --tokenizer tokenizer.model --bos --input out/sample-text/data/train-00000.jsonl > ids.jsonl
  orcaprep tokenize --tokenizer tokenizer.model --no-added-tokens --input rows.jsonl`,
		Args: noPositional("--input"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Tokenizer == "" {
				return exitcode.Errorf(exitcode.Usage, "--tokenizer is required")
			}
			if o.Workers < 0 {
				return exitcode.Errorf(exitcode.Usage, "--workers must be ≥ 0, got %d", o.Workers)
			}
			if noAdded {
				if cmd.Flags().Changed("added-token") {
					return exitcode.Errorf(exitcode.Usage, "--no-added-tokens and --added-token contradict each other")
				}
				o.AddedTokens = nil
			}
			o.Stdin, o.Stdout = cmd.InOrStdin(), cmd.OutOrStdout()
			o.Resolve = func(ctx context.Context, ref string) (string, error) {
				if strings.HasPrefix(ref, "hf://") {
					return resolveRef(ctx, ref)
				}
				return ref, nil
			}
			return tokenizer.RunTokenize(cmd.Context(), o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.Tokenizer, "tokenizer", "", "tokenizer.model or tokenizer.json (local path or hf:// reference)")
	// Same default as run and stats, so that tokenizing orcaprep's own shards keeps <|im_start|> whole.
	f.StringArrayVar(&o.AddedTokens, "added-token", []string{"<pad>", chatml.ImStart, chatml.ImEnd}, "token to add after the vocabulary (repeatable, in order; the default is LlongOrca's, as in run and stats)")
	f.BoolVar(&noAdded, "no-added-tokens", false, "add no tokens to the vocabulary (plain Llama-2)")
	f.BoolVar(&o.BOS, "bos", false, "start each line's ids with BOS (<s> = 1)")
	f.BoolVar(&o.EOS, "eos", false, "end each line's ids with EOS (</s> = 2)")
	f.StringVar(&o.Input, "input", "", `JSONL input with a "text" field per line (default stdin)`)
	f.IntVar(&o.Workers, "workers", 0, "encoding goroutines (0 = all cores)")
	addCommand(c)
}
