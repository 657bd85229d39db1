#!/usr/bin/env node
// Usage: node reader-fixtures.mjs --out DIR [--digest FILE.parquet ...]
// Writes the Parquet layouts orcaprep's page reader must handle, with writers other than orcaprep, into DIR
// (generated at test time, not committed: they are tens of MB), and for every file (these and the --digest
// ones) DIR/<base>.digest.jsonl: DuckDB's reading of it, one line per row in file order,
// [md5(id), md5(system_prompt), md5(question), md5(response)] with null for NULL. The Go tests compare
// the reader with these row by row. DIR/manifest.json lists the files with their layout.
//
// Layouts: DuckDB puts each column of a row group in a single page (here 5–15 MB, streamed by the
// reader), in snappy / zstd / gzip / uncompressed, page v1 PLAIN and v2 DELTA_LENGTH_BYTE_ARRAY; NULL-heavy
// columns; values of several MB; arrow-rs (parquet-wasm) one-row row groups, DELTA_BYTE_ARRAY and
// DELTA_LENGTH_BYTE_ARRAY v2 pages, big PLAIN pages, dictionary pages, LZ4_RAW, LZ4 and brotli.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { duckdb, lit, parseArgs, rows } from './lib.mjs';

const opts = parseArgs(process.argv.slice(2));
const dir = opts.out;
if (!dir) {
  console.error('usage: node reader-fixtures.mjs --out DIR [--digest FILE.parquet ...]');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
const extra = opts._; // positional: more files to digest (e.g. the committed fixtures)
if (opts.digest) extra.push(opts.digest);
const conn = await duckdb();
const manifest = [];
const COLS = ['id', 'system_prompt', 'question', 'response'];

// Deterministic text from DuckDB's hash(): words (some non-ASCII), punctuation and newlines.
await conn.run(`CREATE MACRO txt(seed, n) AS array_to_string(list_transform(range(n), k ->
  ['the','of','and','to','a','in','is','that','for','it','as','was','with','be','by','on','not','he','this','are',
   'or','his','from','at','which','but','have','an','had','they','you','were','their','one','all','we','can','her',
   'has','there','been','if','more','when','will','would','who','so','no','café','naïve','Straße','日本語','😀',
   'e.g.','"quoted"','<b>','&amp;','\\n','line\nbreak','tab\there','x',','][1 + (hash(seed * 1000003 + k) % 64)::INT]), ' ')`);
// base(n, words): n rows; question and response of about words words each; a few NULLs.
await conn.run(`CREATE MACRO base(n, words, nullpct) AS TABLE
  SELECT i,
    CASE WHEN hash(i, 1) % 100 < nullpct // 4 THEN NULL ELSE ['flan','t0','cot','niv'][1 + i % 4] || '.' || i END AS id,
    CASE WHEN hash(i, 2) % 100 < nullpct THEN NULL
         ELSE ['You are an AI assistant.', '', 'You are a helpful assistant, who always provide explanation.'][1 + i % 3] END AS system_prompt,
    CASE WHEN hash(i, 3) % 100 < nullpct THEN NULL ELSE txt(i * 2, (words // 2 + hash(i, 4) % words)::BIGINT) END AS question,
    CASE WHEN hash(i, 5) % 100 < nullpct THEN NULL WHEN i % 97 = 0 THEN '' ELSE txt(i * 2 + 1, (words // 2 + hash(i, 6) % words)::BIGINT) END AS response
  FROM range(n) t(i)`);

const out = (name) => join(dir, name);
async function duck(name, sql, options, layout) {
  await conn.run(`COPY (${sql}) TO ${lit(out(name))} (FORMAT parquet, ${options})`);
  manifest.push({ file: name, writer: 'DuckDB', layout });
}
// The row sets, computed once.
await conn.run(`CREATE TABLE big AS SELECT * FROM base(8000, 160, 4)`); // ~6 MB per text column
await conn.run(`CREATE TABLE groups AS SELECT * FROM base(30000, 40, 4)`);
await conn.run(`CREATE TABLE nulls AS SELECT * FROM base(30000, 400, 90)`);
await conn.run(`CREATE TABLE tiny AS SELECT * FROM base(300, 30, 10)`);
await conn.run(`CREATE TABLE mid AS SELECT * FROM base(20000, 40, 20)`);
await conn.run(`CREATE TABLE bigv AS SELECT * FROM base(12000, 160, 30)`);
const sel = (t) => `SELECT id, system_prompt, question, response FROM ${t} ORDER BY i`;

const one = 'ROW_GROUP_SIZE 10000000';
const b = sel('big');
await duck('duckdb-1rg-snappy.parquet', b, `COMPRESSION snappy, ${one}`, 'one row group, one ~10 MB PLAIN page per column, snappy');
await duck('duckdb-1rg-zstd.parquet', b, `COMPRESSION zstd, ${one}`, 'one row group, big PLAIN pages, zstd');
await duck('duckdb-1rg-v2-gzip.parquet', b, `COMPRESSION gzip, PARQUET_VERSION v2, ${one}`, 'one row group, big DELTA_LENGTH_BYTE_ARRAY page v2, gzip');
await duck('duckdb-1rg-uncompressed.parquet', b, `COMPRESSION uncompressed, ${one}`, 'one row group, big PLAIN pages, uncompressed');
await duck('duckdb-rowgroups-snappy.parquet', sel('groups'),
  'COMPRESSION snappy, ROW_GROUP_SIZE 4096', 'row groups of 4096 rows, snappy');
await duck('duckdb-null-heavy.parquet', sel('nulls'),
  `COMPRESSION snappy, ${one}`, '90% NULLs, big pages, snappy');
await duck('duckdb-null-heavy-v2-zstd.parquet', sel('nulls'),
  `COMPRESSION zstd, PARQUET_VERSION v2, ${one}`, '90% NULLs, big DELTA_LENGTH_BYTE_ARRAY v2 pages, zstd');
await duck('duckdb-big-values.parquet', `SELECT id, system_prompt,
    CASE WHEN i % 3 = 1 THEN repeat(question || ' ', 9000) ELSE question END AS question,
    CASE WHEN i % 4 = 2 THEN repeat(txt(i, 5000), 8) ELSE response END AS response
  FROM base(12, 200, 0) ORDER BY i`, `COMPRESSION snappy, ${one}`, 'values of 1–9 MB (crossing the reader\'s pieces), snappy');

// arrow-rs (parquet-wasm): rows from DuckDB, written with explicit writer properties.
async function arrowRs(name, table, configure, layout, large = false, sameAs = undefined) {
  const data = await rows(conn, sel(table));
  const type = () => (large ? new arrow.LargeUtf8() : new arrow.Utf8());
  const cols = {};
  for (const c of COLS) cols[c] = arrow.vectorFromArray(data.map((r) => r[c]), type());
  const t = pw.Table.fromIPCStream(arrow.tableToIPC(new arrow.Table(cols), 'stream'));
  const props = configure(new pw.WriterPropertiesBuilder().setCreatedBy('parquet-rs via parquet-wasm 0.8.0')).build();
  writeFileSync(out(name), pw.writeParquet(t, props));
  manifest.push({ file: name, writer: 'arrow-rs (parquet-wasm)', layout, ...(sameAs ? { rows_as: sameAs } : {}) });
}
const bigPages = (bld) => bld.setDataPageSizeLimit(64 << 20).setDictionaryEnabled(false);
await arrowRs('arrowrs-1row-groups.parquet', 'tiny', (bld) => bld.setMaxRowGroupSize(1).setCompression(pw.Compression.SNAPPY),
  '300 row groups of one row, snappy');
await arrowRs('arrowrs-plain-snappy-bigpages.parquet', 'big', (bld) => bigPages(bld).setCompression(pw.Compression.SNAPPY),
  'one big PLAIN page per column, snappy (Rust snap)');
await arrowRs('arrowrs-delta-v2-zstd-bigpages.parquet', 'big', (bld) => bigPages(bld).setEncoding(pw.Encoding.DELTA_BYTE_ARRAY)
  .setWriterVersion(pw.WriterVersion.V2).setCompression(pw.Compression.ZSTD), 'big DELTA_BYTE_ARRAY pages v2, zstd', true);
await arrowRs('arrowrs-deltalength-v2-brotli-bigpages.parquet', 'bigv', (bld) => bigPages(bld).setEncoding(pw.Encoding.DELTA_LENGTH_BYTE_ARRAY)
  .setWriterVersion(pw.WriterVersion.V2).setCompression(pw.Compression.BROTLI), 'big DELTA_LENGTH_BYTE_ARRAY pages v2, brotli, 30% NULLs');
await arrowRs('arrowrs-dict-lz4raw.parquet', 'groups', (bld) => bld.setCompression(pw.Compression.LZ4_RAW),
  'dictionary pages with PLAIN fallback, LZ4_RAW');
// DuckDB cannot read the deprecated LZ4 codec: this file is checked against DuckDB's reading of the same rows.
await arrowRs('arrowrs-plain-lz4-bigpages.parquet', 'big', (bld) => bigPages(bld).setCompression(pw.Compression.LZ4),
  'big PLAIN pages, LZ4 (Hadoop framing)', false, 'duckdb-1rg-snappy.parquet');
await arrowRs('arrowrs-plain-gzip-v2.parquet', 'mid', (bld) => bld.setDictionaryEnabled(false).setWriterVersion(pw.WriterVersion.V2)
  .setCompression(pw.Compression.GZIP), 'PLAIN pages v2 of about 1 MB, gzip, 20% NULLs');

// Digests: DuckDB's reading of every file, row by row.
const all = [...manifest.filter((m) => !m.rows_as).map((m) => out(m.file)), ...extra];
for (const f of all) {
  const dst = join(dir, basename(f).replace(/\.parquet$/, '') + '.digest.jsonl');
  await conn.run(`COPY (SELECT [md5(id), md5(system_prompt), md5(question), md5(response)] AS d
    FROM read_parquet(${lit(f)}, file_row_number = true) ORDER BY file_row_number) TO ${lit(dst)} (FORMAT json)`);
}
writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
console.error(`reader-fixtures: ${manifest.length} files in ${dir}, ${all.length} digests`);
