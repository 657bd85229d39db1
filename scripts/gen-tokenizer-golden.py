#!/usr/bin/python3
"""Generate the tokenizer golden files with C++ SentencePiece (Debian python3-sentencepiece 0.1.97).

Run with Debian's /usr/bin/python3 (it has the sentencepiece module) from the repository root:

    scripts/fetch-llama2-tokenizer.sh          # real Llama-2 model into testdata/llama2/ (not committed)
    /usr/bin/python3 scripts/gen-tokenizer-golden.py

It writes, under testdata/tokenizer/:
  llama2_golden.jsonl.gz   {"text", "ids"}: a deterministic corpus of varied strings and sp.encode(text) with the
                           real Llama-2 model (no BOS/EOS), i.e. plain SentencePiece behaviour.
  llama2_chatml.jsonl.gz   {"text", "ids"}: ChatML-rendered OpenOrca-shaped rows with the LlongOrca added tokens
                           <pad>=32000, <|im_start|>=32001, <|im_end|>=32002. Reference: split the text on the special
                           tokens (<unk>, <s>, </s> and the added ones; leftmost, longest first), special → its id,
                           every other non-empty piece → sp.encode(piece) (each with the dummy prefix), as Hugging
                           Face's legacy Llama tokenizer does.
  tiny.model, tiny.vocab   a licence-free BPE model trained here with Debian spm_train on generated text
                           (byte_fallback, split_digits, identity normalization), for fast unit tests.
  tiny_ud.model            the same with user-defined symbols, one of which ("x▁y") makes the segment cache inexact.
  tiny_tokenizer.json      tiny.model converted to a Hugging Face tokenizer.json the way transformers' LlamaConverter
                           does (vocab, merges ordered by the merged piece's score, legacy Prepend/Replace normalizer).
  tiny_nobf.model          the same without byte_fallback (unknown runs → one <unk>) and with remove_extra_whitespaces.
  tiny_golden.jsonl.gz     {"text", "ids", "ids_ud", "ids_nobf"} with tiny.model, tiny_ud.model and tiny_nobf.model.

With `--bench-corpus FILE N` it instead writes N lines {"text"} of OpenOrca-like text for scripts/bench-tokenizer.sh
(not committed).

No expected id is written by hand: every id comes from sentencepiece. The corpus uses a fixed seed, so reruns give
the same files (spm_train is run single-threaded for the same reason).
"""
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import unicodedata

import sentencepiece as spm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "testdata", "tokenizer")
LLAMA = os.path.join(ROOT, "testdata", "llama2", "tokenizer.model")

WORDS = """the of and to in is was for that on as with by he it at from his an were are which this be or have
had not one but first new also after who their has two they been other her she all its there when more into time
during only would may some these over most school world year city people state war made between known used under
called film where could while however number many through life three history including several because both team
university government later water system each four very since early part well being around work first small large
model data language question answer translate sentence following explain step reasoning task instructions given
output input summary article review positive negative premise hypothesis entailment options choose correct best
response assistant helpful honest detailed long short write paragraph story about what why how which who whom whose
""".split()

SYSTEMS = [
    "",
    "You are an AI assistant. You will be given a task. You must generate a detailed and long answer.",
    "You are a helpful assistant, who always provide explanation. Think like you are answering to a five year old.",
    "You are an AI assistant that follows instruction extremely well. Help as much as you can.",
    "You are an AI assistant. User will you give you a task. Your goal is to complete the task as faithfully as you "
    "can. While performing the task think step-by-step and justify your steps.",
    "Explain how you used the definition to come up with the answer.",
    "Given a definition of a task and a sample input, break the definition into small parts.\nEach of those parts will "
    "have some instruction. Explain their meaning by showing an example that meets the criteria in the instruction. "
    "Use the following format:\nPart  # : a key part of the definition.\nUsage: Sample response that meets the "
    "criteria from the key part. Explain why you think it meets the criteria.",
]

