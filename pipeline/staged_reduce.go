package pipeline

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"time"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/shard"
	"github.com/orcaprep/orcaprep/stage"
	"github.com/orcaprep/orcaprep/stats"
)

// The staged reduce: run's reduce stages (reduce.go) over every map task's records.bin, in task order — which
// is input order — so dedupe keeps the same first occurrences as one process. Its keeper is a shardPlan: where
// `run` writes a kept row's line at once, the plan decides its shard and row with the rotation rule of the
// shard writer (shard.Planner) and records where its payload is; write tasks then write whole shards. Reduce
// holds per kept row only what run holds (the dedupe index; for packed output the samples' lengths, trained
// spans, ids and payload positions), never a payload.
//
// Outputs: rejected/ (written here, as run writes it), shards.bin (the plan, one section per shard) and
// reduce.json (the sections with their sha256, the rejected files, stats.json without timing).

const reduceFormat = "orcaprep-reduce/1"

// shardSection is one shard's rows in shards.bin: bytes [Offset, Offset+Bytes).
type shardSection struct {
	Shard  int    `json:"shard"`
	Rows   int64  `json:"rows"`
	Offset int64  `json:"offset"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// reduceResult is reduce.json.
type reduceResult struct {
	Format   string         `json:"format"`
	Shards   []shardSection `json:"shards"`
	Rejected []shard.Info   `json:"rejected"` // paths relative to the task directory, which are OUT's
	// Stats is stats.json without its timing.
	Stats json.RawMessage `json:"stats"`
}

// reduceSummary is the reduce task's done-marker summary.
type reduceSummary struct {
	RowsRead    int64   `json:"rows_read"`
	RowsKept    int64   `json:"rows_kept"`
	Shards      int     `json:"shards"`
	MaxRSSBytes int64   `json:"max_rss_bytes"`
	NsPerRow    float64 `json:"ns_per_row"`
}

// shardPlan is the staged reduce's keeper. shards.bin rows:
//
//	line formats: uvarint map task · uvarint payload offset · uvarint length · 4 bytes checksum · [str id (tokenized)]
//	packed:       uvarint line length · uvarint samples, each: uvarint map task · uvarint token offset ·
//	              uvarint tokens · uvarint trainStart · uvarint trainEnd · 4 bytes checksum · str id
type shardPlan struct {
	cfg      *Config
	packed   bool
	index    bool
	planner  *shard.Planner
	f        *os.File
	w        *bufio.Writer
	h        hash.Hash
	off      int64
	sections []shardSection
	buf      []byte

	task int      // map task of the batch being reduced
	sums []uint32 // its items' payload checksums

	// packed: per kept sample
	lens, ts, te, digits, tasks []int32
	tokOff                      []int64
	sum                         []uint32
	idArena                     []byte
	idEnd                       []uint32
}

func newShardPlan(cfg *Config, path string) (*shardPlan, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, exitcode.Errorf(exitcode.Output, "create shard plan: %w", err)
	}
	return &shardPlan{cfg: cfg, packed: cfg.Format == FormatPacked, index: cfg.Format == FormatTokenized,
		planner: shard.NewPlanner(cfg.Output.MaxRows, cfg.Output.MaxBytes), f: f, w: bufio.NewWriterSize(f, 1<<20), h: sha256.New()}, nil
}

// row appends one planned row to shard s's section.
func (p *shardPlan) row(s int, entry []byte) error {
	if n := len(p.sections); n == 0 || p.sections[n-1].Shard != s {
		p.endSection()
		p.sections = append(p.sections, shardSection{Shard: s, Offset: p.off})
	}
	cur := &p.sections[len(p.sections)-1]
	cur.Rows++
	p.h.Write(entry)
	if _, err := p.w.Write(entry); err != nil {
		return exitcode.Errorf(exitcode.Output, "write shard plan: %w", err)
	}
	p.off += int64(len(entry))
	return nil
}

func (p *shardPlan) endSection() {
	if n := len(p.sections); n > 0 && p.sections[n-1].SHA256 == "" {
		cur := &p.sections[n-1]
		cur.Bytes = p.off - cur.Offset
		cur.SHA256 = hex.EncodeToString(p.h.Sum(nil))
		p.h.Reset()
	}
}

func (p *shardPlan) keep(b *batch, i int) error {
	it := &b.items[i]
	if p.packed {
		p.lens = append(p.lens, int32(it.tokEnd-it.tokStart))
		p.ts = append(p.ts, int32(it.trainStart))
		p.te = append(p.te, int32(it.trainEnd))
		p.digits = append(p.digits, int32(it.idDigits+it.labelDigits+positionDigits(it.tokEnd-it.tokStart)))
		p.tasks = append(p.tasks, int32(p.task))
		p.tokOff = append(p.tokOff, int64(it.tokStart))
		p.sum = append(p.sum, p.sums[i])
		p.idArena = append(p.idArena, it.id...)
		p.idEnd = append(p.idEnd, uint32(len(p.idArena)))
		return nil
	}
	n := it.end - it.start
	s, _ := p.planner.Add(n)
	e := binary.AppendUvarint(p.buf[:0], uint64(p.task))
	e = binary.AppendUvarint(e, uint64(it.start))
	e = binary.AppendUvarint(e, uint64(n))
	e = binary.LittleEndian.AppendUint32(e, p.sums[i])
	if p.index {
		e = appendStr(e, it.id)
	}
	p.buf = e
	return p.row(s, e)
}

func (p *shardPlan) id(i int32) []byte {
	start := uint32(0)
	if i > 0 {
		start = p.idEnd[i-1]
	}
	return p.idArena[start:p.idEnd[i]]
}

// packAndPlan packs the kept samples (packBins, as run does) and plans one row per bin.
func (p *shardPlan) packAndPlan(ctx context.Context) (*stats.PackingStat, error) {
	bins, ps, err := packBins(p.cfg, p.lens)
	if err != nil {
		return nil, err
	}
	for _, bin := range bins {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, d := 0, 0
		for _, si := range bin {
			n += int(p.lens[si])
			d += int(p.digits[si])
		}
		lineLen := packedLineLen(n, d)
		s, _ := p.planner.Add(lineLen)
		e := binary.AppendUvarint(p.buf[:0], uint64(lineLen))
		e = binary.AppendUvarint(e, uint64(len(bin)))
		for _, si := range bin {
			e = binary.AppendUvarint(e, uint64(p.tasks[si]))
			e = binary.AppendUvarint(e, uint64(p.tokOff[si]))
			e = binary.AppendUvarint(e, uint64(p.lens[si]))
			e = binary.AppendUvarint(e, uint64(p.ts[si]))
			e = binary.AppendUvarint(e, uint64(p.te[si]))
			e = binary.LittleEndian.AppendUint32(e, p.sum[si])
			id := p.id(si)
			e = binary.AppendUvarint(e, uint64(len(id)))
			e = append(e, id...)
		}
		p.buf = e
		if err := p.row(s, e); err != nil {
			return nil, err
		}
	}
	return ps, nil
}

// close ends the last section and closes shards.bin.
func (p *shardPlan) close() error {
	p.endSection()
	if err := p.w.Flush(); err != nil {
		return exitcode.Errorf(exitcode.Output, "write shard plan: %w", err)
	}
	if err := p.f.Close(); err != nil {
		return exitcode.Errorf(exitcode.Output, "write shard plan: %w", err)
	}
	return nil
}

// Reduce runs the reduce stages over every map task's records, in order, and plans the shards.
func (b *stagedBody) Reduce(ctx context.Context, t *stage.Task) error {
	start := time.Now()
	cfg, err := b.recipe(t.Plan)
	if err != nil {
		return err
	}
	defer setGCPercent(runGCPercent(cfg))() // as run: the index is most of reduce's heap
	inputs := planInputs(cfg, t.Plan)
	rejDir := filepath.Join(t.Dir, "rejected")
	if err := os.MkdirAll(rejDir, 0o755); err != nil {
		return exitcode.Errorf(exitcode.Output, "create %s: %w", rejDir, err)
	}
	red, err := newReducer(cfg, inputs, rejDir)
	if err != nil {
		return err
	}
	defer red.reject.Abort() // a no-op once closed
	plan, err := newShardPlan(cfg, filepath.Join(t.Dir, "shards.bin"))
	if err != nil {
		return err
	}
	defer plan.f.Close()
	red.out = plan
	bt := &batch{}
	packed := cfg.Format == FormatPacked
	for i := 0; i < t.Plan.Tasks; i++ {
		path, err := t.InputFile(stage.Map, i, "records.bin")
		if err != nil {
			return err
		}
		plan.task = i
		err = readRecords(path, packed, bt, func(b *batch, sums []uint32) error {
			plan.sums = sums
			return red.merge(ctx, b)
		})
		if err != nil {
			return fmt.Errorf("map task %d: %w", i, err)
		}
	}
	rssIndex := maxRSS()
	red.endStream()
	var packing *stats.PackingStat
	if packed {
		if packing, err = plan.packAndPlan(ctx); err != nil {
			return err
		}
	}
	if err := red.check(); err != nil {
		return err
	}
	if err := plan.close(); err != nil {
		return err
	}
	rejected, err := red.closeRejected()
	if err != nil {
		return err
	}
	for i := range rejected {
		rejected[i].Path = "rejected/" + filepath.Base(rejected[i].Path)
	}
	doc, err := marshalJSON(red.document(packing), "")
	if err != nil {
		return err
	}
	res := reduceResult{Format: reduceFormat, Shards: plan.sections, Rejected: nonNil(rejected), Stats: doc}
	out, err := marshalJSON(res, " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(t.Dir, "reduce.json"), out, 0o644); err != nil {
		return exitcode.Errorf(exitcode.Output, "write reduce.json: %w", err)
	}
	el := time.Since(start).Seconds()
	sum := reduceSummary{RowsRead: red.ledger.RowsRead, RowsKept: red.ledger.RowsKept, Shards: len(plan.sections),
		MaxRSSBytes: max(rssIndex, maxRSS())}
	if sum.RowsRead > 0 {
		sum.NsPerRow = round3(el * 1e9 / float64(sum.RowsRead))
	}
	fmt.Fprintf(t.Stderr, "orcaprep reduce: %d rows read, %d kept, %d shards planned in %.1fs (%.2f µs/row), peak RSS %.0f MB\n",
		sum.RowsRead, sum.RowsKept, sum.Shards, el, sum.NsPerRow/1000, float64(sum.MaxRSSBytes)/1e6)
	return t.SetSummary(sum)
}
