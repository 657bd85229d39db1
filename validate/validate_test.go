package validate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/shard"
	"github.com/orcaprep/orcaprep/stats"
)

const (
	testVocab  = 32003
	testSeqLen = 16384
)

// row is one data row of a token format before encoding, with the ids of its samples for the index.
type row struct {
	ids, mask, labels, pos []int32
	sampleIDs              []string
}

// fixture is an output directory described in memory; tests change it, then write it out with a manifest
// and stats.json computed from what is written (so only the injected defect is wrong).
type fixture struct {
	format  string
	zstd    bool
	rows    [][]row    // token formats: files → rows
	lines   [][]string // text/messages: files → lines
	samples int64      // kept samples
	dropped int64      // rows dropped (and written to rejected/)
	// hooks for defects
	editLedger   func(*stats.Ledger)
	editPacking  func(*stats.PackingStat)
	editManifest func(map[string]any)
	afterWrite   func(dir string) // runs after manifest.json is written: corrupts files behind its back
}

// sample returns n tokens of sample k: prompt masked with -100, the second half trained.
func sample(k, n int) (ids, labels []int32) {
	for i := 0; i < n; i++ {
		id := int32(3 + (k*7919+i*104729)%(testVocab-3))
		ids = append(ids, id)
		if i < n/2 {
			labels = append(labels, -100)
		} else {
			labels = append(labels, id)
		}
	}
	return ids, labels
}

func ones(n int) []int32 {
	m := make([]int32, n)
	for i := range m {
		m[i] = 1
	}
	return m
}

func newFixture(t *testing.T, format string, zst bool) *fixture {
	t.Helper()
	f := &fixture{format: format, zstd: zst, dropped: 3}
	const perFile, files = 12, 2
	k := 0
	for fi := 0; fi < files; fi++ {
		switch format {
		case FormatText, FormatMessages:
			var ls []string
			for i := 0; i < perFile; i++ {
				id := fmt.Sprintf("flan.%d", k)
				if format == FormatText {
					ls = append(ls, fmt.Sprintf(`{"id":%q,"text":"<|im_start|>user\nq%d<|im_end|>\n<|im_start|>assistant\na<|im_end|>\n"}`, id, k))
				} else {
					ls = append(ls, fmt.Sprintf(`{"id":%q,"messages":[{"role":"system","content":""},{"role":"user","content":"q%d"},{"role":"assistant","content":"a"}]}`, id, k))
				}
				k++
			}
			f.lines = append(f.lines, ls)
		case FormatTokenized:
			var rs []row
			for i := 0; i < perFile; i++ {
				ids, labels := sample(k, 5+k%30)
				rs = append(rs, row{ids: ids, mask: ones(len(ids)), labels: labels, sampleIDs: []string{fmt.Sprintf("t0.%d", k)}})
				k++
			}
			f.rows = append(f.rows, rs)
		case FormatPacked:
			// Pack 3*perFile samples into rows of ≤ 100 tokens with the real packer.
			var lengths []int32
			for i := 0; i < 3*perFile; i++ {
				lengths = append(lengths, int32(5+(k+i)%30))
			}
			bins, err := shard.Pack(lengths, 100, shard.PackFFD)
			if err != nil {
				t.Fatal(err)
			}
			var rs []row
			for _, bin := range bins {
				var r row
				for _, s := range bin {
					ids, labels := sample(k+int(s), int(lengths[s]))
					r.ids = append(r.ids, ids...)
					r.labels = append(r.labels, labels...)
					for p := range ids {
						r.pos = append(r.pos, int32(p))
					}
					r.sampleIDs = append(r.sampleIDs, fmt.Sprintf("cot.%d", k+int(s)))
				}
				r.mask = ones(len(r.ids))
				rs = append(rs, r)
			}
			k += len(lengths)
			f.rows = append(f.rows, rs)
		}
	}
	f.samples = int64(k)
	return f
}

func (f *fixture) tokenFormat() bool { return f.format == FormatTokenized || f.format == FormatPacked }

