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
	"sync"

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
	// FirstShard numbers the first shard (Prefix-<FirstShard>); a staged write task writes shard s of a run
	// on its own with FirstShard s.
	FirstShard int
}

// rotates is the rotation rule: whether a line of n bytes (without its newline) goes to a new shard when
// the open one holds rows rows and raw uncompressed bytes. Writer and Planner both apply it, so a plan made
// in advance cuts exactly where a Writer would.
func (o *Options) rotates(rows, raw int64, n int) bool {
	return (o.MaxRows > 0 && rows >= o.MaxRows) || (o.MaxBytes > 0 && raw+int64(n)+1 > o.MaxBytes && rows > 0)
}

// Planner assigns lines to shards exactly as a Writer with the same MaxRows and MaxBytes would, from their
// lengths alone: a staged run decides every shard's rows in one place and writes the shards elsewhere.
type Planner struct {
	o         Options
	shards    int
	rows, raw int64
}

// NewPlanner returns a planner rotating by maxRows rows and maxBytes uncompressed bytes (0: no limit).
func NewPlanner(maxRows, maxBytes int64) *Planner {
	return &Planner{o: Options{MaxRows: maxRows, MaxBytes: maxBytes}}
}

// Add places a line of n bytes (without its newline) and returns its shard number and 0-based row in it.
func (p *Planner) Add(n int) (shard int, row int64) {
	if p.shards == 0 || p.o.rotates(p.rows, p.raw, n) {
		p.shards++
		p.rows, p.raw = 0, 0
	}
	p.rows++
	p.raw += int64(n) + 1
	return p.shards - 1, p.rows - 1
}

// Shards is the number of shards begun so far.
func (p *Planner) Shards() int { return p.shards }

