package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
)

// HFTokenizerClass is the tokenizer_class written to tokenizer_config.json. It makes every loader use
// tokenizer.json exactly as written: transformers v4's PreTrainedTokenizerFast and v5's TokenizersBackend (which
// the name maps to) load the file verbatim, whereas transformers v5's LlamaTokenizer rebuilds the pipeline from
// the vocabulary and merges with its own Metaspace pre-tokenizer (legacy=False by default: no dummy prefix after
// an added token), which is not how the shards were tokenized.
const HFTokenizerClass = "PreTrainedTokenizerFast"

// HFDirOptions shape the tokenizer_config.json of a Hugging Face tokenizer directory.
type HFDirOptions struct {
	// AddBOS and AddEOS are add_bos_token/add_eos_token: what tokenizer(text) adds around the ids by default
	// (the tokenizer.json post-processor agrees).
	AddBOS, AddEOS bool
	// ChatTemplate is the Jinja chat template ("" for none).
	ChatTemplate string
	// PadToken names the padding token; "" leaves it unset. It must be a token of the vocabulary.
	PadToken string
}

// HFFile is one file of a Hugging Face tokenizer directory.
type HFFile struct {
	Name string
	Data []byte
}

// HFDir returns tokenizer.json, tokenizer_config.json and special_tokens_map.json: a Hugging Face tokenizer
// directory whose fast tokenizer encodes text exactly as Encoder.AppendEncode does (plus BOS/EOS as o says).
// The bytes depend only on t and o. Models it cannot express exactly are errors: SentencePiece USER_DEFINED
// pieces, remove_extra_whitespaces, and pieces reachable only through characters that are no piece.
func (t *Tokenizer) HFDir(o HFDirOptions) ([]HFFile, error) {
	tj, err := t.HFTokenizerJSON(o.AddBOS, o.AddEOS)
	if err != nil {
		return nil, err
	}
	if o.PadToken != "" {
		if _, ok := t.ids[o.PadToken]; !ok {
			return nil, fmt.Errorf("pad token %q is not in the vocabulary", o.PadToken)
		}
	}
	if (o.AddBOS && t.bos < 0) || (o.AddEOS && t.eos < 0) {
		return nil, errors.New("the tokenizer has no BOS/EOS token to add")
	}
	cfg := hfConfig{
		AddBOS: o.AddBOS, AddEOS: o.AddEOS,
		Added:        hfAddedMap(t.addedTokens()),
		BOS:          t.pieceOrNil(t.bos),
		ChatTemplate: o.ChatTemplate,
		EOS:          t.pieceOrNil(t.eos),
		Legacy:       t.addPrefix && !t.firstOnly,
		PadToken:     strOrNil(o.PadToken),
		SPKwargs:     map[string]any{},
		Class:        HFTokenizerClass,
		UNK:          t.pieceOrNil(t.unk),
	}
	cj, err := marshal(cfg, true)
	if err != nil {
		return nil, err
	}
	sm := hfSpecialMap{BOS: t.addedOrNil(t.bos), EOS: t.addedOrNil(t.eos), UNK: t.addedOrNil(t.unk)}
	if o.PadToken != "" {
		sm.PAD = t.addedOrNil(t.ids[o.PadToken])
	}
	sj, err := marshal(sm, true)
	if err != nil {
		return nil, err
	}
	return []HFFile{{"tokenizer.json", tj}, {"tokenizer_config.json", cj}, {"special_tokens_map.json", sj}}, nil
}

