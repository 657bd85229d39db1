package orca

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
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
	dataEnd, err := checkFooter(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("open %s: not a readable Parquet file: %w", path, err)
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
	if dataEnd > 0 {
		if err := checkPages(f, dataEnd, pf.Metadata(), Columns); err != nil {
			return nil, fmt.Errorf("open %s: not a readable Parquet file: %w", path, err)
		}
	}
	file = &File{Path: path, Index: index, Size: st.Size(), f: f, r: f, pf: pf}
	file.indexFooter()
	return file, nil
}

// checkSchema requires each OpenOrca column to exist as a flat string column: BYTE_ARRAY annotated STRING
// (or UTF8, ENUM, JSON, which are UTF-8 text too). pyarrow, DuckDB, Polars, arrow-rs and parquet-go annotate
// every string column; a BYTE_ARRAY without annotation is binary (DuckDB BLOB, Arrow binary), which the
// OpenOrca schema does not have and whose bytes nothing promises to be text, so it is refused with a hint.
func checkSchema(s *parquet.Schema) error {
	for _, name := range Columns {
		var field parquet.Field
		for _, f := range s.Fields() {
			if f.Name() == name {
				field = f
				break
			}
		}
		if field == nil {
			return fmt.Errorf("%w: missing column %q (have %s)", ErrSchema, name, columnNames(s))
		}
		if !field.Leaf() {
			return fmt.Errorf("%w: column %q is a nested %s column, want a plain string", ErrSchema, name, nestedKind(field))
		}
		if field.Repeated() {
			return fmt.Errorf("%w: column %q is repeated (a list of values per row), want a plain string", ErrSchema, name)
		}
		t := field.Type()
		if t.Kind() != parquet.ByteArray {
			return fmt.Errorf("%w: column %q has type %s, want a string (BYTE_ARRAY annotated STRING)", ErrSchema, name, t)
		}
		var lv format.LogicalTypeValue
		if lt := t.LogicalType(); lt != nil {
			lv = lt.Value
		}
		switch lv.(type) {
		case nil:
			return fmt.Errorf("%w: column %q is binary (BYTE_ARRAY without a STRING annotation, e.g. a DuckDB BLOB or Arrow binary column), want a string: write it as VARCHAR / utf8 (DuckDB: CAST(%s AS VARCHAR))", ErrSchema, name, name)
		case *format.StringType, *format.EnumType, *format.JsonType:
		default:
			return fmt.Errorf("%w: column %q has type %s, want a string (BYTE_ARRAY annotated STRING)", ErrSchema, name, t)
		}
	}
	return nil
}

// nestedKind names a group column's shape for error messages.
func nestedKind(f parquet.Field) string {
	if lt := f.Type().LogicalType(); lt != nil {
		switch lt.Value.(type) {
		case *format.ListType:
			return "LIST"
		case *format.MapType:
			return "MAP"
		}
	}
	return "STRUCT"
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
