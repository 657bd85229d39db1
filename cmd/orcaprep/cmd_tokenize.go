package main

import (
	"context"
	"strings"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/tokenizer"
	"github.com/spf13/cobra"
)

func init() {
	var o tokenizer.TokenizeOptions
	c := &cobra.Command{
		Use:   "tokenize --tokenizer PATH|hf://REPO/FILE",
		Short: "Tokenize JSON lines with a Llama-2 SentencePiece tokenizer (exact SentencePiece ids)",
		Long: `tokenize reads JSON lines with a "text" field (stdin, or --input FILE) and writes one
{"ids":[...]} line per input line, in input order, encoding on all cores. Blank lines are skipped.

--tokenizer is a SentencePiece tokenizer.model (an added_tokens.json beside it is read too) or a
Hugging Face tokenizer.json of the Llama kind. Added tokens (--added-token, repeatable) get the next
ids in order, e.g. <pad> <|im_start|> <|im_end|> → 32000 32001 32002 for Llama-2. Special and added
tokens are split out of the text first and each remaining piece is encoded with the dummy prefix,
as Hugging Face's legacy Llama tokenizer does; literal "<s>" or "<|im_end|>" in the text therefore
becomes that token's id. No BOS/EOS unless --bos/--eos.

` + exitcode.Help,
		Example: `  echo '{"text":"Hello world"}' | orcaprep tokenize --tokenizer testdata/llama2/tokenizer.model
  orcaprep tokenize --tokenizer tokenizer.model --added-token '<pad>' --added-token '<|im_start|>' \
      --added-token '<|im_end|>' --bos --input rows.jsonl > ids.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Tokenizer == "" {
				return exitcode.Errorf(exitcode.Usage, "--tokenizer is required")
			}
			if o.Workers < 0 {
				return exitcode.Errorf(exitcode.Usage, "--workers must be ≥ 0, got %d", o.Workers)
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
	f.StringArrayVar(&o.AddedTokens, "added-token", nil, "token to add after the vocabulary (repeatable, in order)")
	f.BoolVar(&o.BOS, "bos", false, "start each line's ids with BOS (<s> = 1)")
	f.BoolVar(&o.EOS, "eos", false, "end each line's ids with EOS (</s> = 2)")
	f.StringVar(&o.Input, "input", "", `JSONL input with a "text" field per line (default stdin)`)
	f.IntVar(&o.Workers, "workers", 0, "encoding goroutines (0 = all cores)")
	addCommand(c)
}
