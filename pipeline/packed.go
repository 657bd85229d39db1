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

// packer collects kept samples for packed output. Packing needs every sample's length before the first row
// can be written, but not every token: pass 1 spills token ids to a temporary file and keeps only compact
// per-sample facts (≈ 28 bytes + id); pass 2 packs the lengths and reads each bin's samples back.
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

func (p *packer) add(id string, ids []int32, trainStart, trainEnd int) error {
	p.buf = p.buf[:0]
	for _, v := range ids {
		p.buf = binary.LittleEndian.AppendUint32(p.buf, uint32(v))
	}
	if _, err := p.w.Write(p.buf); err != nil {
		return exitcode.Errorf(exitcode.Output, "write token spill: %w", err)
	}
	p.lens = append(p.lens, int32(len(ids)))
	p.trainStart = append(p.trainStart, int32(trainStart))
	p.trainEnd = append(p.trainEnd, int32(trainEnd))
	p.idArena = append(p.idArena, id...)
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

// writePacked is pass 2: pack all sample lengths, then write one row per bin, in bin order.
// It checks ctx between bins, so an interrupt stops it within one row.
func (r *runner) writePacked(ctx context.Context) error {
	p := r.packer
	defer p.close()
	if err := p.w.Flush(); err != nil {
		return exitcode.Errorf(exitcode.Output, "write token spill: %w", err)
	}
	seqLen := r.cfg.Packing.SequenceLen
	bins, err := shard.Pack(p.lens, seqLen, shard.PackAlgorithm(r.cfg.Packing.Algorithm))
	if err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	if r.cfg.Packing.ShuffleSeed != 0 {
		shard.ShuffleBins(bins, r.cfg.Packing.ShuffleSeed)
	}
	p.stats = shard.ComputePackStats(p.lens, bins, seqLen)
	offsets := make([]int64, len(p.lens)+1) // byte offset of each sample in the spill
	for i, n := range p.lens {
		offsets[i+1] = offsets[i] + int64(n)*4
	}
	var (
		ids, labels, pos []int32
		raw              []byte
		line             []byte
		rowIDs           []string
	)
	for bi, bin := range bins {
		if err := ctx.Err(); err != nil {
			return err
		}
		if bi == 1 {
			pauseAt(ctx, PhasePack)
		}
		ids, labels, pos, rowIDs = ids[:0], labels[:0], pos[:0], rowIDs[:0]
		for _, si := range bin {
			n := int(p.lens[si])
			if cap(raw) < n*4 {
				raw = make([]byte, n*4)
			}
			raw = raw[:n*4]
			if _, err := p.f.ReadAt(raw, offsets[si]); err != nil && err != io.EOF {
				return exitcode.Errorf(exitcode.Output, "read token spill: %w", err)
			}
			ts, te := int(p.trainStart[si]), int(p.trainEnd[si])
			for k := 0; k < n; k++ {
				v := int32(binary.LittleEndian.Uint32(raw[4*k:]))
				ids = append(ids, v)
				if k >= ts && k < te {
					labels = append(labels, v)
				} else {
					labels = append(labels, IgnoreIndex)
				}
				pos = append(pos, int32(k))
			}
			rowIDs = append(rowIDs, p.id(si))
		}
		line = append(line[:0], `{"input_ids":`...)
		line = shard.AppendInt32s(line, ids)
		line = append(line, `,"attention_mask":`...)
		line = appendOnes(line, len(ids))
		line = append(line, `,"labels":`...)
		line = shard.AppendInt32s(line, labels)
		line = append(line, `,"position_ids":`...)
		line = shard.AppendInt32s(line, pos)
		line = append(line, '}')
		if err := r.data.WriteLine(line); err != nil {
			return exitcode.With(exitcode.Output, err)
		}
		if err := r.writeIndex(rowIDs...); err != nil {
			return err
		}
	}
	return nil
}
