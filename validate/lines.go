package validate

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// maxLine bounds one JSONL line. A packed 16k row is about 350 KB; anything near this limit is garbage
// (a corrupt file without newlines) and must not be buffered whole.
const maxLine = 256 << 20

// errNoNewline reports a last line without its newline: the writer ends every line with one, so the file
// was cut short.
var errNoNewline = errors.New("last line has no newline (file truncated?)")

// source reads the lines of one shard while hashing and counting its bytes on disk, so each file is read
// once for both the checksum and the content checks.
type source struct {
	f     *os.File
	hash  hash.Hash
	raw   *countingReader
	zr    *zstd.Decoder
	br    *bufio.Reader
	buf   []byte
	line  int64 // 1-based number of the last line returned
	ended bool
}

type countingReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.h.Write(p[:n])
	return n, err
}

func openSource(path string) (*source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	s := &source{f: f, hash: sha256.New()}
	s.raw = &countingReader{r: f, h: s.hash}
	var r io.Reader = s.raw
	if strings.HasSuffix(path, ".zst") {
		zr, err := zstd.NewReader(s.raw, zstd.WithDecoderConcurrency(1))
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("zstd: %w", err)
		}
		s.zr = zr
		r = zr
	}
	s.br = bufio.NewReaderSize(r, 1<<20)
	return s, nil
}

// next returns the next line without its newline (valid until the next call), io.EOF after the last one,
// errNoNewline for a final unterminated line, or a read/decompression error.
func (s *source) next() ([]byte, error) {
	if s.ended {
		return nil, io.EOF
	}
	s.buf = s.buf[:0]
	for {
		chunk, err := s.br.ReadSlice('\n')
		if err == nil {
			s.line++
			if len(s.buf) == 0 {
				return chunk[:len(chunk)-1], nil
			}
			s.buf = append(s.buf, chunk[:len(chunk)-1]...)
			return s.buf, nil
		}
		if err == bufio.ErrBufferFull {
			s.buf = append(s.buf, chunk...)
			if len(s.buf) > maxLine {
				s.ended = true
				return nil, fmt.Errorf("line %d is longer than %d MB", s.line+1, maxLine>>20)
			}
			continue
		}
		s.ended = true
		s.buf = append(s.buf, chunk...)
		if err == io.EOF {
			if len(s.buf) > 0 {
				return nil, errNoNewline // on line s.line+1, as for other read errors
			}
			return nil, io.EOF
		}
		return nil, err
	}
}

// finish reads what is left of the file (parsing may have stopped at an error) and returns its sha256 and
// size on disk.
func (s *source) finish() (string, int64, error) {
	_, err := io.Copy(io.Discard, s.raw)
	return hex.EncodeToString(s.hash.Sum(nil)), s.raw.n, err
}

func (s *source) close() {
	if s.zr != nil {
		s.zr.Close()
	}
	s.f.Close()
}

// onlySpace reports whether b holds only JSON whitespace.
func onlySpace(b []byte) bool {
	return len(bytes.TrimLeft(b, " \t\r\n")) == 0
}
