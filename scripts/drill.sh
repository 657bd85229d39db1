#!/usr/bin/env bash
# The data-safety drill (issue 13), run as a user would, against the built binary. Not part of scripts/test.sh
# (it takes several minutes); `go test ./cmd/orcaprep` has fast versions of each check.
#
#   1. kill -9 at random moments, KILLS times per format (text, messages, tokenized, packed), each followed by
#      a normal run: right after the kill OUT is still a complete output, after the run it is byte-identical
#      to a clean run (stats.json and report.html aside: they hold the timing), and nothing is left beside OUT.
#   2. SIGINT and SIGTERM in every phase of every format (placed with the ORCAPREP_TEST_PAUSE_AT hook): exit
#      130, OUT unchanged to the byte, no later phase reached, nothing left beside OUT.
#   3. Two runs on one OUT: started together (RACES times) and one paused mid-stream: exactly one exits 4
#      naming the other, the other exits 0, and `orcaprep validate OUT` passes.
#   4. --overwrite on a foreign directory (no manifest; another tool's manifest; an orcaprep output with a
#      user's file added): exit 4, every file intact.
#   5. MUTANTS mutated Parquet files (byte flips anywhere and in the footer, a real footer list or string given
#      a huge size, hostile footer lengths, hostile page sizes in page headers, truncations, zeroed and
#      spliced blocks; from files by DuckDB, arrow-rs and parquet-go): no panic, no hang (60 s), exit 0 or 3,
#      peak RSS ≤ 200 MB each. BASELINE=/path/to/an/older/orcaprep runs the same files through it too.
#   6. One 100 MB response value: peak RSS of a run (default recipe and with filters/dedupe off).
#
# Prints a Markdown results table (also written to $DRILL_DIR/results.md). Exit 1 if any check failed.
# Environment: KILLS (20), RACES (5), MUTANTS (300), SEED (1), DRILL_DIR (a fresh temp dir, removed at the end
# unless KEEP=1), ROWS (rows of the synthetic input for the kill drill, 30000), ONLY (space-separated section
# numbers to run, default all), BASELINE (see 5).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KILLS="${KILLS:-20}" RACES="${RACES:-5}" MUTANTS="${MUTANTS:-300}" SEED="${SEED:-1}" ROWS="${ROWS:-30000}"
work="${DRILL_DIR:-$(mktemp -d /tmp/orcaprep-drill.XXXXXX)}"
mkdir -p "$work"
[ "${KEEP:-}" = 1 ] || trap 'rm -rf "$work"' EXIT
RANDOM=$SEED
bin="$work/orcaprep"
(cd "$root" && go build -o "$bin" ./cmd/orcaprep) || exit 1
tiny="$root/testdata/tokenizer/tiny.model"
results="$work/results.md"
: >"$results"
failures=0
log() { echo "drill: $*" >&2; }
ONLY="${ONLY:-1 2 3 4 5 6}"
want() { [[ " $ONLY " == *" $1 "* ]]; }
row() { echo "| $1 | $2 | $3 | $4 |" >>"$results"; }
fail() { log "FAIL: $*"; failures=$((failures + 1)); }

# tree_sum DIR [all]: one checksum over every file's path and content (without stats.json and report.html
# unless "all").
tree_sum() {
  (cd "$1" 2>/dev/null || { echo missing; return; }
   find . -type f ! -name '*.orcaprep-*' | LC_ALL=C sort | while read -r f; do
     if [ "${2:-}" != all ] && { [ "$f" = ./stats.json ] || [ "$f" = ./report.html ]; }; then continue; fi
     printf '%s %s\n' "$f" "$(sha256sum <"$f" | cut -c1-64)"
   done) | sha256sum | cut -c1-64
}
# debris PARENT: what orcaprep left beside its outputs (staging, .old, lock files).
debris() { find "$1" -maxdepth 1 -name '.*.orcaprep-*' -printf '%f %s\n' 2>/dev/null; }
now_ms() { date +%s%3N; }

input="$work/input.parquet"
"$bin" synth --rows "$ROWS" --seed 13 --out "$input" -q 2>/dev/null || exit 1
args_for() { # FORMAT OUT
  local a=(run --input "$input" --format "$1" --out "$2" --workers 2 -q)
  case "$1" in tokenized | packed) a+=(--tokenizer "$tiny" --sequence-len 2048) ;; esac
  printf '%s\n' "${a[@]}"
}