CODE = [
    "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
    "for (int i = 0; i < 10; ++i) {\n\tprintf(\"%d\\n\", i);\n}\n",
    "SELECT id, name FROM users WHERE age >= 18 ORDER BY name DESC LIMIT 100;",
    "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hello, 世界\")\n}\n",
    "const x = arr.map((v, i) => v * i).filter(Boolean); // TODO: 🚀\r\n",
    "<html><body><p class=\"a\">Hi &amp; bye</p></body></html>",
    "$ ls -la /usr/local/bin | grep -v '^d' > out.txt 2>&1",
    "{\"key\": [1, 2.5, -3e10, null, true], \"nested\": {\"a\": \"b\"}}",
    "    \n\t\t\n   \r\n",
    "| col1 | col2 |\n|------|------|\n| 1    | 2    |\n",
    "x = 0x1F; y = 1_000_000; z = 3.14159265358979323846",
    "#include <stdio.h>\nint main(void) { return 0; }\n",
]

# (start, end) code point ranges of many scripts and symbol blocks, to sample "every script we can find".
SCRIPTS = [
    (0x0041, 0x007A), (0x00C0, 0x024F), (0x0250, 0x02AF), (0x0370, 0x03FF), (0x0400, 0x04FF), (0x0530, 0x058F),
    (0x0590, 0x05FF), (0x0600, 0x06FF), (0x0700, 0x074F), (0x0780, 0x07BF), (0x0900, 0x097F), (0x0980, 0x09FF),
    (0x0A00, 0x0A7F), (0x0A80, 0x0AFF), (0x0B00, 0x0B7F), (0x0B80, 0x0BFF), (0x0C00, 0x0C7F), (0x0C80, 0x0CFF),
    (0x0D00, 0x0D7F), (0x0D80, 0x0DFF), (0x0E00, 0x0E7F), (0x0E80, 0x0EFF), (0x0F00, 0x0FFF), (0x1000, 0x109F),
    (0x10A0, 0x10FF), (0x1100, 0x11FF), (0x1200, 0x137F), (0x13A0, 0x13FF), (0x1400, 0x167F), (0x1780, 0x17FF),
    (0x1800, 0x18AF), (0x1E00, 0x1EFF), (0x1F00, 0x1FFF), (0x2000, 0x206F), (0x20A0, 0x20CF), (0x2100, 0x214F),
    (0x2190, 0x21FF), (0x2200, 0x22FF), (0x2500, 0x257F), (0x2580, 0x259F), (0x2600, 0x26FF), (0x2700, 0x27BF),
    (0x2800, 0x28FF), (0x2E80, 0x2EFF), (0x3000, 0x303F), (0x3040, 0x309F), (0x30A0, 0x30FF), (0x3130, 0x318F),
    (0x4E00, 0x9FFF), (0xA000, 0xA48F), (0xAC00, 0xD7A3), (0xF900, 0xFAFF), (0xFB00, 0xFB4F), (0xFE70, 0xFEFF),
    (0xFF00, 0xFFEF), (0x10000, 0x1007F), (0x10300, 0x1032F), (0x1D400, 0x1D7FF), (0x1F000, 0x1F02F),
    (0x1F300, 0x1F5FF), (0x1F600, 0x1F64F), (0x1F680, 0x1F6FF), (0x1F900, 0x1F9FF), (0x20000, 0x2A6DF),
]

EMOJI = ["👨‍👩‍👧‍👦", "🏳️‍🌈", "👍🏽", "🇺🇸", "🇯🇵", "❤️", "🧑🏿‍💻", "😀", "🤖", "⚡", "1️⃣", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "👁️‍🗨️", "🫠"]
SPECIAL_TEXT = ["<s>", "</s>", "<unk>", "<pad>", "<|im_start|>", "<|im_end|>", "▁", "▁▁", "<0x0A>", "<<s>>", "</s"]


def assigned(cp):
    c = chr(cp)
    return unicodedata.category(c) not in ("Cn", "Cs", "Co")


def sentence(rng, n=None):
    n = n or rng.randint(3, 25)
    words = [rng.choice(WORDS) for _ in range(n)]
    words[0] = words[0].capitalize()
    s = " ".join(words)
    if rng.random() < 0.3:
        s += ", " + str(rng.randint(0, 10 ** rng.randint(1, 9)))
    return s + rng.choice([".", ".", "?", "!", ":", ";", "..."])


def prose(rng, sentences):
    parts = []
    for _ in range(sentences):
        parts.append(sentence(rng))
        parts.append(rng.choice([" ", " ", " ", "  ", "\n", "\n\n"]))
    return "".join(parts).strip()


