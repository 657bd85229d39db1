package tokenizer

import (
	"bytes"
	"math"
	"strings"
	"unicode/utf8"
	"unsafe"
)

var (
	markBytes = []byte(wsMark)
	negInf    = float32(math.Inf(-1))
)

// Default bounds of an Encoder's segment cache (segCache), per generation (there are two): defaultCacheEntries
// segments of at most cacheMaxKey bytes, defaultCacheIDs ids kept outside the slots, and 16 bytes per entry of long
// keys. That is at most 2 × (2*defaultCacheEntries slots × 32 B + defaultCacheIDs × 4 B + defaultCacheEntries × 16
// B) = 2 × (4 + 2 + 1) MiB ≈ 15 MB per Encoder, typically less. When the current generation is full it becomes the
// old one and the previous old one is emptied for reuse; hits in the old generation are copied forward, so hot
// segments stay cached without LRU bookkeeping.
const (
	defaultCacheEntries = 1 << 16
	defaultCacheIDs     = 1 << 19
	cacheMaxKey         = 64
	// Segments of up to smallSegment symbols use the array scan (quadratic in the segment, fastest for words);
	// longer ones use the heap, which is O(n log n) however long the segment (e.g. 100k characters without spaces).
	smallSegment = 48
)

// Encoder turns text into ids with a Tokenizer. It owns scratch buffers and a bounded per-segment cache, so it is
// not safe for concurrent use: create one per goroutine with Tokenizer.NewEncoder.
type Encoder struct {
	t    *Tokenizer
	norm []byte
	syms []symbol
	prio []float32
	mid  []int32
	heap []heapItem

	cache     *segCache // nil when off
	small     int       // threshold between the array scan and the heap; a field so tests can force either path
	noSegment bool      // encode each piece as one BPE run even where cutting is exact (tests prove the cut exact)
}

// symbol is one BPE symbol: a byte range of the segment and its symbol id (a piece id, a negative synthetic id for a
// character that is no piece but occurs in pieces, or -1 for a character that can never merge).
type symbol struct {
	id         int32
	start, end int32
	prev, next int32
	frozen     bool // matched a USER_DEFINED piece; never merges further (as SentencePiece's prefix matcher)
}

// heapItem is a candidate merge of symbols left and right, valid while both still have ids lid and rid.
type heapItem struct {
	prio        float32
	left, right int32
	lid, rid    int32
	mid         int32
}

// NewEncoder returns an Encoder with the default cache bounds.
func (t *Tokenizer) NewEncoder() *Encoder {
	e := &Encoder{t: t, small: smallSegment}
	if t.cacheExact {
		e.cache = newSegCache(defaultCacheEntries, defaultCacheIDs)
	}
	return e
}

// SetCacheLimit bounds the segment cache to entries segments (0 turns it off). The cache is only ever used when
// Tokenizer.CacheExact is true.
func (e *Encoder) SetCacheLimit(entries int) {
	e.cache = nil
	if entries > 0 && e.t.cacheExact {
		e.cache = newSegCache(entries, defaultCacheIDs)
	}
}

// Encode returns the ids of text (see AppendEncode).
func (e *Encoder) Encode(text string) []int32 { return e.AppendEncode(nil, text) }

// AppendEncode appends the ids of text to dst. Special tokens (control, unknown and added tokens, e.g. "<s>",
// "<|im_end|>") are split out of the text first, leftmost and longest first; every remaining non-empty piece is
// encoded on its own with the dummy prefix, as Hugging Face's legacy Llama tokenizer does (so "<|im_end|>\n" gives
// [<|im_end|>, "▁", "\n"]). No BOS or EOS is added.
func (e *Encoder) AppendEncode(dst []int32, text string) []int32 {
	t := e.t
	if len(t.special) == 0 {
		return e.appendPiece(dst, text, true)
	}
	first, last := true, 0
	for i := 0; i < len(text); i++ {
		if !t.specialFirst[text[i]] {
			continue
		}
		for _, s := range t.special {
			if strings.HasPrefix(text[i:], s) {
				if i > last {
					dst = e.appendPiece(dst, text[last:i], first)
				}
				dst = append(dst, t.ids[s])
				first = false
				i += len(s) - 1
				last = i + 1
				break
			}
		}
	}
	if last < len(text) {
		dst = e.appendPiece(dst, text[last:], first)
	}
	return dst
}