func (f *fixture) ext() string {
	if f.zstd {
		return ".jsonl.zst"
	}
	return ".jsonl"
}

// writeFile writes lines as a shard under dir/rel and returns its manifest entry.
func (f *fixture) writeFile(t *testing.T, dir, rel string, lines []string) shard.Info {
	t.Helper()
	var raw bytes.Buffer
	for _, l := range lines {
		raw.WriteString(l)
		raw.WriteByte('\n')
	}
	b := raw.Bytes()
	if f.zstd {
		enc, err := zstd.NewWriter(nil)
		if err != nil {
			t.Fatal(err)
		}
		b = enc.EncodeAll(b, nil)
		enc.Close()
	}
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	sum, n, err := shard.FileSHA256(p)
	if err != nil {
		t.Fatal(err)
	}
	return shard.Info{Path: rel, Rows: int64(len(lines)), Bytes: n, SHA256: sum}
}

func encodeRow(r row, packed bool) string {
	b := []byte(`{"input_ids":`)
	b = shard.AppendInt32s(b, r.ids)
	b = append(b, `,"attention_mask":`...)
	b = shard.AppendInt32s(b, r.mask)
	b = append(b, `,"labels":`...)
	b = shard.AppendInt32s(b, r.labels)
	if packed {
		b = append(b, `,"position_ids":`...)
		b = shard.AppendInt32s(b, r.pos)
	}
	return string(append(b, '}'))
}

func (f *fixture) write(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var shards, index, rejected []shard.Info
	var tokens, bins int64
	if f.tokenFormat() {
		for fi, rs := range f.rows {
			name := fmt.Sprintf("train-%05d%s", fi, f.ext())
			var data, idx []string
			for ri, r := range rs {
				data = append(data, encodeRow(r, f.format == FormatPacked))
				ids, _ := json.Marshal(r.sampleIDs)
				idx = append(idx, fmt.Sprintf(`{"shard":%q,"row":%d,"ids":%s}`, name, ri, ids))
				tokens += int64(len(r.ids))
				bins++
			}
			shards = append(shards, f.writeFile(t, dir, "data/"+name, data))
			index = append(index, f.writeFile(t, dir, "index/"+name, idx))
		}
	} else {
		for fi, ls := range f.lines {
			shards = append(shards, f.writeFile(t, dir, fmt.Sprintf("data/train-%05d%s", fi, f.ext()), ls))
		}
	}
	var rej []string
	for i := int64(0); i < f.dropped; i++ {
		rej = append(rej, fmt.Sprintf(`{"id":"niv.%d","reason":"refusal","file":"x.parquet","row":%d}`, i, i))
	}
	rejected = append(rejected, f.writeFile(t, dir, "rejected/rejected-00000"+f.ext(), rej))

	l := stats.NewLedger("select", "filter")
	for i := int64(0); i < f.samples+f.dropped; i++ {
		l.Read("flan")
		l.Pass("select")
		if i < f.dropped {
			l.Drop("flan", "filter", "refusal")
			continue
		}
		l.Pass("filter")
		l.Keep("flan")
	}
	doc := stats.Document{Ledger: l}
	if f.format == FormatPacked {
		doc.Packing = &stats.PackingStat{SequenceLen: testSeqLen, Samples: f.samples, Tokens: tokens, Bins: bins,
			Efficiency: float64(tokens) / float64(bins*testSeqLen), LowerBoundBins: (tokens + testSeqLen - 1) / testSeqLen}
		if f.editPacking != nil {
			f.editPacking(doc.Packing)
		}
	}
	if f.editLedger != nil {
		f.editLedger(l)
	}
	writeJSON(t, filepath.Join(dir, "stats.json"), doc)

	config := json.RawMessage(fmt.Sprintf(`{"format":%q,"chatml":{"style":"chatml"}}`, f.format))
	sum := sha256.Sum256(config)
	m := map[string]any{
		"tool": "orcaprep", "version": "test", "format": f.format, "config": config,
		"config_sha256": hex.EncodeToString(sum[:]), "inputs": []any{},
		"shards": shards, "rejected": rejected, "rows_read": l.RowsRead, "rows_kept": l.RowsKept,
	}
	if f.tokenFormat() {
		m["index"] = index
		m["tokenizer"] = map[string]any{"vocab_size": testVocab, "bos": 1, "eos": 2,
			"added_tokens": map[string]int{"<pad>": 32000, "<|im_start|>": 32001, "<|im_end|>": 32002}}
		m["sequence_len"] = testSeqLen
	}
	if f.editManifest != nil {
		f.editManifest(m)
	}
	writeJSON(t, filepath.Join(dir, "manifest.json"), m)
	// axolotl.yaml as a run writes it: absolute dataset paths (none for text, not a training format).
	axo := "sequence_len: 16384\n"
	if f.format != FormatText {
		axo += "datasets:\n"
		for _, s := range shards {
			axo += fmt.Sprintf("  - path: %s\n    ds_type: json\n", filepath.Join(dir, s.Path))
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "axolotl.yaml"), []byte(axo), 0o644); err != nil {
		t.Fatal(err)
	}
	if f.afterWrite != nil {
		f.afterWrite(dir)
	}
	return dir
}

