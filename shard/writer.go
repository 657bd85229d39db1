package shard

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/zstd"
)

// Compression names a shard compression.
type Compression string

const (
	// None writes plain .jsonl.
	None Compression = "none"
	// Zstd writes .jsonl.zst (one zstd frame per shard).
	Zstd Compression = "zstd"
)

// ParseCompression validates a compression name ("" means none).
func ParseCompression(s string) (Compression, error) {
	switch s {
	case "", "none":
		return None, nil
	case "zstd":
		return Zstd, nil
	}
	return "", fmt.Errorf("unknown compression %q (want none or zstd)", s)
}

// Options configure a Writer.
type Options struct {
	// Dir is where shards go; it must exist.
	Dir string
	// Prefix names shards: Prefix-00000.jsonl.
	Prefix string
	// Compression of every shard.
	Compression Compression
	// MaxRows and MaxBytes (uncompressed) rotate to a new shard when reached; 0 means no limit.
	MaxRows  int64
	MaxBytes int64
	// ZstdConcurrency is passed to the zstd encoder; 0 means 1, since several writers usually run at once.
	ZstdConcurrency int
}

// Info describes one finished shard, as recorded in the manifest.
type Info struct {
	// Path is relative to the output directory root given to RelTo (or the Dir base otherwise).
	Path   string `json:"path"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Writer writes JSONL lines into rotated shards. Not safe for concurrent use.
type Writer struct {
	o      Options
	shards []Info
	// current shard
	tmp      string
	final    string
	f        *os.File
	counter  *countingWriter
	hasher   hash.Hash
	buf      *bufio.Writer
	zw       *zstd.Encoder
	rows     int64
	rawBytes int64
}

// NewWriter returns a writer; no file is created until the first line.
func NewWriter(o Options) (*Writer, error) {
	if o.Prefix == "" {
		o.Prefix = "train"
	}
	if o.Compression == "" {
		o.Compression = None
	}
	if _, err := ParseCompression(string(o.Compression)); err != nil {
		return nil, err
	}
	return &Writer{o: o}, nil
}

// Ext is the file extension shards get.
func (w *Writer) Ext() string {
	if w.o.Compression == Zstd {
		return ".jsonl.zst"
	}
	return ".jsonl"
}

// WriteLine writes one JSON document followed by a newline; line must not contain one.
func (w *Writer) WriteLine(line []byte) error {
	if w.f != nil && ((w.o.MaxRows > 0 && w.rows >= w.o.MaxRows) || (w.o.MaxBytes > 0 && w.rawBytes+int64(len(line))+1 > w.o.MaxBytes && w.rows > 0)) {
		if err := w.finish(); err != nil {
			return err
		}
	}
	if w.f == nil {
		if err := w.open(); err != nil {
			return err
		}
	}
	var out io.Writer = w.buf
	if w.zw != nil {
		out = w.zw
	}
	if _, err := out.Write(line); err != nil {
		return fmt.Errorf("write %s: %w", w.final, err)
	}
	if _, err := out.Write([]byte{'\n'}); err != nil {
		return fmt.Errorf("write %s: %w", w.final, err)
	}
	w.rows++
	w.rawBytes += int64(len(line)) + 1
	return nil
}

func (w *Writer) open() error {
	name := fmt.Sprintf("%s-%05d%s", w.o.Prefix, len(w.shards), w.Ext())
	w.final = filepath.Join(w.o.Dir, name)
	w.tmp = filepath.Join(w.o.Dir, "."+name+".tmp")
	f, err := os.OpenFile(w.tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("create shard: %w", err)
	}
	w.f = f
	w.hasher = sha256.New()
	w.counter = &countingWriter{w: io.MultiWriter(f, w.hasher)}
	w.buf = bufio.NewWriterSize(w.counter, 256<<10)
	w.rows, w.rawBytes = 0, 0
	if w.o.Compression == Zstd {
		conc := w.o.ZstdConcurrency
		if conc <= 0 {
			conc = 1
		}
		zw, err := zstd.NewWriter(w.buf, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(conc))
		if err != nil {
			return fmt.Errorf("zstd %s: %w", w.final, err)
		}
		w.zw = zw
	}
	return nil
}

// finish closes the current shard and renames it to its final name.
func (w *Writer) finish() error {
	if w.f == nil {
		return nil
	}
	if w.zw != nil {
		if err := w.zw.Close(); err != nil {
			return fmt.Errorf("zstd %s: %w", w.final, err)
		}
		w.zw = nil
	}
	if err := w.buf.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", w.final, err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", w.final, err)
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", w.final, err)
	}
	w.f = nil
	if err := os.Rename(w.tmp, w.final); err != nil {
		return fmt.Errorf("rename %s: %w", w.final, err)
	}
	w.shards = append(w.shards, Info{Path: w.final, Rows: w.rows, Bytes: w.counter.n, SHA256: hex.EncodeToString(w.hasher.Sum(nil))})
	return nil
}

// Close finishes the last shard and returns every shard written, in order.
func (w *Writer) Close() ([]Info, error) {
	if err := w.finish(); err != nil {
		return nil, err
	}
	return w.shards, nil
}

// Abort removes the unfinished shard, for error paths; finished shards are left to the caller's cleanup.
func (w *Writer) Abort() {
	if w.f != nil {
		if w.zw != nil {
			w.zw.Close()
		}
		w.f.Close()
		os.Remove(w.tmp)
		w.f = nil
	}
}

// Position returns the base name of the shard the last line went to and that line's 0-based row in it,
// so a sidecar (the index) can point at it.
func (w *Writer) Position() (string, int64) {
	return filepath.Base(w.final), w.rows - 1
}

// Count is the number of shards begun so far (finished ones plus the open one).
func (w *Writer) Count() int {
	if w.f != nil {
		return len(w.shards) + 1
	}
	return len(w.shards)
}

// Rotate finishes the open shard, so the next line starts a new one; used to keep a sidecar file-for-file with its data.
func (w *Writer) Rotate() error { return w.finish() }

// Rows is the total number of lines written so far.
func (w *Writer) Rows() int64 {
	n := w.rows
	for _, s := range w.shards {
		n += s.Rows
	}
	return n
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// FileSHA256 hashes a file; validate uses it to check shards against the manifest.
func FileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
