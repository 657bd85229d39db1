#!/usr/bin/env bash
# Scaling evidence: rows/s per worker count, and where the CPU time goes per stage.
#
#   scripts/bench-scaling.sh [INPUT.parquet]            # default: .bench/duckdb-300000.parquet (made if absent)
#   WORKERS="1 2 4" CONFIG=scripts/bench/full.yaml scripts/bench-scaling.sh in.parquet
#
# For each worker count (default 1 2 4 8 16) it runs `orcaprep run --workers N` with a CPU profile and
# prints wall time, rows/s, speed-up over --workers 1 and CPU use; then, for the largest count, the CPU
# time per stage (read/decode, filters, dedupe keys, render, tokenize, merge, write, GC) and per goroutine
# kind, from scripts/stage-profile.py. --workers N caps GOMAXPROCS at N, so on a machine with fewer
# cores than N the run still uses every core; the serial goroutines (merge, shard writer, page planner,
# batch assembler) give the bound on what more cores can bring.
set -euo pipefail
cd "$(dirname "$0")/.."
WORKERS="${WORKERS:-1 2 4 8 16}"
CONFIG="${CONFIG:-scripts/bench/scan.yaml}"
mkdir -p .bench
go build -o .bench/orcaprep ./cmd/orcaprep
in="${1:-}"
if [ -z "$in" ]; then
  in=.bench/duckdb-300000.parquet
  if [ ! -f "$in" ]; then
    [ -d scripts/node/node_modules ] || scripts/install-test-deps.sh
    [ -f .bench/synth-300000-x1.4.parquet ] || .bench/orcaprep synth --rows 300000 --seed 42 --out .bench/synth-300000-x1.4.parquet --row-group-size 50000 --length-scale 1.4 >/dev/null
    node scripts/node/duckdb-rewrite.mjs .bench/synth-300000-x1.4.parquet "$in" --compression snappy
  fi
fi
rows=$(.bench/orcaprep inspect --json "$in" | python3 -c 'import json,sys; print(sum(f["rows"] for f in json.load(sys.stdin)))')
echo "input: $in ($rows rows), recipe $CONFIG, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %8s %10s %8s %8s %8s\n' workers wall_s rows/s speedup cpu_s cpu%
w1=""
last=""
for w in $WORKERS; do
  log=".bench/scale-$w.time"
  /usr/bin/time -v .bench/orcaprep run --config "$CONFIG" --input "$in" --out ".bench/out-scale-$w" --overwrite -q \
    --workers "$w" --cpuprofile ".bench/scale-$w.prof" >/dev/null 2>"$log"
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$log")
  cpu=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u+s}' "$log")
  pct=$(awk -F': ' '/Percent of CPU/ {print $2}' "$log")
  [ -n "$w1" ] || w1=$wall
  printf '%-8s %8.2f %10.0f %8.2f %8.2f %8s\n' "$w" "$wall" "$(awk -v n=$rows -v t=$wall 'BEGIN{print n/t}')" "$(awk -v a=$w1 -v b=$wall 'BEGIN{print a/b}')" "$cpu" "$pct"
  if [ -n "$last" ] && ! cmp -s ".bench/out-scale-$last/data/train-00000.jsonl" ".bench/out-scale-$w/data/train-00000.jsonl"; then
    echo "bench-scaling: OUTPUT DIFFERS between --workers $last and $w" >&2; exit 1
  fi
  last=$w
done
echo
echo "CPU time by stage and goroutine, --workers $last:"
go tool pprof -traces .bench/orcaprep ".bench/scale-$last.prof" 2>/dev/null | python3 scripts/stage-profile.py
