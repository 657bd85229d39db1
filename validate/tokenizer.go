package validate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"unicode/utf8"

	"github.com/orcaprep/orcaprep/tokenizer"
	"go.yaml.in/yaml/v3"
)

// reencodeTarget is about how many samples validate re-encodes with OUT/tokenizer (spread over the whole output).
const reencodeTarget = 256

// tokenizerDir is manifest.json's tokenizer_dir (written by the pipeline whenever a tokenizer is configured).
type tokenizerDir struct {
	Path  string `json:"path"`
	Files []struct {
		Path   string `json:"path"`
		Bytes  int64  `json:"bytes"`
		SHA256 string `json:"sha256"`
	} `json:"files"`
	Tokenization struct {
		TokenizerClass string `json:"tokenizer_class"`
		Legacy         bool   `json:"legacy"`
		DummyPrefix    string `json:"dummy_prefix"`
		AddBOS         bool   `json:"add_bos_token"`
		AddEOS         bool   `json:"add_eos_token"`
	} `json:"tokenization"`
}

// tokCheck is the state of the OUT/tokenizer checks: the tokenizer loaded from it, and the re-encoding sample.
type tokCheck struct {
	tok     *tokenizer.Tokenizer
	enc     *tokenizer.Encoder
	style   string
	scheme  string // the dummy-prefix scheme the manifest says the shards were made with
	stride  int64  // re-encode the samples of every stride-th data row
	row     int64  // token rows seen
	checked int64  // samples re-encoded
	skipped int64  // samples that cannot round-trip through text (invalid UTF-8 after truncation)
}

