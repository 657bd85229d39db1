// Checks an orcaprep output's OUT/tokenizer against two Hugging Face tokenizer implementations that orcaprep did
// not write: `tokenizers` (the Rust library, Node binding) and transformers.js (`@huggingface/transformers`,
// AutoTokenizer.from_pretrained on the local directory, remote models off). For every case it recomputes the ids
// from the text with each library and compares them with the shards' ids:
//   - tokens   (tokenized/packed samples): the source row is read from the input Parquet by DuckDB and rendered
//     here, independently of orcaprep: chatml = transformers.js apply_chat_template with the directory's
//     chat_template; openorca-2023 = the 2023 loader's format strings (chatml-ref.mjs). Ids:
//     chatml: tokenizer(text, add_special_tokens=False);
//     openorca-2023: tokenizer(prompt) (the post-processor adds <s>) + tokenizer(response, add_special_tokens=False)
//     + [eos_token_id], as the 2023 loader built them.
//     A sample id that several input rows share matches if one of them gives the ids.
//   - text: the rendering must equal the independent one of a source row with that id, and its ids (by the
//     style's recipe) must equal the same-style tokenized run's ids for that id;
//   - messages: transformers.js apply_chat_template(messages) must equal the text run's row byte for byte, and
//     apply_chat_template(..., tokenize=True) and tokenizers.encode(rendered) must equal the tokenized run's ids.
// It also counts, as controls, how many token samples two other tokenizer.json variants get wrong: the shape
// transformers v5's LlamaTokenizer builds with legacy=False (Metaspace prepend_scheme "first", no normalizer) and
// with legacy=True (Metaspace "always"). The first must disagree, or this check could not fail.
//
// usage: node hf-tokenizer-check.mjs JOB.json
//   JOB = {"parquet": [files], "runs": [{"name", "tokenizer_dir", "style", "empty_system", "cases"}]}
//   cases = JSONL of {"kind":"tokens","id","ids"} | {"kind":"text","id","text","ids"} |
//           {"kind":"messages","id","messages","text","ids"}
// Prints a JSON summary on stdout; exits 1 (after listing the first mismatches on stderr) if anything differs.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { duckdb, rows, lit } from './lib.mjs';
import { messages as chatMessages, renderOpenOrca2023 } from './chatml-ref.mjs';

const require = createRequire(import.meta.url);
const { Tokenizer } = require('tokenizers');
const { AutoTokenizer, env } = await import('@huggingface/transformers');
env.allowRemoteModels = false;
env.allowLocalModels = true;

const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const conn = await duckdb();
const src = new Map(); // id -> [rows]
for (const r of await rows(conn, `SELECT id, coalesce(system_prompt, '') AS system_prompt, coalesce(question, '') AS question,
    coalesce(response, '') AS response FROM read_parquet([${job.parquet.map(lit).join(',')}])`)) {
  if (!src.has(r.id)) src.set(r.id, []);
  src.get(r.id).push(r);
}

const ASSISTANT = '<|im_start|>assistant\n';
const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
const failures = [];
const fail = (run, what) => { if (failures.length < 10) failures.push(`${run}: ${what}`); };

// Encodings are memoized per tokenizer content: directories whose tokenizer.json and tokenizer_config.json are
// byte-identical (every run of a style with the same tokenizer) behave identically, so they share one memo.
const memos = new Map();

/** One tokenizer directory loaded by both libraries, with memoized encodings. */
async function load(dir) {
  env.localModelPath = path.dirname(dir) + path.sep;
  const tjs = await AutoTokenizer.from_pretrained(path.basename(dir));
  const json = fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8');
  const rust = Tokenizer.fromString(json);
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8'));
  const eos = cfg.eos_token;
  const key = json + '\u0000' + JSON.stringify(cfg);
  if (!memos.has(key)) memos.set(key, new Map());
  const memo = memos.get(key);
  const enc = async (lib, text, special) => {
    const k = `${lib}\u0000${special}\u0000${text}`;
    let v = memo.get(k);
    if (v === undefined) {
      v = lib === 'rust'
        ? Array.from((await rust.encode(text, null, { addSpecialTokens: special })).getIds())
        : tjs.encode(text, { add_special_tokens: special });
      memo.set(k, v);
    }
    return v;
  };
  const eosID = tjs.convert_tokens_to_ids(eos);
  const rustEOS = rust.tokenToId(eos);
  if (eosID !== rustEOS) throw new Error(`${dir}: the libraries disagree on ${eos}: ${eosID} vs ${rustEOS}`);
  return { tjs, rust, json, cfg, enc, eosID };
}

/** The style's sample ids of a rendering split into prompt and response (openorca-2023) or whole (chatml). */
async function sampleIDs(t, lib, style, text) {
  if (style === 'chatml') return t.enc(lib, text, false);
  const cut = text.lastIndexOf(ASSISTANT) + ASSISTANT.length;
  return [...await t.enc(lib, text.slice(0, cut), true), ...await t.enc(lib, text.slice(cut), false), t.eosID];
}

function render(t, style, row, emptySystem) {
  if (style === 'chatml') {
    return t.tjs.apply_chat_template(chatMessages(row, emptySystem), { tokenize: false, add_generation_prompt: false });
  }
  return renderOpenOrca2023(row);
}