def script_text(rng, n):
    lo, hi = rng.choice(SCRIPTS)
    out = []
    while len(out) < n:
        cp = rng.randint(lo, hi)
        if assigned(cp):
            out.append(chr(cp))
        if rng.random() < 0.15:
            out.append(" ")
    return "".join(out)


def random_mix(rng, n):
    pool = [chr(c) for c in range(0x20, 0x7F)] * 4 + [" "] * 60 + ["\n", "\t", "\r\n", "\u00a0", "\u3000"] * 5
    pool += EMOJI + SPECIAL_TEXT
    out = []
    while len(out) < n:
        r = rng.random()
        if r < 0.6:
            out.append(rng.choice(pool))
        elif r < 0.9:
            out.append(script_text(rng, rng.randint(1, 8)))
        else:
            out.append(rng.choice(WORDS))
    return "".join(out)


def corpus():
    rng = random.Random(20261127)
    S = ["", " ", "  ", "\n", "\t", "\r\n", "a", "▁", " ▁", "▁ ", "Hello world", "Hello world ", " Hello world",
         "0", "12345", "3.14159", "1,000,000", "2026-11-27T05:41:00Z", "<s>", "</s>", "<unk>", "<s>Hello</s>",
         "<|im_start|>user\nHi<|im_end|>\n", "\u200b", "\u200d", "\ufeffBOM", "\u00a0nbsp", "\x00\x01\x1f\x7f",
         "\U0010FFFD", "\uFFFD", "e\u0301", "A\u030A", "ﬁ", "Ⅻ", "ｆｕｌｌ"]
    S += EMOJI + SPECIAL_TEXT + CODE + SYSTEMS[1:]
    # Whitespace runs of every length 1..200 (spaces, newlines, tabs), alone and between words.
    for n in list(range(1, 41)) + [48, 63, 64, 65, 100, 127, 128, 199, 200]:
        S += [" " * n, "\n" * n, "x" + " " * n + "y", "a" + "\n" * n + "b", "\t" * (n % 17 + 1) + "z",
              " " * n + "word", "word" + " " * n, ("\r\n" * n)[: n + 1]]
    for n in range(1, 60):
        S.append("".join(str(rng.randint(0, 9)) for _ in range(n)))
        S.append("▁" * (n % 20 + 1) + rng.choice(WORDS))
        S.append(rng.choice(WORDS) * (n % 7 + 1))
        S.append(rng.choice("-=*#_.~") * n)
    # Prose, NFD/NFC/NFKC variants, code, scripts, random mixes.
    for _ in range(1200):
        S.append(prose(rng, rng.randint(1, 6)))
    for _ in range(300):
        p = prose(rng, 2) + " " + script_text(rng, 20) + " naïve café Åström façade"
        S.append(unicodedata.normalize(rng.choice(["NFD", "NFC", "NFKD"]), p))
    for _ in range(300):
        c = rng.choice(CODE)
        S.append(c.replace("\n", rng.choice(["\n", "\r\n"])) if rng.random() < 0.5 else c * rng.randint(1, 3))
    for lo, hi in SCRIPTS:
        for _ in range(12):
            S.append("".join(chr(cp) for cp in rng.sample(range(lo, hi + 1), min(40, hi - lo + 1)) if assigned(cp)))
    # Every assigned code point once, in chunks (spaced out so byte fallback and merges both occur).
    cps = [cp for cp in range(0x20, 0x30000) if assigned(cp) and cp % (3 if cp < 0x3400 else 53) == 0]
    for i in range(0, len(cps), 80):
        chunk = cps[i:i + 80]
        S.append("".join(chr(cp) + (" " if j % 9 == 8 else "") for j, cp in enumerate(chunk)))
    for _ in range(300):
        S.append(" ".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 6))))
    while len(S) < 5600:
        S.append(random_mix(rng, rng.choice([1, 2, 5, 10, 20, 40, 80, 160])))
    # Long texts: 100k characters of prose, of mixed text (an 8k-character mix repeated, to keep the file small),
    # and of words without any space.
    S.append(prose(rng, 6000)[:100000])
    S.append((random_mix(rng, 8000)[:8000] * 13)[:100000])
    S.append(("".join(rng.choice(WORDS) for _ in range(20000)))[:100000])
    return S


