package pipeline

import (
	"strconv"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/shard"
)

// The write stage: kept rows into data/ shards, rotated by output.max_rows and max_bytes, with index/
// mirroring data/ file for file in the token formats. `run` writes each line as the reduce keeps it
// (directWriter); a staged run's reduce plans the shards with the same rotation rule (shard.Planner) and
// its write tasks write whole shards with the same writer, lines and index lines (staged_write.go).

// dataOptions are the shard options of data/ in dir (index/ uses them without rotation: it rotates only when
// data/ does).
func dataOptions(cfg *Config, dir string) shard.Options {
	comp, _ := shard.ParseCompression(cfg.Output.Compression)
	return shard.Options{Dir: dir, Prefix: cfg.Output.Prefix, Compression: comp,
		MaxRows: cfg.Output.MaxRows, MaxBytes: cfg.Output.MaxBytes, ZstdConcurrency: 1}
}

// indexOptions are the shard options of index/ in dir.
func indexOptions(cfg *Config, dir string) shard.Options {
	o := dataOptions(cfg, dir)
	o.MaxRows, o.MaxBytes = 0, 0
	return o
}

// hasIndex reports whether the format writes index/ (which sample ids each data row holds).
func hasIndex(cfg *Config) bool { return cfg.Format == FormatTokenized || cfg.Format == FormatPacked }

// appendIndexLine renders index/'s line for data row row of shard name, holding the samples ids.
func appendIndexLine(l []byte, name string, row int64, ids ...string) []byte {
	l = append(l, `{"shard":`...)
	l = shard.AppendString(l, name)
	l = append(l, `,"row":`...)
	l = strconv.AppendInt(l, row, 10)
	l = append(l, `,"ids":[`...)
	for i, id := range ids {
		if i > 0 {
			l = append(l, ',')
		}
		l = shard.AppendString(l, id)
	}
	return append(l, "]}"...)
}

// directWriter is run's keeper for one-sample-per-row formats: each kept row's line goes to data/ at once
// (and its id to index/). Packed output goes through the packer instead (packed.go).
type directWriter struct {
	data    *shard.Writer
	index   *shard.Writer // nil unless hasIndex
	idxLine []byte
}

func newDirectWriter(cfg *Config, st *staging) (*directWriter, error) {
	dataDir, err := st.path("data/.keep")
	if err != nil {
		return nil, err
	}
	w := &directWriter{}
	if w.data, err = shard.NewWriter(dataOptions(cfg, dirOf(dataDir))); err != nil {
		return nil, err
	}
	if hasIndex(cfg) {
		idxDir, err := st.path("index/.keep")
		if err != nil {
			return nil, err
		}
		if w.index, err = shard.NewWriter(indexOptions(cfg, dirOf(idxDir))); err != nil {
			return nil, err
		}
	}
	return w, nil
}

func (w *directWriter) keep(b *batch, i int) error {
	it := &b.items[i]
	if err := w.data.WriteLine(b.arena[it.start:it.end]); err != nil {
		return exitcode.With(exitcode.Output, err)
	}
	if w.index != nil {
		return w.writeIndex(it.id)
	}
	return nil
}

// writeIndex records which sample ids the last data line holds, keeping index/ file-for-file with data/.
func (w *directWriter) writeIndex(ids ...string) error {
	name, row := w.data.Position()
	if w.index.Count() > 0 && w.index.Count() < w.data.Count() {
		if err := w.index.Rotate(); err != nil {
			return exitcode.With(exitcode.Output, err)
		}
	}
	w.idxLine = appendIndexLine(w.idxLine[:0], name, row, ids...)
	if err := w.index.WriteLine(w.idxLine); err != nil {
		return exitcode.With(exitcode.Output, err)
	}
	return nil
}

// close finishes data/ and index/ and returns their files.
func (w *directWriter) close() (data, index []shard.Info, err error) {
	if data, err = w.data.Close(); err != nil {
		return nil, nil, exitcode.With(exitcode.Output, err)
	}
	if w.index != nil {
		if index, err = w.index.Close(); err != nil {
			return nil, nil, exitcode.With(exitcode.Output, err)
		}
	}
	return data, index, nil
}

func (w *directWriter) abort() {
	w.data.Abort()
	if w.index != nil {
		w.index.Abort()
	}
}
