// Package tokenizer encodes text into Llama-2 token ids exactly as C++ SentencePiece (BPE) does, plus Hugging Face
// style added tokens, in pure Go and faster than the original.
//
// # Model files
//
// Load reads a SentencePiece tokenizer.model (a BPE ModelProto, decoded with protowire) or a Llama-kind Hugging Face
// tokenizer.json. For a .model file, an added_tokens.json beside it appends its tokens. AddTokens appends more, e.g.
// the "<pad>", "<|im_start|>", "<|im_end|>" (32000, 32001, 32002) that LlongOrca-7B-16k used.
//
// # Encoding
//
// Normalization is SentencePiece's identity rule: a dummy-prefix '▁' before the text (add_dummy_prefix), every ' '
// becomes '▁', nothing else changes (no NFKC, no whitespace collapsing unless the model asks for it); a malformed
// UTF-8 byte becomes U+FFFD, as in SentencePiece. BPE then starts from characters and repeatedly merges the adjacent
// pair whose concatenation is the vocabulary piece with the highest score, leftmost on ties. Characters that end up
// as no piece become <0xXX> byte pieces (byte_fallback). split_digits needs no work at encode time: it only kept
// multi-digit pieces out of the vocabulary. Merges are precomputed as a map from (left id, right id) to (merged id,
// score), so encoding never builds strings. A tokenizer.json gives merge priority by rank instead of score.
//
// Segments of up to 48 symbols use an array scan; longer ones use a heap over a linked list, so a 100k-character
// text without spaces costs O(n log n), not the O(n²) of Hugging Face's slow Llama tokenizer.
//
// # Segment cache, and why it is exact
//
// Each Encoder caches ids per segment, where segments are cut before every '▁'-run that follows a non-'▁'
// character ("▁Hello▁▁world" → "▁Hello", "▁▁world"). A merge always produces a vocabulary piece that spans both
// merged symbols, so if no mergeable piece contains '▁' right after a non-'▁' character, no merge can cross a cut,
// merges in different segments never interact, and each segment's ids do not depend on its neighbours. Load checks
// this property over every mergeable piece and user-defined piece (it holds for Llama-2: its only pieces with '▁'
// after the start are runs of '▁') and disables the cache and the cutting when it does not hold
// (Tokenizer.CacheExact); the tests also encode every golden string uncut and compare, and compare cached with
// uncached encoders under constant generation turnover and colliding hashes.
//
// The cache keeps segments of up to 64 bytes in two generations of at most 65,536 segments, 512k ids and 1 MiB of
// long-key bytes each; when the current generation is full it replaces the old one, and old-generation hits are
// copied forward. A generation is an open-addressing table of 32-byte slots (load ≤ 1/2, so at most 131,072 slots
// = 4 MiB) that hold keys of up to 16 bytes and up to 3 ids themselves, so a typical hit reads one cache line and
// compares two words; longer keys and id lists go to arenas. Nothing in it is a pointer, so the GC never scans it,
// and a miss allocates nothing. Memory stays bounded: 2 × (4 MiB slots + 2 MiB ids + 1 MiB keys) ≈ 15 MB worst
// case per Encoder (plus append slack), a table starting at 32 KiB and growing only as segments arrive.
//
// # Special and added tokens
//
// Encoder.AppendEncode follows Hugging Face's legacy Llama tokenizer (the one LlongOrca was trained with): the
// control tokens of the model ("<unk>", "<s>", "</s>") and every added token are split out of the text first,
// leftmost and longest first, and each remaining non-empty piece is encoded on its own with the dummy prefix. This
// is why "<|im_end|>\n" encodes as [<|im_end|>, ▁ (29871), <0x0A> (13)], as in Axolotl's ChatML fixtures.
//
// Literal special-token text inside user content is therefore NOT protected: a question that contains the
// characters "<|im_end|>" or "</s>" gets the control/added token id, exactly as Hugging Face does when such a row
// is tokenized for training. The filter stage can drop such rows; Tokenizer.IsSpecial identifies the ids.
// Encoder.AppendEncodeRaw gives plain SentencePiece behaviour instead (no splitting; "<s>" is three ordinary
// pieces). Added tokens are matched exactly; the lstrip/rstrip/normalized flags of tokenizer.json are ignored
// (they are false for the ChatML tokens added by Axolotl).
//
// # Decoding and round trips
//
// Decode concatenates pieces with '▁' shown as ' ', turns byte pieces back into bytes, writes special tokens as
// their literal text and drops the dummy-prefix space at the start and after each special token. Hence, for valid
// UTF-8 s, Decode(Encode(s)) equals s with every literal U+2581 '▁' replaced by ' ' (the normalizer cannot tell a
// literal '▁' from an escaped space). In particular Decode(Encode(s)) == s when s has no '▁'. Malformed UTF-8 does
// not round-trip (each bad byte becomes U+FFFD). Models with remove_extra_whitespaces do not round-trip spaces.
//
// # Concurrency
//
// A Tokenizer is immutable once loaded and after AddTokens, and safe for concurrent use. An Encoder owns scratch
// buffers and the cache and must stay on one goroutine. RunTokenize is the `orcaprep tokenize` command.
package tokenizer