// AppendEncodeRaw appends the ids that SentencePiece's EncodeAsIds gives for text: the whole text is one piece with
// the dummy prefix, and special-token text such as "<s>" is encoded as ordinary characters.
func (e *Encoder) AppendEncodeRaw(dst []int32, text string) []int32 {
	return e.appendPiece(dst, text, true)
}

// appendPiece encodes one piece of text (no special tokens inside) with or without the dummy prefix.
//
// Where cutting is exact (Tokenizer.cacheExact) the raw text is cut into segments before every run of ' ' or
// literal '▁' that follows another character, the same cuts as in the normalized text. Segments are looked up in
// the cache by their raw bytes, so a hit costs neither normalization nor BPE. A raw key is unambiguous: segments
// after the first always start with ' ' or '▁', and a first segment is cached only when it gets the dummy prefix
// and does not start with one, so it can never share a key with a later segment.
func (e *Encoder) appendPiece(dst []int32, text string, first bool) []int32 {
	t := e.t
	prefix := t.addPrefix && (first || !t.firstOnly)
	if prefix && t.metaspace && (strings.HasPrefix(text, " ") || strings.HasPrefix(text, wsMark)) {
		prefix = false
	}
	if !t.cacheExact || e.noSegment || t.collapseWS {
		n := e.normalize(e.norm[:0], text, prefix)
		e.norm = n
		if !t.cacheExact || e.noSegment {
			return e.bpe(dst, n)
		}
		return e.appendNormalizedSegments(dst, n)
	}
	if text == "" {
		return dst
	}
	segStart, prevMark := 0, false
	for i := 0; i < len(text); {
		mark, size := false, 1
		switch c := text[i]; {
		case c == ' ':
			mark = true
		case c == 0xE2 && i+2 < len(text) && text[i+1] == 0x96 && text[i+2] == 0x81:
			mark, size = true, 3
		}
		if mark && !prevMark && i > segStart {
			dst = e.rawSegment(dst, text[segStart:i], segStart == 0, prefix)
			segStart = i
		}
		prevMark = mark
		i += size
	}
	return e.rawSegment(dst, text[segStart:], segStart == 0, prefix)
}

// rawSegment encodes one raw segment, through the cache when its key is unambiguous and short enough.
func (e *Encoder) rawSegment(dst []int32, seg string, first, prefix bool) []int32 {
	withPrefix := first && prefix
	cacheable := e.cache != nil && len(seg) <= cacheMaxKey &&
		(!first || (prefix && seg[0] != ' ' && !strings.HasPrefix(seg, wsMark)))
	if !cacheable {
		e.norm = e.normalize(e.norm[:0], seg, withPrefix)
		return e.bpe(dst, e.norm)
	}
	if d, ok := e.cache.appendCached(dst, seg); ok {
		return d
	}
	mark := len(dst)
	e.norm = e.normalize(e.norm[:0], seg, withPrefix)
	dst = e.bpe(dst, e.norm)
	e.cache.put(dst[mark:])
	return dst
}

// normalize appends text as SentencePiece normalizes it to n: optional dummy prefix, ' ' → '▁', malformed UTF-8
// bytes → U+FFFD each, and remove_extra_whitespaces when the model asks for it (no leading spaces, runs of spaces
// as one, no trailing '▁').
func (e *Encoder) normalize(n []byte, text string, prefix bool) []byte {
	t := e.t
	if t.collapseWS {
		text = strings.TrimLeft(text, " ")
	}
	if text == "" {
		return n
	}
	if prefix {
		n = append(n, wsMark...)
	}
	prevSpace := true
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			if c == ' ' {
				if !t.collapseWS || !prevSpace {
					n = append(n, wsMark...)
				}
			} else {
				n = append(n, c)
			}
			prevSpace = c == ' '
			i++
			continue
		}
		prevSpace = false
		r, size := utf8.DecodeRuneInString(text[i:])
		if r == utf8.RuneError && size == 1 {
			n = append(n, "\uFFFD"...)
		} else {
			n = append(n, text[i:i+size]...)
		}
		i += size
	}
	if t.collapseWS {
		// SentencePiece strips every trailing '▁' here, literal ones and the dummy prefix included.
		for bytes.HasSuffix(n, markBytes) {
			n = n[:len(n)-len(markBytes)]
		}
	}
	return n
}

