package samples

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"unsafe"

	"github.com/orcaprep/orcaprep/chatml"
	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/orca"
	"github.com/orcaprep/orcaprep/tokenizer"
)

// IgnoreIndex is the label of a token the loss ignores (PyTorch's CrossEntropyLoss ignore_index, Axolotl's IGNORE_INDEX).
const IgnoreIndex = -100

// TokenizerInfo is recorded in the manifest so validate and trainers know the id space.
type TokenizerInfo struct {
	Source      string           `json:"source"`
	VocabSize   int              `json:"vocab_size"`
	BOS         int32            `json:"bos"`
	EOS         int32            `json:"eos"`
	AddedTokens map[string]int32 `json:"added_tokens"`
}

// Resolver turns an hf:// reference into a local file; nil rejects references.
type Resolver func(ctx context.Context, ref string) (string, error)

// LoadTokenizer loads a tokenizer.model / tokenizer.json (resolving hf:// references), appends the added tokens,
// and checks that the ChatML control tokens exist.
func LoadTokenizer(ctx context.Context, path string, added []string, resolve Resolver) (*tokenizer.Tokenizer, *TokenizerInfo, error) {
	local := path
	if strings.HasPrefix(path, "hf://") {
		if resolve == nil {
			return nil, nil, exitcode.Errorf(exitcode.Usage, "tokenizer %s: Hugging Face references are not supported here", path)
		}
		p, err := resolve(ctx, path)
		if err != nil {
			return nil, nil, fmt.Errorf("tokenizer %s: %w", path, err)
		}
		local = p
	}
	tok, err := tokenizer.Load(local)
	if err != nil {
		return nil, nil, exitcode.With(exitcode.Input, err)
	}
	tok.AddTokens(added...)
	info := &TokenizerInfo{Source: path, VocabSize: tok.VocabSize(), BOS: tok.BOS(), EOS: tok.EOS(), AddedTokens: map[string]int32{}}
	for _, t := range added {
		id, _ := tok.TokenID(t)
		info.AddedTokens[t] = id
	}
	for _, t := range []string{chatml.ImStart, chatml.ImEnd} {
		if _, ok := tok.TokenID(t); !ok {
			return nil, nil, exitcode.Errorf(exitcode.Usage, "tokenizer %s has no %s token: add it to tokenizer.added_tokens", path, t)
		}
	}
	return tok, info, nil
}

// Sample is one tokenized row: its ids, and the half-open span [TrainStart, TrainEnd) whose labels are trained
// (everything else is IgnoreIndex).
type Sample struct {
	IDs        []int32
	TrainStart int
	TrainEnd   int
}

// Builder tokenizes records. It owns an Encoder (with its cache) and scratch buffers, so each goroutine needs
// its own; the Tokenizer is shared.
type Builder struct {
	tok            *tokenizer.Tokenizer
	enc            *tokenizer.Encoder
	render         chatml.Options
	imStart, imEnd int32
	prompt         []byte
	ids, pids      []int32
}

// NewBuilder returns a builder for the rendering o; tok must have the ChatML tokens (LoadTokenizer checks).
func NewBuilder(tok *tokenizer.Tokenizer, o chatml.Options) *Builder {
	b := &Builder{tok: tok, enc: tok.NewEncoder(), render: o}
	b.imStart, _ = tok.TokenID(chatml.ImStart)
	b.imEnd, _ = tok.TokenID(chatml.ImEnd)
	return b
}

// Build renders rec and tokenizes it the way Axolotl does for the style. The sample's ids are valid until the
// next call.
//   - chatml (type: chat_template, chat_template: chatml): the whole rendering with added tokens split out,
//     no BOS; trained: the assistant content and its <|im_end|>; masked: everything before, and the "\n" after.
//   - openorca-2023: BOS + prompt, then the response tokenized on its own (with its dummy prefix) + EOS;
//     trained: the response and EOS.
func (b *Builder) Build(rec *orca.Record) Sample {
	enc := b.enc
	b.prompt = chatml.AppendPrompt(b.prompt[:0], rec, b.render)
	if b.render.Style == chatml.StyleOpenOrca2023 {
		ids := append(b.ids[:0], b.tok.BOS())
		ids = enc.AppendEncode(ids, unsafeString(b.prompt))
		start := len(ids)
		ids = enc.AppendEncode(ids, rec.Response)
		ids = append(ids, b.tok.EOS())
		b.ids = ids
		return Sample{IDs: ids, TrainStart: start, TrainEnd: len(ids)}
	}
	pids := enc.AppendEncode(b.pids[:0], unsafeString(b.prompt))
	b.pids = pids
	// The tokenizer splits added tokens out first and encodes each piece between them on its own, so the full
	// text's tokens up to the assistant header's <|im_start|> (the prompt's last one) are the prompt's; only the
	// piece after it ("assistant\n" + response + ...) needs encoding again.
	hdr := bytes.LastIndex(b.prompt, []byte(chatml.ImStart))
	k := lastIndex(pids, b.imStart)
	ids := append(b.ids[:0], pids[:k+1]...)
	b.prompt = chatml.AppendCompletion(b.prompt, rec, b.render)
	ids = enc.AppendEncode(ids, unsafeString(b.prompt[hdr+len(chatml.ImStart):]))
	b.ids = ids
	// The prompt ends with "assistant\n"; with Llama-2 no piece spans that "\n", so the prompt's tokens are a
	// prefix of the full tokens. Should a tokenizer merge across it, the common prefix is the honest boundary.
	start := commonPrefix(pids, ids)
	end := len(ids)
	if i := lastIndex(ids, b.imEnd); i >= start {
		end = i + 1 // train <|im_end|>, not the "\n" after it
	}
	return Sample{IDs: ids, TrainStart: start, TrainEnd: end}
}

func commonPrefix(a, b []int32) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

func lastIndex(s []int32, v int32) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == v {
			return i
		}
	}
	return -1
}

// unsafeString views b as a string without copying; b must not change while the string is in use.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
