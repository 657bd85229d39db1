package synth

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/orca"
	"github.com/orcaprep/orcaprep/progress"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
)

// parquetRow is the written schema: four optional (nullable) UTF-8 string columns in OpenOrca's order,
// as pandas/pyarrow write them. A nil pointer is written as a Parquet NULL.
type parquetRow struct {
	ID           *string `parquet:"id,optional"`
	SystemPrompt *string `parquet:"system_prompt,optional"`
	Question     *string `parquet:"question,optional"`
	Response     *string `parquet:"response,optional"`
}

// WriteOptions sets the Parquet layout of a generated file.
type WriteOptions struct {
	// RowGroupSize is the number of rows per row group (default 10,000).
	RowGroupSize int64
	// Compression is one of "zstd" (default), "snappy", "gzip", "none".
	Compression string
	// Bar, when not nil, counts the rows written.
	Bar *progress.Bar
}

// DefaultRowGroupSize is the row-group size used when WriteOptions.RowGroupSize is 0.
const DefaultRowGroupSize = 10000

// codecs maps the --compression names to parquet-go codecs.
var codecs = map[string]compress.Codec{
	"zstd":   &parquet.Zstd,
	"snappy": &parquet.Snappy,
	"gzip":   &parquet.Gzip,
	"none":   &parquet.Uncompressed,
}

// Codec returns the codec for a compression name ("" means zstd).
func Codec(name string) (compress.Codec, error) {
	if name == "" {
		name = "zstd"
	}
	c, ok := codecs[name]
	if !ok {
		return nil, fmt.Errorf("unknown compression %q (want zstd, snappy, gzip or none)", name)
	}
	return c, nil
}

// WriteParquet generates cfg's rows into a Parquet file at path (zstd, 10,000-row row groups) and, when
// labelsPath is not empty, their labels as JSON Lines. Both files are written under temporary names and
// renamed only when complete.
func WriteParquet(ctx context.Context, cfg Config, path, labelsPath string) error {
	return WriteParquetWith(ctx, cfg, WriteOptions{}, path, labelsPath)
}