// appendNormalizedSegments cuts normalized text before every '▁'-run that follows another character and encodes
// each segment (used for remove_extra_whitespaces models, whose raw text does not map segment by segment).
func (e *Encoder) appendNormalizedSegments(dst []int32, n []byte) []int32 {
	segStart := 0
	for i := 0; i < len(n); {
		j := bytes.Index(n[i:], markBytes)
		if j < 0 {
			break
		}
		j += i
		if j > segStart && !bytes.HasSuffix(n[:j], markBytes) {
			dst = e.segment(dst, n[segStart:j])
			segStart = j
		}
		i = j + len(markBytes)
	}
	return e.segment(dst, n[segStart:])
}

// segment encodes one cache segment, through the cache when it is short enough to be worth keeping.
func (e *Encoder) segment(dst []int32, seg []byte) []int32 {
	if e.cache == nil || len(seg) > cacheMaxKey || len(seg) == 0 {
		return e.bpe(dst, seg)
	}
	// seg is e.norm, which nothing changes until put has copied what it keeps: a view instead of a copy.
	if d, ok := e.cache.appendCached(dst, unsafe.String(unsafe.SliceData(seg), len(seg))); ok {
		return d
	}
	mark := len(dst)
	dst = e.bpe(dst, seg)
	e.cache.put(dst[mark:])
	return dst
}

// bpe runs SentencePiece's BPE on normalized text seg and appends the resulting ids: start from characters (or
// frozen user-defined pieces), repeatedly merge the adjacent pair whose merge has the highest priority, leftmost on
// ties, then map symbols that are not pieces to byte pieces (byte fallback) or one <unk> per run.
func (e *Encoder) bpe(dst []int32, seg []byte) []int32 {
	t := e.t
	syms := e.syms[:0]
	for i := 0; i < len(seg); {
		s := symbol{id: -1, start: int32(i), prev: int32(len(syms)) - 1, next: int32(len(syms)) + 1}
		if t.userFirst[seg[i]] {
			for _, u := range t.userDefined {
				if bytes.HasPrefix(seg[i:], []byte(u)) {
					s.id, s.frozen, s.end = t.ids[u], true, int32(i+len(u))
					break
				}
			}
		}
		if !s.frozen {
			c := seg[i]
			if c < utf8.RuneSelf {
				s.id, s.end = t.ascii[c], int32(i+1)
			} else {
				r, size := utf8.DecodeRune(seg[i:])
				if id, ok := t.charID[r]; ok {
					s.id = id
				}
				s.end = int32(i + size)
			}
		}
		i = int(s.end)
		syms = append(syms, s)
	}
	if len(syms) > 0 {
		syms[len(syms)-1].next = -1
	}
	e.syms = syms
	if len(syms) <= e.small {
		syms = e.mergeSmall(syms)
		return e.emit(dst, seg, syms, false)
	}
	e.mergeHeap(syms)
	return e.emit(dst, seg, syms, true)
}

func (t *Tokenizer) lookup(a, b *symbol) (merge, bool) {
	if a.frozen || b.frozen || a.id == -1 || b.id == -1 {
		return merge{}, false
	}
	return t.pairTab.get(pairKey(a.id, b.id))
}