func writeJSON(t *testing.T, p string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, dir string, o Options) (Report, error, string) {
	t.Helper()
	var out bytes.Buffer
	rep, err := Run(context.Background(), dir, o, &out)
	return rep, err, out.String()
}

// mustFail runs validate and requires an Integrity failure whose problems include every want substring.
func mustFail(t *testing.T, dir string, want ...string) Report {
	t.Helper()
	rep, err, out := run(t, dir, Options{MaxErrors: 100})
	if err == nil {
		t.Fatalf("validate passed, want failure mentioning %q; output:\n%s", want, out)
	}
	if exitcode.Code(err) != exitcode.Integrity {
		t.Fatalf("exit code %d (%v), want %d", exitcode.Code(err), err, exitcode.Integrity)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("failed validation: %s (listed on standard output)", plural(rep.Errors, "error"))) ||
		strings.Contains(err.Error(), rep.Problems[0].Msg) {
		t.Fatalf("error %q must give the count, and not repeat a problem the output lists", err)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Fatalf("output lacks %q:\n%s", w, out)
		}
	}
	return rep
}

var allFormats = []string{FormatText, FormatMessages, FormatTokenized, FormatPacked}

func TestGoodOutputPasses(t *testing.T) {
	for _, format := range allFormats {
		for _, zst := range []bool{false, true} {
			f := newFixture(t, format, zst)
			dir := f.write(t)
			rep, err, out := run(t, dir, Options{})
			if err != nil {
				t.Fatalf("%s zstd=%v: %v\n%s", format, zst, err, out)
			}
			if rep.Samples != f.samples || rep.DataFiles != 2 || rep.Errors != 0 {
				t.Fatalf("%s: report %+v, want %d samples in 2 files", format, rep, f.samples)
			}
			if strings.Count(out, "\n") != 1 || !strings.Contains(out, " ok: "+format) || !strings.Contains(out, "ledger adds up") {
				t.Fatalf("%s: summary %q", format, out)
			}
			if f.tokenFormat() && rep.Tokens == 0 {
				t.Fatalf("%s: no tokens counted", format)
			}
		}
	}
}

func flipByte(t *testing.T, p string, at func(b []byte) int) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	i := at(b)
	b[i] ^= 0x01
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFlippedByte(t *testing.T) {
	for _, format := range allFormats {
		for _, zst := range []bool{false, true} {
			f := newFixture(t, format, zst)
			shard0 := "data/train-00000" + f.ext()
			f.afterWrite = func(dir string) {
				// A digit or letter in the middle of the file: '4'^1 = '5', so the JSON stays valid when
				// uncompressed and only the checksum can tell.
				flipByte(t, filepath.Join(dir, shard0), func(b []byte) int {
					for i := len(b) / 2; i < len(b); i++ {
						if b[i] >= '0' && b[i] <= '8' || f.zstd {
							return i
						}
					}
					t.Fatal("no byte to flip")
					return 0
				})
			}
			rep := mustFail(t, f.write(t), shard0+": sha256 ")
			if p := rep.Problems[0]; p.File != shard0 || !strings.HasPrefix(p.Msg, "sha256 ") {
				t.Fatalf("%s zstd=%v: first problem %v, want the checksum (the cause) before its symptoms", format, zst, p)
			}
		}
	}
}

