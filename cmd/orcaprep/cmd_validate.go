package main

import (
	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/validate"
	"github.com/spf13/cobra"
)

func init() {
	var o validate.Options
	c := &cobra.Command{
		Use:   "validate OUT",
		Short: "Check an output directory against its manifest: checksums, every row, index and ledger",
		Long: `validate re-reads everything orcaprep wrote to OUT and checks it against OUT/manifest.json and
OUT/stats.json before you spend GPU hours on it:

  - every data, index and rejected file exists, with the size and sha256 the manifest records,
    decompresses (.zst) and has the recorded number of lines, each a valid row of the format;
  - text/messages: an id and the text, or [system,] user, assistant messages;
  - tokenized/packed: input_ids, attention_mask, labels (and position_ids when packed) of equal length,
    at most sequence_len tokens, ids inside the vocabulary, attention_mask all 1, labels -100 or equal
    to input_ids; packed position_ids count up from 0 and restart at 0 exactly once per sample listed
    in the index row beside them (index/ mirrors data/ line for line);
  - no unlisted file sits in data/, index/ or rejected/;
  - the ledger adds up (rows_read = rows_kept + dropped, per submix and per stage), agrees with the
    manifest, and rows_kept equals the samples found; packed: the packing statistics match the shards.

It prints the first problems (file:line: what), the count of all of them, and exits 6 when any check
fails; on success one summary line.

` + exitcode.Help,
		Example: `  orcaprep validate out/llongorca-16k
  orcaprep validate --max-errors 100 out/sample`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.MaxErrors < 0 {
				return exitcode.Errorf(exitcode.Usage, "--max-errors must be ≥ 0")
			}
			_, err := validate.Run(cmd.Context(), args[0], o, cmd.OutOrStdout())
			return err
		},
	}
	c.Flags().IntVar(&o.MaxErrors, "max-errors", validate.DefaultMaxErrors, "print at most N problems (all are counted)")
	addCommand(c)
}
