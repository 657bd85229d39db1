package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// exportRoundTrip writes tk as tokenizer.json, reads it back through the tokenizer.json loader (rank-ordered
// merges, the Hugging Face algorithm) and checks that both encode every text identically.
func exportRoundTrip(t *testing.T, tk *Tokenizer, texts []string) *Tokenizer {
	t.Helper()
	b, err := tk.HFTokenizerJSON(true, false)
	if err != nil {
		t.Fatal(err)
	}
	again, err := tk.HFTokenizerJSON(true, false)
	if err != nil || !bytes.Equal(b, again) {
		t.Fatal("tokenizer.json is not deterministic")
	}
	back, err := LoadHFJSON(b)
	if err != nil {
		t.Fatalf("exported tokenizer.json does not load: %v", err)
	}
	if back.VocabSize() != tk.VocabSize() || back.BOS() != tk.BOS() || back.EOS() != tk.EOS() || back.UNK() != tk.UNK() {
		t.Fatalf("vocab %d/%d, bos %d/%d, eos %d/%d", back.VocabSize(), tk.VocabSize(), back.BOS(), tk.BOS(), back.EOS(), tk.EOS())
	}
	for id := int32(0); int(id) < tk.VocabSize(); id++ {
		if back.Piece(id) != tk.Piece(id) || back.IsSpecial(id) != tk.IsSpecial(id) {
			t.Fatalf("id %d: %q special=%v, exported %q special=%v", id, tk.Piece(id), tk.IsSpecial(id), back.Piece(id), back.IsSpecial(id))
		}
	}
	e1, e2 := tk.NewEncoder(), back.NewEncoder()
	for _, s := range texts {
		if a, b := e1.Encode(s), e2.Encode(s); !slices.Equal(a, b) {
			t.Fatalf("%q:\n model       %v\n tokenizer.json %v", s, a, b)
		}
	}
	return back
}

func goldenTexts(t *testing.T, names ...string) []string {
	var texts []string
	for _, n := range names {
		for _, r := range readGolden(t, n) {
			texts = append(texts, r.Text)
		}
	}
	// Whitespace runs around the 16-'▁' piece limit, and leading spaces (the legacy dummy prefix is added even
	// then: " x" is "▁▁x", unlike Metaspace).
	for n := 1; n <= 40; n++ {
		sp := strings.Repeat(" ", n)
		texts = append(texts, sp, "x"+sp+"y", sp+"System", "<|im_end|>"+sp+"\n", "a\n"+sp+"b")
	}
	return texts
}

func TestHFExportLlama2EncodesAsTheModel(t *testing.T) {
	tk := llama(t)
	tk.AddTokens("<pad>", "<|im_start|>", "<|im_end|>")
	exportRoundTrip(t, tk, goldenTexts(t, "llama2_golden.jsonl.gz", "llama2_chatml.jsonl.gz"))
}

func TestHFExportTinyModel(t *testing.T) {
	tk := mustLoad(t, tinyModel)
	tk.AddTokens("<pad>", "<|im_start|>", "<|im_end|>")
	exportRoundTrip(t, tk, goldenTexts(t, "tiny_golden.jsonl.gz"))
}

func TestHFExportRejectsWhatItCannotExpress(t *testing.T) {
	tk := mustLoad(t, tinyUDModel)
	if _, err := tk.HFTokenizerJSON(false, false); err == nil || !strings.Contains(err.Error(), "USER_DEFINED") {
		t.Fatalf("want a USER_DEFINED error, got %v", err)
	}
}

// A Metaspace tokenizer.json (transformers' legacy=False shape) is written back as Metaspace, and the dummy
// prefix follows Metaspace's rule: none after an added token ("first"), none on text already starting with a space.
func TestHFExportKeepsMetaspace(t *testing.T) {
	tk := mustLoad(t, tinyModel)
	tk.AddTokens("<|im_end|>")
	b, err := tk.HFTokenizerJSON(false, false)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	json.Unmarshal(b, &doc)
	doc["normalizer"] = nil
	doc["pre_tokenizer"] = map[string]any{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false}
	meta, _ := json.Marshal(doc)
	first, err := LoadHFJSON(meta)
	if err != nil {
		t.Fatal(err)
	}
	enc := first.NewEncoder()
	legacy := tk.NewEncoder()
	hello := legacy.Encode("hello")
	if got := enc.Encode("hello"); !slices.Equal(got, hello) {
		t.Fatalf("first piece: %v, want %v", got, hello)
	}
	if got := enc.Encode(" hello"); !slices.Equal(got, hello) {
		t.Fatalf("Metaspace must not add a second '▁' to \" hello\": %v, want %v", got, hello)
	}
	end, _ := tk.TokenID("<|im_end|>")
	after := enc.Encode("<|im_end|>hello")
	if after[0] != end || slices.Equal(after[1:], hello) {
		t.Fatalf("prepend_scheme first: no dummy prefix after an added token: %v", after)
	}
	out, err := first.HFTokenizerJSON(false, false)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(`"prepend_scheme":"first"`)) || !bytes.Contains(out, []byte(`"normalizer":null`)) {
		t.Fatalf("Metaspace not written back: %.300s", out)
	}
	exportRoundTrip(t, first, goldenTexts(t, "tiny_golden.jsonl.gz"))
}

func TestHFDirFiles(t *testing.T) {
	tk := mustLoad(t, tinyModel)
	tk.AddTokens("<pad>", "<|im_start|>", "<|im_end|>")
	files, err := tk.HFDir(HFDirOptions{AddBOS: true, ChatTemplate: "{{ x }}", PadToken: "<pad>"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	if !slices.Equal(names, []string{"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}) {
		t.Fatal(names)
	}
	var cfg struct {
		AddBOS  bool                       `json:"add_bos_token"`
		AddEOS  bool                       `json:"add_eos_token"`
		Legacy  bool                       `json:"legacy"`
		Class   string                     `json:"tokenizer_class"`
		Pad     string                     `json:"pad_token"`
		Tmpl    string                     `json:"chat_template"`
		Decoder map[string]json.RawMessage `json:"added_tokens_decoder"`
	}
	if err := json.Unmarshal(files[1].Data, &cfg); err != nil {
		t.Fatal(err)
	}
	pad, _ := tk.TokenID("<pad>")
	if !cfg.AddBOS || cfg.AddEOS || !cfg.Legacy || cfg.Class != HFTokenizerClass || cfg.Pad != "<pad>" || cfg.Tmpl != "{{ x }}" ||
		len(cfg.Decoder) != 6 || !bytes.Contains(cfg.Decoder["0"], []byte(`"special": true`)) {
		t.Fatalf("%+v", cfg)
	}
	if _, ok := cfg.Decoder[fmt.Sprint(pad)]; !ok {
		t.Fatalf("added_tokens_decoder lacks <pad> (%d): %v", pad, cfg.Decoder)
	}
	if bytes.Contains(files[1].Data, []byte(`\u003c`)) {
		t.Fatal("HTML-escaped token text")
	}
	if _, err := tk.HFDir(HFDirOptions{PadToken: "[PAD]"}); err == nil {
		t.Fatal("unknown pad token accepted")
	}
}
