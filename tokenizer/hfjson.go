package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// hfFile is the part of a Hugging Face tokenizer.json that a Llama-kind tokenizer uses.
type hfFile struct {
	AddedTokens []struct {
		ID      int64  `json:"id"`
		Content string `json:"content"`
		Special bool   `json:"special"`
	} `json:"added_tokens"`
	Normalizer   *hfNormalizer `json:"normalizer"`
	PreTokenizer *hfNormalizer `json:"pre_tokenizer"`
	Model        struct {
		Type         string            `json:"type"`
		Vocab        map[string]int64  `json:"vocab"`
		Merges       []json.RawMessage `json:"merges"`
		ByteFallback bool              `json:"byte_fallback"`
		UnkToken     *string           `json:"unk_token"`
		IgnoreMerges bool              `json:"ignore_merges"`
		Dropout      *float64          `json:"dropout"`
	} `json:"model"`
}

// hfNormalizer covers the normalizer and pre-tokenizer shapes found in Llama tokenizer.json files.
type hfNormalizer struct {
	Type        string          `json:"type"`
	Normalizers []hfNormalizer  `json:"normalizers"`
	Prepend     string          `json:"prepend"`
	Pattern     json.RawMessage `json:"pattern"`
	Content     string          `json:"content"`
	// Metaspace
	Replacement    string `json:"replacement"`
	PrependScheme  string `json:"prepend_scheme"`
	AddPrefixSpace *bool  `json:"add_prefix_space"`
	Split          *bool  `json:"split"`
}

// loadHFJSON reads a Llama-kind tokenizer.json: BPE over '▁'-escaped text, either the legacy normalizer
// Sequence[Prepend("▁"), Replace(" ", "▁")] or a Metaspace pre-tokenizer without splitting. Merge priority is
// minus the merge rank, which is how Hugging Face orders merges.
func loadHFJSON(data []byte) (*Tokenizer, error) {
	var f hfFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("not a valid tokenizer.json: %w", err)
	}
	if f.Model.Type != "BPE" {
		return nil, fmt.Errorf("tokenizer.json model type %q is not supported (only BPE of the Llama kind)", f.Model.Type)
	}
	if f.Model.IgnoreMerges {
		return nil, errors.New("tokenizer.json: ignore_merges=true is not supported (not a Llama tokenizer)")
	}
	if f.Model.Dropout != nil && *f.Model.Dropout != 0 {
		return nil, errors.New("tokenizer.json: BPE dropout is not supported")
	}
	if len(f.Model.Vocab) == 0 {
		return nil, errors.New("tokenizer.json: empty model.vocab")
	}
	t := newTokenizer()
	t.format, t.nBase = FormatHFJSON, len(f.Model.Vocab)
	t.byteFB = f.Model.ByteFallback
	if err := t.hfWhitespace(f.Normalizer, f.PreTokenizer); err != nil {
		return nil, err
	}

	n := len(f.Model.Vocab)
	t.pieces = make([]string, n)
	t.kinds = make([]kind, n)
	for s, id := range f.Model.Vocab {
		if id < 0 || id >= int64(n) || t.pieces[id] != "" {
			return nil, fmt.Errorf("tokenizer.json: vocab ids are not 0..%d without gaps (%q has %d)", n-1, s, id)
		}
		if s == "" || !utf8.ValidString(s) {
			return nil, fmt.Errorf("tokenizer.json: vocab entry %d is empty or not UTF-8", id)
		}
		t.pieces[id], t.kinds[id] = s, kindNormal
		t.ids[s] = int32(id)
	}
	for i, s := range t.pieces {
		if len(s) == 6 && strings.HasPrefix(s, "<0x") && s[5] == '>' {
			var b byte
			if _, err := fmt.Sscanf(s, "<0x%02X>", &b); err == nil {
				t.byteID[b], t.kinds[i] = int32(i), kindByte
			}
		}
		if utf8.RuneCountInString(s) == 1 {
			r, _ := utf8.DecodeRuneInString(s)
			t.setChar(r, int32(i))
		}
	}
	if f.Model.UnkToken != nil {
		id, ok := t.ids[*f.Model.UnkToken]
		if !ok {
			return nil, fmt.Errorf("tokenizer.json: unk_token %q is not in the vocab", *f.Model.UnkToken)
		}
		t.unk, t.kinds[id] = id, kindUnknown
	}
	if t.byteFB {
		for b, id := range t.byteID {
			if id < 0 {
				return nil, fmt.Errorf("tokenizer.json: byte_fallback is on but <0x%02X> is missing", b)
			}
		}
	}

	for rank, raw := range f.Model.Merges {
		l, r, err := parseMerge(raw)
		if err != nil {
			return nil, fmt.Errorf("tokenizer.json: merge %d: %w", rank, err)
		}
		lid, okL := t.ids[l]
		rid, okR := t.ids[r]
		mid, okM := t.ids[l+r]
		if !okL || !okR || !okM {
			return nil, fmt.Errorf("tokenizer.json: merge %d (%q %q) uses a piece that is not in the vocab", rank, l, r)
		}
		k := pairKey(lid, rid)
		if _, dup := t.pairs[k]; !dup { // the first (lowest-rank) occurrence wins, as in Hugging Face
			t.pairs[k] = merge{id: mid, priority: -float32(rank)}
		}
	}

	// Added tokens: those inside the vocabulary mark existing ids as special, the rest continue it in id order.
	added := f.AddedTokens
	sort.SliceStable(added, func(i, j int) bool { return added[i].ID < added[j].ID })
	for _, a := range added {
		if a.ID < int64(n) {
			if a.ID < 0 || t.pieces[a.ID] != a.Content {
				return nil, fmt.Errorf("tokenizer.json: added token %q has id %d, which the vocab gives to %q", a.Content, a.ID, t.pieces[max(a.ID, 0)])
			}
			if t.kinds[a.ID] == kindNormal || t.kinds[a.ID] == kindByte {
				if a.Special {
					t.kinds[a.ID] = kindControl
				} else {
					t.kinds[a.ID] = kindAdded
				}
			}
			continue
		}
		if err := t.addWithID(a.Content, a.ID, a.Special); err != nil {
			return nil, fmt.Errorf("tokenizer.json: %w", err)
		}
	}
	t.bos, t.eos = -1, -1
	if id, ok := t.ids["<s>"]; ok {
		t.bos = id
	}
	if id, ok := t.ids["</s>"]; ok {
		t.eos = id
	}
	t.finish()
	return t, nil
}

