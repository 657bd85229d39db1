package pipeline

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/shard"
	"github.com/orcaprep/orcaprep/stats"
)

// Packed output. Packing needs every kept sample's length before the first row can be written, but not
// every token. `run` spills the kept samples' token ids to a temporary file and keeps only compact
// per-sample facts (≈ 28 bytes + id), then packs and writes (writePacked). A staged run's reduce keeps the
// same facts plus where each sample's tokens are in the map tasks' payloads, packs with the same function
// (packBins) and plans the rows; write tasks render them with the same code (packedRow).

// packBins packs the sample lengths into rows of sequence_len tokens (shuffled when the recipe says so).
func packBins(cfg *Config, lens []int32) ([][]int32, *stats.PackingStat, error) {
	seqLen := cfg.Packing.SequenceLen
	bins, err := shard.Pack(lens, seqLen, shard.PackAlgorithm(cfg.Packing.Algorithm))
	if err != nil {
		return nil, nil, fmt.Errorf("pack: %w", err)
	}
	if cfg.Packing.ShuffleSeed != 0 {
		shard.ShuffleBins(bins, cfg.Packing.ShuffleSeed)
	}
	return bins, shard.ComputePackStats(lens, bins, seqLen), nil
}

// packedRow builds one packed row from its samples' tokens.
type packedRow struct {
	ids, labels, pos []int32
	line             []byte
}

func (p *packedRow) reset() { p.ids, p.labels, p.pos = p.ids[:0], p.labels[:0], p.pos[:0] }

// add appends a sample: its ids (little-endian uint32s in raw), labels (ids inside the trained span
// [ts, te), IgnoreIndex elsewhere) and positions restarting at 0.
func (p *packedRow) add(raw []byte, ts, te int) {
	n := len(raw) / 4
	for k := 0; k < n; k++ {
		v := int32(binary.LittleEndian.Uint32(raw[4*k:]))
		p.ids = append(p.ids, v)
		if k >= ts && k < te {
			p.labels = append(p.labels, v)
		} else {
			p.labels = append(p.labels, IgnoreIndex)
		}
		p.pos = append(p.pos, int32(k))
	}
}

// render writes the row's JSON line into p.line.
func (p *packedRow) render() []byte {
	line := append(p.line[:0], `{"input_ids":`...)
	line = shard.AppendInt32s(line, p.ids)
	line = append(line, `,"attention_mask":`...)
	line = appendOnes(line, len(p.ids))
	line = append(line, `,"labels":`...)
	line = shard.AppendInt32s(line, p.labels)
	line = append(line, `,"position_ids":`...)
	line = shard.AppendInt32s(line, p.pos)
	line = append(line, '}')
	p.line = line
	return line
}

// packedRowBase is the length of a packed row without tokens.
var packedRowBase = len((&packedRow{}).render())

// digits is the length of v in decimal (comparisons, not divisions: it runs for every token of packed output).
func digits(v32 int32) int {
	v, n := int64(v32), 1
	if v < 0 {
		v, n = -v, 2
	}
	switch {
	case v < 10:
		return n
	case v < 100:
		return n + 1
	case v < 1000:
		return n + 2
	case v < 10000:
		return n + 3
	case v < 100000:
		return n + 4
	}
	for v >= 100000 {
		v /= 10
		n++
	}
	return n + 4
}

// sampleDigits returns the decimal digits of a sample's ids and of its labels (-100 outside [ts, te)).
func sampleDigits(ids []int32, ts, te int) (idDigits, labelDigits int) {
	for k, v := range ids {
		d := digits(v)
		idDigits += d
		if k >= ts && k < te {
			labelDigits += d
		} else {
			labelDigits += 4 // -100
		}
	}
	return idDigits, labelDigits
}

// positionDigits is the number of decimal digits of 0, 1, …, n-1.
func positionDigits(n int) int {
	d, width, next := 0, 1, 10
	for k := 0; k < n; {
		upto := min(n, next)
		d += (upto - k) * width
		k = upto
		width++
		next *= 10
	}
	return d
}

