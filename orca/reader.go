package orca

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/parquet-go/parquet-go"
)

// ErrSchema is wrapped by errors about a file whose columns do not match the OpenOrca schema.
var ErrSchema = errors.New("not an OpenOrca schema")

// File is an open OpenOrca Parquet file.
type File struct {
	// Path is the path the file was opened with; errors name it.
	Path string
	// Index is the file's position in the list of inputs; it is copied into every Record.
	Index int
	// Size is the file size in bytes.
	Size int64

	f  *os.File
	r  io.ReaderAt // what pages are read from (f; tests read from memory)
	pf *parquet.File
	// compact footer (meta.go)
	numRows int64
	groups  []groupMeta
	cols    [4]colMeta
}

// Open opens path, checks that it is Parquet with the four OpenOrca string columns, and returns a File
// ready to stream. Errors name the file (and the column, for schema problems); parquet-go panics are
// turned into errors because a corrupt footer must never crash the run.
func Open(path string, index int) (file *File, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("open %s: is a directory, not a Parquet file", path)
	}
	if st.Size() == 0 {
		return nil, fmt.Errorf("open %s: empty file (0 bytes), not Parquet", path)
	}
	var pf *parquet.File
	err = guard(func() error {
		var oerr error
		pf, oerr = parquet.OpenFile(f, st.Size(), parquet.SkipBloomFilters(true), parquet.SkipPageIndex(true), parquet.ReadBufferSize(1<<20))
		return oerr
	})
	if err != nil {
		return nil, fmt.Errorf("open %s: not a readable Parquet file: %w", path, err)
	}
	if err := checkSchema(pf.Schema()); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	file = &File{Path: path, Index: index, Size: st.Size(), f: f, r: f, pf: pf}
	file.indexFooter()
	return file, nil
}

// checkSchema requires each OpenOrca column to exist as a flat BYTE_ARRAY (string) column.
func checkSchema(s *parquet.Schema) error {
	for _, name := range Columns {
		leaf, ok := s.Lookup(name)
		if !ok {
			return fmt.Errorf("%w: missing column %q (have %s)", ErrSchema, name, columnNames(s))
		}
		if leaf.MaxRepetitionLevel > 0 {
			return fmt.Errorf("%w: column %q is repeated, want a plain string", ErrSchema, name)
		}
		if k := leaf.Node.Type().Kind(); k != parquet.ByteArray {
			return fmt.Errorf("%w: column %q has type %s, want a string (BYTE_ARRAY)", ErrSchema, name, leaf.Node.Type())
		}
	}
	return nil
}

func columnNames(s *parquet.Schema) string {
	out := ""
	for i, f := range s.Fields() {
		if i > 0 {
			out += ", "
		}
		out += f.Name()
	}
	if out == "" {
		return "no columns"
	}
	return out
}

// Close releases the file.
func (f *File) Close() error {
	if f.f == nil {
		return nil
	}
	return f.f.Close()
}

// Name is the base name of the file, used for select.files globs.
func (f *File) Name() string { return filepath.Base(f.Path) }

// NumRows is the row count from the footer.
func (f *File) NumRows() int64 { return f.numRows }

// NumRowGroups is the number of row groups.
func (f *File) NumRowGroups() int { return len(f.groups) }

// Parquet exposes the underlying parquet-go file for inspection (nil after ReleaseFooter).
func (f *File) Parquet() *parquet.File { return f.pf }

// ReadRowGroup streams row group rg in batches of up to batchSize records. The slice passed to fn is
// reused after fn returns; fn must copy what it keeps (the strings themselves are immutable and may be kept).
// Records carry their file-level row index. With idsOnly, only the id column is read (the other fields
// stay empty) — enough to account for rows that will not be used. It is a Scan of one row group.
func (f *File) ReadRowGroup(rg int, batchSize int, idsOnly bool, fn func([]Record) error) error {
	if n := f.NumRowGroups(); rg < 0 || rg >= n {
		return fmt.Errorf("read %s: row group %d out of range (file has %d)", f.Path, rg, n)
	}
	return f.Each(context.Background(), ScanOptions{From: rg, To: rg + 1, IDsOnly: idsOnly, BatchRows: batchSize}, fn)
}

// guard runs fn and converts a panic inside parquet-go (seen on corrupt pages and footers) into an error.
func guard(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("corrupt Parquet data: %v", p)
		}
	}()
	return fn()
}