// WriteParquetWith is WriteParquet with an explicit row-group size and compression.
func WriteParquetWith(ctx context.Context, cfg Config, wo WriteOptions, path, labelsPath string) (err error) {
	codec, err := Codec(wo.Compression)
	if err != nil {
		return err
	}
	rg := wo.RowGroupSize
	if rg <= 0 {
		rg = DefaultRowGroupSize
	}
	out, err := createTemp(path)
	if err != nil {
		return err
	}
	var lab *os.File
	defer func() {
		if err != nil {
			out.Close()
			os.Remove(out.Name())
			if lab != nil {
				lab.Close()
				os.Remove(lab.Name())
			}
		}
	}()
	var lw *bufio.Writer
	var enc *json.Encoder
	if labelsPath != "" {
		if lab, err = createTemp(labelsPath); err != nil {
			return err
		}
		lw = bufio.NewWriterSize(lab, 1<<20)
		enc = json.NewEncoder(lw)
		enc.SetEscapeHTML(false)
	}

	bw := bufio.NewWriterSize(out, 1<<20)
	w := parquet.NewGenericWriter[parquetRow](bw, parquet.Compression(codec), parquet.MaxRowsPerRowGroup(rg))
	batch := make([]parquetRow, 0, 256)
	flush := func() error {
		if _, err := w.Write(batch); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		batch = batch[:0]
		return nil
	}
	var written int64
	err = Generate(cfg, func(r orca.Record, l Label) error {
		if r.Row%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if written++; written%1024 == 0 {
			wo.Bar.Add(1024)
		}
		batch = append(batch, toParquetRow(r))
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return err
			}
		}
		if enc != nil {
			if err := enc.Encode(l); err != nil {
				return fmt.Errorf("write %s: %w", labelsPath, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err = flush(); err != nil {
		return err
	}
	if err = w.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	wo.Bar.Add(written % 1024)
	wo.Bar.Finish()
	if err = finish(bw, out, path); err != nil {
		return err
	}
	if lab != nil {
		if err = finish(lw, lab, labelsPath); err != nil {
			os.Remove(path)
			return err
		}
	}
	return nil
}

func toParquetRow(r orca.Record) parquetRow {
	str := func(s string, null bool) *string {
		if null {
			return nil
		}
		return &s
	}
	return parquetRow{
		ID:           str(r.ID, r.Nulls&orca.NullID != 0),
		SystemPrompt: str(r.SystemPrompt, r.Nulls&orca.NullSystemPrompt != 0),
		Question:     str(r.Question, r.Nulls&orca.NullQuestion != 0),
		Response:     str(r.Response, r.Nulls&orca.NullResponse != 0),
	}
}

// createTemp creates a temporary file next to path so the final rename stays on one file system.
func createTemp(path string) (*os.File, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, exitcode.With(exitcode.Output, fmt.Errorf("create %s: %w", path, err))
	}
	return f, nil
}

// finish flushes, syncs, closes and renames a temporary file onto path.
func finish(bw *bufio.Writer, f *os.File, path string) error {
	err := bw.Flush()
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = f.Chmod(0o644) // CreateTemp makes 0600; the result is an ordinary data file
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return exitcode.With(exitcode.Output, fmt.Errorf("write %s: %w", path, err))
	}
	return nil
}

// SynthOptions are the `orcaprep synth` flags.
type SynthOptions struct {
	Rows            int
	Seed            uint64
	Out             string // Parquet file to write
	Labels          string // optional labels JSONL
	RowGroupSize    int64
	Compression     string
	InvalidUTF8Rate float64
	// LengthScale multiplies the median question and response lengths (0 means 1). About 1.4 gives the
	// ~1.4 KB of text per row of the real GPT-4 file, for size and memory benchmarks.
	LengthScale float64
	// Log receives progress and a one-line summary (nil: none).
	Log io.Writer
	// Progress: a bar on a terminal, periodic lines otherwise, or nothing (progress.Never).
	Progress progress.Mode
}

// RunSynth validates o and writes the synthetic file and labels. Bad options are exitcode.Usage errors;
// files that cannot be written are exitcode.Output errors.
func RunSynth(ctx context.Context, o SynthOptions) error {
	switch {
	case o.Out == "":
		return exitcode.Errorf(exitcode.Usage, "synth: --out FILE.parquet is required")
	case o.Rows < 0:
		return exitcode.Errorf(exitcode.Usage, "synth: --rows must be ≥ 0, got %d", o.Rows)
	case o.RowGroupSize < 0:
		return exitcode.Errorf(exitcode.Usage, "synth: --row-group-size must be ≥ 0, got %d", o.RowGroupSize)
	case o.Labels != "" && filepath.Clean(o.Labels) == filepath.Clean(o.Out):
		return exitcode.Errorf(exitcode.Usage, "synth: --labels and --out name the same file %s", o.Out)
	}
	if _, err := Codec(o.Compression); err != nil {
		return exitcode.With(exitcode.Usage, fmt.Errorf("synth: --compression: %w", err))
	}
	cfg := DefaultConfig(o.Rows, o.Seed)
	cfg.InvalidUTF8Rate = o.InvalidUTF8Rate
	if o.LengthScale < 0 || o.LengthScale > 50 {
		return exitcode.Errorf(exitcode.Usage, "synth: --length-scale must be in (0, 50], got %v", o.LengthScale)
	}
	if o.LengthScale > 0 {
		cfg.QuestionMedianChars *= o.LengthScale
		cfg.ResponseMedianChars *= o.LengthScale
	}
	if err := cfg.Validate(); err != nil {
		return exitcode.With(exitcode.Usage, err)
	}
	bar := progress.New(o.Log, o.Progress, "synth", int64(o.Rows), progress.Rows)
	defer bar.Stop()
	err := WriteParquetWith(ctx, cfg, WriteOptions{RowGroupSize: o.RowGroupSize, Compression: o.Compression, Bar: bar}, o.Out, o.Labels)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		var ec *exitcode.Error
		if !errors.As(err, &ec) {
			err = exitcode.With(exitcode.Output, err)
		}
		return err
	}
	if o.Log != nil {
		st, _ := os.Stat(o.Out)
		var size int64
		if st != nil {
			size = st.Size()
		}
		msg := fmt.Sprintf("synth: wrote %d rows (seed %d) to %s (%d bytes)", o.Rows, o.Seed, o.Out, size)
		if o.Labels != "" {
			msg += ", labels in " + o.Labels
		}
		fmt.Fprintln(o.Log, strings.TrimSpace(msg))
	}
	return nil
}
