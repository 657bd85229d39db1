package tokenizer

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

const (
	tinyModel     = "../testdata/tokenizer/tiny.model"
	tinyUDModel   = "../testdata/tokenizer/tiny_ud.model"
	tinyNoBFModel = "../testdata/tokenizer/tiny_nobf.model"
	tinyJSON      = "../testdata/tokenizer/tiny_tokenizer.json"
	llamaModel    = "../testdata/llama2/tokenizer.model"
)

// goldenRow is one line of a golden file written by scripts/gen-tokenizer-golden.py from C++ SentencePiece.
type goldenRow struct {
	Text    string  `json:"text"`
	IDs     []int32 `json:"ids"`
	IDsUD   []int32 `json:"ids_ud"`
	IDsNoBF []int32 `json:"ids_nobf"`
}

func readGolden(t testing.TB, name string) []goldenRow {
	t.Helper()
	f, err := os.Open(filepath.Join("../testdata/tokenizer", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var rows []goldenRow
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var r goldenRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s line %d: %v", name, len(rows)+1, err)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatalf("%s is empty", name)
	}
	return rows
}

func mustLoad(t testing.TB, path string) *Tokenizer {
	t.Helper()
	tk, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// llama loads the real Llama-2 model, skipping when it is absent unless ORCAPREP_REQUIRE_TOOLS=1.
func llama(t testing.TB) *Tokenizer {
	t.Helper()
	if _, err := os.Stat(llamaModel); err != nil {
		if os.Getenv("ORCAPREP_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s is missing (run scripts/fetch-llama2-tokenizer.sh): %v", llamaModel, err)
		}
		t.Skipf("%s is missing; run scripts/fetch-llama2-tokenizer.sh (ORCAPREP_REQUIRE_TOOLS=1 makes this fail)", llamaModel)
	}
	return mustLoad(t, llamaModel)
}

// encoderVariants are the code paths that must agree: cache on, cache off, heap only, array scan only, a cache so
// small it evicts all the time, and no segmentation at all (whole pieces through one heap BPE run).
func encoderVariants(tk *Tokenizer) map[string]*Encoder {
	cached := tk.NewEncoder()
	noCache := tk.NewEncoder()
	noCache.SetCacheLimit(0)
	heap := tk.NewEncoder()
	heap.SetCacheLimit(0)
	heap.small = 0
	array := tk.NewEncoder()
	array.SetCacheLimit(0)
	array.small = 1 << 30
	whole := tk.NewEncoder()
	whole.SetCacheLimit(0)
	whole.noSegment = true
	tinyCache := tk.NewEncoder()
	tinyCache.SetCacheLimit(3) // constant evictions
	return map[string]*Encoder{"cached": cached, "nocache": noCache, "heap": heap, "array": array, "tinycache": tinyCache, "whole": whole}
}

func checkRows(t *testing.T, tk *Tokenizer, rows []goldenRow, want func(goldenRow) []int32, raw bool) {
	t.Helper()
	all := rows
	for name, e := range encoderVariants(tk) {
		rows := all
		if name == "array" {
			// The array scan is quadratic per segment: skip the 100k-character texts for it.
			rows = slices.DeleteFunc(slices.Clone(all), func(r goldenRow) bool { return len(r.Text) > 20000 })
		}
		bad := 0
		for i, r := range rows {
			var got []int32
			if raw {
				got = e.AppendEncodeRaw(nil, r.Text)
			} else {
				got = e.Encode(r.Text)
			}
			if w := want(r); !slices.Equal(got, w) {
				bad++
				if bad <= 3 {
					t.Errorf("%s: row %d %.80q:\n got %v\nwant %v", name, i, r.Text, head(got), head(w))
				}
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d rows differ from SentencePiece", name, bad, len(rows))
		}
	}
}

func head(ids []int32) []int32 {
	if len(ids) > 40 {
		return ids[:40]
	}
	return ids
}

func TestTinyModelMatchesSentencePiece(t *testing.T) {
	rows := readGolden(t, "tiny_golden.jsonl.gz")
	tk := mustLoad(t, tinyModel)
	if !tk.CacheExact() {
		t.Fatal("tiny model: segment cache should be exact")
	}
	checkRows(t, tk, rows, func(r goldenRow) []int32 { return r.IDs }, true)
}

func TestTinyUserDefinedModelDisablesCache(t *testing.T) {
	rows := readGolden(t, "tiny_golden.jsonl.gz")
	tk := mustLoad(t, tinyUDModel)
	if tk.CacheExact() {
		t.Fatal(`tiny_ud has the user-defined piece "x▁y": the segment cache must be off`)
	}
	if e := tk.NewEncoder(); e.cache != nil {
		t.Fatal("encoder has a cache although it is not exact")
	}
	checkRows(t, tk, rows, func(r goldenRow) []int32 { return r.IDsUD }, true)
}

// TestTinyNoByteFallbackModel covers the SentencePiece options Llama does not use: without byte_fallback a run of
// unknown characters is one <unk>, and remove_extra_whitespaces trims and collapses spaces.
func TestTinyNoByteFallbackModel(t *testing.T) {
	rows := readGolden(t, "tiny_golden.jsonl.gz")
	tk := mustLoad(t, tinyNoBFModel)
	if tk.byteFB || !tk.collapseWS {
		t.Fatalf("tiny_nobf: byte fallback %v, remove_extra_whitespaces %v", tk.byteFB, tk.collapseWS)
	}
	checkRows(t, tk, rows, func(r goldenRow) []int32 { return r.IDsNoBF }, true)
}

func TestTinyTokenizerJSONMatchesSentencePiece(t *testing.T) {
	rows := readGolden(t, "tiny_golden.jsonl.gz")
	tk := mustLoad(t, tinyJSON)
	ref := mustLoad(t, tinyModel)
	if tk.VocabSize() != ref.VocabSize() || tk.BOS() != ref.BOS() || tk.EOS() != ref.EOS() || !tk.CacheExact() {
		t.Fatalf("tokenizer.json: vocab %d bos %d eos %d cache %v; model: vocab %d bos %d eos %d",
			tk.VocabSize(), tk.BOS(), tk.EOS(), tk.CacheExact(), ref.VocabSize(), ref.BOS(), ref.EOS())
	}
	checkRows(t, tk, rows, func(r goldenRow) []int32 { return r.IDs }, true)
}

func TestLlama2MatchesSentencePiece(t *testing.T) {
	tk := llama(t)
	if tk.VocabSize() != 32000 || tk.BOS() != 1 || tk.EOS() != 2 || tk.UNK() != 0 || !tk.CacheExact() {
		t.Fatalf("Llama-2: vocab %d bos %d eos %d unk %d cache %v", tk.VocabSize(), tk.BOS(), tk.EOS(), tk.UNK(), tk.CacheExact())
	}
	if id, ok := tk.TokenID("▁Hello"); !ok || id != 15043 {
		t.Fatalf("▁Hello = %d, %v; want 15043", id, ok)
	}
	rows := readGolden(t, "llama2_golden.jsonl.gz")
	if len(rows) < 5000 {
		t.Fatalf("only %d golden strings", len(rows))
	}
	checkRows(t, tk, rows, func(r goldenRow) []int32 { return r.IDs }, true)

	// Without special-token text, the HF-style AppendEncode is plain SentencePiece too.
	var plain []goldenRow
	for _, r := range rows {
		if !strings.Contains(r.Text, "<unk>") && !strings.Contains(r.Text, "<s>") && !strings.Contains(r.Text, "</s>") {
			plain = append(plain, r)
		}
	}
	if len(plain) < 4000 {
		t.Fatalf("only %d rows without special text", len(plain))
	}
	e := tk.NewEncoder()
	for i, r := range plain {
		if got := e.Encode(r.Text); !slices.Equal(got, r.IDs) {
			t.Fatalf("Encode row %d %.80q: got %v want %v", i, r.Text, head(got), head(r.IDs))
		}
	}
}

func TestLlama2ChatMLWithAddedTokens(t *testing.T) {
	tk := llama(t)
	if got := tk.AddTokens("<pad>", "<|im_start|>", "<|im_end|>", "<pad>", "</s>"); !slices.Equal(got, []int32{32000, 32001, 32002, 32000, 2}) {
		t.Fatalf("AddTokens = %v", got)
	}
	if tk.VocabSize() != 32003 {
		t.Fatalf("VocabSize = %d", tk.VocabSize())
	}
	rows := readGolden(t, "llama2_chatml.jsonl.gz")
	checkRows(t, tk, rows, func(r goldenRow) []int32 { return r.IDs }, false)
	e := tk.NewEncoder()
	for i, r := range rows {
		if got := tk.Decode(e.Encode(r.Text)); got != strings.ReplaceAll(r.Text, wsMark, " ") {
			t.Fatalf("row %d: Decode(Encode) = %.100q, want %.100q", i, got, r.Text)
		}
	}
	// The Axolotl ChatML artefact: "▁" (29871) then "\n" (13) after <|im_end|>.
	got := e.Encode("<|im_start|>user\nHi<|im_end|>\n")
	if want := []int32{32001, 1404, 13, 18567, 32002, 29871, 13}; !slices.Equal(got, want) {
		t.Fatalf("ChatML turn = %v, want %v", got, want)
	}
}

// TestLlama2TokenizerJSON converts the real model to a tokenizer.json the way transformers' LlamaConverter does
// and checks that loading it gives SentencePiece's ids.
func TestLlama2TokenizerJSON(t *testing.T) {
	tk := llama(t)
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := os.WriteFile(path, toHFJSON(t, tk), 0o644); err != nil {
		t.Fatal(err)
	}
	js := mustLoad(t, path)
	if js.VocabSize() != 32000 || js.BOS() != 1 || js.EOS() != 2 || !js.CacheExact() {
		t.Fatalf("tokenizer.json: vocab %d bos %d eos %d", js.VocabSize(), js.BOS(), js.EOS())
	}
	rows := readGolden(t, "llama2_golden.jsonl.gz")
	e := js.NewEncoder()
	for i, r := range rows {
		if got := e.AppendEncodeRaw(nil, r.Text); !slices.Equal(got, r.IDs) {
			t.Fatalf("row %d %.80q: got %v want %v", i, r.Text, head(got), head(r.IDs))
		}
	}
}

// toHFJSON mirrors transformers' SentencePieceExtractor: every split of every piece into two vocabulary pieces is
// a merge, ordered by the merged piece's score (stable, pieces in id order, splits by their ids).
func toHFJSON(t testing.TB, tk *Tokenizer) []byte {
	t.Helper()
	model, err := os.ReadFile(llamaModel)
	if err != nil {
		t.Fatal(err)
	}
	scores := pieceScores(t, model)
	type m struct {
		l, r  string
		score float32
		li    int32
		ri    int32
	}
	var merges []m
	for id, p := range tk.pieces {
		var local []m
		for j := range p {
			if j == 0 {
				continue
			}
			li, okL := tk.ids[p[:j]]
			ri, okR := tk.ids[p[j:]]
			if okL && okR {
				local = append(local, m{p[:j], p[j:], scores[id], li, ri})
			}
		}
		slices.SortStableFunc(local, func(a, b m) int {
			if a.li != b.li {
				return int(a.li - b.li)
			}
			return int(a.ri - b.ri)
		})
		merges = append(merges, local...)
	}
	slices.SortStableFunc(merges, func(a, b m) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	vocab := map[string]int{}
	for i, p := range tk.pieces {
		vocab[p] = i
	}
	ms := make([]string, len(merges))
	for i, x := range merges {
		ms[i] = x.l + " " + x.r
	}
	doc := map[string]any{
		"added_tokens": []map[string]any{
			{"id": 0, "content": "<unk>", "special": true}, {"id": 1, "content": "<s>", "special": true},
			{"id": 2, "content": "</s>", "special": true}},
		"normalizer": map[string]any{"type": "Sequence", "normalizers": []any{
			map[string]any{"type": "Prepend", "prepend": "▁"},
			map[string]any{"type": "Replace", "pattern": map[string]any{"String": " "}, "content": "▁"}}},
		"pre_tokenizer": nil,
		"model": map[string]any{"type": "BPE", "unk_token": "<unk>", "fuse_unk": true, "byte_fallback": true,
			"vocab": vocab, "merges": ms},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pieceScores(t testing.TB, model []byte) []float32 {
	t.Helper()
	var scores []float32
	err := walk(model, func(num protowire.Number, typ protowire.Type, v uint64, b []byte) error {
		if num != 1 {
			return nil
		}
		var s float32
		err := walk(b, func(num protowire.Number, typ protowire.Type, v uint64, b []byte) error {
			if num == 2 {
				s = math.Float32frombits(uint32(v))
			}
			return nil
		})
		scores = append(scores, s)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return scores
}

func TestEncodeBasics(t *testing.T) {
	tk := mustLoad(t, tinyModel)
	e := tk.NewEncoder()
	if got := e.Encode(""); len(got) != 0 {
		t.Fatalf("Encode(\"\") = %v", got)
	}
	// Control tokens are split out (HF behaviour); AppendEncodeRaw keeps them as text (SentencePiece behaviour).
	got := e.Encode("<s>hi</s>")
	if len(got) < 3 || got[0] != tk.BOS() || got[len(got)-1] != tk.EOS() {
		t.Fatalf("Encode(<s>hi</s>) = %v", got)
	}
	if raw := e.AppendEncodeRaw(nil, "<s>hi</s>"); slices.Contains(raw, tk.BOS()) || slices.Contains(raw, tk.EOS()) {
		t.Fatalf("AppendEncodeRaw(<s>hi</s>) = %v has control ids", raw)
	}
	// AppendEncode appends.
	dst := []int32{7}
	if out := e.AppendEncode(dst, "hello"); out[0] != 7 || !slices.Equal(out[1:], e.Encode("hello")) {
		t.Fatalf("AppendEncode = %v", out)
	}
	// Malformed UTF-8 is encoded as U+FFFD per bad byte, as SentencePiece's normalizer does.
	if a, b := e.Encode("a\xffb\xfe"), e.Encode("a\uFFFDb\uFFFD"); !slices.Equal(a, b) {
		t.Fatalf("malformed UTF-8: %v vs %v", a, b)
	}
}

func TestAddTokens(t *testing.T) {
	tk := mustLoad(t, tinyModel)
	n := int32(tk.VocabSize())
	ids := tk.AddTokens("<|im_start|>", "<|im_end|>", "<|im_start|>", "")
	if !slices.Equal(ids, []int32{n, n + 1, n, -1}) || tk.VocabSize() != int(n)+2 {
		t.Fatalf("AddTokens = %v, vocab %d", ids, tk.VocabSize())
	}
	e := tk.NewEncoder()
	got := e.Encode("<|im_start|>user\nHi<|im_end|>\nx")
	want := []int32{n}
	want = append(want, e.AppendEncodeRaw(nil, "user\nHi")...)
	want = append(want, n+1)
	want = append(want, e.AppendEncodeRaw(nil, "\nx")...)
	if !slices.Equal(got, want) {
		t.Fatalf("Encode = %v, want %v", got, want)
	}
	if s := tk.Decode(got); s != "<|im_start|>user\nHi<|im_end|>\nx" {
		t.Fatalf("Decode = %q", s)
	}
	if !tk.IsSpecial(n) || tk.IsSpecial(want[1]) {
		t.Fatal("IsSpecial wrong")
	}
	// Leftmost, then longest: "<|im_start|>" must win over a shorter added prefix "<|im".
	tk.AddTokens("<|im")
	if got := tk.NewEncoder().Encode("<|im_start|><|imx"); got[0] != n || got[1] != n+2 {
		t.Fatalf("longest match: %v", got)
	}
}

func TestAddedTokensJSONBesideModel(t *testing.T) {
	dir := t.TempDir()
	model, err := os.ReadFile(tinyModel)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "tokenizer.model")
	if err := os.WriteFile(path, model, 0o644); err != nil {
		t.Fatal(err)
	}
	base := mustLoad(t, tinyModel).VocabSize()
	js := `{"<|im_end|>": ` + itoa(base+2) + `, "<pad>": ` + itoa(base) + `, "<|im_start|>": ` + itoa(base+1) + `, "</s>": 2}`
	if err := os.WriteFile(filepath.Join(dir, "added_tokens.json"), []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	tk := mustLoad(t, path)
	for i, s := range []string{"<pad>", "<|im_start|>", "<|im_end|>"} {
		if id, ok := tk.TokenID(s); !ok || int(id) != base+i {
			t.Fatalf("%s = %d, %v", s, id, ok)
		}
	}
	// A gap in the ids is an error that names the file.
	if err := os.WriteFile(filepath.Join(dir, "added_tokens.json"), []byte(`{"<pad>": `+itoa(base+5)+`}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "added_tokens.json") || !strings.Contains(err.Error(), "continue") {
		t.Fatalf("gap: err = %v", err)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := map[string]string{
		filepath.Join(dir, "missing.model"):                                          "no such file",
		write("garbage.model", "\xff\xff\xff"):                                       "not a SentencePiece model",
		write("empty.model", ""):                                                     "not a SentencePiece model",
		write("bad.json", "{not json"):                                               "not a valid tokenizer.json",
		write("wp.json", `{"model":{"type":"WordPiece","vocab":{"a":0}}}`):           "WordPiece",
		write("nonorm.json", `{"model":{"type":"BPE","vocab":{"a":0},"merges":[]}}`): "not a Llama tokenizer",
		write("gap.json", `{"normalizer":{"type":"Replace","pattern":{"String":" "},"content":"▁"},"model":{"type":"BPE","vocab":{"a":0,"b":2}}}`): "without gaps",
	}
	for path, want := range cases {
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), filepath.Base(path)) {
			t.Errorf("Load(%s) err = %v, want it to name the file and say %q", filepath.Base(path), err, want)
		}
	}
	// A unigram model (model_type absent → UNIGRAM) is rejected with a clear message.
	model, err := os.ReadFile(tinyModel)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSentencePiece(setModelType(t, model, 1)); err == nil || !strings.Contains(err.Error(), "model_type 1") {
		t.Errorf("unigram: err = %v", err)
	}
}

func TestDecode(t *testing.T) {
	tk := mustLoad(t, tinyModel)
	e := tk.NewEncoder()
	for _, s := range []string{"", " ", "  x", "Hello  world\n\n\tend ", "naïve 日本 👍🏽", "<s> </s>", "a▁b"} {
		want := strings.ReplaceAll(s, wsMark, " ")
		if got := tk.Decode(e.Encode(s)); got != want {
			t.Errorf("Decode(Encode(%q)) = %q, want %q", s, got, want)
		}
	}
	if got := tk.Decode([]int32{-1, 1 << 30}); got != "" {
		t.Errorf("out-of-range ids decode to %q", got)
	}
}

// FuzzEncodeDecode checks that encoding never panics, that every code path (cache, no cache, heap, array scan)
// gives the same ids, and that Decode(Encode(s)) is s with literal '▁' shown as ' ' for valid UTF-8 (see doc.go).
func FuzzEncodeDecode(f *testing.F) {
	for _, s := range []string{"", " ", "hello world", "<|im_start|>user\nHi<|im_end|>\n", "▁▁x", "a\xffb", "日本 語",
		strings.Repeat(" ", 70) + "z", "<s></s><unk>", "12345", "\r\n\t", "👨‍👩‍👧"} {
		f.Add(s)
	}
	tk, err := Load(tinyModel)
	if err != nil {
		f.Fatal(err)
	}
	tk.AddTokens("<|im_start|>", "<|im_end|>")
	variants := encoderVariants(tk)
	f.Fuzz(func(t *testing.T, s string) {
		ids := variants["cached"].Encode(s)
		for name, e := range variants {
			if got := e.Encode(s); !slices.Equal(got, ids) {
				t.Fatalf("%s: %v, cached: %v", name, got, ids)
			}
		}
		for _, id := range ids {
			if id < 0 || int(id) >= tk.VocabSize() {
				t.Fatalf("id %d out of range", id)
			}
		}
		dec := tk.Decode(ids)
		if utf8.ValidString(s) {
			if want := strings.ReplaceAll(s, wsMark, " "); dec != want {
				t.Fatalf("Decode(Encode(%q)) = %q, want %q", s, dec, want)
			}
		}
	})
}

// setModelType returns model with trainer_spec.model_type (field 2.3) set to v.
func setModelType(t testing.TB, model []byte, v uint64) []byte {
	t.Helper()
	var out []byte
	err := walk(model, func(num protowire.Number, typ protowire.Type, x uint64, b []byte) error {
		switch {
		case num == 2 && typ == protowire.BytesType:
			var spec []byte
			err := walk(b, func(num protowire.Number, typ protowire.Type, x uint64, b []byte) error {
				if num == 3 {
					return nil
				}
				spec = appendField(spec, num, typ, x, b)
				return nil
			})
			spec = protowire.AppendTag(spec, 3, protowire.VarintType)
			spec = protowire.AppendVarint(spec, v)
			out = appendField(out, num, typ, 0, spec)
			return err
		default:
			out = appendField(out, num, typ, x, b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func appendField(b []byte, num protowire.Number, typ protowire.Type, x uint64, val []byte) []byte {
	b = protowire.AppendTag(b, num, typ)
	switch typ {
	case protowire.VarintType:
		return protowire.AppendVarint(b, x)
	case protowire.Fixed32Type:
		return protowire.AppendFixed32(b, uint32(x))
	case protowire.Fixed64Type:
		return protowire.AppendFixed64(b, x)
	default:
		return protowire.AppendBytes(b, val)
	}
}

// TestTokenizerJSONMetaspace loads tiny_tokenizer.json rewritten to the newer Hugging Face shape (no normalizer, a
// Metaspace pre-tokenizer) with each prepend_scheme: "always" behaves like the legacy file, "first" drops the
// dummy prefix after special tokens (legacy=False), "never" never adds it.
func TestTokenizerJSONMetaspace(t *testing.T) {
	raw, err := os.ReadFile(tinyJSON)
	if err != nil {
		t.Fatal(err)
	}
	variant := func(scheme string) *Tokenizer {
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		doc["normalizer"] = nil
		doc["pre_tokenizer"] = map[string]any{"type": "Metaspace", "replacement": "▁", "prepend_scheme": scheme, "split": false}
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		tk, err := LoadHFJSON(b)
		if err != nil {
			t.Fatalf("%s: %v", scheme, err)
		}
		tk.AddTokens("<|im_end|>")
		return tk
	}
	legacy := mustLoad(t, tinyJSON)
	legacy.AddTokens("<|im_end|>")
	always, first, never := variant("always"), variant("first"), variant("never")
	text := "Hello there<|im_end|>\nGeneral Kenobi"
	le, ae, fe, ne := legacy.NewEncoder(), always.NewEncoder(), first.NewEncoder(), never.NewEncoder()
	if a, l := ae.Encode(text), le.Encode(text); !slices.Equal(a, l) {
		t.Fatalf("always %v != legacy %v", a, l)
	}
	end, _ := first.TokenID("<|im_end|>")
	want := append(fe.AppendEncodeRaw(nil, "Hello there"), end)
	want = append(want, ne.AppendEncodeRaw(nil, "\nGeneral Kenobi")...)
	if got := fe.Encode(text); !slices.Equal(got, want) {
		t.Fatalf("first: %v, want %v", got, want)
	}
	if got := first.Decode(want); got != text {
		t.Fatalf("first: Decode = %q", got)
	}
	if slices.Equal(ne.AppendEncodeRaw(nil, "Hello"), ae.AppendEncodeRaw(nil, "Hello")) {
		t.Fatal(`"never" and "always" encode "Hello" alike; the dummy prefix is not applied`)
	}
}
