package shard

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func writeN(t *testing.T, o Options, n int) []Info {
	t.Helper()
	w, err := NewWriter(o)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := w.WriteLine([]byte(fmt.Sprintf(`{"i":%d,"text":"<|im_start|>x"}`, i))); err != nil {
			t.Fatal(err)
		}
	}
	infos, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	return infos
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if filepath.Ext(path) == ".zst" {
		zr, err := zstd.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	}
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		if !json.Valid(sc.Bytes()) {
			t.Fatalf("invalid JSON line %q", sc.Text())
		}
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRotationByRowsAndChecksums(t *testing.T) {
	for _, c := range []Compression{None, Zstd} {
		dir := t.TempDir()
		infos := writeN(t, Options{Dir: dir, Compression: c, MaxRows: 4}, 10)
		if len(infos) != 3 || infos[0].Rows != 4 || infos[2].Rows != 2 {
			t.Fatalf("%s: rotation wrong: %+v", c, infos)
		}
		total := 0
		for i, in := range infos {
			sum, n, err := FileSHA256(in.Path)
			if err != nil || sum != in.SHA256 || n != in.Bytes {
				t.Fatalf("%s shard %d: sha/bytes mismatch %v %s %d vs %+v", c, i, err, sum, n, in)
			}
			lines := readLines(t, in.Path)
			if int64(len(lines)) != in.Rows {
				t.Fatalf("%s: shard %d has %d lines, info says %d", c, i, len(lines), in.Rows)
			}
			total += len(lines)
		}
		if total != 10 {
			t.Fatalf("lost lines: %d", total)
		}
		left, _ := filepath.Glob(filepath.Join(dir, ".*"))
		if len(left) != 0 {
			t.Fatalf("temporary files left: %v", left)
		}
	}
}

func TestRotationByBytes(t *testing.T) {
	dir := t.TempDir()
	infos := writeN(t, Options{Dir: dir, MaxBytes: 100}, 10)
	for _, in := range infos {
		if in.Bytes > 100 {
			t.Fatalf("shard over max_bytes: %+v", in)
		}
	}
	if len(infos) < 3 {
		t.Fatalf("expected several shards, got %d", len(infos))
	}
}

func TestAbortLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	w, _ := NewWriter(Options{Dir: dir})
	if err := w.WriteLine([]byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	ents, _ := os.ReadDir(dir)
	if len(ents) != 0 {
		t.Fatalf("abort left %v", ents)
	}
}

func TestNoOutputWithoutLines(t *testing.T) {
	dir := t.TempDir()
	if infos := writeN(t, Options{Dir: dir}, 0); len(infos) != 0 {
		t.Fatalf("empty writer produced shards: %+v", infos)
	}
	if _, err := ParseCompression("lz4"); err == nil {
		t.Fatal("bad compression accepted")
	}
}

// A line bigger than a chunk takes the no-copy path; the shard must still hold every line, in order, with the
// right checksum and counts, compressed or not.
func TestHugeLinesBetweenSmallOnes(t *testing.T) {
	for _, comp := range []Compression{None, Zstd} {
		dir := t.TempDir()
		w, err := NewWriter(Options{Dir: dir, Compression: comp})
		if err != nil {
			t.Fatal(err)
		}
		big := `{"text":"` + strings.Repeat("ab", 3*chunkSize/2) + `"}`
		want := []string{`{"i":0}`, big, `{"i":2}`, big, big, `{"i":5}`}
		for _, l := range want {
			line := []byte(l)
			if err := w.WriteLine(line); err != nil {
				t.Fatal(err)
			}
			clear(line) // the caller reuses its buffer as soon as WriteLine returns
		}
		infos, err := w.Close()
		if err != nil {
			t.Fatal(err)
		}
		got := readLines(t, infos[0].Path)
		if !slices.Equal(got, want) || infos[0].Rows != int64(len(want)) {
			t.Fatalf("%s: %d lines (rows %d), want %d in order", comp, len(got), infos[0].Rows, len(want))
		}
		if sum, _, err := FileSHA256(infos[0].Path); err != nil || sum != infos[0].SHA256 {
			t.Fatalf("%s: checksum %s, recorded %s (%v)", comp, sum, infos[0].SHA256, err)
		}
	}
}

// TestPlannerCutsWhereWriterRotates writes lines of random lengths through a rotating Writer, plans the same
// lengths with a Planner, then writes each planned shard with a Writer of its own (FirstShard, no rotation), as a
// staged run's write tasks do: the shard files must be the same bytes (zstd included) with the same Infos.
func TestPlannerCutsWhereWriterRotates(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	lines := make([][]byte, 700)
	for i := range lines {
		n := 1 + rng.IntN(300)
		if i%97 == 0 {
			n = 5000 // longer than max_bytes on its own: a shard of one row
		}
		l := make([]byte, n)
		for j := range l {
			l[j] = 'a' + byte(rng.IntN(26))
		}
		lines[i] = l
	}
	for _, lim := range [][2]int64{{0, 0}, {50, 0}, {0, 4096}, {37, 3000}, {1, 0}} {
		for _, comp := range []Compression{None, Zstd} {
			name := fmt.Sprintf("max_rows=%d max_bytes=%d %s", lim[0], lim[1], comp)
			one := Options{Dir: t.TempDir(), Prefix: "train", Compression: comp, MaxRows: lim[0], MaxBytes: lim[1]}
			w, err := NewWriter(one)
			if err != nil {
				t.Fatal(err)
			}
			p := NewPlanner(lim[0], lim[1])
			var shardRows [][][]byte
			for _, l := range lines {
				if err := w.WriteLine(l); err != nil {
					t.Fatal(err)
				}
				s, row := p.Add(len(l))
				if s == len(shardRows) {
					shardRows = append(shardRows, nil)
				}
				if s != len(shardRows)-1 || row != int64(len(shardRows[s])) {
					t.Fatalf("%s: planner placed a line at shard %d row %d after %d shards", name, s, row, len(shardRows))
				}
				shardRows[s] = append(shardRows[s], l)
				if got, gotRow := w.Position(); got != one.Name(s) || gotRow != row {
					t.Fatalf("%s: writer put the line at %s row %d, planner at %s row %d", name, got, gotRow, one.Name(s), row)
				}
			}
			want, err := w.Close()
			if err != nil {
				t.Fatal(err)
			}
			if len(want) != p.Shards() {
				t.Fatalf("%s: writer made %d shards, planner %d", name, len(want), p.Shards())
			}
			dir := t.TempDir()
			for s, rows := range shardRows {
				sw, err := NewWriter(Options{Dir: dir, Prefix: "train", Compression: comp, FirstShard: s})
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range rows {
					if err := sw.WriteLine(l); err != nil {
						t.Fatal(err)
					}
				}
				got, err := sw.Close()
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != 1 || filepath.Base(got[0].Path) != filepath.Base(want[s].Path) || got[0].SHA256 != want[s].SHA256 || got[0].Rows != want[s].Rows || got[0].Bytes != want[s].Bytes {
					t.Fatalf("%s: shard %d written alone: %+v, rotating writer: %+v", name, s, got, want[s])
				}
			}
		}
	}
}
