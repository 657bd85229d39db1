package tokenizer

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/orcaprep/orcaprep/orca"
	"github.com/orcaprep/orcaprep/synth"
)

// cacheTestTexts are varied texts that give segments of every key length 1..64 and past it (short words, long
// words made of few or many pieces, scripts, emoji, malformed UTF-8, literal '▁', runs of spaces), each at least
// twice in shuffled order so that hits, old-generation hits and misses all occur.
func cacheTestTexts(t *testing.T, golden string, synthRows int) []string {
	var texts []string
	for i, r := range readGolden(t, golden) {
		if len(r.Text) < 5000 && i%2 == 0 {
			texts = append(texts, r.Text)
		}
	}
	if synthRows > 0 {
		err := synth.Generate(synth.DefaultConfig(synthRows, 7), func(r orca.Record, _ synth.Label) error {
			texts = append(texts, r.SystemPrompt, r.Question, r.Response)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "e", "t", "n", "x", "Q", "0", "7", "é", "ß", "ж", "中", "文", "😀", "\xff", "\xc3", "-", "_", "▁", "\n"}
	for range 1500 {
		var sb strings.Builder
		for range 1 + rng.IntN(12) {
			sb.WriteString([]string{" ", "  ", "▁", " ▁", ""}[rng.IntN(5)])
			for range 1 + rng.IntN(40) {
				sb.WriteString(alphabet[rng.IntN(len(alphabet))])
			}
		}
		texts = append(texts, sb.String())
	}
	// Long keys (> 16 bytes) that agree in length and in their first and last 8 bytes, the words kept in the slot:
	// only the full comparison against the key arena tells them apart.
	for n := 1; n <= 48; n++ {
		var sb strings.Builder
		for _, mid := range []string{"x", "y", "0", "é", "-"} {
			sb.WriteString(" Llongorc" + strings.Repeat(mid, n/len(mid)) + "athelast")
		}
		texts = append(texts, sb.String())
	}
	texts = append(texts, texts...)
	rng.Shuffle(len(texts), func(i, j int) { texts[i], texts[j] = texts[j], texts[i] })
	return texts
}

// cacheVariants are cached encoders whose generations change over at every rate, by each of the three bounds
// (entries, ids, long-key bytes), with and without every key hashing to one slot.
func cacheVariants(tk *Tokenizer) map[string]*Encoder {
	v := map[string]*Encoder{}
	for _, entries := range []int{1, 7, 40, 2000, defaultCacheEntries} {
		for _, collide := range []bool{false, true} {
			if collide && entries > 40 {
				continue // one probe chain of thousands of slots: correct but slow
			}
			e := tk.NewEncoder()
			e.SetCacheLimit(entries)
			e.cache.collide = collide
			name := "entries=" + strconv.Itoa(entries)
			if collide {
				name += ",collide"
			}
			v[name] = e
		}
	}
	ids := tk.NewEncoder()
	ids.cache.maxIDs = 50
	v["ids=50"] = ids
	keys := tk.NewEncoder()
	keys.cache.maxKeyBytes = 200
	v["keybytes=200"] = keys
	return v
}

// TestCachedEqualsUncached: the segment cache changes speed only. Every cached variant (tiny limits that turn over
// generations constantly, colliding hashes, each bound) gives exactly the ids of an encoder without cache.
func TestCachedEqualsUncached(t *testing.T) {
	cases := []struct {
		name, model, golden string
		synthRows           int
	}{
		{"llama2", llamaModel, "llama2_golden.jsonl.gz", 100},
		{"tiny", tinyModel, "tiny_golden.jsonl.gz", 0},
		{"tiny_nobf", tinyNoBFModel, "tiny_golden.jsonl.gz", 0}, // remove_extra_whitespaces: the normalized-segment path
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var tk *Tokenizer
			if c.model == llamaModel {
				tk = llama(t)
				tk.AddTokens("<pad>", "<|im_start|>", "<|im_end|>")
			} else {
				tk = mustLoad(t, c.model)
			}
			if !tk.CacheExact() {
				t.Fatalf("%s: cache not exact, nothing to test", c.model)
			}
			texts := cacheTestTexts(t, c.golden, c.synthRows)
			plain := tk.NewEncoder()
			plain.SetCacheLimit(0)
			want := make([][]int32, len(texts))
			for i, s := range texts {
				want[i] = plain.Encode(s)
			}
			for name, e := range cacheVariants(tk) {
				for i, s := range texts {
					if got := e.Encode(s); !slices.Equal(got, want[i]) {
						t.Fatalf("%s: text %d %.80q:\n got %v\nwant %v", name, i, s, head(got), head(want[i]))
					}
					if name != "entries=7" {
						continue
					}
					if got := e.AppendEncodeRaw(nil, s); !slices.Equal(got, plain.AppendEncodeRaw(nil, s)) {
						t.Fatalf("%s raw: text %d %.80q differs", name, i, s)
					}
				}
				if e.cache.cur.entries == 0 {
					t.Fatalf("%s: nothing was cached", name)
				}
			}
		})
	}
}

// TestCacheBounds: however many distinct segments go through, a generation holds at most maxEntries entries, its
// table never grows past maxSlots, and its arenas' capacities stay within their bounds plus one segment. Each
// bound is made the one that ends generations in turn.
func TestCacheBounds(t *testing.T) {
	tk := mustLoad(t, tinyModel)
	for _, bound := range []string{"entries", "ids", "keys"} {
		e := tk.NewEncoder()
		e.SetCacheLimit(100)
		c := e.cache
		maxLen := 16 // short keys with few ids: only the entry bound applies
		switch bound {
		case "ids":
			c.maxIDs, maxLen = 500, 30
		case "keys":
			c.maxIDs, c.maxKeyBytes, maxLen = 1<<20, 700, 60
		}
		rng := rand.New(rand.NewPCG(3, 4))
		swaps, last, most := 0, c.cur, 0
		for range 20000 {
			var sb strings.Builder
			for range 1 + rng.IntN(maxLen) {
				sb.WriteByte(byte('a' + rng.IntN(26)))
			}
			e.Encode(sb.String())
			if c.cur != last {
				swaps, last = swaps+1, c.cur
			}
			for _, g := range []*segGen{c.cur, c.old} {
				most = max(most, map[string]int{"entries": g.entries, "ids": len(g.ids), "keys": len(g.keys)}[bound])
				if g.entries > c.maxEntries || len(g.slots) > c.maxSlots ||
					cap(g.ids) > c.maxIDs+maxSegmentIDs || cap(g.keys) > c.maxKeyBytes+cacheMaxKey {
					t.Fatalf("%s: generation over its bounds: %d entries, %d slots, %d ids, %d key bytes",
						bound, g.entries, len(g.slots), cap(g.ids), cap(g.keys))
				}
			}
		}
		limit := map[string]int{"entries": c.maxEntries, "ids": c.maxIDs, "keys": c.maxKeyBytes}[bound]
		if swaps < 50 || most < limit*9/10 {
			t.Fatalf("%s: %d generation changes, at most %d of %d: the bound was not what ended generations",
				bound, swaps, most, limit)
		}
	}
}
