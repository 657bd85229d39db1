#!/usr/bin/env node
// Usage: node chatml-render-parquet.mjs IN.parquet OUT.jsonl [--style chatml|openorca-2023]
// Reads every row of IN with DuckDB, in file order, and writes {"row","id","text"} per row with the reference
// rendering (chatml-ref.mjs). Tests compare orcaprep's kept rows with these texts byte for byte.
import fs from 'node:fs';
import { duckdb, lit, parseArgs } from './lib.mjs';
import { renderChatML, renderOpenOrca2023 } from './chatml-ref.mjs';

const opts = parseArgs(process.argv.slice(2));
const [input, output] = opts._;
if (!input || !output) {
  console.error('usage: node chatml-render-parquet.mjs IN.parquet OUT.jsonl [--style chatml|openorca-2023]');
  process.exit(2);
}
const render = opts.style === 'openorca-2023' ? renderOpenOrca2023 : renderChatML;
const conn = await duckdb();
const reader = await conn.runAndReadAll(`SELECT file_row_number AS row, id, system_prompt, question, response
  FROM read_parquet(${lit(input)}, file_row_number = true) ORDER BY file_row_number`);
const out = fs.createWriteStream(output + '.tmp');
for (const r of reader.getRowObjectsJson()) {
  out.write(JSON.stringify({ row: Number(r.row), id: r.id, text: render(r) }) + '\n');
}
await new Promise((res, rej) => out.end((e) => (e ? rej(e) : res())));
fs.renameSync(output + '.tmp', output);