// tokenizerDir checks OUT/tokenizer against the manifest: every listed file's size and sha256, tokenizer.json loads
// and has the manifest's vocabulary size, BOS/EOS and added-token ids, tokenizer.model (if any) has the same pieces,
// and tokenizer_config.json says what the manifest's tokenization says. It prepares the re-encoding of samples.
func (v *checker) tokenizerDir() {
	m := v.m
	td := m.TokenizerDir
	if td == nil {
		return
	}
	const mf = "manifest.json"
	if td.Path != "tokenizer" {
		v.problem(mf, 0, "tokenizer_dir.path %q, want \"tokenizer\"", td.Path)
		return
	}
	before := v.rep.Errors
	listed := map[string]bool{}
	for _, f := range td.Files {
		if !safePath(f.Path, "tokenizer") {
			v.problem(mf, 0, "tokenizer_dir file %q is not a file under tokenizer/", f.Path)
			continue
		}
		listed[path.Base(f.Path)] = true
		b, err := os.ReadFile(filepath.Join(v.dir, filepath.FromSlash(f.Path)))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				v.problem(f.Path, 0, "listed in manifest.json but missing")
			} else {
				v.problem(f.Path, 0, "cannot read: %v", err)
			}
			continue
		}
		sum := sha256.Sum256(b)
		if int64(len(b)) != f.Bytes || hex.EncodeToString(sum[:]) != f.SHA256 {
			v.problem(f.Path, 0, "size %d / sha256 %x, manifest says %d / %s (the file changed)", len(b), sum, f.Bytes, f.SHA256)
		}
	}
	for _, need := range []string{"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"} {
		if !listed[need] {
			v.problem(mf, 0, "tokenizer_dir does not list tokenizer/%s", need)
		}
	}
	if v.rep.Errors > before {
		return // a changed or missing file: the checks below would only repeat it
	}
	tj := filepath.Join(v.dir, "tokenizer", "tokenizer.json")
	tok, err := tokenizer.Load(tj)
	if err != nil {
		v.problem("tokenizer/tokenizer.json", 0, "does not load: %v", err)
		return
	}
	if mt := m.Tokenizer; mt != nil {
		if tok.VocabSize() != mt.VocabSize {
			v.problem("tokenizer/tokenizer.json", 0, "%d ids, manifest.json tokenizer.vocab_size is %d", tok.VocabSize(), mt.VocabSize)
		}
		if (mt.BOS != nil && tok.BOS() != *mt.BOS) || (mt.EOS != nil && tok.EOS() != *mt.EOS) {
			v.problem("tokenizer/tokenizer.json", 0, "BOS/EOS are %d/%d, manifest.json says %v/%v", tok.BOS(), tok.EOS(), deref(mt.BOS), deref(mt.EOS))
		}
		for _, s := range sortedKeys(mt.AddedTokens) {
			want := mt.AddedTokens[s]
			if got, ok := tok.TokenID(s); !ok || got != want || !tok.IsSpecial(got) {
				v.problem("tokenizer/tokenizer.json", 0, "added token %q has id %d (present %v, split out %v), manifest.json says %d: the shards' ids would mean other tokens",
					s, got, ok, ok && tok.IsSpecial(got), want)
			}
		}
	}
	if tz := td.Tokenization; tz.DummyPrefix != "" && tok.PrefixScheme() != tz.DummyPrefix {
		v.problem("tokenizer/tokenizer.json", 0, "puts the dummy prefix %s, the manifest's tokenization says %s", tok.PrefixScheme(), tz.DummyPrefix)
	}
	if listed["tokenizer.model"] {
		spm, err := tokenizer.Load(filepath.Join(v.dir, "tokenizer", "tokenizer.model"))
		if err != nil {
			v.problem("tokenizer/tokenizer.model", 0, "does not load: %v", err)
		} else {
			for id := int32(0); int(id) < spm.VocabSize(); id++ {
				if spm.Piece(id) != tok.Piece(id) {
					v.problem("tokenizer/tokenizer.model", 0, "piece %d is %q, tokenizer.json has %q", id, spm.Piece(id), tok.Piece(id))
					break
				}
			}
		}
	}
	var cfg struct {
		AddBOS *bool  `json:"add_bos_token"`
		AddEOS *bool  `json:"add_eos_token"`
		Legacy *bool  `json:"legacy"`
		Class  string `json:"tokenizer_class"`
	}
	b, err := os.ReadFile(filepath.Join(v.dir, "tokenizer", "tokenizer_config.json"))
	if err == nil {
		err = json.Unmarshal(b, &cfg)
	}
	tz := td.Tokenization
	switch {
	case err != nil:
		v.problem("tokenizer/tokenizer_config.json", 0, "%v", err)
	case cfg.AddBOS == nil || *cfg.AddBOS != tz.AddBOS || cfg.AddEOS == nil || *cfg.AddEOS != tz.AddEOS:
		v.problem("tokenizer/tokenizer_config.json", 0, "add_bos_token/add_eos_token %v/%v, the manifest's tokenization says %v/%v", deref(cfg.AddBOS), deref(cfg.AddEOS), tz.AddBOS, tz.AddEOS)
	case cfg.Legacy == nil || *cfg.Legacy != tz.Legacy || cfg.Class != tz.TokenizerClass:
		v.problem("tokenizer/tokenizer_config.json", 0, "legacy %v, tokenizer_class %q; the manifest's tokenization says %v, %q", deref(cfg.Legacy), cfg.Class, tz.Legacy, tz.TokenizerClass)
	}
	if !m.tokenFormat() {
		return
	}
	var cfgStyle struct {
		ChatML struct {
			Style string `json:"style"`
		} `json:"chatml"`
	}
	json.Unmarshal(m.Config, &cfgStyle)
	var rows int64
	for _, s := range m.Shards {
		rows += s.Rows
	}
	perRow := int64(1)
	if m.Format == FormatPacked && rows > 0 && *m.RowsKept > rows {
		perRow = *m.RowsKept / rows
	}
	v.tc = &tokCheck{tok: tok, enc: tok.NewEncoder(), style: cfgStyle.ChatML.Style, scheme: tz.DummyPrefix,
		stride: max(1, rows*perRow/reencodeTarget)}
}

// reencode re-encodes the samples of a valid token row with OUT/tokenizer when the row is in the sample, and
// reports a sample whose ids the tokenizer does not give back. The text of a sample is its decoded ids; a style
// decides the pieces that were encoded separately: chatml the whole sample; openorca-2023 <s>, the prompt (up to
// the first trained label), the response, </s>.
func (v *checker) reencode(file string, lineNo int64, r *tokenRow) {
	tc := v.tc
	tc.row++
	if (tc.row-1)%tc.stride != 0 {
		return
	}
	starts := []int{0}
	if r.positions != nil {
		starts = starts[:0]
		for i, p := range r.positions {
			if p == 0 {
				starts = append(starts, i)
			}
		}
	}
	for k, st := range starts {
		end := len(r.inputIDs)
		if k+1 < len(starts) {
			end = starts[k+1]
		}
		ids, labels := r.inputIDs[st:end], r.labels[st:end]
		got, ok := tc.sampleIDs(ids, labels)
		if !ok {
			tc.skipped++
			continue
		}
		tc.checked++
		if !slices.Equal(got, ids) {
			i := 0
			for i < min(len(got), len(ids)) && got[i] == ids[i] {
				i++
			}
			v.problem(file, lineNo, "sample %d (tokens %d..%d): OUT/tokenizer encodes its text differently from token %d on (%v… vs %v…): the shards were not made with this tokenizer",
				k, st, end, i, head(ids[i:]), head(got[i:]))
		}
	}
}

