// Encodes strings with a tokenizer directory in two Hugging Face implementations that orcaprep did not write —
// `tokenizers` (the Rust library, Node binding) and transformers.js (`@huggingface/transformers`,
// AutoTokenizer.from_pretrained on the local directory) — and compares with the ids orcaprep's Go tokenizer gave.
//
// usage: node hf-encode-check.mjs JOB.json
//   JOB = [{"tokenizer_dir": "...", "cases": "file.jsonl"}], cases lines = {"text": "...", "ids": [...]}
//   (ids of tokenizer(text, add_special_tokens=False)).
// Prints [{"tokenizer_dir", "cases", "mismatches"}] as JSON; exits 1 listing the first mismatches if any.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Tokenizer } = require('tokenizers');
const { AutoTokenizer, env } = await import('@huggingface/transformers');
env.allowRemoteModels = false;
env.allowLocalModels = true;

const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
const failures = [];
const out = [];
for (const job of JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))) {
  env.localModelPath = path.dirname(job.tokenizer_dir) + path.sep;
  const tjs = await AutoTokenizer.from_pretrained(path.basename(job.tokenizer_dir));
  const rust = Tokenizer.fromFile(path.join(job.tokenizer_dir, 'tokenizer.json'));
  const r = { tokenizer_dir: job.tokenizer_dir, cases: 0, mismatches: 0 };
  for (const line of fs.readFileSync(job.cases, 'utf8').split('\n')) {
    if (!line) continue;
    const c = JSON.parse(line);
    const want = c.ids ?? [];
    const a = Array.from((await rust.encode(c.text, null, { addSpecialTokens: false })).getIds());
    const b = tjs.encode(c.text, { add_special_tokens: false });
    r.cases++;
    if (!same(a, want) || !same(b, want)) {
      r.mismatches++;
      if (failures.length < 10) {
        failures.push(`${job.tokenizer_dir}: ${JSON.stringify(c.text).slice(0, 100)}\n  go              ${JSON.stringify(want).slice(0, 160)}\n  tokenizers      ${JSON.stringify(a).slice(0, 160)}\n  transformers.js ${JSON.stringify(b).slice(0, 160)}`);
      }
    }
  }
  out.push(r);
}
console.log(JSON.stringify(out));
if (failures.length > 0) {
  console.error(failures.join('\n'));
  process.exit(1);
}
