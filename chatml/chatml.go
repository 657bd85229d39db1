package chatml

import (
	"fmt"
	"slices"

	"github.com/orcaprep/orcaprep/orca"
)

// The ChatML control strings. Tokenizers map them to added tokens (LlongOrca: 32001 and 32002).
const (
	ImStart = "<|im_start|>"
	ImEnd   = "<|im_end|>"
)

// JinjaTemplate is Axolotl's chatml.jinja (src/axolotl/utils/chat_templates/templates/chatml.jinja at commit
// 067b021) byte for byte, without the file's final newline; the line breaks inside its string literals are real
// newlines there too. It is the chat_template of OUT/tokenizer; rendered with add_generation_prompt=false it gives
// exactly the chatml style's text.
const JinjaTemplate = "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}" +
	"{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}" +
	"{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"

// Style names a rendering.
type Style string

const (
	// StyleChatML is Axolotl's `chat_template: chatml` (chatml.jinja): every message, the last included,
	// is "<|im_start|>{role}\n{content}<|im_end|>\n". No BOS.
	StyleChatML Style = "chatml"
	// StyleOpenOrca2023 is Axolotl's Aug-2023 `alpaca_w_system.load_open_orca_chatml` loader used for
	// LlongOrca: BOS + [system turn if non-empty] + user turn + "<|im_start|>assistant\n" + response + EOS.
	// BOS and EOS are token ids, not text, so they are not written into rendered text.
	StyleOpenOrca2023 Style = "openorca-2023"
)

// Styles lists the valid styles.
var Styles = []Style{StyleChatML, StyleOpenOrca2023}

// ParseStyle validates a style name from config or flags.
func ParseStyle(s string) (Style, error) {
	for _, st := range Styles {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown chatml style %q (want chatml or openorca-2023)", s)
}

// Options control rendering.
type Options struct {
	Style Style
	// EmptySystem keeps a system message with empty content when system_prompt is empty (chatml style only).
	// Off by default, as Axolotl's OpenOrca loaders omit it.
	EmptySystem bool
}

// Message is one chat turn, serialised as Axolotl's `messages` format expects.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// HasSystem reports whether the rendering includes a system turn: when system_prompt is non-empty, or
// empty but kept by EmptySystem (chatml style only; the 2023 loader always omits an empty one).
func HasSystem(r *orca.Record, o Options) bool {
	return r.SystemPrompt != "" || (o.EmptySystem && o.Style != StyleOpenOrca2023)
}

// Messages returns the record's turns: system (unless empty and not kept), user, assistant.
func Messages(r *orca.Record, o Options) []Message {
	msgs := make([]Message, 0, 3)
	if HasSystem(r, o) {
		msgs = append(msgs, Message{Role: "system", Content: r.SystemPrompt})
	}
	return append(msgs, Message{Role: "user", Content: r.Question}, Message{Role: "assistant", Content: r.Response})
}

// AppendPrompt appends the part of the rendering that comes before the assistant's content — the
// part a trainer masks out of the labels — and returns the extended buffer.
func AppendPrompt(dst []byte, r *orca.Record, o Options) []byte {
	return appendPrompt(dst, r, o, appendRaw)
}

// Appender appends one piece of a rendering (markup or content) to dst, transformed or not.
type Appender func(dst []byte, piece string) []byte

func appendRaw(dst []byte, s string) []byte { return append(dst, s...) }

func appendPrompt(dst []byte, r *orca.Record, o Options, add Appender) []byte {
	if HasSystem(r, o) {
		dst = add(dst, ImStart+"system\n")
		dst = add(dst, r.SystemPrompt)
		dst = add(dst, ImEnd+"\n")
	}
	dst = add(dst, ImStart+"user\n")
	dst = add(dst, r.Question)
	dst = add(dst, ImEnd+"\n")
	return add(dst, ImStart+"assistant\n")
}

// AppendCompletion appends the trained part: the response, then "<|im_end|>\n" in chatml style.
// In openorca-2023 style it is the bare response (the EOS token follows as an id, not as text).
func AppendCompletion(dst []byte, r *orca.Record, o Options) []byte {
	return appendCompletion(dst, r, o, appendRaw)
}

func appendCompletion(dst []byte, r *orca.Record, o Options, add Appender) []byte {
	dst = add(dst, r.Response)
	if o.Style == StyleOpenOrca2023 {
		return dst
	}
	return add(dst, ImEnd+"\n")
}

// AppendText appends the full rendering, prompt then completion.
func AppendText(dst []byte, r *orca.Record, o Options) []byte {
	n := MarkupLen(r, o) + len(r.Question) + len(r.Response)
	if HasSystem(r, o) {
		n += len(r.SystemPrompt)
	}
	dst = slices.Grow(dst, n) // exact size: one allocation even for a 100 MB response
	return AppendCompletion(AppendPrompt(dst, r, o), r, o)
}

// AppendTextWith appends the full rendering piece by piece through add — for instance JSON-escaping each
// piece, so that a 100 MB response is never held both raw and escaped.
func AppendTextWith(dst []byte, r *orca.Record, o Options, add Appender) []byte {
	return appendCompletion(appendPrompt(dst, r, o, add), r, o, add)
}

// Text returns the full rendering as a string.
func Text(r *orca.Record, o Options) string { return string(AppendText(nil, r, o)) }

// MarkupLen is the number of bytes (all ASCII) the rendering adds around the record's content, so that
// len(Text) == MarkupLen + len(system_prompt if rendered) + len(question) + len(response) without rendering.
func MarkupLen(r *orca.Record, o Options) int {
	turn := len(ImStart) + 1 + len(ImEnd) + 1 // "<|im_start|>" role "\n" content "<|im_end|>" "\n"
	n := turn + len("user") + len(ImStart) + len("assistant") + 1
	if HasSystem(r, o) {
		n += turn + len("system")
	}
	if o.Style != StyleOpenOrca2023 {
		n += len(ImEnd) + 1
	}
	return n
}