func TestRowLongerThanSequenceLen(t *testing.T) {
	for _, format := range []string{FormatTokenized, FormatPacked} {
		f := newFixture(t, format, false)
		ids, labels := sample(999, testSeqLen+1)
		r := row{ids: ids, mask: ones(len(ids)), labels: labels, sampleIDs: []string{"niv.999"}}
		if format == FormatPacked {
			for p := range ids {
				r.pos = append(r.pos, int32(p))
			}
		}
		f.rows[1] = append(f.rows[1], r)
		f.samples++
		rep := mustFail(t, f.write(t), fmt.Sprintf("data/train-00001.jsonl:%d: row has 16385 tokens, more than sequence_len 16384", len(f.rows[1])))
		if rep.Errors != 1 {
			t.Fatalf("%s: %d errors, want exactly the long row: %+v", format, rep.Errors, rep.Problems)
		}
	}
}

func TestPositionIDs(t *testing.T) {
	// A sample boundary whose reset is missing: position_ids run on, so the row seems to hold one sample
	// fewer than the index lists.
	f := newFixture(t, FormatPacked, true)
	r := &f.rows[0][0]
	if len(r.sampleIDs) < 2 {
		t.Fatal("fixture row holds one sample")
	}
	for i := range r.pos {
		r.pos[i] = int32(i)
	}
	mustFail(t, f.write(t), fmt.Sprintf("data/train-00000.jsonl.zst:1: position_ids start 1 samples but the index lists %d ids", len(r.sampleIDs)))

	// A reset to something other than 0, and a row that does not start at 0.
	f = newFixture(t, FormatPacked, false)
	f.rows[0][1].pos[3] = 7
	f.rows[1][0].pos[0] = 1
	mustFail(t, f.write(t), "data/train-00000.jsonl:2: position_ids[3] = 7 after 2: want 3, or 0 to start a sample",
		"data/train-00001.jsonl:1: position_ids[0] = 1, want 0")
}

func TestLabelAndVocabulary(t *testing.T) {
	for _, format := range []string{FormatTokenized, FormatPacked} {
		f := newFixture(t, format, false)
		r := &f.rows[0][2]
		last := len(r.ids) - 1
		r.labels[last] = r.ids[last] + 1
		f.rows[1][0].ids[1] = testVocab
		f.rows[1][1].mask[0] = 0
		mustFail(t, f.write(t),
			fmt.Sprintf("data/train-00000.jsonl:3: labels[%d] = %d is neither -100 nor input_ids[%d] = %d", last, r.ids[last]+1, last, r.ids[last]),
			"data/train-00001.jsonl:1: input_ids[1] = 32003 is outside the vocabulary [0, 32003)",
			"data/train-00001.jsonl:2: attention_mask[0] = 0, want 1")
	}
}

func TestArrayLengths(t *testing.T) {
	f := newFixture(t, FormatTokenized, false)
	f.rows[0][0].labels = f.rows[0][0].labels[1:]
	r := mustFail(t, f.write(t), "data/train-00000.jsonl:1: array lengths differ")
	if r.Errors != 1 {
		t.Fatalf("%+v", r.Problems)
	}
}

