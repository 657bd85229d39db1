package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/shard"
	"github.com/orcaprep/orcaprep/stage"
)

// The staged write: task k writes the whole shards s ≡ k (mod N) that reduce planned, reading each row's
// payload from the map task that made it, and writes them with the writer `run` uses (one writer per shard,
// named from FirstShard, not rotating: the plan already cut the shard where run's writer rotates). A shard
// never spans tasks, so its bytes — zstd frames included — are run's. index/ is written beside data/ the same
// way, with run's index lines.

// writtenShard is one shard a write task wrote (paths relative to OUT).
type writtenShard struct {
	Shard int         `json:"shard"`
	Data  shard.Info  `json:"data"`
	Index *shard.Info `json:"index,omitempty"`
}

// writeSummary is a write task's done-marker summary, which finalize reads.
type writeSummary struct {
	Shards      []writtenShard `json:"shards"`
	Rows        int64          `json:"rows"`
	MaxRSSBytes int64          `json:"max_rss_bytes"`
}

// readReduce reads and checks reduce.json.
func readReduce(t *stage.Task) (*reduceResult, string, error) {
	path, err := t.InputFile(stage.Reduce, 0, "reduce.json")
	if err != nil {
		return nil, "", err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", exitcode.With(exitcode.Integrity, err)
	}
	var r reduceResult
	if err := json.Unmarshal(b, &r); err != nil || r.Format != reduceFormat {
		return nil, "", exitcode.Errorf(exitcode.Integrity, "%s: not a reduce result (%v)", path, err)
	}
	return &r, filepath.Dir(path), nil
}

// payloads reads rows' payloads from the map tasks' payload.bin, each checked against its record's checksum.
// Lines are read through a window (a shard's rows are mostly consecutive in one map task's payload); packed
// samples, picked from anywhere by the packing, exactly.
type payloads struct {
	t     *stage.Task
	files map[int]*os.File
	win   map[int]*window
	raw   []byte
}

type window struct {
	start int64
	buf   []byte
}

const payloadWindow = 1 << 20

func (p *payloads) file(task int) (*os.File, error) {
	if f := p.files[task]; f != nil {
		return f, nil
	}
	dir, _, err := p.t.InputQuick(stage.Map, task)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(dir, "payload.bin"))
	if err != nil {
		return nil, exitcode.With(exitcode.Integrity, err)
	}
	p.files[task] = f
	return f, nil
}

func (p *payloads) close() {
	for _, f := range p.files {
		f.Close()
	}
}

// corrupt rejects map task task (its payload does not match its records) and returns the error to fail with.
func (p *payloads) corrupt(task int, off int64, n int, why string) error {
	p.close()
	clear(p.files)
	clear(p.win)
	return p.t.Reject(stage.Map, task, fmt.Errorf("map task %d: payload.bin bytes %d..%d %s", task, off, off+int64(n), why))
}

// line returns the n payload bytes at off of map task task (valid until the next call).
func (p *payloads) line(task int, off int64, n int, sum uint32) ([]byte, error) {
	f, err := p.file(task)
	if err != nil {
		return nil, err
	}
	w := p.win[task]
	if w == nil {
		w = &window{}
		p.win[task] = w
	}
	if off < w.start || off+int64(n) > w.start+int64(len(w.buf)) {
		size := max(n, payloadWindow)
		if cap(w.buf) < size {
			w.buf = make([]byte, size)
		}
		w.buf = w.buf[:size]
		got, err := f.ReadAt(w.buf, off)
		if err != nil && err != io.EOF {
			return nil, exitcode.With(exitcode.Integrity, err)
		}
		w.start, w.buf = off, w.buf[:got]
		if got < n {
			return nil, p.corrupt(task, off, n, "are past the end of the file")
		}
	}
	b := w.buf[off-w.start : off-w.start+int64(n)]
	if payloadSum(b) != sum {
		return nil, p.corrupt(task, off, n, "do not match their record's checksum")
	}
	return b, nil
}

// tokens returns the n token ids at token offset off of map task task, as little-endian bytes.
func (p *payloads) tokens(task int, off int64, n int, sum uint32) ([]byte, error) {
	f, err := p.file(task)
	if err != nil {
		return nil, err
	}
	if cap(p.raw) < 4*n {
		p.raw = make([]byte, 4*n)
	}
	b := p.raw[:4*n]
	if got, err := f.ReadAt(b, 4*off); got < len(b) {
		if err != nil && err != io.EOF {
			return nil, exitcode.With(exitcode.Integrity, err)
		}
		return nil, p.corrupt(task, 4*off, len(b), "are past the end of the file")
	}
	if payloadSum(b) != sum {
		return nil, p.corrupt(task, 4*off, len(b), "do not match their record's checksum")
	}
	return b, nil
}

