#!/usr/bin/env bash
# Per-stage rates, volumes and memory of a staged run, and what they predict for bigger inputs on a cluster.
#
#   scripts/bench-staged.sh                         # 1M rows, recipe B (scripts/bench/full.yaml), 4 tasks
#   ROWS=200000 TASKS=4 RECIPE=scripts/bench/scan.yaml scripts/bench-staged.sh
#
# It runs `orcaprep run` on .bench/synth-<ROWS>-x1.4.parquet (made by `orcaprep synth` as scripts/bench.sh
# makes it), then the same recipe staged: `orcaprep plan`, and every task of every stage with its stage
# command and --workers 1 (one core per task), P tasks at a time (P = number of CPUs), as a scheduler would
# run them. It checks that data/, index/, rejected/ and manifest.json are byte-identical to run's, then prints
# per stage: tasks, summed task seconds, rows per core-second, the largest peak RSS of a task and the bytes
# the stage left in the work directory (per input row); and the wall time those rates predict for 4.2M and
# 100M rows on 64 one-core tasks (arrays: rows / (rate × 64); reduce and finalize: one task).
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${ROWS:-1000000}"
TASKS="${TASKS:-4}"
RECIPE="${RECIPE:-scripts/bench/full.yaml}"
P="${P:-$(nproc)}"
mkdir -p .bench
go build -o .bench/orcaprep ./cmd/orcaprep
in=".bench/synth-$ROWS-x1.4.parquet"
[ -f "$in" ] || .bench/orcaprep synth --rows "$ROWS" --seed 42 --out "$in" --row-group-size 50000 --length-scale 1.4 >/dev/null
ref=".bench/staged-ref-$ROWS" out=".bench/staged-out-$ROWS" work=".bench/staged-work-$ROWS"
rm -rf "$ref" "$out" "$work"
/usr/bin/time -f "run: %e s wall, %M KB peak RSS" .bench/orcaprep run -q --config "$RECIPE" --input "$in" --out "$ref"
.bench/orcaprep plan -q --config "$RECIPE" --input "$in" --out "$out" --tasks "$TASKS" --work "$work"
start=$SECONDS
for stage in df templates map reduce write finalize; do
  n=$(python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); s=sys.argv[2]; print(p["tasks"] if s in ("map","write") else 1 if s in ("reduce","finalize") else (p.get("stage_tasks") or {}).get(s,0))' "$work/plan.json" "$stage")
  [ "$n" -gt 0 ] || continue
  seq 0 $((n - 1)) | xargs -P "$P" -I{} .bench/orcaprep "$stage" --work "$work" --task {} --workers 1 2>>"$work/tasks.log"
done
echo "staged: $((SECONDS - start)) s wall for every task, $P at a time, one core each"
for d in data index rejected; do
  for f in "$ref/$d"/*; do [ -e "$f" ] || continue; cmp -s "$f" "$out/$d/$(basename "$f")" || { echo "bench-staged: $d/$(basename "$f") DIFFERS from run's" >&2; exit 1; }; done
done
cmp -s "$ref/manifest.json" "$out/manifest.json" || { echo "bench-staged: manifest.json DIFFERS from run's" >&2; exit 1; }
echo "output: data/, index/, rejected/ and manifest.json byte-identical to run's"
python3 - "$work" "$out/stats.json" "$ROWS" <<'EOF'
import json, os, sys
work, stats_path, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
st = json.load(open(stats_path))
kept = st["rows_kept"]
def du(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            if f != "done.json":
                total += os.path.getsize(os.path.join(root, f))
    return total
print(f"{'stage':<10} {'tasks':>5} {'task-s':>8} {'rows':>9} {'in-rows/core-s':>14} {'peak RSS':>9} {'work dir':>10} {'B/in-row':>8}")
rates = {}
for s in st["timing"]["stages"]:
    name = s["name"]
    vol = du(os.path.join(work, name))
    # every rate is in input rows: write's rows are output rows (packed: bins), templates' are sketch parts
    r = rows / s["seconds"] if s["seconds"] else 0
    rates[name] = (r, s["tasks"], s.get("max_rss_mb", 0))
    print(f"{name:<10} {s['tasks']:>5} {s['seconds']:>8.1f} {s['rows']:>9} {r:>14.0f} {s.get('max_rss_mb',0):>7.0f}MB {vol/1e6:>8.1f}MB {vol/rows:>8.0f}")
rec = pay = 0
for t in sorted(os.listdir(os.path.join(work, "map"))):
    m = os.path.join(work, "map", t, "done.json")
    if os.path.exists(m):
        sm = json.load(open(m))["summary"]
        rec, pay = rec + sm["records_bytes"], pay + sm["payload_bytes"]
print(f"map output: records {rec/rows:.0f} B/row, payload {pay/rows:.0f} B/row")
red = json.load(open(os.path.join(work, "reduce", "00000", "done.json")))["summary"]
print(f"reduce: {red['ns_per_row']/1000:.2f} µs per row read, peak RSS {red['max_rss_bytes']/1e6:.0f} MB for {kept} kept rows")
for total in (4_200_000, 100_000_000):
    parts, wall = [], 0.0
    for name, (r, tasks, _) in rates.items():
        if not r:
            continue
        t = total / r / (1 if name in ("reduce", "finalize") else 64)
        wall += t
        parts.append(f"{name} {t/60:.1f}")
    print(f"estimate {total/1e6:g}M rows, 64 one-core tasks: {wall/60:.0f} min of stage time ({', '.join(parts)} min), plus scheduling;"
          f" reduce peak RSS ~{red['max_rss_bytes'] / kept * kept / rows * total / 1e9:.1f} GB if the kept share and bytes per kept row hold")
EOF
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
