#!/usr/bin/env python3
"""Builds testdata/curation/niv/: real Super-NaturalInstructions examples laid out as OpenOrca niv rows, plus
near-duplicates injected by small edits, split into a tuning half and a report half by task (fixed seed).

Usage: scripts/curation/build-niv.py TASKS_DIR...   (directories holding allenai/natural-instructions task JSON)

The task files are the English originals of allenai/natural-instructions (Apache-2.0). Tasks are chosen by
rule, not by hand: English in/out/instructions, definition >= 80 words, >= 60 instances, and an instance
licence that allows redistribution (CC BY-NC, CC BY-SA and research-only licences are skipped).
Deterministic: the same task files give the same output bytes.
"""
import json, os, random, re, subprocess, sys

SEED = 15
PER_TASK = 40
MAX_INPUT = 1500
NIV_PROMPTS = [0, 1, 4, 6, 8, 11, 12, 13, 14]  # CarperAI system_messages.py, niv2
SKIP_LICENCE = re.compile(r"NC|SA|CCG|research", re.I)


def load_tasks(dirs):
    tasks = {}
    for d in dirs:
        for root, _, files in os.walk(d):
            for f in sorted(files):
                m = re.match(r"(task\d+_[^.]+)\.json$", f)
                if not m or m.group(1) in tasks:
                    continue
                try:
                    t = json.load(open(os.path.join(root, f), encoding="utf-8"))
                except Exception:
                    continue
                if not isinstance(t, dict) or "Definition" not in t:
                    continue
                tasks[m.group(1)] = t
    return tasks


def eligible(name, t):
    en = ["English"]
    if (t.get("Input_language"), t.get("Output_language"), t.get("Instruction_language")) != (en, en, en):
        return False
    d = t["Definition"][0]
    if len(d.split()) < 80 or re.search(r"[äöå]", d):
        return False
    if len(t.get("Instances", [])) < 60:
        return False
    lic = " ".join(t.get("Instance License", ["Unknown"]))
    return not SKIP_LICENCE.search(lic)


TOKEN = re.compile(r"\S+|\s+")


def edit_format(rng, text):
    toks = TOKEN.findall(text)
    words = [i for i, t in enumerate(toks) if not t.isspace()]
    for _ in range(rng.randint(1, 3)):
        i = rng.choice(words)
        w = toks[i]
        k = rng.randrange(4)
        if k == 0:
            toks[i] = w.upper() if not w.isupper() else w.lower()
        elif k == 1:
            toks[i] = w.capitalize() if w[:1].islower() else w.lower()
        elif k == 2:
            toks[i] = w.rstrip(".,;:!?") if w[-1:] in ".,;:!?" else w + ","
        else:
            if i + 1 < len(toks) and toks[i + 1].isspace():
                toks[i + 1] = toks[i + 1] + " " if rng.random() < 0.5 else "\n"
    return "".join(toks)


def edit_words(rng, text, vocab, k):
    toks = TOKEN.findall(text)
    words = [i for i, t in enumerate(toks) if not t.isspace()]
    for i in rng.sample(words, min(k, len(words))):
        new = rng.choice(vocab)
        while new.lower() == toks[i].lower():
            new = rng.choice(vocab)
        toks[i] = new
    return "".join(toks)


def edit_cut(rng, text, frac):
    toks = TOKEN.findall(text)
    words = [i for i, t in enumerate(toks) if not t.isspace()]
    n = max(1, int(frac * len(words)))
    s = rng.randrange(0, len(words) - n + 1)
    lo, hi = words[s], words[s + n - 1] + 1
    if hi < len(toks) and toks[hi].isspace():
        hi += 1
    return "".join(toks[:lo] + toks[hi:])


def edit_add(rng, text, frac, donor):
    toks = TOKEN.findall(text)
    words = [i for i, t in enumerate(toks) if not t.isspace()]
    n = max(1, int(frac * len(words)))
    dw = donor.split()
    s = rng.randrange(0, max(1, len(dw) - n))
    snippet = " ".join(dw[s:s + n])
    at = rng.choice(words)
    toks.insert(at, snippet + " ")
    return "".join(toks)


