package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/stage"
	"github.com/orcaprep/orcaprep/stats"
)

// Finalize gathers the shards of every write task (sha256-checked) and reduce's rejected/, writes what `run`
// writes at the end (finish.go: OUT/tokenizer, stats.json, axolotl.yaml, report.html, manifest.json) and
// commits OUT atomically with run's outdir commit. stats.json's timing is the staged run's: per stage, the
// tasks' summed seconds, rows and largest peak memory.
func (b *stagedBody) Finalize(ctx context.Context, t *stage.Task) error {
	cfg, err := b.recipe(t.Plan)
	if err != nil {
		return err
	}
	inputs := planInputs(cfg, t.Plan)
	res, reduceDir, err := readReduce(t)
	if err != nil {
		return err
	}
	type link struct{ src, rel string }
	var links []link
	var files outputFiles
	for _, inf := range res.Rejected {
		src, err := t.InputFile(stage.Reduce, 0, inf.Path)
		if err != nil {
			return err
		}
		files.rejected = append(files.rejected, inf)
		links = append(links, link{src, inf.Path})
	}
	var written []writtenShard
	for i := 0; i < t.Plan.Tasks; i++ {
		dir, m, err := t.Input(stage.Write, i)
		if err != nil {
			return err
		}
		var ws writeSummary
		if err := json.Unmarshal(m.Summary, &ws); err != nil {
			return exitcode.Errorf(exitcode.Integrity, "write task %d: summary: %w", i, err)
		}
		for _, s := range ws.Shards {
			written = append(written, s)
			links = append(links, link{filepath.Join(dir, filepath.FromSlash(s.Data.Path)), s.Data.Path})
			if s.Index != nil {
				links = append(links, link{filepath.Join(dir, filepath.FromSlash(s.Index.Path)), s.Index.Path})
			}
		}
	}
	sort.Slice(written, func(i, j int) bool { return written[i].Shard < written[j].Shard })
	for i, s := range written {
		if s.Shard != i || i >= len(res.Shards) || s.Data.Rows != res.Shards[i].Rows {
			return exitcode.Errorf(exitcode.Integrity, "write tasks wrote shard %d as the %d-th of %d planned", s.Shard, i, len(res.Shards))
		}
		files.data = append(files.data, s.Data)
		if s.Index != nil {
			files.index = append(files.index, *s.Index)
		}
	}
	if len(written) != len(res.Shards) {
		return exitcode.Errorf(exitcode.Integrity, "write tasks wrote %d shards, reduce planned %d", len(written), len(res.Shards))
	}
	doc, err := stats.ParseDocument(res.Stats)
	if err != nil {
		return exitcode.Errorf(exitcode.Integrity, "%s/reduce.json: %w", reduceDir, err)
	}
	if err := doc.Ledger.Check(); err != nil {
		return exitcode.With(exitcode.Integrity, err)
	}
	if err := checkKeptRows(doc.Ledger); err != nil {
		return err
	}
	doc.Timing = stagedTiming(t)
	tok, info, err := b.tokenizer(ctx, cfg)
	if err != nil {
		return err
	}
	tokFiles, tokScheme, err := tokenizerFiles(cfg, tok)
	if err != nil {
		return err
	}
	to := tokenOut{info: info, files: tokFiles, scheme: tokScheme}
	manifest, err := marshalJSON(buildManifest(cfg, b.version, inputs, files, doc, to), "  ")
	if err != nil {
		return err
	}
	sum := sha256.Sum256(manifest)
	record := func() error {
		return t.SetSummary(map[string]string{"out": t.Plan.Out, "manifest_sha256": hex.EncodeToString(sum[:])})
	}
	// A finalize that committed OUT but died before its done marker: OUT already is this run's output.
	if cur, err := os.ReadFile(filepath.Join(t.Plan.Out, "manifest.json")); err == nil && bytes.Equal(cur, manifest) {
		return record()
	}
	reads := []string{cfg.Tokenizer.Path}
	for _, in := range t.Plan.Inputs {
		reads = append(reads, in.Path)
	}
	st, err := openOutput(t.Plan.Out, t.Plan.Overwrite, t.Stderr, reads)
	if err != nil {
		return err
	}
	defer st.close()
	for _, l := range links {
		dst, err := st.path(l.rel)
		if err != nil {
			return err
		}
		if err := linkFile(l.src, dst); err != nil {
			return exitcode.Errorf(exitcode.Output, "copy %s into %s: %w", l.rel, st.dir, err)
		}
	}
	if _, err := finishOutput(ctx, st, cfg, b.version, inputs, files, doc, to); err != nil {
		return err
	}
	if err := st.commit(ctx); err != nil {
		return err
	}
	return record()
}

// stagedTiming is stats.json's timing of a staged run: wall time since the plan was written, and per stage the
// summed task seconds, the rows, rows per task-second and the largest peak memory of a task.
func stagedTiming(t *stage.Task) stats.Timing {
	var stages []stats.StageTiming
	var rowsRead int64
	for _, name := range stage.Stages[:len(stage.Stages)-1] { // every stage before this one
		n := t.Plan.TaskCount(name)
		if n == 0 {
			continue
		}
		st := stats.StageTiming{Name: name, Tasks: n}
		var rss int64
		for i := 0; i < n; i++ {
			m, err := t.Work.CheckTask(t.Plan, name, i, stage.Quick)
			if err != nil {
				continue
			}
			st.Seconds += m.Seconds
			var s taskSummary
			var r reduceSummary
			if json.Unmarshal(m.Summary, &s) == nil {
				st.Rows += s.Rows
				rss = max(rss, s.MaxRSSBytes)
			}
			if name == stage.Reduce && json.Unmarshal(m.Summary, &r) == nil {
				st.Rows, rowsRead = r.RowsRead, r.RowsRead
			}
		}
		st.Seconds = round3(st.Seconds)
		if st.Seconds > 0 {
			st.RowsPerSec = round3(float64(st.Rows) / st.Seconds)
		}
		st.MaxRSSMB = round3(float64(rss) / 1e6)
		stages = append(stages, st)
	}
	var el float64
	if fi, err := os.Stat(t.Work.PlanPath()); err == nil {
		el = time.Since(fi.ModTime()).Seconds()
	}
	return timing(el, rowsRead, t.Plan.Tasks, stages)
}

// linkFile hard-links src to dst, copying when a link is impossible (another file system).
func linkFile(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
