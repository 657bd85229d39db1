#!/usr/bin/python3
"""Reference token ids for orcaprep's end-to-end tests, from C++ SentencePiece (Debian python3-sentencepiece).

Usage: /usr/bin/python3 scripts/reference-tokenize.py MODEL < in.jsonl > out.jsonl

Each input line is {"key", "style", "prompt", "completion"} where prompt/completion are the ChatML rendering split
at the start of the assistant's content (as orcaprep's chatml package renders it; that rendering is checked against
Axolotl's template separately). Added tokens are LlongOrca's: <pad>=32000, <|im_start|>=32001, <|im_end|>=32002.
Each output line is {"key", "ids", "train_start", "train_end"}:
  - chatml: ids = tokens of prompt+completion; trained span = after the prompt's tokens through the last <|im_end|>
    (Axolotl chat_template trains the assistant content and <|im_end|>, not the "\\n" after it);
  - openorca-2023: ids = [BOS] + tokens(prompt) + tokens(completion) + [EOS], the two parts tokenized separately as
    Axolotl's 2023 loader did; trained span = the completion and EOS.
"tokens(x)" splits x on the added/special tokens (leftmost, longest first), maps them to their ids and encodes every
other non-empty piece with sp.encode (which adds the dummy prefix), as Hugging Face's legacy Llama tokenizer does.
"""
import json
import sys

import sentencepiece as spm

ADDED = {"<pad>": 32000, "<|im_start|>": 32001, "<|im_end|>": 32002}


def main():
    sp = spm.SentencePieceProcessor(model_file=sys.argv[1])
    special = dict(ADDED)
    for piece_id in (sp.unk_id(), sp.bos_id(), sp.eos_id()):
        special[sp.id_to_piece(piece_id)] = piece_id
    order = sorted(special, key=len, reverse=True)

    def tokens(text):
        ids, piece, i = [], [], 0
        while i < len(text):
            hit = next((s for s in order if text.startswith(s, i)), None)
            if hit is None:
                piece.append(text[i])
                i += 1
                continue
            if piece:
                ids.extend(sp.encode("".join(piece)))
                piece = []
            ids.append(special[hit])
            i += len(hit)
        if piece:
            ids.extend(sp.encode("".join(piece)))
        return ids

    for line in sys.stdin:
        row = json.loads(line)
        prompt, completion = row["prompt"], row["completion"]
        if row["style"] == "openorca-2023":
            p = [sp.bos_id()] + tokens(prompt)
            ids = p + tokens(completion) + [sp.eos_id()]
            start, end = len(p), len(ids)
        else:
            ids = tokens(prompt + completion)
            start = len(tokens(prompt))
            end = max(i for i, t in enumerate(ids) if t == ADDED["<|im_end|>"]) + 1
        json.dump({"key": row["key"], "ids": ids, "train_start": start, "train_end": end}, sys.stdout)
        sys.stdout.write("\n")


if __name__ == "__main__":
    main()