def main():
    tasks = load_tasks(sys.argv[1:])
    names = sorted(n for n, t in tasks.items() if eligible(n, t))
    rng = random.Random(SEED)
    order = names[:]
    rng.shuffle(order)
    split = {n: ("tune" if i % 2 == 0 else "report") for i, n in enumerate(order)}
    out = "testdata/curation/niv"
    os.makedirs(out, exist_ok=True)
    base = []
    with open(f"{out}/tasks.jsonl", "w", encoding="utf-8") as f:
        for n in names:
            t = tasks[n]
            f.write(json.dumps({"task": n, "split": split[n], "definition": t["Definition"][0], "source": t.get("Source"),
                                "url": t.get("URL"), "instance_license": t.get("Instance License")}, ensure_ascii=False) + "\n")
            seen = set()
            insts = [i for i in t["Instances"] if len(i["input"]) <= MAX_INPUT and i["output"] and i["output"][0].strip()]
            trng = random.Random(f"{SEED}/{n}")
            trng.shuffle(insts)
            for inst in insts:
                key = (inst["input"].strip().lower(), inst["output"][0].strip().lower())
                if key in seen or inst["input"].strip().lower() in {k[0] for k in seen}:
                    continue
                seen.add(key)
                base.append({"task": n, "instance": inst["id"], "input": inst["input"], "output": inst["output"][0]})
                if len(seen) == PER_TASK:
                    break
    rng.shuffle(base)
    vocab = sorted({w for n in names for w in re.findall(r"[A-Za-z]{3,}", tasks[n]["Definition"][0])})
    rows = []
    for i, b in enumerate(base):
        b["id"] = f"niv.{1000 + i}"
        b["sp"] = rng.choice(NIV_PROMPTS)
        rows.append(b)
    # Near-duplicates: one in ten base rows gets a copy with one kind of small edit, placed later in the file.
    kinds = ["format", "words1", "words2", "words3", "cut", "add"]
    dups = []
    for j, b in enumerate(rng.sample(rows, len(rows) // 10)):
        kind = kinds[j % len(kinds)]
        q = "Detailed Instructions: " + tasks[b["task"]]["Definition"][0] + "\nQ: " + b["input"] + "\nA:"
        r = b["output"]
        text = q + "\x00" + r
        if kind == "format":
            text = edit_format(rng, text)
        elif kind.startswith("words"):
            text = edit_words(rng, text, vocab, int(kind[-1]))
        elif kind == "cut":
            text = edit_cut(rng, text, rng.uniform(0.02, 0.10))
        else:
            donor = rng.choice(rows)
            donor_text = tasks[donor["task"]]["Definition"][0] + " " + donor["input"]
            text = edit_add(rng, text, rng.uniform(0.02, 0.10), donor_text)
        if "\x00" not in text:  # an edit swallowed the field boundary: keep the response whole
            continue
        q2, r2 = text.split("\x00", 1)
        if not r2.strip():
            continue
        d = {"id": f"niv.{5000 + j}", "task": b["task"], "dup_of": b["id"], "edit": kind,
             "sp": b["sp"] if rng.random() < 0.7 else rng.choice(NIV_PROMPTS), "question": q2, "response": r2}
        dups.append(d)
    pos = {r["id"]: i for i, r in enumerate(rows)}
    for d in dups:
        at = rng.randint(pos[d["dup_of"]] + 1, len(rows))
        rows.insert(at, d)
        pos = {r["id"]: i for i, r in enumerate(rows)}
    with open(f"{out}/rows.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            r["split"] = split[r["task"]]
            f.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"{len(names)} tasks, {len(base)} examples, {len(dups)} injected near-duplicates", file=sys.stderr)


if __name__ == "__main__":
    main()
