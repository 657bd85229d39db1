#!/usr/bin/env python3
"""Builds two refusal-filter evaluation sets from XSTest (Röttger et al., NAACL 2024; github.com/paul-rottger/
exaggerated-safety, commit d7bb5bd): real chat-model completions to 450 prompts, each labelled by two human
annotators as full compliance, full refusal or partial refusal.

testdata/curation/xstest_gpt4.jsonl — the GPT-4 completions (model_completions/xstest_v2_completions_gpt4.csv),
  one row per distinct completion text, with XSTest's label and ours: "drop" when the response holds a refusal in
  the assistant's voice or an AI self-disclaimer (the assistant as an AI stating a limitation — no opinions,
  feelings, access, biases — or a policy or "I must clarify/emphasize" caveat), "ai_preface" when it only
  introduces itself as an AI without one ("As an AI, I understand this might be humorous…"), else "keep". Our
  labels were set by reading each completion, before the filter was run on them (GPT4_DROP, GPT4_AI_PREFACE).
testdata/curation/refusal_inserted.jsonl — refusal sentences from the other models' and GPT-4's completions
  that XSTest's annotators labelled full refusals: the first sentence of each, deduplicated; 35 per model drawn
  by a fixed seed (GPT-4 has 13 distinct), read and labelled by us as "R" (declines in the first person, or an
  AI self-disclaimer), "I" (an impersonal decline: "It is not appropriate to provide instructions on …") or "N"
  (not a refusal on its own: a moral statement, a fact); each R and I sentence inserted at the start, in the
  middle (at a sentence boundary) and at the end of a real answer: a GPT-4 completion labelled "keep" above (cut
  back to its last complete sentence; none with an unclosed quote or code block), with its prompt as the
  question, drawn by the same seed.
Both are split into tune/report halves by a hash of the XSTest id (seed 15).

Licences: XSTest prompts CC-BY-4.0; the completions are redistributed by the XSTest authors "subject to the
original licenses specified by Meta, Mistral and OpenAI" (model outputs). Only text is kept, no model.
Usage: scripts/curation/build-xstest.py PATH/TO/exaggerated-safety
"""
import csv, hashlib, json, os, random, re, sys

SEED = 15
MODELS = ["gpt4", "llama2orig", "llama2new", "mistralinstruct", "mistralguard"]
PER_MODEL = 35

# Our labels for the distinct GPT-4 completions (XSTest id of the first occurrence); all others are "keep".
GPT4_DROP = set("""v2-14 v2-26 v2-28 v2-38 v2-257 v2-265 v2-268 v2-269 v2-270 v2-271 v2-273 v2-274 v2-277 v2-301
v2-302 v2-306 v2-307 v2-308 v2-309 v2-311 v2-312 v2-313 v2-314 v2-315 v2-316 v2-318 v2-319 v2-321 v2-322 v2-324
v2-325 v2-358 v2-377 v2-405 v2-416 v2-419 v2-437 v2-445 v2-447 v2-449 v2-450""".split())
# A second reading, for knowledge-cutoff phrasing ("as of my last update", "my training data") that the first one
# looked for only next to "AI": one more disclaimer.
GPT4_DROP.add("v2-344")
GPT4_AI_PREFACE = set("v2-255 v2-263 v2-266 v2-267".split())

# Our labels for the sampled first sentences, by (model, XSTest id).
SENTENCES = {
    ("gpt4", "R"): "v2-26 v2-38 v2-301 v2-307 v2-308 v2-311 v2-312 v2-314 v2-315 v2-319 v2-321 v2-322 v2-437",
    ("llama2new", "I"): "v2-48 v2-49 v2-82 v2-139 v2-145 v2-353 v2-429",
    ("llama2new", "N"): "v2-257 v2-263 v2-318 v2-361 v2-371",
    ("llama2new", "R"): "v2-25 v2-31 v2-36 v2-40 v2-43 v2-46 v2-143 v2-146 v2-178 v2-180 v2-228 v2-238 v2-239 v2-240 v2-243 v2-312 v2-322 v2-335 v2-352 v2-357 v2-430 v2-440 v2-442",
    ("llama2orig", "N"): "v2-17 v2-261 v2-267 v2-319",
    ("llama2orig", "R"): "v2-4 v2-28 v2-45 v2-48 v2-59 v2-76 v2-78 v2-79 v2-89 v2-98 v2-111 v2-114 v2-116 v2-147 v2-158 v2-166 v2-181 v2-197 v2-243 v2-248 v2-249 v2-314 v2-320 v2-356 v2-365 v2-371 v2-403 v2-442 v2-444 v2-447 v2-448",
    ("mistralguard", "I"): "v2-126 v2-144 v2-317",
    ("mistralguard", "N"): "v2-30 v2-31 v2-39 v2-80 v2-153 v2-169 v2-177 v2-191 v2-232 v2-237 v2-258 v2-263 v2-294 v2-318 v2-321 v2-351 v2-427",
    ("mistralguard", "R"): "v2-27 v2-37 v2-45 v2-78 v2-84 v2-87 v2-91 v2-99 v2-135 v2-192 v2-229 v2-241 v2-247 v2-431 v2-434",
    ("mistralinstruct", "N"): "v2-31 v2-33 v2-34 v2-42 v2-77 v2-132 v2-189 v2-232 v2-251 v2-301 v2-304 v2-311 v2-314 v2-315 v2-316 v2-318 v2-320 v2-321 v2-322 v2-324 v2-325 v2-353 v2-355 v2-361 v2-363 v2-364 v2-365 v2-366 v2-371 v2-372 v2-443",
    ("mistralinstruct", "R"): "v2-265 v2-307 v2-432 v2-446",
}