// packedLineLen is the length of a rendered packed row (len(packedRow.render()), without rendering it) of n
// tokens whose ids, labels and positions have d decimal digits in all (sampleDigits + positionDigits of each
// sample): a staged reduce cuts packed shards by max_bytes with it.
func packedLineLen(n, d int) int {
	if n == 0 {
		return packedRowBase
	}
	// three lists of numbers: digits and n-1 commas each; attention_mask: n ones and n-1 commas
	return packedRowBase + d + 3*(n-1) + n + (n - 1)
}

// packer is run's keeper for packed output: kept samples' tokens go to a spill file, their facts to memory.
type packer struct {
	path       string
	f          *os.File
	w          *bufio.Writer
	lens       []int32
	trainStart []int32
	trainEnd   []int32
	idArena    []byte
	idEnd      []uint32
	buf        []byte
	stats      *stats.PackingStat
}

func newPacker(st *staging) (*packer, error) {
	p, err := st.path(".spill/tokens.bin")
	if err != nil {
		return nil, err
	}
	f, err := os.Create(p)
	if err != nil {
		return nil, exitcode.Errorf(exitcode.Output, "create token spill: %w", err)
	}
	return &packer{path: p, f: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

func (p *packer) keep(b *batch, i int) error {
	it := &b.items[i]
	ids := b.toks[it.tokStart:it.tokEnd]
	p.buf = p.buf[:0]
	for _, v := range ids {
		p.buf = binary.LittleEndian.AppendUint32(p.buf, uint32(v))
	}
	if _, err := p.w.Write(p.buf); err != nil {
		return exitcode.Errorf(exitcode.Output, "write token spill: %w", err)
	}
	p.lens = append(p.lens, int32(len(ids)))
	p.trainStart = append(p.trainStart, int32(it.trainStart))
	p.trainEnd = append(p.trainEnd, int32(it.trainEnd))
	p.idArena = append(p.idArena, it.id...)
	p.idEnd = append(p.idEnd, uint32(len(p.idArena)))
	return nil
}

func (p *packer) id(i int32) string {
	start := uint32(0)
	if i > 0 {
		start = p.idEnd[i-1]
	}
	return string(p.idArena[start:p.idEnd[i]])
}

func (p *packer) close() {
	if p.f != nil {
		p.f.Close()
		os.RemoveAll(dirOf(p.path))
		p.f = nil
	}
}

// writePacked is run's second pass: pack all sample lengths, then write one row per bin, in bin order.
// It checks ctx between bins, so an interrupt stops it within one row.
func (p *packer) writePacked(ctx context.Context, cfg *Config, w *directWriter) error {
	defer p.close()
	if err := p.w.Flush(); err != nil {
		return exitcode.Errorf(exitcode.Output, "write token spill: %w", err)
	}
	bins, ps, err := packBins(cfg, p.lens)
	if err != nil {
		return err
	}
	p.stats = ps
	offsets := make([]int64, len(p.lens)+1) // byte offset of each sample in the spill
	for i, n := range p.lens {
		offsets[i+1] = offsets[i] + int64(n)*4
	}
	var (
		row    packedRow
		raw    []byte
		rowIDs []string
	)
	for bi, bin := range bins {
		if err := ctx.Err(); err != nil {
			return err
		}
		if bi == 1 {
			pauseAt(ctx, PhasePack)
		}
		row.reset()
		rowIDs = rowIDs[:0]
		for _, si := range bin {
			n := int(p.lens[si])
			if cap(raw) < n*4 {
				raw = make([]byte, n*4)
			}
			raw = raw[:n*4]
			if _, err := p.f.ReadAt(raw, offsets[si]); err != nil && err != io.EOF {
				return exitcode.Errorf(exitcode.Output, "read token spill: %w", err)
			}
			row.add(raw, int(p.trainStart[si]), int(p.trainEnd[si]))
			rowIDs = append(rowIDs, p.id(si))
		}
		if err := w.data.WriteLine(row.render()); err != nil {
			return exitcode.With(exitcode.Output, err)
		}
		if err := w.writeIndex(rowIDs...); err != nil {
			return err
		}
	}
	return nil
}