// Info describes one finished shard, as recorded in the manifest.
type Info struct {
	// Path is the shard's path (the pipeline rewrites it relative to the output directory).
	Path   string `json:"path"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// chunkSize is how much line data is handed to the background goroutine at once.
const chunkSize = 1 << 20

// Writer writes JSONL lines into rotated shards. Lines are batched into chunks that a background goroutine
// compresses, hashes and writes, so file I/O overlaps with producing the next lines. WriteLine, Rotate,
// Close and Abort must be called from one goroutine. I/O errors surface on a later call or on Close.
type Writer struct {
	o Options

	// caller side
	begun    int    // shards begun
	final    string // current shard's final path
	open     bool
	rows     int64 // rows in the current shard
	rawBytes int64 // uncompressed bytes in the current shard
	chunk    []byte
	ops      chan op
	done     chan struct{}
	free     chan []byte

	// background side; read by the caller only after done is closed, or under mu
	mu     sync.Mutex
	err    error
	shards []Info
	bg     bgShard
}

type opKind uint8

const (
	opOpen opKind = iota
	opData
	opFinish
	opAbort
)

type op struct {
	kind  opKind
	data  []byte
	final string
	rows  int64
	// written, when set, is closed once data is written: data is the caller's buffer, not a pooled chunk
	written chan struct{}
}

type bgShard struct {
	tmp, final string
	f          *os.File
	counter    *countingWriter
	hasher     hash.Hash
	buf        *bufio.Writer
	zw         *zstd.Encoder
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
	w := &Writer{o: o, ops: make(chan op, 4), done: make(chan struct{}), free: make(chan []byte, 6)}
	go w.loop()
	return w, nil
}

// Ext is the file extension shards get.
func (w *Writer) Ext() string { return w.o.ext() }

func (o *Options) ext() string {
	if o.Compression == Zstd {
		return ".jsonl.zst"
	}
	return ".jsonl"
}

// Name is the file name of shard n: Prefix-0000n.jsonl[.zst].
func (o Options) Name(n int) string {
	prefix := o.Prefix
	if prefix == "" {
		prefix = "train"
	}
	return fmt.Sprintf("%s-%05d%s", prefix, n, o.ext())
}

func (w *Writer) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// WriteLine writes one JSON document followed by a newline; line must not contain one.
func (w *Writer) WriteLine(line []byte) error {
	if w.open && w.o.rotates(w.rows, w.rawBytes, len(line)) {
		if err := w.Rotate(); err != nil {
			return err
		}
	}
	if !w.open {
		if err := w.failed(); err != nil {
			return err
		}
		w.final = filepath.Join(w.o.Dir, w.o.Name(w.o.FirstShard+w.begun))
		w.begun++
		w.open = true
		w.rows, w.rawBytes = 0, 0
		w.ops <- op{kind: opOpen, final: w.final}
	}
	if len(line) >= chunkSize {
		// A huge line (one 100 MB response) is handed over as it is and waited for, instead of being copied
		// into a chunk that would then stay in the pool at its size.
		if err := w.flushChunk(); err != nil {
			return err
		}
		done := make(chan struct{})
		w.ops <- op{kind: opData, data: line, written: done}
		<-done
		w.ops <- op{kind: opData, data: []byte{'\n'}}
		w.rows++
		w.rawBytes += int64(len(line)) + 1
		return w.failed()
	}
	if w.chunk == nil {
		w.chunk = w.getChunk()
	}
	w.chunk = append(w.chunk, line...)
	w.chunk = append(w.chunk, '\n')
	w.rows++
	w.rawBytes += int64(len(line)) + 1
	if len(w.chunk) >= chunkSize {
		return w.flushChunk()
	}
	return nil
}

func (w *Writer) getChunk() []byte {
	select {
	case c := <-w.free:
		return c[:0]
	default:
		return make([]byte, 0, chunkSize+64<<10)
	}
}

func (w *Writer) flushChunk() error {
	if len(w.chunk) > 0 {
		w.ops <- op{kind: opData, data: w.chunk}
		w.chunk = nil
	}
	return w.failed()
}

// Position returns the base name of the shard the last line went to and that line's 0-based row in it,
// so a sidecar (the index) can point at it.
func (w *Writer) Position() (string, int64) {
	return filepath.Base(w.final), w.rows - 1
}

// Count is the number of shards begun so far (finished ones plus the open one).
func (w *Writer) Count() int { return w.begun }

// Rotate finishes the open shard, so the next line starts a new one; used to keep a sidecar file-for-file with its data.
func (w *Writer) Rotate() error {
	if !w.open {
		return w.failed()
	}
	if err := w.flushChunk(); err != nil {
		return err
	}
	w.ops <- op{kind: opFinish, rows: w.rows}
	w.open = false
	return w.failed()
}

// Close finishes the last shard, waits for all I/O, and returns every shard written, in order.
func (w *Writer) Close() ([]Info, error) {
	err := w.Rotate()
	close(w.ops)
	<-w.done
	if err == nil {
		err = w.err
	}
	if err != nil {
		return nil, err
	}
	return w.shards, nil
}

// Abort stops the writer and removes the unfinished shard; finished shards are left to the caller's cleanup.
func (w *Writer) Abort() {
	select {
	case <-w.done:
		return
	default:
	}
	w.ops <- op{kind: opAbort}
	close(w.ops)
	<-w.done
}

// loop is the background goroutine doing compression, hashing and file I/O.
func (w *Writer) loop() {
	defer close(w.done)
	for o := range w.ops {
		if w.failed() != nil && o.kind != opAbort {
			if o.written != nil {
				close(o.written)
			}
			continue // drain after an error; the caller sees it on its next call
		}
		var err error
		switch o.kind {
		case opOpen:
			err = w.bgOpen(o.final)
		case opData:
			err = w.bgWrite(o.data)
			if o.written != nil {
				close(o.written)
				break
			}
			if c := cap(o.data); c >= chunkSize && c <= chunkSize+64<<10 { // only ordinary chunks are reused
				select {
				case w.free <- o.data:
				default:
				}
			}
		case opFinish:
			err = w.bgFinish(o.rows)
		case opAbort:
			w.bgAbort()
		}
		if err != nil {
			w.mu.Lock()
			w.err = err
			w.mu.Unlock()
			w.bgAbort()
		}
	}
}

func (w *Writer) bgOpen(final string) error {
	s := &w.bg
	s.final = final
	s.tmp = filepath.Join(filepath.Dir(final), "."+filepath.Base(final)+".tmp")
	f, err := os.OpenFile(s.tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("create shard: %w", err)
	}
	s.f = f
	s.hasher = sha256.New()
	s.counter = &countingWriter{w: io.MultiWriter(f, s.hasher)}
	s.buf = bufio.NewWriterSize(s.counter, 256<<10)
	s.zw = nil
	if w.o.Compression == Zstd {
		conc := w.o.ZstdConcurrency
		if conc <= 0 {
			conc = 1
		}
		zw, err := zstd.NewWriter(s.buf, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(conc))
		if err != nil {
			return fmt.Errorf("zstd %s: %w", final, err)
		}
		s.zw = zw
	}
	return nil
}

func (w *Writer) bgWrite(p []byte) error {
	s := &w.bg
	var out io.Writer = s.buf
	if s.zw != nil {
		out = s.zw
	}
	if _, err := out.Write(p); err != nil {
		return fmt.Errorf("write %s: %w", s.final, err)
	}
	return nil
}

func (w *Writer) bgFinish(rows int64) error {
	s := &w.bg
	if s.zw != nil {
		if err := s.zw.Close(); err != nil {
			return fmt.Errorf("zstd %s: %w", s.final, err)
		}
		s.zw = nil
	}
	if err := s.buf.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", s.final, err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", s.final, err)
	}
	if err := s.f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", s.final, err)
	}
	s.f = nil
	if err := os.Rename(s.tmp, s.final); err != nil {
		return fmt.Errorf("rename %s: %w", s.final, err)
	}
	w.mu.Lock()
	w.shards = append(w.shards, Info{Path: s.final, Rows: rows, Bytes: s.counter.n, SHA256: hex.EncodeToString(s.hasher.Sum(nil))})
	w.mu.Unlock()
	return nil
}

func (w *Writer) bgAbort() {
	s := &w.bg
	if s.f != nil {
		if s.zw != nil {
			s.zw.Close()
			s.zw = nil
		}
		s.f.Close()
		os.Remove(s.tmp)
		s.f = nil
	}
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
