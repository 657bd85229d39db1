#!/usr/bin/env node
// Usage: node bench-duckdb.mjs IN.parquet OUT.jsonl [--threads N]
// DuckDB doing the same work as `orcaprep run` with only the empty filters and exact dedupe, for scripts/bench.sh:
// scan → drop empty/whitespace question or response → exact dedupe on (system_prompt, question, response),
// first occurrence in file order wins → render Axolotl chatml text → JSONL {"id","text"} in input order.
import { DuckDBInstance } from '@duckdb/node-api';
import { lit, parseArgs } from './lib.mjs';

const opts = parseArgs(process.argv.slice(2));
const [input, output] = opts._;
if (!input || !output) {
  console.error('usage: node bench-duckdb.mjs IN.parquet OUT.jsonl [--threads N]');
  process.exit(2);
}
const threads = String(opts.threads ?? 2);
const inst = await DuckDBInstance.create(':memory:', { threads, preserve_insertion_order: 'true' });
const conn = await inst.connect();
const t0 = performance.now();
await conn.run(`COPY (
  WITH src AS (
    SELECT id, coalesce(system_prompt, '') AS sp, coalesce(question, '') AS q, coalesce(response, '') AS r, file_row_number AS rn
    FROM read_parquet(${lit(input)}, file_row_number = true)),
  kept AS (
    SELECT * FROM src WHERE trim(q) <> '' AND trim(r) <> ''
    QUALIFY row_number() OVER (PARTITION BY sp, q, r ORDER BY rn) = 1)
  SELECT id,
    (CASE WHEN sp <> '' THEN '<|im_start|>system' || chr(10) || sp || '<|im_end|>' || chr(10) ELSE '' END)
    || '<|im_start|>user' || chr(10) || q || '<|im_end|>' || chr(10)
    || '<|im_start|>assistant' || chr(10) || r || '<|im_end|>' || chr(10) AS text
  FROM kept ORDER BY rn
) TO ${lit(output)} (FORMAT json)`);

console.error(`bench-duckdb: done in ${((performance.now() - t0) / 1000).toFixed(2)} s (threads ${threads})`);