// mergeSmall is the array scan: keep the candidate merge of every adjacent pair, take the best one (first on ties,
// which is the leftmost, as in SentencePiece), merge, and refresh the two pairs that changed.
func (e *Encoder) mergeSmall(syms []symbol) []symbol {
	t := e.t
	n := len(syms)
	if n < 2 {
		return syms
	}
	// prio[i] is the priority of merging syms[i] and syms[i+1] (-Inf: none) and mid[i] the merged id. Load rejects
	// non-finite scores, so -Inf never stands for a real merge.
	prio, mid := e.prio[:0], e.mid[:0]
	for i := 0; i+1 < n; i++ {
		m, ok := t.lookup(&syms[i], &syms[i+1])
		if !ok {
			m.priority = negInf
		}
		prio, mid = append(prio, m.priority), append(mid, m.id)
	}
	for {
		best, bp := -1, negInf
		for i, p := range prio {
			if p > bp { // strict: the leftmost of equal priorities wins
				best, bp = i, p
			}
		}
		if best < 0 {
			break
		}
		syms[best].id = mid[best]
		syms[best].end = syms[best+1].end
		syms = append(syms[:best+1], syms[best+2:]...)
		prio = append(prio[:best], prio[best+1:]...)
		mid = append(mid[:best], mid[best+1:]...)
		if best > 0 {
			m, ok := t.lookup(&syms[best-1], &syms[best])
			if !ok {
				m.priority = negInf
			}
			prio[best-1], mid[best-1] = m.priority, m.id
		}
		if best < len(prio) {
			m, ok := t.lookup(&syms[best], &syms[best+1])
			if !ok {
				m.priority = negInf
			}
			prio[best], mid[best] = m.priority, m.id
		}
	}
	e.prio, e.mid = prio, mid
	return syms
}

// mergeHeap is the same algorithm with a binary heap of candidate pairs over a linked list of symbols, so that a
// segment of n characters costs O(n log n). Candidates made stale by an earlier merge are skipped when popped.
func (e *Encoder) mergeHeap(syms []symbol) {
	t := e.t
	h := e.heap[:0]
	push := func(l int32) {
		r := syms[l].next
		if l < 0 || r < 0 {
			return
		}
		m, ok := t.lookup(&syms[l], &syms[r])
		if !ok {
			return
		}
		h = append(h, heapItem{prio: m.priority, left: l, right: r, lid: syms[l].id, rid: syms[r].id, mid: m.id})
		// sift up
		i := len(h) - 1
		for i > 0 {
			p := (i - 1) / 2
			if !before(&h[i], &h[p]) {
				break
			}
			h[i], h[p] = h[p], h[i]
			i = p
		}
	}
	for i := 0; i+1 < len(syms); i++ {
		push(int32(i))
	}
	for len(h) > 0 {
		top := h[0]
		last := len(h) - 1
		h[0] = h[last]
		h = h[:last]
		// sift down
		for i := 0; ; {
			l := 2*i + 1
			if l >= len(h) {
				break
			}
			c := l
			if r := l + 1; r < len(h) && before(&h[r], &h[l]) {
				c = r
			}
			if !before(&h[c], &h[i]) {
				break
			}
			h[i], h[c] = h[c], h[i]
			i = c
		}
		L, R := &syms[top.left], &syms[top.right]
		if L.start == L.end || R.start == R.end || L.next != top.right || L.id != top.lid || R.id != top.rid {
			continue // stale
		}
		L.id, L.end, L.next = top.mid, R.end, R.next
		if R.next >= 0 {
			syms[R.next].prev = top.left
		}
		R.end = R.start // dead
		if L.prev >= 0 {
			push(L.prev)
		}
		push(top.left)
	}
	e.heap = h
}

func before(a, b *heapItem) bool {
	return a.prio > b.prio || (a.prio == b.prio && a.left < b.left)
}

// emit appends the ids of the final symbols. linked says whether syms is a linked list (heap path) or dense.
func (e *Encoder) emit(dst []int32, seg []byte, syms []symbol, linked bool) []int32 {
	t := e.t
	prevUnk := false
	out := func(s *symbol) {
		if s.id >= 0 {
			dst = append(dst, s.id)
			prevUnk = false
			return
		}
		// Not a piece: byte pieces for its UTF-8 bytes, else one <unk> for a run (SentencePiece merges them).
		if t.byteFB {
			for _, b := range seg[s.start:s.end] {
				dst = append(dst, t.byteID[b])
			}
			return
		}
		if !prevUnk {
			dst = append(dst, t.unk)
		}
		prevUnk = true
	}
	if !linked {
		for i := range syms {
			out(&syms[i])
		}
		return dst
	}
	for i := int32(0); i >= 0 && len(syms) > 0; i = syms[i].next {
		out(&syms[i])
	}
	return dst
}