def split_special(text, specials):
    """Leftmost, longest-first split on special strings: yields (is_special, piece)."""
    specials = sorted(specials, key=len, reverse=True)
    i, last = 0, 0
    while i < len(text):
        for s in specials:
            if text.startswith(s, i):
                if i > last:
                    yield False, text[last:i]
                yield True, s
                i += len(s)
                last = i
                break
        else:
            i += 1
    if last < len(text):
        yield False, text[last:]


def chatml_rows():
    rng = random.Random(7)
    rows = []
    for k in range(600):
        system = rng.choice(SYSTEMS)
        q = prose(rng, rng.randint(1, 8))
        if k % 5 == 1:
            q += "\n\n" + rng.choice(CODE)
        if k % 7 == 2:
            q += " " + script_text(rng, 30)
        if k % 11 == 3:
            q += " the literal " + rng.choice(SPECIAL_TEXT) + " inside content"
        a = prose(rng, rng.randint(1, 10))
        text = ""
        if system:
            text += "<|im_start|>system\n" + system + "<|im_end|>\n"
        text += "<|im_start|>user\n" + q + "<|im_end|>\n<|im_start|>assistant\n" + a
        if k % 2 == 0:
            text += "<|im_end|>\n"
        rows.append(text)
    return rows


def write_gz(path, rows):
    tmp = path + ".tmp"
    # mtime=0 keeps the gzip header reproducible.
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as f:
        for r in rows:
            f.write((json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8", "surrogatepass"))
    os.replace(tmp, path)
    print(f"wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes, {len(rows)} rows)")


def train_tiny(S):
    rng = random.Random(99)
    train = [prose(rng, 5) for _ in range(4000)] + CODE * 20 + [script_text(rng, 80) for _ in range(60)]
    train += ["Привет, как дела? Всё хорошо, спасибо. " * 3, "日本語のテキストです。東京は大きい都市です。" * 3,
              "naïve café Åström façade déjà vu " * 5, "    indented\n\t\ttabbed\n" * 5] * 20
    with tempfile.TemporaryDirectory() as d:
        txt = os.path.join(d, "train.txt")
        with open(txt, "w", encoding="utf-8") as f:
            for line in train:
                for l in line.splitlines():
                    if l.strip():
                        f.write(l + "\n")
        common = ["--model_type=bpe", "--vocab_size=1000", "--split_digits=true",
                  "--allow_whitespace_only_pieces=true", "--normalization_rule_name=identity",
                  "--character_coverage=0.995", "--num_threads=1",
                  "--max_sentence_length=100000", "--minloglevel=2", "--input=train.txt"]
        llama_like = ["--byte_fallback=true", "--remove_extra_whitespaces=false"]
        for name, extra in (("tiny", llama_like),
                            ("tiny_ud", llama_like + ["--user_defined_symbols=<tag>,x▁y,@@"]),
                            ("tiny_nobf", ["--byte_fallback=false", "--remove_extra_whitespaces=true"])):
            prefix = os.path.join(d, name)
            # Relative paths: the model records its training input path, which must not vary between runs.
            subprocess.run(["spm_train", "--model_prefix=" + name] + common + extra, check=True, cwd=d)
            for ext in (".model", ".vocab"):
                if name != "tiny" and ext == ".vocab":
                    continue
                with open(prefix + ext, "rb") as src, open(os.path.join(OUT, name + ext + ".tmp"), "wb") as dst:
                    dst.write(src.read())
                os.replace(os.path.join(OUT, name + ext + ".tmp"), os.path.join(OUT, name + ext))


def hf_json(model_path, out_path):
    """Convert like transformers' LlamaConverter + SentencePieceExtractor (merges by merged-piece score)."""
    sp = spm.SentencePieceProcessor(model_file=model_path)
    n = sp.get_piece_size()
    vocab = {sp.id_to_piece(i): i for i in range(n)}
    scores = {sp.id_to_piece(i): sp.get_score(i) for i in range(n)}
    merges = []
    for piece, score in scores.items():
        local = []
        for k in range(1, len(piece)):
            l, r = piece[:k], piece[k:]
            if l in vocab and r in vocab:
                local.append((l, r, score))
        local.sort(key=lambda x: (vocab[x[0]], vocab[x[1]]))
        merges.extend(local)
    merges.sort(key=lambda m: m[2], reverse=True)
    added = [{"id": i, "content": sp.id_to_piece(i), "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i in range(n) if sp.is_control(i) or sp.is_unknown(i)]
    doc = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "▁"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
        "pre_tokenizer": None, "post_processor": None, "decoder": None,
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
                  "vocab": vocab, "merges": [l + " " + r for l, r, _ in merges]},
    }
    with open(out_path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=None)
    os.replace(out_path + ".tmp", out_path)


def real_text_chunks():
    """Real English and code from files every machine with Debian's python3 has: the licence texts in
    /usr/share/common-licenses and the Python standard library sources (docstrings, comments, code), in ~2 KB
    chunks. They have a far richer vocabulary than the generated prose, so segment-cache hit rates are realistic."""
    import glob
    files = sorted(glob.glob("/usr/share/common-licenses/*")) + sorted(glob.glob("/usr/lib/python3*/*.py"))
    chunks = []
    for fn in files:
        try:
            with open(fn, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError):
            continue
        cur = ""
        for para in text.split("\n\n"):
            cur = cur + "\n\n" + para if cur else para
            if len(cur) >= 2000:
                chunks.append(cur)
                cur = ""
        if cur:
            chunks.append(cur)
    return chunks


def bench_corpus(path, n):
    """Write n JSON lines {"text": ...}: half real text chunks (see real_text_chunks), half OpenOrca-like generated
    text (prose, code, other scripts, ChatML rows)."""
    rng = random.Random(3)
    rows = chatml_rows()
    real = real_text_chunks()
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        for i in range(n):
            r = rng.random()
            if real and i % 2 == 0:
                s = real[(i // 2) % len(real)]
            elif r < 0.8:
                s = prose(rng, rng.randint(2, 20))
            elif r < 0.9:
                s = rng.choice(CODE) * rng.randint(1, 4)
            elif r < 0.95:
                s = prose(rng, 3) + " " + script_text(rng, 100)
            else:
                s = rows[i % len(rows)]
            f.write(json.dumps({"text": s}, ensure_ascii=False) + "\n")
    os.replace(path + ".tmp", path)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--bench-corpus":
        bench_corpus(sys.argv[2], int(sys.argv[3]))
        return
    os.makedirs(OUT, exist_ok=True)
    S = corpus()
    print(f"corpus: {len(S)} strings, {sum(len(s) for s in S)} characters")

    train_tiny(S)
    tiny = spm.SentencePieceProcessor(model_file=os.path.join(OUT, "tiny.model"))
    tiny_ud = spm.SentencePieceProcessor(model_file=os.path.join(OUT, "tiny_ud.model"))
    tiny_nobf = spm.SentencePieceProcessor(model_file=os.path.join(OUT, "tiny_nobf.model"))
    hf_json(os.path.join(OUT, "tiny.model"), os.path.join(OUT, "tiny_tokenizer.json"))
    # The tiny model falls back to bytes for most non-ASCII text; a shorter subset keeps this file small.
    small = [s for s in S if len(s) <= 200][::2] + [S[-3], S[-1]]  # + 100k-character prose and no-space texts
    write_gz(os.path.join(OUT, "tiny_golden.jsonl.gz"),
             [{"text": s, "ids": tiny.encode(s), "ids_ud": tiny_ud.encode(s), "ids_nobf": tiny_nobf.encode(s)}
              for s in small])

    if not os.path.exists(LLAMA):
        sys.exit(f"{LLAMA} is missing: run scripts/fetch-llama2-tokenizer.sh first")
    sp = spm.SentencePieceProcessor(model_file=LLAMA)
    assert sp.get_piece_size() == 32000 and sp.piece_to_id("▁Hello") == 15043, "not the Llama-2 model"
    write_gz(os.path.join(OUT, "llama2_golden.jsonl.gz"), [{"text": s, "ids": sp.encode(s)} for s in S])

    specials = {"<unk>": 0, "<s>": 1, "</s>": 2, "<pad>": 32000, "<|im_start|>": 32001, "<|im_end|>": 32002}
    rows = []
    for text in chatml_rows():
        ids = []
        for is_special, piece in split_special(text, specials):
            ids += [specials[piece]] if is_special else sp.encode(piece)
        rows.append({"text": text, "ids": ids})
    write_gz(os.path.join(OUT, "llama2_chatml.jsonl.gz"), rows)


if __name__ == "__main__":
    main()
