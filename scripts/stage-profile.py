#!/usr/bin/env python3
"""Where a run's CPU time goes, per pipeline stage and per goroutine kind, from a CPU profile.

usage: go tool pprof -traces BIN PROFILE | scripts/stage-profile.py [--json]

A sample is charged to the stage of the deepest frame that matches a stage rule (so the dedupe-key code a
worker calls counts as "dedupe keys", not as the worker loop), and to the goroutine kind of its stack. The
goroutine kinds that are one goroutine per run (merge, shard writer, page planner, batch assembler) or one
bound the speed-up: a run cannot be faster than its busiest serial goroutine. (A streamed page is read by
a goroutine of its own, sequentially; the pages of different columns and row groups run concurrently.)
"""
import json
import re
import sys

STAGES = [  # (stage, regex on a frame); the deepest matching frame wins
    ("read/decode", r"/orca\.(?!.*Submix)"),
    ("filters", r"/filter\."),
    ("dedupe keys", r"/dedupe\.(ExactKey|NearSignature|appendNormalized)"),
    ("merge", r"/dedupe\.\(\*Index\)|pipeline\.\(\*runner\)\.(merge|drop|observe|writeRejected|writeIndex|keep|countNulls)|/stats\.|/ordered\."),
    ("render", r"pipeline\.\(\*runner\)\.(appendLine|render1)|/chatml\.|pipeline\.appendTokenizedLine"),
    ("tokenize", r"/samples\.|/tokenizer\."),
    ("write", r"/shard\.\(\*Writer\)|/shard\.\(\*packer\)|pipeline\.\(\*packer\)"),
    ("validate", r"pipeline\.(validUTF8|runeCount|invalidField)"),
]
GC = re.compile(r"runtime\.(gcBgMarkWorker|bgsweep|bgscavenge|gcAssistAlloc|markroot|gcDrain)")
GOROUTINES = [  # (kind, serial?, regex on any frame); first match wins
    ("page decode workers", False, r"orca\.\(\*Scanner\)\.decodeLoop"),
    ("streamed pages (one goroutine each)", False, r"orca\.\(\*Scanner\)\.streamPage"),
    ("page planner", True, r"orca\.\(\*Scanner\)\.plan"),
    ("shard writer", True, r"shard\.\(\*Writer\)\.loop"),
    ("merge", True, r"pipeline\.\(\*runner\)\.merge|ordered\.\(\*Buffer"),
    ("batch workers", False, r"pipeline\.\(\*runner\)\.process"),
    ("batch assembler (reader)", True, r"pipeline\.\(\*runner\)\.scanFile|orca\.\(\*Scanner\)\.Next"),
    ("garbage collector", False, GC.pattern),
]
stage_res = [(s, re.compile(r)) for s, r in STAGES]
gor_res = [(k, serial, re.compile(r)) for k, serial, r in GOROUTINES]


def seconds(tok):
    m = re.fullmatch(r"([0-9.]+)(ns|us|µs|ms|s|min|h)", tok)
    if not m:
        return None
    v, u = float(m.group(1)), m.group(2)
    return v * {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "min": 60, "h": 3600}[u]


def main():
    stages, kinds, total = {}, {}, 0.0
    stack, t = [], None

    def flush():
        nonlocal stack, t, total
        if t is None:
            return
        total += t
        stage = "other (runtime, scheduling)"
        if any(GC.search(f) for f in stack):
            stage = "garbage collection"
        else:
            for f in stack:  # leaf first: the deepest match wins
                hit = next((s for s, r in stage_res if r.search(f)), None)
                if hit:
                    stage = hit
                    break
        stages[stage] = stages.get(stage, 0) + t
        kind = next((k for k, _, r in gor_res if any(r.search(f) for f in stack)), "other")
        kinds[kind] = kinds.get(kind, 0) + t
        stack, t = [], None

    for line in sys.stdin:
        if line.startswith("-----------+"):
            flush()
            continue
        parts = line.split()
        if not parts:
            continue
        if line[0] != " " and t is None and not stack:
            continue  # header lines
        s = seconds(parts[0])
        if s is not None and len(parts) >= 2 and not stack:
            t = s
            stack.append(parts[1])
        elif t is not None:
            stack.append(parts[0])
    flush()
    serial = {k: v for k, v in kinds.items() if any(k == g[0] and g[1] for g in GOROUTINES)}
    busiest = max(serial.items(), key=lambda kv: kv[1], default=("none", 0.0))
    if "--json" in sys.argv:
        json.dump({"total_s": total, "stages_s": stages, "goroutines_s": kinds, "busiest_serial": busiest}, sys.stdout, indent=1)
        print()
        return
    print(f"CPU time {total:.2f} s")
    print("by stage:")
    for s, v in sorted(stages.items(), key=lambda kv: -kv[1]):
        print(f"  {s:<30} {v:7.2f} s  {100 * v / total:5.1f}%")
    print("by goroutine (* = serial: one per run):")
    for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]):
        mark = "*" if k in serial else " "
        print(f"  {mark} {k:<36} {v:7.2f} s  {100 * v / total:5.1f}%")
    if busiest[1] > 0:
        print(f"bound: the busiest serial goroutine ({busiest[0]}) has {busiest[1]:.2f} s of {total:.2f} s: "
              f"no worker count can make this run more than {total / busiest[1]:.1f}x faster than one core")


if __name__ == "__main__":
    main()
