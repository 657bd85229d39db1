package pipeline

import (
	"bytes"
	"context"
	"fmt"

	"github.com/orcaprep/orcaprep/chatml"
	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/orca"
	"github.com/orcaprep/orcaprep/shard"
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

// loadTokenizer loads the configured tokenizer (resolving hf:// references) and adds the configured tokens.
func loadTokenizer(ctx context.Context, c TokenizerConfig, resolve Resolver) (*tokenizer.Tokenizer, *TokenizerInfo, error) {
	path := c.Path
	if len(path) > 5 && path[:5] == "hf://" {
		if resolve == nil {
			return nil, nil, exitcode.Errorf(exitcode.Usage, "tokenizer %s: Hugging Face references are not supported here", path)
		}
		p, err := resolve(ctx, path)
		if err != nil {
			return nil, nil, fmt.Errorf("tokenizer %s: %w", c.Path, err)
		}
		path = p
	}
	tok, err := tokenizer.Load(path)
	if err != nil {
		return nil, nil, exitcode.With(exitcode.Input, err)
	}
	tok.AddTokens(c.AddedTokens...)
	info := &TokenizerInfo{Source: c.Path, VocabSize: tok.VocabSize(), BOS: tok.BOS(), EOS: tok.EOS(), AddedTokens: map[string]int32{}}
	for _, t := range c.AddedTokens {
		id, _ := tok.TokenID(t)
		info.AddedTokens[t] = id
	}
	for _, t := range []string{chatml.ImStart, chatml.ImEnd} {
		if _, ok := tok.TokenID(t); !ok {
			return nil, nil, exitcode.Errorf(exitcode.Usage, "tokenizer %s has no %s token: add it to tokenizer.added_tokens", c.Path, t)
		}
	}
	return tok, info, nil
}

// sample is one tokenized row: ids, and the half-open span [trainStart, trainEnd) whose labels are trained.
type sample struct {
	ids        []int32
	trainStart int
	trainEnd   int
}

// tokenize renders rec and tokenizes it the way Axolotl does for the configured style:
//   - chatml (type: chat_template, chat_template: chatml): the whole rendering with added tokens split out,
//     no BOS; trained: the assistant content and its <|im_end|>; masked: everything before, and the "\n" after.
//   - openorca-2023: BOS + prompt, then the response tokenized on its own (with its dummy prefix) + EOS;
//     trained: the response and EOS.
func (w *workerState) tokenize(rec *orca.Record, r *runner) sample {
	enc := w.enc
	w.prompt = chatml.AppendPrompt(w.prompt[:0], rec, r.render)
	switch r.render.Style {
	case chatml.StyleOpenOrca2023:
		ids := append(w.ids[:0], r.tok.BOS())
		ids = enc.AppendEncode(ids, unsafeString(w.prompt))
		start := len(ids)
		ids = enc.AppendEncode(ids, rec.Response)
		ids = append(ids, r.tok.EOS())
		w.ids = ids
		return sample{ids: ids, trainStart: start, trainEnd: len(ids)}
	default:
		pids := enc.AppendEncode(w.pids[:0], unsafeString(w.prompt))
		w.pids = pids
		// The tokenizer splits added tokens out first and encodes each piece between them on its own, so the full
		// text's tokens up to the assistant header's <|im_start|> (the prompt's last one) are the prompt's; only the
		// piece after it ("assistant\n" + response + ...) needs encoding again.
		hdr := bytes.LastIndex(w.prompt, []byte(chatml.ImStart))
		k := lastIndex(pids, r.imStart)
		ids := append(w.ids[:0], pids[:k+1]...)
		w.prompt = chatml.AppendCompletion(w.prompt, rec, r.render)
		ids = enc.AppendEncode(ids, unsafeString(w.prompt[hdr+len(chatml.ImStart):]))
		w.ids = ids
		// The prompt ends with "assistant\n"; with Llama-2 no piece spans that "\n", so the prompt's tokens are a
		// prefix of the full tokens. Should a tokenizer merge across it, the common prefix is the honest boundary.
		start := commonPrefix(pids, ids)
		end := len(ids)
		if i := lastIndex(ids, r.imEnd); i >= start {
			end = i + 1 // train <|im_end|>, not the "\n" after it
		}
		return sample{ids: ids, trainStart: start, trainEnd: end}
	}
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

// appendTokenizedLine writes {"input_ids","attention_mask","labels"[, "position_ids"]} for one sample.
func appendTokenizedLine(dst []byte, s sample) []byte {
	dst = append(dst, `{"input_ids":`...)
	dst = shard.AppendInt32s(dst, s.ids)
	dst = append(dst, `,"attention_mask":`...)
	dst = appendOnes(dst, len(s.ids))
	dst = append(dst, `,"labels":`...)
	dst = appendLabels(dst, s.ids, s.trainStart, s.trainEnd)
	return append(dst, '}')
}

func appendOnes(dst []byte, n int) []byte {
	dst = append(dst, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '1')
	}
	return append(dst, ']')
}

// appendLabels writes ids with everything outside [start, end) replaced by IgnoreIndex.
func appendLabels(dst []byte, ids []int32, start, end int) []byte {
	dst = append(dst, '[')
	for i, id := range ids {
		if i > 0 {
			dst = append(dst, ',')
		}
		if i < start || i >= end {
			dst = append(dst, "-100"...)
			continue
		}
		dst = shard.AppendInt32(dst, id)
	}
	return append(dst, ']')
}