// Write writes the task's shards from the plan.
func (b *stagedBody) Write(ctx context.Context, t *stage.Task) error {
	cfg, err := b.recipe(t.Plan)
	if err != nil {
		return err
	}
	res, dir, err := readReduce(t)
	if err != nil {
		return err
	}
	planF, err := os.Open(filepath.Join(dir, "shards.bin"))
	if err != nil {
		return exitcode.With(exitcode.Integrity, err)
	}
	defer planF.Close()
	pay := &payloads{t: t, files: map[int]*os.File{}, win: map[int]*window{}}
	defer pay.close()
	dataDir, idxDir := filepath.Join(t.Dir, "data"), filepath.Join(t.Dir, "index")
	for _, d := range []string{dataDir, idxDir} {
		if d == idxDir && !hasIndex(cfg) {
			continue
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return exitcode.Errorf(exitcode.Output, "create %s: %w", d, err)
		}
	}
	var sum writeSummary
	var sec []byte
	for _, s := range res.Shards {
		if s.Shard%t.Count != t.Index {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if cap(sec) < int(s.Bytes) {
			sec = make([]byte, s.Bytes)
		}
		sec = sec[:s.Bytes]
		if _, err := planF.ReadAt(sec, s.Offset); err != nil {
			return exitcode.Errorf(exitcode.Integrity, "shard plan: %w", err)
		}
		if h := sha256.Sum256(sec); hex.EncodeToString(h[:]) != s.SHA256 {
			return t.Reject(stage.Reduce, 0, fmt.Errorf("reduce: shards.bin section of shard %d does not match reduce.json's sha256", s.Shard))
		}
		ws, err := writeShard(ctx, cfg, s, sec, pay, dataDir, idxDir)
		if err != nil {
			return err
		}
		sum.Shards = append(sum.Shards, ws)
		sum.Rows += s.Rows
	}
	sum.MaxRSSBytes = maxRSS()
	fmt.Fprintf(t.Stderr, "orcaprep write: task %d: %d shards, %d rows\n", t.Index, len(sum.Shards), sum.Rows)
	return t.SetSummary(sum)
}

// writeShard writes shard s (and its index) from its plan section.
func writeShard(ctx context.Context, cfg *Config, s shardSection, sec []byte, pay *payloads, dataDir, idxDir string) (writtenShard, error) {
	o := dataOptions(cfg, dataDir)
	o.MaxRows, o.MaxBytes, o.FirstShard = 0, 0, s.Shard // the plan cut the shard already
	data, err := shard.NewWriter(o)
	if err != nil {
		return writtenShard{}, err
	}
	defer data.Abort() // a no-op once closed
	var index *shard.Writer
	if hasIndex(cfg) {
		iopt := indexOptions(cfg, idxDir)
		iopt.FirstShard = s.Shard
		if index, err = shard.NewWriter(iopt); err != nil {
			return writtenShard{}, err
		}
		defer index.Abort()
	}
	name := o.Name(s.Shard)
	d := &dec{b: sec, s: string(sec)}
	var (
		row     packedRow
		idxLine []byte
		ids     []string
	)
	for r := int64(0); r < s.Rows; r++ {
		if r%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return writtenShard{}, err
			}
		}
		var line []byte
		ids = ids[:0]
		if cfg.Format == FormatPacked {
			lineLen := int(d.uvarint())
			ns := int(d.uvarint())
			row.reset()
			for k := 0; k < ns && d.err == nil; k++ {
				task, off, n := int(d.uvarint()), int64(d.uvarint()), int(d.uvarint())
				ts, te := int(d.uvarint()), int(d.uvarint())
				sum := d.u32()
				ids = append(ids, d.str())
				if d.err != nil {
					break
				}
				raw, err := pay.tokens(task, off, n, sum)
				if err != nil {
					return writtenShard{}, err
				}
				row.add(raw, ts, te)
			}
			if d.err == nil {
				line = row.render()
				if len(line) != lineLen {
					return writtenShard{}, exitcode.Errorf(exitcode.Failure, "internal error: shard %d row %d: packed line of %d bytes, planned %d", s.Shard, r, len(line), lineLen)
				}
			}
		} else {
			task, off, n := int(d.uvarint()), int64(d.uvarint()), int(d.uvarint())
			sum := d.u32()
			if hasIndex(cfg) {
				ids = append(ids, d.str())
			}
			if d.err == nil {
				if line, err = pay.line(task, off, n, sum); err != nil {
					return writtenShard{}, err
				}
			}
		}
		if d.err != nil {
			return writtenShard{}, exitcode.Errorf(exitcode.Integrity, "shard plan of shard %d, row %d: %w", s.Shard, r, d.err)
		}
		if err := data.WriteLine(line); err != nil {
			return writtenShard{}, exitcode.With(exitcode.Output, err)
		}
		if index != nil {
			idxLine = appendIndexLine(idxLine[:0], name, r, ids...)
			if err := index.WriteLine(idxLine); err != nil {
				return writtenShard{}, exitcode.With(exitcode.Output, err)
			}
		}
	}
	if d.err == nil && d.off != len(sec) {
		return writtenShard{}, exitcode.Errorf(exitcode.Integrity, "shard plan of shard %d: %d bytes left after %d rows", s.Shard, len(sec)-d.off, s.Rows)
	}
	infos, err := data.Close()
	if err != nil {
		return writtenShard{}, exitcode.With(exitcode.Output, err)
	}
	if len(infos) != 1 || infos[0].Rows != s.Rows {
		return writtenShard{}, exitcode.Errorf(exitcode.Failure, "internal error: shard %d: %d files written", s.Shard, len(infos))
	}
	ws := writtenShard{Shard: s.Shard, Data: infos[0]}
	ws.Data.Path = "data/" + filepath.Base(ws.Data.Path)
	if index != nil {
		ii, err := index.Close()
		if err != nil {
			return writtenShard{}, exitcode.With(exitcode.Output, err)
		}
		if len(ii) != 1 {
			return writtenShard{}, exitcode.Errorf(exitcode.Failure, "internal error: index of shard %d: %d files written", s.Shard, len(ii))
		}
		ii[0].Path = "index/" + filepath.Base(ii[0].Path)
		ws.Index = &ii[0]
	}
	return ws, nil
}
