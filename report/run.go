package report

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/orcaprep/orcaprep/chatml"
	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/progress"
	"github.com/orcaprep/orcaprep/samples"
	"github.com/orcaprep/orcaprep/stats"
)

// Options are the `orcaprep stats` command's settings.
type Options struct {
	// Dir is a run's OUT directory (its stats.json is read), or a stats.json file itself.
	Dir string
	// Inputs, when set instead of Dir, are Parquet files (or hf:// references) to profile.
	Inputs []string
	Format Format
	// Output is the file to write; "" or "-" writes to stdout.
	Output string
	// Style is the ChatML rendering measured as sample_chars when profiling.
	Style   chatml.Style
	Workers int
	// Tokenizer, when set while profiling, is a tokenizer.model / tokenizer.json / hf:// reference whose token
	// counts of each rendered row are reported; AddedTokens are appended to it (the ChatML tokens must be there).
	Tokenizer   string
	AddedTokens []string
	// Resolve turns an hf:// reference into a local path; nil rejects them.
	Resolve func(ctx context.Context, ref string) (string, error)
	// Progress of profiling goes to Stderr when not nil.
	Stderr   io.Writer
	Progress progress.Mode
}

// Run reads OUT/stats.json (or profiles Inputs) and writes the report. Errors carry exit codes:
// usage for bad options, input for a missing or bad stats.json or Parquet file, output when the report
// cannot be written.
func Run(ctx context.Context, o Options, stdout io.Writer) error {
	if (o.Dir == "") == (len(o.Inputs) == 0) {
		return exitcode.Errorf(exitcode.Usage, "give either an output directory (OUT) or --input files, not both")
	}
	if o.Format == "" {
		o.Format = Text
	}
	if _, err := ParseFormat(string(o.Format)); err != nil {
		return exitcode.With(exitcode.Usage, err)
	}
	var doc *stats.Document
	if o.Dir != "" {
		p := o.Dir
		if st, err := os.Stat(p); (err == nil && st.IsDir()) || (err != nil && !strings.HasSuffix(p, ".json")) {
			p = filepath.Join(p, "stats.json") // name the file that is missing, not the directory
		}
		d, err := stats.ReadDocument(p)
		if err != nil {
			return exitcode.With(exitcode.Input, err)
		}
		doc = d
	} else {
		if o.Style == "" {
			o.Style = chatml.StyleChatML
		}
		if _, err := chatml.ParseStyle(string(o.Style)); err != nil {
			return exitcode.With(exitcode.Usage, err)
		}
		paths := make([]string, len(o.Inputs))
		for i, in := range o.Inputs {
			paths[i] = in
			if strings.HasPrefix(in, "hf://") {
				if o.Resolve == nil {
					return exitcode.Errorf(exitcode.Usage, "%s: hf:// inputs are not supported here", in)
				}
				p, err := o.Resolve(ctx, in)
				if err != nil {
					return err
				}
				paths[i] = p
			}
		}
		po := ProfileOptions{Files: paths, Sources: o.Inputs, Render: chatml.Options{Style: o.Style},
			Workers: o.Workers, Stderr: o.Stderr, Progress: o.Progress}
		if o.Tokenizer != "" {
			tok, _, err := samples.LoadTokenizer(ctx, o.Tokenizer, o.AddedTokens, o.Resolve)
			if err != nil {
				return err
			}
			po.Tokenizer = tok
		}
		d, err := Profile(ctx, po)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return err
			}
			return exitcode.With(exitcode.Input, err)
		}
		doc = d
	}
	if o.Output == "" || o.Output == "-" {
		if err := Render(stdout, doc, o.Format); err != nil {
			return exitcode.With(exitcode.Output, err)
		}
		return nil
	}
	if err := WriteFile(o.Output, doc, o.Format); err != nil {
		return exitcode.With(exitcode.Output, err)
	}
	return nil
}
