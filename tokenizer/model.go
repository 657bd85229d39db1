package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// wsMark is SentencePiece's visible space, U+2581 LOWER ONE EIGHTH BLOCK, which replaces ' ' before BPE.
const wsMark = "\u2581"

// kind is a vocabulary entry's role. The values of the first six match SentencePiece's ModelProto piece types.
type kind uint8

const (
	kindNormal      kind = 1
	kindUnknown     kind = 2
	kindControl     kind = 3
	kindUserDefined kind = 4
	kindUnused      kind = 5
	kindByte        kind = 6
	kindAdded       kind = 7 // appended by added_tokens.json, tokenizer.json added_tokens or AddTokens
)

// merge is what an adjacent symbol pair becomes: the merged piece's id and its priority (SentencePiece piece
// score, or minus the merge rank for a Hugging Face tokenizer.json; higher merges first).
type merge struct {
	id       int32
	priority float32
}

// Tokenizer is a loaded Llama-style SentencePiece BPE vocabulary plus added tokens. After Load and any AddTokens
// calls it is immutable and safe for concurrent use; encode through per-goroutine Encoders.
type Tokenizer struct {
	source string // file it was loaded from, for messages
	format string // FormatSentencePiece or FormatHFJSON
	nBase  int    // ids below nBase are the model's vocabulary; the rest were appended as added tokens

	pieces []string
	kinds  []kind
	ids    map[string]int32 // every piece (all kinds) → id

	// Symbol ids of single characters: real ids for characters that are pieces, negative synthetic ids (< -1) for
	// characters that are not pieces but occur inside mergeable pieces, absent (-1) otherwise.
	ascii  [128]int32
	charID map[rune]int32

	pairs      map[uint64]merge // (left symbol id, right symbol id) → merge, while loading
	pairTab    pairTable        // the same, for encoding
	byteID     [256]int32       // <0xXX> piece ids, -1 when absent
	byteFB     bool             // unknown characters become byte pieces (else one <unk> per run)
	unk        int32
	bos, eos   int32
	addPrefix  bool // SentencePiece add_dummy_prefix / HF Prepend("▁")
	firstOnly  bool // dummy prefix only on the first piece of a text (HF Metaspace prepend_scheme "first")
	metaspace  bool // HF Metaspace: no dummy prefix on a piece that already starts with ' ' or '▁'
	collapseWS bool // SentencePiece remove_extra_whitespaces

	userDefined []string // frozen SentencePiece USER_DEFINED pieces, longest first
	userFirst   [256]bool

	special      []string // split out of text before BPE: control, unknown and added tokens, longest first
	specialFirst [256]bool

	// cacheExact reports that no mergeable piece contains '▁' after a non-'▁' character, so a text can be cut
	// into independent segments before every '▁'-run that follows another character and each segment cached.
	cacheExact bool
}