echo "| check | trials | result | notes |" >>"$results"
echo "|---|---|---|---|" >>"$results"

# ---- 1. kill -9 at random moments
want 1 && for fmt in text messages tokenized packed; do
  parent="$work/kill-$fmt"; out="$parent/out"; mkdir -p "$parent"
  mapfile -t a < <(args_for "$fmt" "$out")
  t0=$(now_ms); "$bin" "${a[@]}" --overwrite || { fail "clean $fmt run"; continue; }; t1=$(now_ms)
  ref=$(tree_sum "$out"); dur=$((t1 - t0))
  ok=0 staged=0 freed_runs=0 bad=""
  for ((i = 1; i <= KILLS; i++)); do
    delay=$((RANDOM % (dur + dur / 5 + 1)))
    "$bin" "${a[@]}" --overwrite 2>/dev/null &
    pid=$!
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    [ -n "$(debris "$parent" | grep orcaprep-tmp)" ] && staged=$((staged + 1))
    if [ "$(tree_sum "$out")" != "$ref" ]; then bad="$bad kill$i:OUT-incomplete-after-kill"; continue; fi
    "$bin" "${a[@]}" --overwrite 2>"$work/err" || { bad="$bad kill$i:rerun-exit-$?"; continue; }
    grep -q "left beside" "$work/err" && freed_runs=$((freed_runs + 1))
    if [ "$(tree_sum "$out")" != "$ref" ]; then bad="$bad kill$i:differs"; continue; fi
    if [ -n "$(debris "$parent")" ]; then bad="$bad kill$i:debris($(debris "$parent" | tr '\n' ' '))"; continue; fi
    ok=$((ok + 1))
  done
  [ -z "$bad" ] || fail "kill -9 $fmt:$bad"
  row "kill -9 at a random moment, then a run ($fmt; clean run ${dur} ms)" "$KILLS" "$ok/$KILLS identical to a clean run, no debris" \
      "$staged kills left a staging dir; the next run removed it $freed_runs times (and said so)"
  log "kill -9 $fmt: $ok/$KILLS"
done