// HFTokenizerJSON returns a tokenizer.json that encodes exactly as t: the vocabulary by id; BPE with byte
// fallback and fuse_unk; merges = every split of a mergeable piece into two vocabulary pieces, ordered by the
// merged piece's SentencePiece score, highest first (or, for a model read from tokenizer.json, in its merge
// order); every control, unknown and added token as an added token with normalized=false, so it is split out of
// the raw text first; and the dummy prefix as t applies it: legacy SentencePiece (normalizer Prepend("▁") then
// Replace(" ", "▁"): every piece between added tokens gets it, even one that starts with a space) or Metaspace
// (when t was read from a tokenizer.json that uses it). The post-processor adds BOS/EOS when asked.
func (t *Tokenizer) HFTokenizerJSON(addBOS, addEOS bool) ([]byte, error) {
	if len(t.userDefined) > 0 {
		return nil, fmt.Errorf("%d USER_DEFINED pieces (e.g. %q): no tokenizer.json reproduces SentencePiece's handling of them", len(t.userDefined), t.userDefined[0])
	}
	if t.collapseWS {
		return nil, errors.New("remove_extra_whitespaces: no tokenizer.json reproduces SentencePiece's whitespace collapsing exactly")
	}
	merges, err := t.hfMerges()
	if err != nil {
		return nil, err
	}
	doc := hfOut{Version: "1.0", AddedTokens: t.addedTokens()}
	switch {
	case t.metaspace:
		scheme := "never"
		if t.addPrefix {
			scheme = "always"
			if t.firstOnly {
				scheme = "first"
			}
		}
		doc.PreTokenizer = map[string]any{"type": "Metaspace", "replacement": wsMark, "prepend_scheme": scheme, "split": false}
	case t.addPrefix:
		doc.Normalizer = map[string]any{"type": "Sequence", "normalizers": []any{
			map[string]any{"type": "Prepend", "prepend": wsMark},
			map[string]any{"type": "Replace", "pattern": map[string]any{"String": " "}, "content": wsMark},
		}}
	default:
		doc.Normalizer = map[string]any{"type": "Replace", "pattern": map[string]any{"String": " "}, "content": wsMark}
	}
	doc.PostProcessor = t.postProcessor(addBOS, addEOS)
	dec := []any{
		map[string]any{"type": "Replace", "pattern": map[string]any{"String": wsMark}, "content": " "},
		map[string]any{"type": "ByteFallback"},
		map[string]any{"type": "Fuse"},
	}
	if t.addPrefix {
		dec = append(dec, map[string]any{"type": "Strip", "content": " ", "start": 1, "stop": 0})
	}
	doc.Decoder = map[string]any{"type": "Sequence", "decoders": dec}
	doc.Model = hfModelOut{Type: "BPE", UnkToken: t.pieceOrNil(t.unk), FuseUnk: true, ByteFallback: t.byteFB,
		Vocab: hfVocab(t.pieces[:t.nBase]), Merges: merges}
	return marshal(doc, false)
}

// hfMerges lists every mergeable pair as [left, right] in merge priority order. Ties (pieces of equal score, such
// as Llama-2's whitespace runs) are ordered by the merged piece's id, then by the left part's length.
func (t *Tokenizer) hfMerges() ([][2]string, error) {
	type m struct {
		l, r int32
		merge
	}
	all := make([]m, 0, len(t.pairs))
	for k, v := range t.pairs {
		l, r := int32(uint32(k>>32)), int32(uint32(k))
		if l < 0 || r < 0 {
			return nil, fmt.Errorf("piece %q is built from a character that is not itself a piece: a tokenizer.json cannot merge into it", t.pieces[v.id])
		}
		all = append(all, m{l, r, v})
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.priority != b.priority {
			return a.priority > b.priority
		}
		if a.id != b.id {
			return a.id < b.id
		}
		return len(t.pieces[a.l]) < len(t.pieces[b.l])
	})
	out := make([][2]string, len(all))
	for i, x := range all {
		out[i] = [2]string{t.pieces[x.l], t.pieces[x.r]}
	}
	return out, nil
}

func (t *Tokenizer) postProcessor(addBOS, addEOS bool) map[string]any {
	seq := func(id string, typ int) any {
		return map[string]any{"Sequence": map[string]any{"id": id, "type_id": typ}}
	}
	tok := func(id int32, typ int) any {
		return map[string]any{"SpecialToken": map[string]any{"id": t.pieces[id], "type_id": typ}}
	}
	var single, pair []any
	special := map[string]any{}
	for typ, s := range []string{"A", "B"} {
		var part []any
		if addBOS {
			part = append(part, tok(t.bos, typ))
			special[t.pieces[t.bos]] = map[string]any{"id": t.pieces[t.bos], "ids": []int32{t.bos}, "tokens": []string{t.pieces[t.bos]}}
		}
		part = append(part, seq(s, typ))
		if addEOS {
			part = append(part, tok(t.eos, typ))
			special[t.pieces[t.eos]] = map[string]any{"id": t.pieces[t.eos], "ids": []int32{t.eos}, "tokens": []string{t.pieces[t.eos]}}
		}
		if typ == 0 {
			single = part
		}
		pair = append(pair, part...)
	}
	return map[string]any{"type": "TemplateProcessing", "single": single, "pair": pair, "special_tokens": special}
}