// Load reads a SentencePiece tokenizer.model (protobuf ModelProto of a BPE model) or a Hugging Face tokenizer.json
// of the Llama kind (BPE with byte fallback and the "▁" prefix/space normalizer). For a .model file an
// added_tokens.json beside it, if present, appends its tokens (their ids must continue the vocabulary).
// Errors name the file and what is wrong.
func Load(path string) (*Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n\xef\xbb\xbf")
	var t *Tokenizer
	if len(trimmed) > 0 && trimmed[0] == '{' {
		t, err = loadHFJSON(data)
	} else {
		t, err = loadSPM(data)
		if err == nil {
			err = t.loadAddedTokensJSON(filepath.Join(filepath.Dir(path), "added_tokens.json"))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", path, err)
	}
	t.source = path
	return t, nil
}

// File formats a Tokenizer can be loaded from (Tokenizer.Format).
const (
	FormatSentencePiece = "sentencepiece"  // a SentencePiece tokenizer.model
	FormatHFJSON        = "tokenizer.json" // a Hugging Face tokenizer.json
)

// Source is the file the tokenizer was loaded from ("" when parsed from memory).
func (t *Tokenizer) Source() string { return t.source }

// Format says which kind of file the tokenizer was loaded from: FormatSentencePiece or FormatHFJSON.
func (t *Tokenizer) Format() string { return t.format }

// LoadSentencePiece parses a SentencePiece ModelProto from memory (no added_tokens.json lookup).
func LoadSentencePiece(data []byte) (*Tokenizer, error) { return loadSPM(data) }

// LoadHFJSON parses a Hugging Face tokenizer.json from memory.
func LoadHFJSON(data []byte) (*Tokenizer, error) { return loadHFJSON(data) }

func newTokenizer() *Tokenizer {
	t := &Tokenizer{ids: map[string]int32{}, charID: map[rune]int32{}, pairs: map[uint64]merge{}, unk: -1, bos: -1, eos: -1}
	for i := range t.ascii {
		t.ascii[i] = -1
	}
	for i := range t.byteID {
		t.byteID[i] = -1
	}
	return t
}

// spmPiece is one ModelProto.pieces entry.
type spmPiece struct {
	piece string
	score float32
	typ   kind
}

// loadSPM decodes the ModelProto fields the encoder needs with protowire, so no generated code is required:
// pieces (1: piece=1, score=2, type=3), trainer_spec (2: model_type=3, byte_fallback=35, treat_whitespace_as_suffix=24,
// unk_id=40, bos_id=41, eos_id=42) and normalizer_spec (3: name=1, precompiled_charsmap=2, add_dummy_prefix=3,
// remove_extra_whitespaces=4, escape_whitespaces=5).
func loadSPM(data []byte) (*Tokenizer, error) {
	var pieces []spmPiece
	modelType := int64(1) // proto default UNIGRAM
	byteFallback, wsSuffix := false, false
	bosID, eosID := int64(1), int64(2)
	addDummy, removeExtra, escapeWS := true, true, true
	var charsmap []byte
	sawTrainer, sawNormalizer := false, false

	err := walk(data, func(num protowire.Number, typ protowire.Type, v uint64, b []byte) error {
		switch num {
		case 1:
			if typ != protowire.BytesType {
				return errors.New("pieces field has the wrong wire type")
			}
			p := spmPiece{typ: kindNormal}
			err := walk(b, func(num protowire.Number, typ protowire.Type, v uint64, b []byte) error {
				switch {
				case num == 1 && typ == protowire.BytesType:
					p.piece = string(b)
				case num == 2 && typ == protowire.Fixed32Type:
					p.score = math.Float32frombits(uint32(v))
				case num == 3 && typ == protowire.VarintType:
					p.typ = kind(v)
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("piece %d: %w", len(pieces), err)
			}
			pieces = append(pieces, p)
		case 2:
			if typ != protowire.BytesType {
				return errors.New("trainer_spec has the wrong wire type")
			}
			sawTrainer = true
			return walk(b, func(num protowire.Number, typ protowire.Type, v uint64, b []byte) error {
				if typ != protowire.VarintType {
					return nil
				}
				switch num {
				case 3:
					modelType = int64(v)
				case 24:
					wsSuffix = v != 0
				case 35:
					byteFallback = v != 0
				case 41:
					bosID = int64(int32(v))
				case 42:
					eosID = int64(int32(v))
				}
				return nil
			})
		case 3:
			if typ != protowire.BytesType {
				return errors.New("normalizer_spec has the wrong wire type")
			}
			sawNormalizer = true
			return walk(b, func(num protowire.Number, typ protowire.Type, v uint64, b []byte) error {
				switch {
				case num == 2 && typ == protowire.BytesType:
					charsmap = b
				case num == 3 && typ == protowire.VarintType:
					addDummy = v != 0
				case num == 4 && typ == protowire.VarintType:
					removeExtra = v != 0
				case num == 5 && typ == protowire.VarintType:
					escapeWS = v != 0
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("not a SentencePiece model (protobuf): %w", err)
	}
	if len(pieces) == 0 || !sawTrainer || !sawNormalizer {
		return nil, errors.New("not a SentencePiece model: no pieces, trainer_spec or normalizer_spec")
	}
	if modelType != 2 {
		return nil, fmt.Errorf("SentencePiece model_type %d is not supported (only BPE = 2, as used by Llama)", modelType)
	}
	if len(charsmap) != 0 {
		return nil, errors.New("SentencePiece normalizer with a precompiled_charsmap is not supported (Llama uses identity normalization)")
	}
	if wsSuffix {
		return nil, errors.New("treat_whitespace_as_suffix is not supported")
	}
	if !escapeWS {
		return nil, errors.New("escape_whitespaces=false is not supported")
	}

	t := newTokenizer()
	t.format, t.nBase = FormatSentencePiece, len(pieces)
	t.addPrefix, t.collapseWS, t.byteFB = addDummy, removeExtra, byteFallback
	for i, p := range pieces {
		switch p.typ {
		case kindNormal, kindUnknown, kindControl, kindUserDefined, kindByte:
		case kindUnused:
			return nil, fmt.Errorf("piece %d %q is UNUSED; models with unused pieces are not supported", i, p.piece)
		default:
			return nil, fmt.Errorf("piece %d %q has unknown type %d", i, p.piece, p.typ)
		}
		if p.piece == "" {
			return nil, fmt.Errorf("piece %d is empty", i)
		}
		if math.IsNaN(float64(p.score)) || math.IsInf(float64(p.score), 0) {
			return nil, fmt.Errorf("piece %d %q has a non-finite score", i, p.piece)
		}
		if !utf8.ValidString(p.piece) {
			return nil, fmt.Errorf("piece %d is not valid UTF-8", i)
		}
		if _, dup := t.ids[p.piece]; dup {
			return nil, fmt.Errorf("piece %d %q is a duplicate", i, p.piece)
		}
		t.pieces = append(t.pieces, p.piece)
		t.kinds = append(t.kinds, p.typ)
		t.ids[p.piece] = int32(i)
		switch p.typ {
		case kindUnknown:
			if t.unk >= 0 {
				return nil, fmt.Errorf("piece %d: second UNKNOWN piece", i)
			}
			t.unk = int32(i)
		case kindByte:
			var b byte
			if _, err := fmt.Sscanf(p.piece, "<0x%02X>", &b); err != nil || len(p.piece) != 6 {
				return nil, fmt.Errorf("piece %d %q: BYTE piece not of the form <0xXX>", i, p.piece)
			}
			t.byteID[b] = int32(i)
		case kindUserDefined:
			t.userDefined = append(t.userDefined, p.piece)
		}
	}
	if t.unk < 0 {
		return nil, errors.New("SentencePiece model has no UNKNOWN piece")
	}
	if byteFallback {
		for b, id := range t.byteID {
			if id < 0 {
				return nil, fmt.Errorf("byte_fallback is on but piece <0x%02X> is missing", b)
			}
		}
	}
	t.bos, t.eos = validID(bosID, len(pieces)), validID(eosID, len(pieces))

	// Symbols are characters or mergeable pieces (NORMAL, USER_DEFINED). A pair of adjacent symbols merges when
	// their concatenation is a mergeable piece, with that piece's score as priority. Enumerate every split of
	// every mergeable piece into two possible symbols once, so encoding looks up integer pairs, not strings.
	for i, p := range pieces {
		if utf8.RuneCountInString(p.piece) == 1 {
			r, _ := utf8.DecodeRuneInString(p.piece)
			t.setChar(r, int32(i))
		}
	}
	synthetic := int32(-2)
	symbolOf := func(s string) (int32, bool) {
		if r, n := utf8.DecodeRuneInString(s); n == len(s) {
			if id, ok := t.char(r); ok {
				return id, true
			}
			// A character that is no piece can still start a merge when some piece contains it.
			t.setChar(r, synthetic)
			synthetic--
			return synthetic + 1, true
		}
		id, ok := t.ids[s]
		if ok && (t.kinds[id] == kindNormal || t.kinds[id] == kindUserDefined) {
			return id, true
		}
		return 0, false
	}
	for i, p := range pieces {
		if p.typ != kindNormal && p.typ != kindUserDefined {
			continue
		}
		s := p.piece
		for j, r := range s {
			if j == 0 {
				continue
			}
			_ = r
			l, okL := symbolOf(s[:j])
			rr, okR := symbolOf(s[j:])
			if okL && okR {
				t.pairs[pairKey(l, rr)] = merge{id: int32(i), priority: p.score}
			}
		}
	}
	t.finish()
	return t, nil
}

func validID(id int64, n int) int32 {
	if id < 0 || id >= int64(n) {
		return -1
	}
	return int32(id)
}

// walk calls fn for every field of a protobuf message.
func walk(b []byte, fn func(num protowire.Number, typ protowire.Type, v uint64, b []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v uint64
		var val []byte
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var x uint32
			x, n = protowire.ConsumeFixed32(b)
			v = uint64(x)
		case protowire.Fixed64Type:
			v, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			val, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if err := fn(num, typ, v, val); err != nil {
			return err
		}
	}
	return nil
}

func pairKey(l, r int32) uint64 { return uint64(uint32(l))<<32 | uint64(uint32(r)) }

func (t *Tokenizer) char(r rune) (int32, bool) {
	if r < 128 {
		id := t.ascii[r]
		return id, id != -1
	}
	id, ok := t.charID[r]
	return id, ok
}

func (t *Tokenizer) setChar(r rune, id int32) {
	if r < 128 {
		t.ascii[r] = id
		return
	}
	t.charID[r] = id
}

// finish derives the lookup tables that depend on the whole vocabulary: split-out tokens, user-defined prefix
// table, and whether the segment cache is exact.
func (t *Tokenizer) finish() {
	sort.SliceStable(t.userDefined, func(i, j int) bool { return len(t.userDefined[i]) > len(t.userDefined[j]) })
	t.userFirst = [256]bool{}
	for _, s := range t.userDefined {
		t.userFirst[s[0]] = true
	}
	t.special = t.special[:0]
	for i, k := range t.kinds {
		if k == kindControl || k == kindUnknown || k == kindAdded {
			t.special = append(t.special, t.pieces[i])
		}
	}
	sort.SliceStable(t.special, func(i, j int) bool { return len(t.special[i]) > len(t.special[j]) })
	t.specialFirst = [256]bool{}
	for _, s := range t.special {
		t.specialFirst[s[0]] = true
	}
	t.cacheExact = t.computeCacheExact()
	t.pairTab = newPairTable(t.pairs)
}

// computeCacheExact checks the property that makes segment caching exact: a merge can only produce a mergeable
// piece, so if no such piece has '▁' right after a non-'▁' character, no merge ever crosses the start of a
// '▁'-run that follows a non-'▁' character, and the segments between such points are encoded independently.
// User-defined pieces are matched before merging and must satisfy the same property. The '▁' character must
// itself be a piece so that no unknown-run merging (without byte fallback) spans a boundary.
func (t *Tokenizer) computeCacheExact() bool {
	if _, ok := t.ids[wsMark]; !ok {
		return false
	}
	for _, m := range t.pairs {
		if hasMarkAfterOther(t.pieces[m.id]) {
			return false
		}
	}
	for _, s := range t.userDefined {
		if hasMarkAfterOther(s) {
			return false
		}
	}
	return true
}

func hasMarkAfterOther(s string) bool {
	prevOther := false
	for _, r := range s {
		if r == '\u2581' {
			if prevOther {
				return true
			}
		} else {
			prevOther = true
		}
	}
	return false
}

// CacheExact reports whether the per-segment cache is in use (the model has the property that makes it exact).
func (t *Tokenizer) CacheExact() bool { return t.cacheExact }

// loadAddedTokensJSON reads a Hugging Face added_tokens.json ({"<pad>": 32000, ...}) if it exists.
func (t *Tokenizer) loadAddedTokensJSON(path string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var m map[string]int64
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("%s: not a JSON object of token → id: %w", path, err)
	}
	type tok struct {
		s  string
		id int64
	}
	var toks []tok
	for s, id := range m {
		toks = append(toks, tok{s, id})
	}
	sort.Slice(toks, func(i, j int) bool { return toks[i].id < toks[j].id })
	for _, tk := range toks {
		if err := t.addWithID(tk.s, tk.id, true); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	t.finish()
	return nil
}

// addWithID adds s with the given id: an existing piece must already have that id, a new one must take the next id.
func (t *Tokenizer) addWithID(s string, id int64, special bool) error {
	if s == "" {
		return fmt.Errorf("added token with id %d is empty", id)
	}
	if old, ok := t.ids[s]; ok {
		if int64(old) != id {
			return fmt.Errorf("added token %q has id %d but the vocabulary has it as %d", s, id, old)
		}
		if special && t.kinds[old] != kindControl && t.kinds[old] != kindUnknown {
			t.kinds[old] = kindAdded
		}
		return nil
	}
	if id != int64(len(t.pieces)) {
		return fmt.Errorf("added token %q has id %d; ids must continue the vocabulary at %d", s, id, len(t.pieces))
	}
	t.pieces = append(t.pieces, s)
	t.kinds = append(t.kinds, kindAdded)
	t.ids[s] = int32(id)
	return nil
}

// AddTokens appends added tokens after the current vocabulary in order (ids continue), skipping ones already
// present, and returns the id of each argument (-1 for ""). Added tokens are split out of text before encoding; a
// string that is already a vocabulary piece keeps its id and role, as with Hugging Face's add_tokens. Call it
// before the Tokenizer is shared between goroutines.
func (t *Tokenizer) AddTokens(tokens ...string) []int32 {
	out := make([]int32, 0, len(tokens))
	for _, s := range tokens {
		if id, ok := t.ids[s]; ok {
			out = append(out, id)
			continue
		}
		if s == "" {
			out = append(out, -1)
			continue
		}
		id := int32(len(t.pieces))
		t.pieces = append(t.pieces, s)
		t.kinds = append(t.kinds, kindAdded)
		t.ids[s] = id
		out = append(out, id)
	}
	t.finish()
	return out
}

// VocabSize is the number of ids, including added tokens.
func (t *Tokenizer) VocabSize() int { return len(t.pieces) }

// BOS is the beginning-of-sequence id (1 for Llama-2), or -1 if the model has none.
func (t *Tokenizer) BOS() int32 { return t.bos }

// EOS is the end-of-sequence id (2 for Llama-2), or -1 if the model has none.
func (t *Tokenizer) EOS() int32 { return t.eos }

// UNK is the unknown-piece id (0 for Llama-2).
func (t *Tokenizer) UNK() int32 { return t.unk }

// TokenID returns the id of a piece or added token, as spelled in the vocabulary (e.g. "▁Hello", "<|im_end|>").
func (t *Tokenizer) TokenID(piece string) (int32, bool) {
	id, ok := t.ids[piece]
	return id, ok
}

// Piece returns the vocabulary string of id, or "" when id is out of range.
func (t *Tokenizer) Piece(id int32) string {
	if id < 0 || int(id) >= len(t.pieces) {
		return ""
	}
	return t.pieces[id]
}

// IsSpecial reports whether id is a control, unknown or added token (the ones split out of text).
func (t *Tokenizer) IsSpecial(id int32) bool {
	if id < 0 || int(id) >= len(t.kinds) {
		return false
	}
	k := t.kinds[id]
	return k == kindControl || k == kindUnknown || k == kindAdded
}

// Decode turns ids back into text, as the inverse of Encode: pieces are concatenated with '▁' as ' ', byte pieces
// become their bytes, special tokens (control, unknown, added) appear as their literal text, and the dummy-prefix
// space is removed at the start and after every special token. Ids out of range are skipped. Unlike SentencePiece's
// DecodeIds it keeps "<s>"/"</s>" as text and does not print "<unk>" as " ⁇ ", so that Decode(Encode(s)) == s.
func (t *Tokenizer) Decode(ids []int32) string {
	return t.decode(ids, t.addPrefix, t.firstOnly)
}

// DecodeAs decodes ids as Decode would for a tokenizer with the given dummy-prefix scheme (Prefix*), whatever t's
// own: the text a tokenizer of that scheme was given. Validation uses it to test whether t gives such ids back.
func (t *Tokenizer) DecodeAs(ids []int32, scheme string) string {
	switch scheme {
	case PrefixNone:
		return t.decode(ids, false, false)
	case PrefixMetaspaceFirst:
		return t.decode(ids, true, true)
	}
	return t.decode(ids, true, false)
}

func (t *Tokenizer) decode(ids []int32, addPrefix, firstOnly bool) string {
	var b strings.Builder
	start := true // at the start of a piece that Encode gave a dummy prefix
	for _, id := range ids {
		if id < 0 || int(id) >= len(t.pieces) {
			continue
		}
		p := t.pieces[id]
		switch t.kinds[id] {
		case kindControl, kindUnknown, kindAdded:
			b.WriteString(p)
			start = !firstOnly
			continue
		case kindByte:
			b.WriteByte(byteOfPiece(p))
		default:
			if start && addPrefix {
				p = strings.TrimPrefix(p, wsMark)
			}
			b.WriteString(strings.ReplaceAll(p, wsMark, " "))
		}
		start = false
	}
	return b.String()
}

func byteOfPiece(p string) byte {
	var v byte
	for _, c := range []byte(p[3:5]) {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | (c - '0')
		case c >= 'A' && c <= 'F':
			v = v<<4 | (c - 'A' + 10)
		case c >= 'a' && c <= 'f':
			v = v<<4 | (c - 'a' + 10)
		}
	}
	return v
}
