#!/usr/bin/env bash
# Time orcaprep's tokenizer against C++ SentencePiece on the same corpus, one core each, and check they agree.
#
#   scripts/bench-tokenizer.sh [LINES]      (default 20000 JSONL lines: half real text from the Python
#                                           stdlib and licence files, half generated OpenOrca-like rows)
#
# orcaprep: `GOMAXPROCS=1 orcaprep tokenize --workers 1` over the JSONL file, timed end to end (JSON parsing and
# output writing included). SentencePiece: Debian python3-sentencepiece 0.1.97, sp.encode(text) called once per
# piece in a single Python thread (special/added tokens split out first, as orcaprep does), timing only the
# encode loop (JSON parsing excluded). Both are pinned to one CPU
# with taskset when available. Prints tokens/s for each and the ratio, by CPU time and by wall time.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
lines="${1:-20000}"
model="$root/testdata/llama2/tokenizer.model"
"$root/scripts/fetch-llama2-tokenizer.sh"
if [ ! -x /usr/bin/time ] || ! command -v bc >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time bc >/dev/null
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
corpus="$work/corpus.jsonl"
/usr/bin/python3 "$root/scripts/gen-tokenizer-golden.py" --bench-corpus "$corpus" "$lines"
(cd "$root" && go build -o "$work/orcaprep" ./cmd/orcaprep)

pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 0); fi

# Warm the page cache, then time orcaprep: wall clock, and CPU time (user+sys), which other load on a shared
# machine disturbs much less.
cat "$corpus" >/dev/null
start=$(date +%s.%N)
GOMAXPROCS=1 "${pin[@]}" /usr/bin/time -f '%U %S' -o "$work/go.time" "$work/orcaprep" tokenize --workers 1 \
  --tokenizer "$model" --input "$corpus" \
  --added-token '<pad>' --added-token '<|im_start|>' --added-token '<|im_end|>' >"$work/go.jsonl"
end=$(date +%s.%N)
go_wall=$(echo "$end - $start" | bc -l)
go_cpu=$(awk '{print $1 + $2}' "$work/go.time")

"${pin[@]}" /usr/bin/python3 - "$model" "$corpus" "$work/go.jsonl" "$go_wall" "$go_cpu" <<'PY'
import json, re, sys, time
import sentencepiece as spm
model, corpus, go_out = sys.argv[1], sys.argv[2], sys.argv[3]
go_wall, go_cpu = float(sys.argv[4]), float(sys.argv[5])
sp = spm.SentencePieceProcessor(model_file=model)
texts = [json.loads(l)["text"] for l in open(corpus, encoding="utf-8")]
mb = sum(len(t.encode()) for t in texts) / 1e6
# Same semantics as orcaprep: special/added tokens split out, each other piece encoded with the dummy prefix.
specials = {"<unk>": 0, "<s>": 1, "</s>": 2, "<pad>": 32000, "<|im_start|>": 32001, "<|im_end|>": 32002}
pat = re.compile("|".join(re.escape(s) for s in sorted(specials, key=len, reverse=True)))
# Split before timing, so that only sp.encode is timed: a list of (special id | text piece) per line.
split = []
for t in texts:
    parts, last = [], 0
    for m in pat.finditer(t):
        if m.start() > last:
            parts.append(t[last:m.start()])
        parts.append(specials[m.group()])
        last = m.end()
    if last < len(t):
        parts.append(t[last:])
    split.append(parts)
enc = sp.encode
t0, c0 = time.perf_counter(), time.process_time()
ref = []
for parts in split:
    ids = []
    for p in parts:
        if type(p) is int:
            ids.append(p)
        else:
            ids += enc(p)
    ref.append(ids)
sp_wall, sp_cpu = time.perf_counter() - t0, time.process_time() - c0
got = [json.loads(l)["ids"] for l in open(go_out)]
bad = sum(1 for a, b in zip(ref, got) if a != b) + abs(len(ref) - len(got))
toks = sum(len(r) for r in ref)
print(f"corpus: {len(texts)} lines, {mb:.1f} MB, {toks} tokens; id mismatches: {bad}")
print(f"sentencepiece (C++ via python, 1 thread, encode only): cpu {sp_cpu:6.2f} s = {toks/sp_cpu/1e6:5.2f} M tokens/s"
      f"   (wall {sp_wall:.2f} s = {toks/sp_wall/1e6:.2f} M tokens/s)")
print(f"orcaprep tokenize (GOMAXPROCS=1, end to end):          cpu {go_cpu:6.2f} s = {toks/go_cpu/1e6:5.2f} M tokens/s"
      f"   (wall {go_wall:.2f} s = {toks/go_wall/1e6:.2f} M tokens/s)")
print(f"ratio orcaprep/sentencepiece: {sp_cpu/go_cpu:.1f}x by CPU time, {sp_wall/go_wall:.1f}x by wall time")
sys.exit(1 if bad else 0)
PY