func TestIndexMismatch(t *testing.T) {
	f := newFixture(t, FormatPacked, false)
	f.rows[0][0].sampleIDs = append(f.rows[0][0].sampleIDs, "t0.777")
	f.samples++ // keep the ledger consistent: only the row/index disagreement remains
	mustFail(t, f.write(t), fmt.Sprintf("data/train-00000.jsonl:1: position_ids start %d samples but the index lists %d ids",
		len(f.rows[0][0].sampleIDs)-1, len(f.rows[0][0].sampleIDs)))

	f = newFixture(t, FormatTokenized, false)
	f.rows[0] = f.rows[0][:len(f.rows[0])-1]
	f.samples--
	f.afterWrite = func(dir string) {
		// An index file with one more line than its data file (manifest updated to match, so only the
		// mirror check can see it).
		p := filepath.Join(dir, "index/train-00000.jsonl")
		b, _ := os.ReadFile(p)
		b = append(b, []byte(`{"shard":"train-00000.jsonl","row":11,"ids":["t0.11"]}`+"\n")...)
		os.WriteFile(p, b, 0o644)
		var m map[string]any
		mb, _ := os.ReadFile(filepath.Join(dir, "manifest.json"))
		json.Unmarshal(mb, &m)
		sum, n, _ := shard.FileSHA256(p)
		idx := m["index"].([]any)[0].(map[string]any)
		idx["sha256"], idx["bytes"], idx["rows"] = sum, n, 12
		writeJSON(t, filepath.Join(dir, "manifest.json"), m)
	}
	mustFail(t, f.write(t), "index/train-00000.jsonl:12: index has more rows than data/train-00000.jsonl (11)")
}

func TestLedger(t *testing.T) {
	f := newFixture(t, FormatText, false)
	f.editLedger = func(l *stats.Ledger) { l.Dropped["refusal"]-- } // one dropped row unaccounted for
	mustFail(t, f.write(t), "stats.json: ledger does not add up")

	f = newFixture(t, FormatMessages, false)
	f.editLedger = func(l *stats.Ledger) { l.Stages[1].Out++ }
	mustFail(t, f.write(t), "stats.json: ledger does not add up for stage filter")

	// The ledger adds up but claims more kept rows than the shards hold.
	f = newFixture(t, FormatTokenized, true)
	f.rows[1] = f.rows[1][:5]
	mustFail(t, f.write(t), "stats.json: rows_kept is 24 but the output holds 17 samples (sample ids in index/)")

	f = newFixture(t, FormatPacked, false)
	f.editPacking = func(p *stats.PackingStat) { p.Bins++; p.Efficiency *= 1.01 }
	rows := len(f.rows[0]) + len(f.rows[1])
	mustFail(t, f.write(t), fmt.Sprintf("stats.json: packing.bins is %d, the shards give %d", rows+1, rows), "stats.json: packing.efficiency is ")
}

func TestTruncatedZstd(t *testing.T) {
	f := newFixture(t, FormatPacked, true)
	f.afterWrite = func(dir string) {
		p := filepath.Join(dir, "data/train-00001.jsonl.zst")
		b, _ := os.ReadFile(p)
		os.WriteFile(p, b[:len(b)-len(b)/3], 0o644)
	}
	rep := mustFail(t, f.write(t), "data/train-00001.jsonl.zst: size ", "data/train-00001.jsonl.zst: sha256 ")
	found := false
	for _, p := range rep.Problems {
		found = found || (p.File == "data/train-00001.jsonl.zst" && p.Line > 0)
	}
	if !found {
		t.Fatalf("the broken zstd stream itself was not reported: %+v", rep.Problems)
	}
}

func TestTruncatedPlainFile(t *testing.T) {
	f := newFixture(t, FormatText, false)
	f.afterWrite = func(dir string) {
		p := filepath.Join(dir, "data/train-00000.jsonl")
		b, _ := os.ReadFile(p)
		os.WriteFile(p, b[:len(b)-5], 0o644)
	}
	mustFail(t, f.write(t), "data/train-00000.jsonl:12: last line has no newline (file truncated?)")
}