const summary = { runs: [], controls: {} };
const controlSamples = { chatml: [], 'openorca-2023': [] }; // verified samples, for the controls
for (const run of job.runs) {
  const t0 = Date.now();
  const t = await load(run.tokenizer_dir);
  const s = { name: run.name, style: run.style, cases: 0, samples: 0, ids: 0, texts: 0, mismatches: 0, load_ms: Date.now() - t0 };
  if (t.cfg.add_bos_token !== (run.style === 'openorca-2023') || t.cfg.legacy !== true) {
    fail(run.name, `tokenizer_config.json add_bos_token=${t.cfg.add_bos_token} legacy=${t.cfg.legacy} for style ${run.style}`);
    s.mismatches++;
  }
  for (const line of fs.readFileSync(run.cases, 'utf8').split('\n')) {
    if (!line) continue;
    const c = JSON.parse(line);
    s.cases++;
    if (c.kind === 'tokens') {
      const cands = src.get(c.id) ?? [];
      let ok = false;
      for (const row of cands) {
        const text = render(t, run.style, row, run.empty_system);
        const a = await sampleIDs(t, 'rust', run.style, text);
        const b = await sampleIDs(t, 'tjs', run.style, text);
        if (same(a, c.ids) && same(b, c.ids)) {
          ok = true;
          const cs = controlSamples[run.style];
          if (cs.length < 500) cs.push({ text, ids: c.ids, style: run.style, json: t.json });
          break;
        }
        if (cands.length === 1) fail(run.name, `${c.id}: shard ids ${JSON.stringify(c.ids).slice(0, 160)}\n  tokenizers      ${JSON.stringify(a).slice(0, 160)}\n  transformers.js ${JSON.stringify(b).slice(0, 160)}`);
      }
      if (!ok) { s.mismatches++; if (cands.length !== 1) fail(run.name, `${c.id}: no source row (of ${cands.length}) gives the shard ids`); }
      s.samples++;
      s.ids += c.ids.length;
      continue;
    }
    // text and messages rows: the rendering, then the ids of the same-style tokenized run.
    let text = c.text;
    if (c.kind === 'messages') {
      text = t.tjs.apply_chat_template(c.messages, { tokenize: false, add_generation_prompt: false });
      if (text !== c.text) { s.mismatches++; fail(run.name, `${c.id}: apply_chat_template gives ${JSON.stringify(text).slice(0, 120)}, the text run has ${JSON.stringify(c.text).slice(0, 120)}`); continue; }
      // The tokenize=True path is the rendering encoded with add_special_tokens=False, which the ids check below
      // covers for every row; going through it end to end on the first rows keeps the run short.
      if (c.ids && s.cases <= 300) {
        const out = t.tjs.apply_chat_template(c.messages, { tokenize: true, return_tensor: false, add_generation_prompt: false });
        const viaTemplate = Array.from(out.input_ids ?? out); // transformers.js 4 returns {input_ids, attention_mask}
        s.template_ids = (s.template_ids ?? 0) + 1;
        if (!same(viaTemplate, c.ids)) { s.mismatches++; fail(run.name, `${c.id}: apply_chat_template(tokenize=True) differs from the tokenized run`); continue; }
      }
    } else if (!(src.get(c.id) ?? []).some((row) => render(t, run.style, row, run.empty_system) === text)) {
      s.mismatches++;
      fail(run.name, `${c.id}: text differs from the reference rendering of the source row`);
      continue;
    }
    s.texts++;
    if (!c.ids) continue; // the id's sample was dropped from the tokenized run (e.g. too_long)
    const a = await sampleIDs(t, 'rust', run.style, text);
    const b = await sampleIDs(t, 'tjs', run.style, text);
    if (!same(a, c.ids) || !same(b, c.ids)) { s.mismatches++; fail(run.name, `${c.id}: ids of the ${c.kind} row differ from the tokenized run`); continue; }
    s.samples++;
    s.ids += c.ids.length;
  }
  s.ms = Date.now() - t0;
  summary.runs.push(s);
}

// Controls: what transformers v5's LlamaTokenizer class would compute if it rebuilt this tokenizer.json.
async function control(samples, scheme) {
  let compared = 0, mismatched = 0;
  const cache = new Map();
  for (const x of samples) {
    let tok = cache.get(x.json);
    if (!tok) {
      const j = JSON.parse(x.json);
      j.normalizer = null;
      j.pre_tokenizer = { type: 'Metaspace', replacement: '\u2581', prepend_scheme: scheme, split: false };
      tok = Tokenizer.fromString(JSON.stringify(j));
      cache.set(x.json, tok);
    }
    const enc = async (s, special) => Array.from((await tok.encode(s, null, { addSpecialTokens: special })).getIds());
    let ids;
    if (x.style === 'chatml') ids = await enc(x.text, false);
    else {
      const cut = x.text.lastIndexOf(ASSISTANT) + ASSISTANT.length;
      ids = [...await enc(x.text.slice(0, cut), true), ...await enc(x.text.slice(cut), false), x.ids[x.ids.length - 1]];
    }
    compared++;
    if (!same(ids, x.ids)) mismatched++;
  }
  return { compared, mismatched };
}
for (const [style, samples] of Object.entries(controlSamples)) {
  if (samples.length === 0) continue;
  summary.controls[style] = {
    v5_llama_legacy_false: await control(samples, 'first'), // Metaspace prepend_scheme "first"
    v5_llama_legacy_true: await control(samples, 'always'), // Metaspace prepend_scheme "always"
  };
}

const bad = summary.runs.reduce((n, r) => n + r.mismatches, 0);
console.log(JSON.stringify(summary));
if (bad > 0 || failures.length > 0) {
  console.error(`hf-tokenizer-check: ${bad} mismatches\n` + failures.join('\n'));
  process.exit(1);
}