# ---- 2. SIGINT / SIGTERM in every phase
phases=(open stream pack finish report commit)
want 2 && for fmt in text messages tokenized packed; do
  parent="$work/sig-$fmt"; out="$parent/out"; mkdir -p "$parent"
  mapfile -t a < <(args_for "$fmt" "$out")
  "$bin" "${a[@]}" --overwrite || { fail "clean $fmt run"; continue; }
  ref=$(tree_sum "$out" all)
  n=0 ok=0 bad=""
  for ((p = 0; p < ${#phases[@]}; p++)); do
    ph=${phases[$p]}
    [ "$ph" = pack ] && [ "$fmt" != packed ] && continue
    [ "$ph" = report ] && continue # reached only without -q: below
    later=$(IFS=,; echo "${phases[*]:$((p + 1))},swapped")
    for sig in INT TERM; do
      n=$((n + 1))
      err="$work/err.$fmt.$n"
      ORCAPREP_TEST_PAUSE_AT="$ph,$later" "$bin" "${a[@]}" --overwrite 2>"$err" &
      pid=$!
      for ((w = 0; w < 600; w++)); do grep -qs "paused in phase $ph " "$err" && break; sleep 0.05; done
      kill -s "$sig" "$pid"
      wait "$pid"; code=$?
      if [ "$code" != 130 ]; then bad="$bad $ph/$sig:exit-$code"; continue; fi
      if grep -q "paused in phase [a-z]* " <(grep -v "paused in phase $ph " "$err"); then bad="$bad $ph/$sig:went-on"; continue; fi
      if [ "$(tree_sum "$out" all)" != "$ref" ]; then bad="$bad $ph/$sig:OUT-changed"; continue; fi
      if [ -n "$(debris "$parent")" ]; then bad="$bad $ph/$sig:debris"; continue; fi
      ok=$((ok + 1))
    done
  done
  # The report phase exists when the summary is printed (no -q).
  for sig in INT TERM; do
    n=$((n + 1))
    mapfile -t b < <(args_for "$fmt" "$out" | grep -vx -- -q)
    err="$work/err.$fmt.$n"
    ORCAPREP_TEST_PAUSE_AT="report,commit,swapped" "$bin" "${b[@]}" --overwrite >"$work/stdout" 2>"$err" &
    pid=$!
    for ((w = 0; w < 600; w++)); do grep -qs "paused in phase report " "$err" && break; sleep 0.05; done
    kill -s "$sig" "$pid"; wait "$pid"; code=$?
    if [ "$code" = 130 ] && [ ! -s "$work/stdout" ] && [ "$(tree_sum "$out" all)" = "$ref" ] && [ -z "$(debris "$parent")" ] &&
       ! grep -q "paused in phase commit" "$err"; then ok=$((ok + 1)); else bad="$bad report/$sig:exit-$code"; fi
  done
  [ -z "$bad" ] || fail "signals $fmt:$bad"
  row "SIGINT and SIGTERM in each phase ($fmt)" "$n" "$ok/$n exit 130, OUT unchanged, no later phase reached, no debris" "phases: open stream$([ "$fmt" = packed ] && echo ' pack') finish report commit"
  log "signals $fmt: $ok/$n"
done

# ---- 3. two runs on one OUT
if want 3; then
parent="$work/race"; out="$parent/out"; mkdir -p "$parent"
mapfile -t a < <(args_for text "$out")
ok=0 bad=""
for ((i = 1; i <= RACES; i++)); do
  "$bin" "${a[@]}" --overwrite 2>"$work/e1" & p1=$!
  "$bin" "${a[@]}" --overwrite 2>"$work/e2" & p2=$!
  wait $p1; c1=$?; wait $p2; c2=$?
  codes="$(printf '%s\n' "$c1" "$c2" | sort | tr '\n' ' ')"
  if [ "$codes" = "0 4 " ] && grep -q "in use by another orcaprep run (pid" "$work/e1" "$work/e2" &&
     "$bin" validate "$out" >/dev/null && [ -z "$(debris "$parent")" ]; then ok=$((ok + 1)); else bad="$bad race$i:$codes"; fi
done
resume="$work/resume"; rm -f "$resume" "$work/e1"
ORCAPREP_TEST_PAUSE_AT=stream ORCAPREP_TEST_RESUME="$resume" "$bin" "${a[@]}" --overwrite 2>"$work/e1" & p1=$!
for ((w = 0; w < 600; w++)); do grep -qs "paused in phase stream" "$work/e1" && break; sleep 0.05; done
t0=$(now_ms); "$bin" "${a[@]}" --overwrite 2>"$work/e2"; c2=$?; t1=$(now_ms)
touch "$resume"; wait $p1; c1=$?
if [ "$c1" = 0 ] && [ "$c2" = 4 ] && grep -q "pid $p1 on" "$work/e2" && "$bin" validate "$out" >/dev/null; then ok=$((ok + 1)); else bad="$bad paused:$c1/$c2"; fi
[ -z "$bad" ] || fail "concurrent runs:$bad"
row "two runs on one OUT (started together ×$RACES; one paused mid-stream ×1)" "$((RACES + 1))" "$ok/$((RACES + 1)) one exit 4 naming the other's pid, one exit 0, validate passes" \
    "the refused run failed in $((t1 - t0)) ms"
log "races: $ok/$((RACES + 1))"
fi

# ---- 4. --overwrite on foreign directories
if want 4; then
fdir="$work/foreign"; mkdir -p "$fdir"
ok=0 n=0 bad=""
make_foreign() { # KIND DIR
  rm -rf "$2"
  [ "$1" = orcaprep-plus-file ] && "$bin" run --input "$root/testdata/sample/openorca-sample.parquet" --out "$2" -q
  mkdir -p "$2/sub/deeper"
  head -c 100000 /dev/urandom >"$2/mine.bin"; echo notes >"$2/sub/notes.txt"; echo x >"$2/sub/deeper/.hidden"
  ln -s /etc/hostname "$2/link"
  [ "$1" = other-manifest ] && echo '{"tool":"not-orcaprep"}' >"$2/manifest.json"
  return 0
}
for kind in plain other-manifest orcaprep-plus-file; do
  n=$((n + 1))
  d="$fdir/$kind"; make_foreign "$kind" "$d"
  before=$(tree_sum "$d" all)
  "$bin" run --input "$root/testdata/sample/openorca-sample.parquet" --out "$d" --overwrite -q 2>"$work/err"; code=$?
  if [ "$code" = 4 ] && [ "$(tree_sum "$d" all)" = "$before" ] && [ -L "$d/link" ] && [ -z "$(debris "$fdir")" ]; then ok=$((ok + 1)); else bad="$bad $kind:exit-$code"; fi
done
[ -z "$bad" ] || fail "foreign:$bad"
row "--overwrite on a foreign directory (no manifest; another tool's manifest.json; an orcaprep output plus a user's file)" "$n" "$ok/$n exit 4 naming the first foreign file, every file intact" ""
log "foreign: $ok/$n"
fi

# ---- 5. mutated Parquet files
if want 5; then
mdir="$work/mutants"; mkdir -p "$mdir"
bases=("$root"/testdata/parquet/duckdb-*.parquet "$root"/testdata/parquet/arrowrs-*.parquet "$root"/testdata/parquet/parquetgo-*.parquet "$root/testdata/sample/openorca-sample.parquet")
python3 - "$mdir" "$MUTANTS" "$SEED" "${bases[@]}" <<'PY'
import os, random, struct, sys
out, n, seed, bases = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
bases = [b for b in bases if not b.endswith("duckdb-zero-rows.parquet")]
kinds = ["flip", "footer-flip", "footer-list", "footer-len", "truncate", "zero-block", "splice", "page-size", "chunk-range"]

def varint(v):
    out = bytearray()
    while True:
        b, v = v & 0x7F, v >> 7
        out.append(b | 0x80 if v else b)
        if not v:
            return bytes(out)

def uvarint(b, i):
    v = s = 0
    while True:
        c = b[i]; i += 1; v |= (c & 0x7F) << s; s += 7
        if c < 0x80:
            return v, i

def walk(b, i, found, t=12):
    """Skips one thrift compact value of type t at b[i:], recording (start, end, kind) of every list header,
    string length and i64 value (chunk offsets and sizes are i64) in found."""
    if t in (1, 2, 3): return i + 1
    if t in (4, 5): return uvarint(b, i)[1]
    if t == 6:
        s = i; i = uvarint(b, i)[1]; found.append((s, i, "i64")); return i
    if t == 7: return i + 8
    if t == 8:
        s = i; n, i = uvarint(b, i); found.append((s, i, "len")); return i + n
    if t in (9, 10):
        s = i; h = b[i]; i += 1; n = h >> 4
        if n == 15: n, i = uvarint(b, i)
        found.append((s, i, "list", h & 15))
        for _ in range(n): i = walk(b, i, found, h & 15)
        return i
    if t == 11:
        n, i = uvarint(b, i)
        if n == 0: return i
        kv = b[i]; i += 1
        for _ in range(n): i = walk(b, i, found, kv >> 4); i = walk(b, i, found, kv & 15)
        return i
    if t == 12:
        while True:
            h = b[i]; i += 1
            if h == 0: return i
            if h >> 4 == 0: i = uvarint(b, i)[1]
            if h & 15 not in (1, 2): i = walk(b, i, found, h & 15)
    if t == 13: return i + 16
    raise ValueError(t)

def refooter(d, fstart, foot):
    return d[:fstart] + foot + struct.pack("<I", len(foot)) + b"PAR1"
with open(os.path.join(out, "index.tsv"), "w") as idx:
    for i in range(n):
        r = random.Random(seed * 1000003 + i)
        base = bases[i % len(bases)]
        kind = kinds[(i // len(bases)) % len(kinds)]
        d = bytearray(open(base, "rb").read())
        flen = struct.unpack("<I", d[-8:-4])[0]
        fstart = len(d) - 8 - flen
        if kind == "flip":
            for _ in range(r.randint(1, 16)):
                d[r.randrange(len(d))] ^= r.randint(1, 255)
        elif kind == "footer-flip":
            for _ in range(r.randint(1, 8)):
                d[r.randrange(fstart, len(d) - 8)] ^= r.randint(1, 255)
        elif kind == "footer-list":
            # a real list or string of the footer given a huge size (parquet-go allocated it up front)
            foot = bytes(d[fstart:len(d) - 8]); found = []
            walk(foot, 0, found)
            cands = [f for f in found if f[2] in ("list", "len")]
            s, e, what = r.choice(cands)[:3]
            v = r.choice([1 << 20, 1 << 23, 1 << 26, (1 << 31) - 1])
            new = (bytes([0xF0 | [f for f in cands if f[0] == s][0][3]]) + varint(v)) if what == "list" else varint(v)
            d = bytearray(refooter(d, fstart, foot[:s] + new + foot[e:]))
        elif kind == "footer-len":
            d[-8:-4] = struct.pack("<I", r.choice([0x7fffffff, 0xffffffff, len(d), len(d) - 7, r.randrange(1 << 32)]))
        elif kind == "truncate":
            d = d[: r.randrange(0, len(d))]
        elif kind == "zero-block":
            p, m = r.randrange(len(d)), r.randint(1, 4096)
            d[p:p + m] = bytes(len(d[p:p + m]))
        elif kind == "splice":
            a, b, m = r.randrange(len(d)), r.randrange(len(d)), r.randint(1, 2048)
            chunk = d[a:a + m]; d[b:b + len(chunk)] = chunk
        elif kind == "page-size":
            # the first page header's uncompressed or compressed size (fields 2, 3: short-form i32) made huge
            i = 4
            try:
                assert d[i] == 0x15; i = uvarint(d, i + 1)[1]
                if r.random() < 0.5:
                    assert d[i] == 0x15; s = i + 1; e = uvarint(d, s)[1]
                else:
                    assert d[i] == 0x15; i = uvarint(d, i + 1)[1]; assert d[i] == 0x15; s = i + 1; e = uvarint(d, s)[1]
                v = r.choice([1 << 24, 1 << 28, (1 << 31) - 1])
                d = d[:s] + varint((v << 1) ^ (v >> 31)) + d[e:]
            except AssertionError:
                d[r.randrange(4, 64)] ^= 0xFF
        elif kind == "chunk-range":
            # an i64 of the footer (offsets, sizes, row counts) set to a hostile value
            foot = bytes(d[fstart:len(d) - 8]); found = []
            walk(foot, 0, found)
            s, e = r.choice([f for f in found if f[2] == "i64"])[:2]
            v = r.choice([-1, 0, 1 << 40, (1 << 62), len(d), len(d) * 2])
            d = bytearray(refooter(d, fstart, foot[:s] + varint(((v << 1) ^ (v >> 63)) & ((1 << 64) - 1)) + foot[e:]))
        name = f"m{i:03d}-{kind}.parquet"
        open(os.path.join(out, name), "wb").write(d)
        idx.write(f"{name}\t{os.path.basename(base)}\t{kind}\n")
PY
ok=0 panics=0 hangs=0 fat=0 maxrss=0 maxname="" codes=""
bpanics=0 bhangs=0 bfat=0 bmax=0 bmaxname=""
declare -A bycode=()
while IFS=$'\t' read -r name base kind; do
  if [ -n "${BASELINE:-}" ]; then
    rm -rf "$mdir/out"
    timeout -s KILL 60 /usr/bin/time -f '%M' -o "$mdir/rss" "$BASELINE" run --input "$mdir/$name" --out "$mdir/out" -q --workers 2 2>"$mdir/err" >/dev/null
    bcode=$?; brss=$(tail -1 "$mdir/rss" 2>/dev/null | tr -dc 0-9); brss=${brss:-0}
    [ "$brss" -gt "$bmax" ] && { bmax=$brss; bmaxname="$name"; }
    grep -qE "^(panic|fatal error):|goroutine [0-9]+ \[" "$mdir/err" && bpanics=$((bpanics + 1))
    { [ "$bcode" = 137 ] || [ "$bcode" = 124 ]; } && bhangs=$((bhangs + 1))
    [ "$brss" -gt 204800 ] && bfat=$((bfat + 1))
  fi
  rm -rf "$mdir/out"
  timeout -s KILL 60 /usr/bin/time -f '%M' -o "$mdir/rss" "$bin" run --input "$mdir/$name" --out "$mdir/out" -q --workers 2 2>"$mdir/err" >/dev/null
  code=$?
  rss=$(tail -1 "$mdir/rss" 2>/dev/null | tr -dc 0-9); rss=${rss:-0}
  bycode[$code]=$((${bycode[$code]:-0} + 1))
  [ "$rss" -gt "$maxrss" ] && { maxrss=$rss; maxname="$name"; }
  if grep -qE "^(panic|fatal error):|goroutine [0-9]+ \[" "$mdir/err"; then panics=$((panics + 1)); fail "mutant $name ($base): panic"; continue; fi
  if [ "$code" = 137 ] || [ "$code" = 124 ]; then hangs=$((hangs + 1)); fail "mutant $name ($base): hang"; continue; fi
  if [ "$rss" -gt 204800 ]; then fat=$((fat + 1)); fail "mutant $name ($base): peak RSS ${rss} KB"; continue; fi
  if [ "$code" != 0 ] && [ "$code" != 3 ]; then fail "mutant $name ($base): exit $code: $(head -c 300 "$mdir/err")"; continue; fi
  ok=$((ok + 1))
done <"$mdir/index.tsv"
dist=$(for c in "${!bycode[@]}"; do echo "exit $c: ${bycode[$c]}"; done | sort | paste -sd ',' | sed 's/,/, /g')
base_note=""
[ -n "${BASELINE:-}" ] && base_note="; the same files through $(basename "$BASELINE"): $bpanics panics, $bhangs hangs, $bfat over 200 MB (highest $((bmax / 1024)) MB, $bmaxname)"
row "mutated Parquet files (9 kinds of damage × $(( ${#bases[@]} - 1 )) files from DuckDB, arrow-rs, parquet-go)" "$MUTANTS" \
    "$ok/$MUTANTS no panic, no hang, exit 0 or 3, peak RSS ≤ 200 MB" "$dist; $panics panics, $hangs hangs; highest peak RSS $((maxrss / 1024)) MB ($maxname)$base_note"
log "mutants: $ok/$MUTANTS"
fi

# ---- 6. one 100 MB value
if want 6; then
big="$work/big100.parquet"
(cd "$root/scripts/node" && node --input-type=module -e "
const { duckdb, lit } = await import('./lib.mjs');
const c = await duckdb();
await c.run(\`COPY (SELECT 'flan.1' AS id, 'You are helpful.' AS system_prompt, 'Write a lot.' AS question,
  left(repeat('alpha beta gamma delta the of and model answer because ', 2000000), 100000000) AS response
  UNION ALL SELECT 'flan.2', '', 'q', 'r') TO \${lit('$big')} (FORMAT parquet, COMPRESSION zstd)\`);
") 2>/dev/null
if [ -f "$big" ]; then
  cat >"$work/nofilter.yaml" <<'EOF'
filters: {empty_question: {enabled: false}, empty_response: {enabled: false}, refusal: {enabled: false}, special_token_text: {enabled: false}}
dedupe: {exact: {enabled: false}, near: {enabled: false}}
EOF
  rm -rf "$work/bigout"; /usr/bin/time -f '%M' -o "$work/rss1" "$bin" run --input "$big" --out "$work/bigout" -q
  rm -rf "$work/bigout"; /usr/bin/time -f '%M' -o "$work/rss2" "$bin" run --config "$work/nofilter.yaml" --input "$big" --out "$work/bigout" -q
  rm -rf "$work/bigout"; GOMEMLIMIT=300MiB /usr/bin/time -f '%M' -o "$work/rss3" "$bin" run --input "$big" --out "$work/bigout" -q
  rm -rf "$work/bigout"; /usr/bin/time -f '%M' -o "$work/rss0" "$bin" run --input "$root/testdata/parquet/duckdb-zstd.parquet" --out "$work/bigout" -q
  r0=$(($(tail -1 "$work/rss0") / 1024)) r1=$(($(tail -1 "$work/rss1") / 1024)) r2=$(($(tail -1 "$work/rss2") / 1024)) r3=$(($(tail -1 "$work/rss3") / 1024))
  row "one 100 MB response value (DuckDB file), peak RSS" "1" "default recipe ${r1} MB; filters and dedupe off ${r2} MB; default recipe with GOMEMLIMIT=300MiB ${r3} MB" "a 102-row file: ${r0} MB"
  log "100 MB value: $r1 MB / $r2 MB / $r3 MB (baseline $r0 MB)"
fi
fi

echo
cat "$results"
[ "$failures" = 0 ] || { echo "drill: $failures checks failed" >&2; exit 1; }