// sampleIDs rebuilds a sample's ids from its text the way the style tokenized it; ok is false when the text cannot
// round-trip (invalid UTF-8, e.g. a truncated sample cut inside a character). The text is the ids decoded under
// the manifest's dummy-prefix scheme, not OUT/tokenizer's own: any tokenizer gives back what it decodes itself, so
// only text fixed by the recorded scheme shows whether OUT/tokenizer is the tokenizer the shards were made with.
func (tc *tokCheck) sampleIDs(ids, labels []int32) ([]int32, bool) {
	t, e := tc.tok, tc.enc
	encode := func(dst, part []int32) ([]int32, bool) {
		s := t.DecodeAs(part, tc.scheme)
		if !utf8.ValidString(s) {
			return nil, false
		}
		return e.AppendEncode(dst, s), true
	}
	if tc.style != "openorca-2023" {
		return encode(nil, ids)
	}
	ts := slices.IndexFunc(labels, func(l int32) bool { return l != ignoreIndex })
	if len(ids) == 0 || ids[0] != t.BOS() || ts < 1 {
		return []int32{-1}, true // not "<s> prompt response": reported as a mismatch
	}
	out := []int32{t.BOS()}
	out, ok := encode(out, ids[1:ts])
	if !ok {
		return nil, false
	}
	resp := ids[ts:]
	eos := len(resp) > 0 && resp[len(resp)-1] == t.EOS()
	if eos {
		resp = resp[:len(resp)-1]
	}
	if out, ok = encode(out, resp); !ok {
		return nil, false
	}
	if eos {
		out = append(out, t.EOS())
	}
	return out, true
}

// axolotlPaths checks that the paths axolotl.yaml gives Axolotl are this output's files: tokenizer_config is
// OUT/tokenizer and the datasets are the manifest's shards, in order. After OUT was moved they point elsewhere.
func (v *checker) axolotlPaths() {
	const f = "axolotl.yaml"
	b, err := os.ReadFile(filepath.Join(v.dir, f))
	if errors.Is(err, os.ErrNotExist) {
		v.problem(f, 0, "missing (every run writes it)")
		return
	}
	if err != nil {
		v.problem(f, 0, "cannot read: %v", err)
		return
	}
	var doc struct {
		TokenizerConfig string `yaml:"tokenizer_config"`
		Datasets        []struct {
			Path string `yaml:"path"`
		} `yaml:"datasets"`
	}
	if err := yaml.NewDecoder(bytes.NewReader(b)).Decode(&doc); err != nil {
		v.problem(f, 0, "not YAML: %v", err)
		return
	}
	same := func(key, p, want string) {
		st, err := os.Stat(p)
		if err != nil {
			v.problem(f, 0, "%s %s does not exist: was OUT moved? Axolotl opens it as written (a relative path from where it starts)", key, p)
			return
		}
		if wst, err := os.Stat(filepath.Join(v.dir, filepath.FromSlash(want))); err != nil || !os.SameFile(st, wst) {
			v.problem(f, 0, "%s %s is not this output's %s", key, p, want)
		}
	}
	if v.m.TokenizerDir != nil {
		if doc.TokenizerConfig == "" {
			v.problem(f, 0, "no tokenizer_config: Axolotl would use the base model's tokenizer, not OUT/tokenizer")
		} else {
			same("tokenizer_config", doc.TokenizerConfig, v.m.TokenizerDir.Path)
		}
	}
	if v.m.Format == FormatText {
		return // not a training format: no datasets
	}
	if len(doc.Datasets) != len(v.m.Shards) {
		v.problem(f, 0, "%d datasets, manifest.json lists %d shards", len(doc.Datasets), len(v.m.Shards))
		return
	}
	for i, d := range doc.Datasets {
		same(fmt.Sprintf("datasets[%d].path", i), d.Path, v.m.Shards[i].Path)
	}
}

func head(ids []int32) []int32 { return ids[:min(len(ids), 8)] }

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