func parseMerge(raw json.RawMessage) (string, string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		l, r, ok := strings.Cut(s, " ")
		if !ok || l == "" || r == "" || strings.Contains(r, " ") {
			return "", "", fmt.Errorf("%q is not two pieces separated by one space", s)
		}
		return l, r, nil
	}
	var pair []string
	if err := json.Unmarshal(raw, &pair); err != nil || len(pair) != 2 || pair[0] == "" || pair[1] == "" {
		return "", "", errors.New("not a \"left right\" string or a [left, right] pair")
	}
	return pair[0], pair[1], nil
}

// hfWhitespace accepts the two Llama shapes of space handling and sets the dummy-prefix flags from them.
func (t *Tokenizer) hfWhitespace(norm, pre *hfNormalizer) error {
	var steps []hfNormalizer
	if norm != nil {
		if norm.Type == "Sequence" {
			steps = norm.Normalizers
		} else {
			steps = []hfNormalizer{*norm}
		}
	}
	replaced := false
	for _, s := range steps {
		switch s.Type {
		case "Prepend":
			if s.Prepend != wsMark || replaced {
				return fmt.Errorf("tokenizer.json: normalizer Prepend(%q) is not the Llama one", s.Prepend)
			}
			t.addPrefix = true
		case "Replace":
			var pat struct {
				String *string `json:"String"`
			}
			if json.Unmarshal(s.Pattern, &pat) != nil || pat.String == nil || *pat.String != " " || s.Content != wsMark {
				return errors.New("tokenizer.json: normalizer Replace is not Replace(\" \", \"▁\")")
			}
			replaced = true
		default:
			return fmt.Errorf("tokenizer.json: normalizer %q is not supported (not a Llama tokenizer)", s.Type)
		}
	}
	if pre != nil {
		if pre.Type != "Metaspace" || (pre.Replacement != "" && pre.Replacement != wsMark) || (pre.Split != nil && *pre.Split) {
			return fmt.Errorf("tokenizer.json: pre_tokenizer %q is not supported (Llama uses none, or Metaspace without split)", pre.Type)
		}
		if replaced {
			return errors.New("tokenizer.json: both a Replace normalizer and a Metaspace pre-tokenizer")
		}
		replaced = true
		// Metaspace adds its '▁' only to text that does not start with one already (after ' ' → '▁').
		t.metaspace = true
		switch pre.PrependScheme {
		case "always":
			t.addPrefix = true
		case "first":
			t.addPrefix, t.firstOnly = true, true
		case "never":
		case "":
			t.addPrefix = pre.AddPrefixSpace == nil || *pre.AddPrefixSpace
		default:
			return fmt.Errorf("tokenizer.json: Metaspace prepend_scheme %q is not supported", pre.PrependScheme)
		}
	}
	if !replaced {
		return errors.New("tokenizer.json: no Replace(\" \", \"▁\") normalizer or Metaspace pre-tokenizer (not a Llama tokenizer)")
	}
	return nil
}