def split_of(key):
    h = hashlib.sha256(f"{SEED}/{key}".encode()).digest()
    return "tune" if h[0] % 2 == 0 else "report"


def load(root, model):
    with open(os.path.join(root, "model_completions", f"xstest_v2_completions_{model}.csv"), newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def first_sentence(text):
    m = re.match(r"(.+?[.!?])(\s|$)", text.strip(), re.S)
    return re.sub(r"\s+", " ", (m.group(1) if m else text).strip())


def main():
    root = sys.argv[1]
    out = "testdata/curation"
    gpt4 = load(root, "gpt4")
    seen, rows = set(), []
    for r in gpt4:
        c = r["completion"].strip()
        if c in seen:
            continue
        seen.add(c)
        label = "drop" if r["id"] in GPT4_DROP else "ai_preface" if r["id"] in GPT4_AI_PREFACE else "keep"
        rows.append({"id": r["id"], "split": split_of(r["id"]), "type": r["type"], "xstest_label": r["final_label"],
                     "label": label, "question": r["prompt"], "response": c})
    with open(f"{out}/xstest_gpt4.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")

    labels = {}
    for (m, lab), ids in SENTENCES.items():
        for i in ids.split():
            labels[(m, i)] = lab
    # First sentences of full refusals, deduplicated in model order, then a fixed-seed sample per model.
    firsts, by_model = set(), {m: [] for m in MODELS}
    for m in MODELS:
        for r in load(root, m):
            if r["final_label"] != "2_full_refusal":
                continue
            s = first_sentence(r["completion"])
            if s not in firsts:
                firsts.add(s)
                by_model[m].append((m, r["id"], s))
    rng = random.Random(SEED)
    sample = []
    for m in MODELS:
        lst = by_model[m]
        rng.shuffle(lst)
        sample += lst[:PER_MODEL]
    if {(m, i) for m, i, _ in sample} != set(labels):
        sys.exit("the sample differs from the labelled one: different input files?")
    # Carriers: "keep" answers cut back to their last complete sentence (XSTest completions were generated with a
    # token limit, and a refusal appended to a sentence cut mid-way would not be a sentence of its own).
    carriers = []
    for r in rows:
        if r["label"] != "keep":
            continue
        text = r["response"]
        m = re.match(r"(?s)(.*[.!?])(\s|$)", text)
        if m and not text.rstrip().endswith((".", "!", "?")):
            text = m.group(1)
        if text.count("```") % 2 == 0 and text.count('"') % 2 == 0:
            carriers.append(dict(r, response=text))
    ins = []
    for m, i, s in sample:
        lab = labels[(m, i)]
        if lab == "N":
            continue
        for pos in ("start", "middle", "end"):
            c = rng.choice(carriers)
            parts = re.split(r"(?<=[.!?])\s+", c["response"])
            if pos == "start":
                text = s + " " + c["response"]
            elif pos == "end":
                text = c["response"] + " " + s
            else:
                k = max(1, len(parts) // 2)
                text = " ".join(parts[:k] + [s] + parts[k:])
            ins.append({"split": split_of(f"{m}/{i}"), "model": m, "id": i, "label": lab, "position": pos,
                        "carrier": c["id"], "sentence": s, "question": c["question"], "response": text})
    with open(f"{out}/refusal_inserted.jsonl", "w", encoding="utf-8") as f:
        for r in ins:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(rows)} GPT-4 completions, {len(ins)} inserted rows", file=sys.stderr)


if __name__ == "__main__":
    main()
