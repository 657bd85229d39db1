package orca

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Compression codecs (parquet.thrift CompressionCodec).
const (
	codecUncompressed = 0
	codecSnappy       = 1
	codecGzip         = 2
	codecLZO          = 3
	codecBrotli       = 4
	codecLZ4          = 5 // deprecated Hadoop-framed LZ4 (some writers used raw blocks under this id)
	codecZstd         = 6
	codecLZ4Raw       = 7
)

var codecNames = map[int32]string{codecUncompressed: "UNCOMPRESSED", codecSnappy: "SNAPPY", codecGzip: "GZIP",
	codecLZO: "LZO", codecBrotli: "BROTLI", codecLZ4: "LZ4", codecZstd: "ZSTD", codecLZ4Raw: "LZ4_RAW"}

func codecName(c int32) string {
	if n, ok := codecNames[c]; ok {
		return n
	}
	return fmt.Sprintf("codec %d", c)
}

// codecSupported reports whether pages compressed with c can be read.
func codecSupported(c int32) bool {
	switch c {
	case codecUncompressed, codecSnappy, codecGzip, codecBrotli, codecLZ4, codecZstd, codecLZ4Raw:
		return true
	}
	return false
}

// Decoders are pooled: a zstd or gzip decoder has state worth reusing, and each is used by one
// goroutine at a time.
var (
	zstdPool = sync.Pool{New: func() any {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecodeAllCapLimit(true), zstd.WithDecoderLowmem(false))
		if err != nil {
			return err
		}
		return d
	}}
	gzipPool sync.Pool // *gzip.Reader
)

// decompress decodes src (compressed with codec) into dst, which must have length size, the page's
// uncompressed size from its header. Anything but exactly size bytes of output is an error.
func decompress(codec int32, dst, src []byte) error {
	size := len(dst)
	switch codec {
	case codecUncompressed:
		if len(src) != size {
			return fmt.Errorf("page holds %d bytes, header says %d", len(src), size)
		}
		copy(dst, src)
		return nil
	case codecSnappy:
		if err := checkSize(codec, src, size); err != nil {
			return err
		}
		out, err := snappy.Decode(dst, src)
		if err != nil {
			return errCorrupt(err)
		}
		if len(out) != size || (size > 0 && &out[0] != &dst[0]) {
			return fmt.Errorf("block decoded to %d bytes, header says %d", len(out), size)
		}
		return nil
	case codecZstd:
		v := zstdPool.Get()
		d, ok := v.(*zstd.Decoder)
		if !ok {
			return fmt.Errorf("zstd: %v", v)
		}
		defer zstdPool.Put(d)
		out, err := d.DecodeAll(src, dst[:0])
		if err != nil {
			return errCorrupt(err)
		}
		if len(out) != size || (size > 0 && &out[0] != &dst[0]) {
			return fmt.Errorf("decoded to %d bytes, header says %d", len(out), size)
		}
		return nil
	case codecGzip:
		var zr *gzip.Reader
		if v := gzipPool.Get(); v != nil {
			zr = v.(*gzip.Reader)
			if err := zr.Reset(bytes.NewReader(src)); err != nil {
				return errCorrupt(err)
			}
		} else {
			var err error
			if zr, err = gzip.NewReader(bytes.NewReader(src)); err != nil {
				return errCorrupt(err)
			}
		}
		defer gzipPool.Put(zr)
		return readExactly(zr, dst, "gzip")
	case codecBrotli:
		return readExactly(brotli.NewReader(bytes.NewReader(src)), dst, "brotli")
	case codecLZ4Raw:
		return lz4Block(dst, src)
	case codecLZ4:
		// Hadoop framing: repeated [big-endian decompressed size][big-endian compressed size][raw block].
		// Writers that used this id for plain LZ4 blocks exist too (as other readers do, fall back to that).
		if err := lz4Hadoop(dst, src); err == nil {
			return nil
		}
		return lz4Block(dst, src)
	}
	return fmt.Errorf("unsupported compression %s", codecName(codec))
}

// checkSize compares the decoded size a Snappy block states with the page header's before a buffer of
// that size is allocated. (Pages claiming more than bigPage are streamed, in pieces, whatever the codec.)
func checkSize(codec int32, src []byte, size int) error {
	if codec == codecSnappy {
		n, err := snappy.DecodedLen(src)
		if err != nil {
			return errCorrupt(err)
		}
		if n != size {
			return fmt.Errorf("block decodes to %d bytes, header says %d", n, size)
		}
	}
	return nil
}

// errCorrupt words a decompressor's error without its package prefix ("s2: corrupt input").
func errCorrupt(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, ": "); i >= 0 && i < 8 {
		msg = msg[i+2:]
	}
	return errors.New(msg)
}

func readExactly(r io.Reader, dst []byte, name string) error {
	if _, err := io.ReadFull(r, dst); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("decodes to fewer bytes than the %d the header says", len(dst))
		}
		return errCorrupt(err)
	}
	var one [1]byte
	if n, _ := r.Read(one[:]); n != 0 {
		return fmt.Errorf("decodes to more bytes than the %d the header says", len(dst))
	}
	return nil
}

func lz4Block(dst, src []byte) error {
	n, err := lz4.UncompressBlock(src, dst)
	if err != nil {
		return errCorrupt(err)
	}
	if n != len(dst) {
		return fmt.Errorf("decoded to %d bytes, header says %d", n, len(dst))
	}
	return nil
}

func lz4Hadoop(dst, src []byte) error {
	out := 0
	for len(src) > 0 {
		if len(src) < 8 {
			return errors.New("lz4 hadoop frame header truncated")
		}
		dn := int(binary.BigEndian.Uint32(src))
		cn := int(binary.BigEndian.Uint32(src[4:]))
		src = src[8:]
		if cn > len(src) || dn > len(dst)-out {
			return errors.New("lz4 hadoop frame sizes out of range")
		}
		n, err := lz4.UncompressBlock(src[:cn], dst[out:out+dn])
		if err != nil || n != dn {
			return errors.New("lz4 hadoop frame does not decode")
		}
		out += dn
		src = src[cn:]
	}
	if out != len(dst) {
		return errors.New("lz4 hadoop frames decode to the wrong size")
	}
	return nil
}