// hfAdded is an added token as tokenizer.json and tokenizer_config.json spell it.
type hfAdded struct {
	ID         int32  `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// addedTokens are the ids split out of text before BPE (control, unknown and added tokens), in id order.
func (t *Tokenizer) addedTokens() []hfAdded {
	var out []hfAdded
	for i, k := range t.kinds {
		if k == kindControl || k == kindUnknown || k == kindAdded {
			out = append(out, hfAdded{ID: int32(i), Content: t.pieces[i], Special: true})
		}
	}
	return out
}

func (t *Tokenizer) pieceOrNil(id int32) *string {
	if id < 0 {
		return nil
	}
	return &t.pieces[id]
}

func (t *Tokenizer) addedOrNil(id int32) *hfTokenEntry {
	if id < 0 {
		return nil
	}
	return &hfTokenEntry{Content: t.pieces[id]}
}

func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type hfOut struct {
	Version       string     `json:"version"`
	Truncation    any        `json:"truncation"`
	Padding       any        `json:"padding"`
	AddedTokens   []hfAdded  `json:"added_tokens"`
	Normalizer    any        `json:"normalizer"`
	PreTokenizer  any        `json:"pre_tokenizer"`
	PostProcessor any        `json:"post_processor"`
	Decoder       any        `json:"decoder"`
	Model         hfModelOut `json:"model"`
}

type hfModelOut struct {
	Type                    string      `json:"type"`
	Dropout                 any         `json:"dropout"`
	UnkToken                *string     `json:"unk_token"`
	ContinuingSubwordPrefix any         `json:"continuing_subword_prefix"`
	EndOfWordSuffix         any         `json:"end_of_word_suffix"`
	FuseUnk                 bool        `json:"fuse_unk"`
	ByteFallback            bool        `json:"byte_fallback"`
	IgnoreMerges            bool        `json:"ignore_merges"`
	Vocab                   hfVocab     `json:"vocab"`
	Merges                  [][2]string `json:"merges"`
}

// hfVocab marshals as a JSON object in id order (a Go map would sort the keys).
type hfVocab []string

func (v hfVocab) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for id, p := range v {
		if id > 0 {
			b.WriteByte(',')
		}
		b.Write(jsonString(p))
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(id))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// hfAddedMap is tokenizer_config.json's added_tokens_decoder: {"id": {...}} in id order.
type hfAddedMap []hfAdded

func (m hfAddedMap) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, a := range m {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(jsonString(strconv.Itoa(int(a.ID))))
		b.WriteByte(':')
		e, err := marshal(hfTokenEntry{Content: a.Content, Special: a.Special}, false)
		if err != nil {
			return nil, err
		}
		b.Write(e)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// hfTokenEntry is an AddedToken as tokenizer_config.json and special_tokens_map.json write it.
type hfTokenEntry struct {
	Content    string `json:"content"`
	LStrip     bool   `json:"lstrip"`
	Normalized bool   `json:"normalized"`
	RStrip     bool   `json:"rstrip"`
	SingleWord bool   `json:"single_word"`
	Special    bool   `json:"special,omitempty"`
}

type hfConfig struct {
	AddBOS       bool           `json:"add_bos_token"`
	AddEOS       bool           `json:"add_eos_token"`
	Added        hfAddedMap     `json:"added_tokens_decoder"`
	BOS          *string        `json:"bos_token"`
	ChatTemplate string         `json:"chat_template,omitempty"`
	CleanUp      bool           `json:"clean_up_tokenization_spaces"`
	EOS          *string        `json:"eos_token"`
	Legacy       bool           `json:"legacy"`
	PadToken     *string        `json:"pad_token"`
	SPKwargs     map[string]any `json:"sp_model_kwargs"`
	Class        string         `json:"tokenizer_class"`
	UNK          *string        `json:"unk_token"`
	DefaultSys   bool           `json:"use_default_system_prompt"`
}

type hfSpecialMap struct {
	BOS *hfTokenEntry `json:"bos_token,omitempty"`
	EOS *hfTokenEntry `json:"eos_token,omitempty"`
	PAD *hfTokenEntry `json:"pad_token,omitempty"`
	UNK *hfTokenEntry `json:"unk_token,omitempty"`
}

// marshal encodes v without HTML escaping ("<s>" stays "<s>"), indented when asked.
func marshal(v any, indent bool) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	out := b.Bytes()
	if !indent {
		out = bytes.TrimSuffix(out, []byte{'\n'})
	}
	return out, nil
}

func jsonString(s string) []byte {
	b, _ := marshal(s, false) // a string always encodes
	return b
}

// Dummy-prefix schemes (Tokenizer.PrefixScheme): where a '▁' is put before text.
const (
	// PrefixEveryPiece is SentencePiece's add_dummy_prefix applied to every piece of text between added tokens,
	// even one that starts with a space (Hugging Face's legacy Llama tokenizer; "<|im_end|>\n" → <|im_end|> ▁ \n).
	PrefixEveryPiece = "every_piece"
	// PrefixMetaspaceAlways is Metaspace prepend_scheme "always": every piece, unless it starts with a space.
	PrefixMetaspaceAlways = "metaspace_always"
	// PrefixMetaspaceFirst is Metaspace prepend_scheme "first": only a text's first piece, unless it starts with
	// a space (transformers' legacy=False).
	PrefixMetaspaceFirst = "metaspace_first"
	// PrefixNone adds no dummy prefix.
	PrefixNone = "none"
)

// PrefixScheme says how the tokenizer adds SentencePiece's dummy prefix.
func (t *Tokenizer) PrefixScheme() string {
	switch {
	case !t.addPrefix:
		return PrefixNone
	case t.metaspace && t.firstOnly:
		return PrefixMetaspaceFirst
	case t.metaspace:
		return PrefixMetaspaceAlways
	}
	return PrefixEveryPiece
}
