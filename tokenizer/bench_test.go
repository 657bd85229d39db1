package tokenizer

import (
	"runtime"
	"strings"
	"testing"

	"github.com/orcaprep/orcaprep/orca"
	"github.com/orcaprep/orcaprep/synth"
)

// benchEncode encodes texts once per iteration and reports tokens/s and MB/s, and the heap the Encoder holds
// after the first pass (its segment cache, scratch buffers) as encoder-MB.
func benchEncode(b *testing.B, tk *Tokenizer, texts []string, cacheEntries int) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	e := tk.NewEncoder()
	e.SetCacheLimit(cacheEntries)
	var size, toks int
	var ids []int32
	for _, s := range texts {
		size += len(s)
		toks += len(e.AppendEncode(ids[:0], s))
	}
	ids = nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	held := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / 1e6
	b.SetBytes(int64(size))
	b.ResetTimer()
	for b.Loop() {
		for _, s := range texts {
			ids = e.AppendEncode(ids[:0], s)
		}
	}
	b.ReportMetric(float64(toks)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
	b.ReportMetric(held, "encoder-MB")
	runtime.KeepAlive(e)
}

func llamaBenchTexts(b *testing.B) (*Tokenizer, []string) {
	tk := llama(b)
	tk.AddTokens("<pad>", "<|im_start|>", "<|im_end|>")
	var texts []string
	for _, r := range readGolden(b, "llama2_chatml.jsonl.gz") {
		texts = append(texts, r.Text)
	}
	return tk, texts
}

// BenchmarkEncodeChatML: OpenOrca-shaped ChatML rows with the Llama-2 model, with the default segment cache.
func BenchmarkEncodeChatML(b *testing.B) {
	tk, texts := llamaBenchTexts(b)
	benchEncode(b, tk, texts, defaultCacheEntries)
}

// BenchmarkEncodeChatMLNoCache: the same without the cache, i.e. the BPE itself on every word.
func BenchmarkEncodeChatMLNoCache(b *testing.B) {
	tk, texts := llamaBenchTexts(b)
	benchEncode(b, tk, texts, 0)
}

// BenchmarkEncodeGoldenMix: the 5,603 varied golden strings (scripts, emoji, whitespace runs, 100k texts).
func BenchmarkEncodeGoldenMix(b *testing.B) {
	tk := llama(b)
	var texts []string
	for _, r := range readGolden(b, "llama2_golden.jsonl.gz") {
		texts = append(texts, r.Text)
	}
	benchEncode(b, tk, texts, defaultCacheEntries)
}

// BenchmarkEncodeLongNoSpace: one 100k-character text without spaces is a single segment, so this measures the
// heap BPE (O(n log n)); a quadratic algorithm would take seconds here.
func BenchmarkEncodeLongNoSpace(b *testing.B) {
	tk := llama(b)
	var sb strings.Builder
	for sb.Len() < 100000 {
		sb.WriteString("tokenization-of-a-very-long-word_")
	}
	benchEncode(b, tk, []string{sb.String()[:100000]}, defaultCacheEntries)
}

// BenchmarkEncodeTiny: the committed tiny model, so there is a benchmark without the Llama-2 download.
func BenchmarkEncodeTiny(b *testing.B) {
	tk := mustLoad(b, tinyModel)
	var texts []string
	for _, r := range readGolden(b, "tiny_golden.jsonl.gz") {
		texts = append(texts, r.Text)
	}
	benchEncode(b, tk, texts, defaultCacheEntries)
}

// BenchmarkEncodeSynth: 20,000 synthetic OpenOrca rows (package synth, as the full-recipe bench uses), enough
// distinct segments that the cache works at its real size (tens of thousands of entries, generation changes), so
// lookups miss the CPU caches as in a real run; the ChatML goldens fit in L2.
func BenchmarkEncodeSynth(b *testing.B) {
	tk := llama(b)
	tk.AddTokens("<pad>", "<|im_start|>", "<|im_end|>")
	var texts []string
	err := synth.Generate(synth.DefaultConfig(20000, 1), func(r orca.Record, _ synth.Label) error {
		texts = append(texts, r.SystemPrompt, r.Question, r.Response)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	benchEncode(b, tk, texts, defaultCacheEntries)
}