func TestTextAndMessagesRows(t *testing.T) {
	f := newFixture(t, FormatMessages, false)
	f.lines[0][3] = `{"id":"flan.3","messages":[{"role":"assistant","content":"a"},{"role":"user","content":"q"}]}`
	f.lines[1][0] = `{"id":"flan.12","messages":[],"extra":1}`
	mustFail(t, f.write(t), "data/train-00000.jsonl:4: messages must be [system,] user, assistant",
		`data/train-00001.jsonl:1: invalid JSON: json: unknown field "extra"`)

	f = newFixture(t, FormatText, true)
	f.lines[1][2] = `{"id":"flan.14","text":"x"} trailing`
	f.lines[1][3] = `{"id":"","text":"x"}`
	mustFail(t, f.write(t), "data/train-00001.jsonl.zst:3: invalid JSON", `data/train-00001.jsonl.zst:4: want non-empty "id" and "text"`)
}

func TestFilesAgainstManifest(t *testing.T) {
	f := newFixture(t, FormatText, false)
	f.afterWrite = func(dir string) {
		os.WriteFile(filepath.Join(dir, "data/train-00009.jsonl"), []byte("{}\n"), 0o644)
		os.Remove(filepath.Join(dir, "rejected/rejected-00000.jsonl"))
	}
	mustFail(t, f.write(t), "data/train-00009.jsonl: file is not listed in manifest.json",
		"rejected/rejected-00000.jsonl: listed in manifest.json but missing")

	f = newFixture(t, FormatTokenized, false)
	f.editManifest = func(m map[string]any) {
		m["shards"].([]shard.Info)[0].Path = "data/../../etc/passwd"
		m["config_sha256"] = strings.Repeat("0", 64)
	}
	mustFail(t, f.write(t), `shards[0].path "data/../../etc/passwd" is not a file under data/`, "config_sha256")
}

func TestBadManifest(t *testing.T) {
	dir := t.TempDir()
	_, err, _ := run(t, dir, Options{})
	if exitcode.Code(err) != exitcode.Input || !strings.Contains(err.Error(), "has no manifest.json") {
		t.Fatalf("missing manifest: %v", err)
	}
	for _, c := range []struct{ body, want string }{
		{`{"tool":"orcaprep",`, "not valid JSON"},
		{`{"tool":"other","format":"text","shards":[],"rows_read":0,"rows_kept":0}`, `tool is "other"`},
		{`{"tool":"orcaprep","format":"parquet","shards":[],"rows_read":0,"rows_kept":0}`, `unknown format "parquet"`},
		{`{"tool":"orcaprep","format":"packed","shards":[],"index":[],"rows_read":0,"rows_kept":0,"sequence_len":16384}`, "needs tokenizer.vocab_size"},
		{`{"tool":"orcaprep","format":"text","shards":[]}`, "rows_read or rows_kept missing"},
	} {
		os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(c.body), 0o644)
		_, err, _ := run(t, dir, Options{})
		if exitcode.Code(err) != exitcode.Input || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want exit %d mentioning %q", c.body, err, exitcode.Input, c.want)
		}
	}
}

func TestErrorsCountedBeyondMaxErrors(t *testing.T) {
	f := newFixture(t, FormatTokenized, false)
	for i := range f.rows[0] {
		f.rows[0][i].mask[0] = 2
	}
	dir := f.write(t)
	rep, err, out := run(t, dir, Options{MaxErrors: 3})
	if err == nil || rep.Errors != 12 || len(rep.Problems) != 3 || strings.Count(out, "attention_mask") != 3 {
		t.Fatalf("errors %d, kept %d, err %v, output:\n%s", rep.Errors, len(rep.Problems), err, out)
	}
	if !strings.Contains(out, "12 errors (first 3 shown)") || !strings.Contains(out, "data/train-00000.jsonl:1: attention_mask[0] = 2") || !strings.Contains(err.Error(), "12 errors") {
		t.Fatalf("summary: %v\n%s", err, out)
	}
}

func TestCanceled(t *testing.T) {
	dir := newFixture(t, FormatPacked, false).write(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, dir, Options{}, nil); exitcode.Code(err) != exitcode.Canceled {
		t.Fatalf("got %v", err)
	}
}
