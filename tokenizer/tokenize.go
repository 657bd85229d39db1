package tokenizer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/ordered"
	"golang.org/x/sync/errgroup"
)

// TokenizeOptions configures RunTokenize (the `orcaprep tokenize` command).
type TokenizeOptions struct {
	// Tokenizer is a tokenizer.model or tokenizer.json path, or a reference that Resolve turns into one.
	Tokenizer string
	// Resolve, when non-nil, maps Tokenizer to a local file first (e.g. an hf:// reference downloaded to a cache).
	Resolve func(ctx context.Context, ref string) (string, error)
	// AddedTokens are appended after the vocabulary in order (see Tokenizer.AddTokens).
	AddedTokens []string
	// BOS and EOS add the model's BOS id before and EOS id after each line's ids.
	BOS, EOS bool
	// Input is a JSONL file with a "text" string field per line; "" or "-" reads Stdin.
	Input  string
	Stdin  io.Reader
	Stdout io.Writer
	// Workers encode in parallel; 0 means GOMAXPROCS. Output order is input order regardless.
	Workers int
}

// Lines are handed to workers in batches to keep channel traffic small; a batch closes at either bound.
const (
	batchLines = 256
	batchBytes = 1 << 20
	maxLine    = 1 << 30
)

type batch struct {
	seq       int
	firstLine int // 1-based line number of lines[0]
	lines     [][]byte
	out       []byte
	err       error
}

// RunTokenize reads JSON lines with a "text" field and writes {"ids":[...]} per line, in input order, encoding in
// parallel. Blank lines are skipped. A line that is not a JSON object with a string "text" field stops the run with
// an exitcode.Input error naming the line; so does a tokenizer file that cannot be loaded.
func RunTokenize(ctx context.Context, opts TokenizeOptions) error {
	path := opts.Tokenizer
	if path == "" {
		return exitcode.Errorf(exitcode.Usage, "tokenize: --tokenizer is required")
	}
	if opts.Resolve != nil {
		p, err := opts.Resolve(ctx, path)
		if err != nil {
			return fmt.Errorf("tokenize: resolving %s: %w", path, err)
		}
		path = p
	}
	tk, err := Load(path)
	if err != nil {
		return exitcode.With(exitcode.Input, err)
	}
	for _, s := range opts.AddedTokens {
		if s == "" {
			return exitcode.Errorf(exitcode.Usage, "tokenize: --added-token must not be empty")
		}
	}
	tk.AddTokens(opts.AddedTokens...)
	if (opts.BOS && tk.BOS() < 0) || (opts.EOS && tk.EOS() < 0) {
		return exitcode.Errorf(exitcode.Input, "tokenize: %s has no BOS/EOS token", path)
	}

	in, name := opts.Stdin, "stdin"
	if opts.Input != "" && opts.Input != "-" {
		f, err := os.Open(opts.Input)
		if err != nil {
			return exitcode.With(exitcode.Input, fmt.Errorf("tokenize: %w", err))
		}
		defer f.Close()
		in, name = f, opts.Input
	}
	if in == nil {
		in = os.Stdin
	}
	out := opts.Stdout
	if out == nil {
		out = os.Stdout
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}

	g, ctx := errgroup.WithContext(ctx)
	todo := make(chan *batch, workers)
	done := make(chan *batch, workers)

	g.Go(func() error { // reader
		defer close(todo)
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 0, 64<<10), maxLine)
		b := &batch{firstLine: 1}
		size, line, seq := 0, 0, 0
		send := func() error {
			select {
			case todo <- b:
			case <-ctx.Done():
				return ctx.Err()
			}
			seq++
			b = &batch{seq: seq, firstLine: line + 1}
			size = 0
			return nil
		}
		for sc.Scan() {
			line++
			b.lines = append(b.lines, bytes.Clone(sc.Bytes()))
			size += len(sc.Bytes())
			if len(b.lines) == batchLines || size >= batchBytes {
				if err := send(); err != nil {
					return err
				}
			}
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				return exitcode.Errorf(exitcode.Input, "tokenize: %s line %d: longer than %d bytes", name, line+1, maxLine)
			}
			return exitcode.With(exitcode.Input, fmt.Errorf("tokenize: reading %s: %w", name, err))
		}
		if len(b.lines) > 0 {
			return send()
		}
		return nil
	})

	var wg sync.WaitGroup
	wg.Add(workers)
	go func() { wg.Wait(); close(done) }()
	for range workers {
		g.Go(func() error {
			defer wg.Done()
			e := tk.NewEncoder()
			digits := idDigits(tk.VocabSize())
			var ids []int32
			for b := range todo {
				for i, l := range b.lines {
					if len(bytes.TrimSpace(l)) == 0 {
						continue
					}
					var row struct {
						Text *string `json:"text"`
					}
					if err := json.Unmarshal(l, &row); err != nil {
						b.err = exitcode.Errorf(exitcode.Input, "tokenize: %s line %d: invalid JSON: %v", name, b.firstLine+i, err)
						break
					}
					if row.Text == nil {
						b.err = exitcode.Errorf(exitcode.Input, `tokenize: %s line %d: no "text" string field`, name, b.firstLine+i)
						break
					}
					ids = ids[:0]
					if opts.BOS {
						ids = append(ids, tk.BOS())
					}
					ids = e.AppendEncode(ids, *row.Text)
					if opts.EOS {
						ids = append(ids, tk.EOS())
					}
					b.out = appendIDsLine(b.out, ids, digits)
				}
				b.lines = nil
				select {
				case done <- b:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		})
	}

	g.Go(func() error { // writer: restores input order
		w := bufio.NewWriterSize(out, 1<<20)
		var order ordered.Buffer[*batch]
		for b := range done {
			err := order.Put(b.seq, b, func(p *batch) error {
				if p.err != nil {
					return p.err
				}
				if _, err := w.Write(p.out); err != nil {
					return exitcode.With(exitcode.Output, fmt.Errorf("tokenize: writing output: %w", err))
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		if err := w.Flush(); err != nil {
			return exitcode.With(exitcode.Output, fmt.Errorf("tokenize: writing output: %w", err))
		}
		return nil
	})
	return g.Wait()
}

// idDigits holds the decimal text of every id, since formatting millions of small integers is otherwise a
// noticeable share of the command's time.
func idDigits(n int) []string {
	d := make([]string, n)
	for i := range d {
		d[i] = strconv.Itoa(i)
	}
	return d
}

func appendIDsLine(b []byte, ids []int32, digits []string) []byte {
	b = append(b, `{"ids":[`...)
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		if id >= 0 && int(id) < len(digits) {
			b = append(b, digits[id]...)
		} else {
			b = strconv.AppendInt(b, int64(id), 10)
		}
	}
	return append(b, "]}\n"...)
}
