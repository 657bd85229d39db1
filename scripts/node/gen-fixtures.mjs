#!/usr/bin/env node
// Writes orcaprep's Parquet test fixtures with writers other than parquet-go, and records what DuckDB reads
// back from each file so the Go reader's tests assert against another implementation's counts.
//
// Usage (scripts/gen-fixtures.sh runs this after `orcaprep synth`):
//   node gen-fixtures.mjs --src SYN.parquet --src-labels SYN.jsonl --sample-src S.parquet --sample-labels S.jsonl \
//        --invalid-src INV.parquet --invalid-labels INV.jsonl --parquet-dir DIR --sample-dir DIR
//
// Output: DIR/*.parquet, DIR/expected.json, DIR/README.md, and the DuckDB-written sample with its labels.
import { copyFileSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { duckdb, lit, parseArgs, rows } from './lib.mjs';

const opts = parseArgs(process.argv.slice(2));
for (const k of ['src', 'src-labels', 'sample-src', 'sample-labels', 'invalid-src', 'invalid-labels', 'parquet-dir', 'sample-dir']) {
  if (!opts[k]) {
    console.error(`gen-fixtures: --${k} is required`);
    process.exit(2);
  }
}
const dir = opts['parquet-dir'];
const sampleDir = opts['sample-dir'];
mkdirSync(dir, { recursive: true });
mkdirSync(sampleDir, { recursive: true });
// Start from an empty fixture set so that a removed fixture does not linger.
for (const f of readdirSync(dir)) if (f.endsWith('.parquet')) rmSync(join(dir, f));

const COLS = ['id', 'system_prompt', 'question', 'response'];
const conn = await duckdb();
const files = []; // {file, writer, layout, error, reason}
const out = (name) => join(dir, name);
const add = (file, writer, layout, error = false, reason = '') => files.push({ file, writer, layout, error, reason });

// ---- The source rows, joined with their labels, in file order.
const labelsCols = `columns = {id: 'VARCHAR', row: 'BIGINT', kinds: 'VARCHAR[]', dup_of: 'VARCHAR'}`;
await conn.run(`CREATE TABLE src AS
  SELECT p.id, p.system_prompt, p.question, p.response, l.row, l.kinds[1] AS kind
  FROM read_parquet(${lit(opts.src)}, file_row_number = true) p
  JOIN read_json(${lit(opts['src-labels'])}, format = 'newline_delimited', ${labelsCols}) l ON l.row = p.file_row_number
  ORDER BY l.row`);

// ~100 short rows: mostly clean, plus a few of each defect a reader must pass through (NULLs above all).
await conn.run(`CREATE TABLE tiny AS
  WITH ranked AS (
    SELECT *, row_number() OVER (PARTITION BY kind ORDER BY row) AS k,
           strlen(coalesce(question, '')) + strlen(coalesce(response, '')) AS len
    FROM src WHERE strlen(coalesce(question, '')) + strlen(coalesce(response, '')) < 450)
  SELECT id, system_prompt, question, response, row FROM ranked
  WHERE (kind = 'clean' AND k <= 80)
     OR (kind IN ('null_system_prompt', 'null_response') AND k <= 4)
     OR (kind IN ('empty_question', 'empty_response', 'whitespace_response', 'refusal_opening',
                  'non_ascii', 'special_token_text', 'duplicate_id') AND k <= 2)
  ORDER BY row`);
const tinySel = `SELECT id, system_prompt, question, response FROM tiny ORDER BY row`;

async function copy(name, sql, options) {
  await conn.run(`COPY (${sql}) TO ${lit(out(name))} (FORMAT parquet, ${options})`);
}

// ---- DuckDB-written files.
await copy('duckdb-zstd.parquet', tinySel, 'COMPRESSION zstd');
add('duckdb-zstd.parquet', 'DuckDB', 'zstd, PLAIN / dictionary (system_prompt), page v1, 1 row group');
await copy('duckdb-snappy.parquet', tinySel, 'COMPRESSION snappy');
add('duckdb-snappy.parquet', 'DuckDB', 'snappy, page v1, 1 row group');
await copy('duckdb-gzip.parquet', tinySel, 'COMPRESSION gzip');
add('duckdb-gzip.parquet', 'DuckDB', 'gzip, page v1, 1 row group');
await copy('duckdb-v2-delta-snappy.parquet', tinySel, 'COMPRESSION snappy, PARQUET_VERSION v2');
add('duckdb-v2-delta-snappy.parquet', 'DuckDB', 'PARQUET_VERSION v2 (DELTA_LENGTH_BYTE_ARRAY, page v2), snappy');
// DuckDB cuts row groups at multiples of 2,048 rows, so this one has more rows, with short strings to stay small.
await copy('duckdb-rowgroups.parquet',
  `SELECT id, system_prompt, left(question, 10) AS question, left(response, 6) AS response FROM src WHERE row < 4300 ORDER BY row`,
  'COMPRESSION zstd, ROW_GROUP_SIZE 2048');
add('duckdb-rowgroups.parquet', 'DuckDB', 'zstd, ROW_GROUP_SIZE 2048 → 3 row groups, strings cut to 10/6 characters');
await copy('duckdb-extra-column.parquet',
  `SELECT CAST(row AS BIGINT) AS __index_level_0__, id, system_prompt, question, response FROM tiny ORDER BY row`, 'COMPRESSION zstd');
add('duckdb-extra-column.parquet', 'DuckDB', 'zstd, extra leading BIGINT column __index_level_0__ (as in old OpenOrca copies): ignore it');
await copy('duckdb-reordered-columns.parquet', `SELECT response, question, id, system_prompt FROM tiny ORDER BY row`, 'COMPRESSION zstd');
add('duckdb-reordered-columns.parquet', 'DuckDB', 'zstd, columns in the order response, question, id, system_prompt: read by name');
await copy('duckdb-zero-rows.parquet', `SELECT id, system_prompt, question, response FROM tiny WHERE false`, 'COMPRESSION zstd');
add('duckdb-zero-rows.parquet', 'DuckDB', 'zstd, right schema, 0 rows', true,
  'zero rows: a valid Parquet file, but issue 2 lists an empty input as bad input');
await copy('bad-missing-response.parquet', `SELECT id, system_prompt, question FROM tiny ORDER BY row`, 'COMPRESSION zstd');
add('bad-missing-response.parquet', 'DuckDB', 'zstd, no response column', true, 'missing column response (name it)');
await copy('bad-question-int64.parquet',
  `SELECT id, system_prompt, CAST(row AS BIGINT) AS question, response FROM tiny ORDER BY row`, 'COMPRESSION zstd');
add('bad-question-int64.parquet', 'DuckDB', 'zstd, question is INT64', true, 'column question is INT64, not a string');
await copy('bad-question-list.parquet', `SELECT id, system_prompt, [question] AS question, response FROM tiny ORDER BY row`, 'COMPRESSION zstd');
add('bad-question-list.parquet', 'DuckDB', 'zstd, question is LIST(VARCHAR)', true, 'column question is a nested LIST column, not a string');
await copy('bad-question-struct.parquet', `SELECT id, system_prompt, {'text': question} AS question, response FROM tiny ORDER BY row`, 'COMPRESSION zstd');
add('bad-question-struct.parquet', 'DuckDB', 'zstd, question is STRUCT(text VARCHAR)', true, 'column question is a nested STRUCT column, not a string');
await copy('bad-question-blob.parquet', `SELECT id, system_prompt, encode(question) AS question, response FROM tiny ORDER BY row`, 'COMPRESSION zstd');
add('bad-question-blob.parquet', 'DuckDB', 'zstd, question is BLOB (BYTE_ARRAY with no STRING annotation)', true,
  'column question is binary, not a string (the README: non-string columns are errors)');

// ---- arrow-rs (parquet-rs inside parquet-wasm), fed an Arrow IPC stream built with apache-arrow.
const tiny = await rows(conn, tinySel);
function arrowTable(large) {
  const type = () => (large ? new arrow.LargeUtf8() : new arrow.Utf8());
  const cols = {};
  for (const c of COLS) cols[c] = arrow.vectorFromArray(tiny.map((r) => r[c]), type());
  return new arrow.Table(cols);
}
function writeArrowRs(name, table, configure) {
  const t = pw.Table.fromIPCStream(arrow.tableToIPC(table, 'stream'));
  const props = configure(new pw.WriterPropertiesBuilder().setCreatedBy('parquet-rs via parquet-wasm 0.8.0')).build();
  writeFileSync(out(name), pw.writeParquet(t, props));
}
writeArrowRs('arrowrs-dict-snappy.parquet', arrowTable(false), (b) => b.setCompression(pw.Compression.SNAPPY));
add('arrowrs-dict-snappy.parquet', 'arrow-rs (parquet-wasm)', 'Utf8, RLE_DICTIONARY with PLAIN fallback, snappy, page v1');
writeArrowRs('arrowrs-plain-uncompressed.parquet', arrowTable(false),
  (b) => b.setDictionaryEnabled(false).setCompression(pw.Compression.UNCOMPRESSED));
add('arrowrs-plain-uncompressed.parquet', 'arrow-rs (parquet-wasm)', 'Utf8, PLAIN, uncompressed, page v1');
writeArrowRs('arrowrs-delta-v2-gzip.parquet', arrowTable(false), (b) => b.setDictionaryEnabled(false)
  .setEncoding(pw.Encoding.DELTA_BYTE_ARRAY).setWriterVersion(pw.WriterVersion.V2).setCompression(pw.Compression.GZIP));
add('arrowrs-delta-v2-gzip.parquet', 'arrow-rs (parquet-wasm)', 'Utf8, DELTA_BYTE_ARRAY, data page v2, gzip');
writeArrowRs('arrowrs-largeutf8-zstd-rowgroups.parquet', arrowTable(true), (b) => b.setWriterVersion(pw.WriterVersion.V2)
  .setCompression(pw.Compression.ZSTD).setMaxRowGroupSize(25));
add('arrowrs-largeutf8-zstd-rowgroups.parquet', 'arrow-rs (parquet-wasm)', 'LargeUtf8, dictionary, data page v2, zstd, 25-row row groups');

// arrow-rs validates UTF-8 when it reads the IPC stream, so it cannot be made to write invalid strings;
// try anyway so that a future version that can is noticed.
let arrowInvalid = 'refused';
try {
  const good = new TextEncoder().encode('ok');
  const bad = new Uint8Array([0x63, 0x61, 0x66, 0xff]); // "caf\xff"
  const bytes = new Uint8Array([...good, ...bad]);
  const data = arrow.makeData({ type: new arrow.Utf8(), length: 2, nullCount: 0, valueOffsets: new Int32Array([0, 2, 6]), data: bytes });
  const t = new arrow.Table({ id: new arrow.Vector([data]) });
  pw.writeParquet(pw.Table.fromIPCStream(arrow.tableToIPC(t, 'stream')));
  arrowInvalid = 'accepted (not used)';
} catch (e) {
  arrowInvalid = `refused: ${String(e.message ?? e).split('\n')[0].slice(0, 120)}`;
}
console.error(`gen-fixtures: arrow-rs and invalid UTF-8: ${arrowInvalid}`);

// ---- parquet-go is the only writer here that stores invalid UTF-8 in a string column: copy its file as is.
copyFileSync(opts['invalid-src'], out('parquetgo-invalid-utf8.parquet'));
add('parquetgo-invalid-utf8.parquet', 'parquet-go (orcaprep synth --invalid-utf8-rate)', 'zstd, some question/response values are not valid UTF-8', false,
  'invalid UTF-8 in some rows: a row-level problem (drop with reason invalid_utf8 or repair), not a file error');

// ---- Broken files, made from good ones.
const good = readFileSync(out('duckdb-zstd.parquet'));
writeFileSync(out('bad-truncated.parquet'), good.subarray(0, Math.floor(good.length * 0.6)));
add('bad-truncated.parquet', 'DuckDB, then cut', 'first 60% of duckdb-zstd.parquet', true, 'truncated file (no footer)');
writeFileSync(out('bad-truncated-footer.parquet'), good.subarray(0, good.length - 6));
add('bad-truncated-footer.parquet', 'DuckDB, then cut', 'duckdb-zstd.parquet without its last 6 bytes', true, 'truncated footer (no PAR1 magic at the end)');
{
  // A hostile footer length: parquet-go would allocate the claimed 2 GiB before noticing the file is 16 KB.
  const hostile = Buffer.from(good);
  hostile.writeUInt32LE(0x7fffffff, hostile.length - 8);
  writeFileSync(out('bad-footer-length.parquet'), hostile);
  add('bad-footer-length.parquet', 'DuckDB, then overwritten', 'duckdb-zstd.parquet whose footer length field says 0x7fffffff', true,
    'footer length larger than the file: refuse before allocating it');
}
{
  // A hostile page header: the first page claims 0x7fffffff compressed bytes (parquet-go allocated them
  // before reading: 2.9 GB of RSS). The header starts at byte 4: fields 1 (type), 2 (uncompressed size) and
  // 3 (compressed size), each a short-form i32 field header 0x15 and a zigzag varint.
  const varintEnd = (b, i) => { while (b[i] & 0x80) i++; return i + 1; };
  let i = 4;
  for (let f = 0; f < 2; f++) { if (good[i] !== 0x15) throw new Error('unexpected page header'); i = varintEnd(good, i + 1); }
  if (good[i] !== 0x15) throw new Error('unexpected page header');
  const end = varintEnd(good, i + 1);
  const zigzagMax = Buffer.from([0xfe, 0xff, 0xff, 0xff, 0x0f]); // zigzag(0x7fffffff)
  writeFileSync(out('bad-page-size.parquet'), Buffer.concat([good.subarray(0, i + 1), zigzagMax, good.subarray(end)]));
  add('bad-page-size.parquet', 'DuckDB, then overwritten', 'duckdb-zstd.parquet whose first page header claims 0x7fffffff compressed bytes', true,
    'page larger than its column chunk: refuse before allocating it');
}
{
  // Garbage over the middle of the question column's compressed pages; footer stays valid.
  const snappy = Buffer.from(readFileSync(out('duckdb-snappy.parquet')));
  const [m] = await rows(conn, `SELECT data_page_offset AS off, total_compressed_size AS n FROM parquet_metadata(${lit(out('duckdb-snappy.parquet'))})
                               WHERE path_in_schema = 'question'`);
  const start = Number(m.off) + Math.floor(Number(m.n) / 3);
  for (let i = 0; i < 64; i++) snappy[start + i] = 0xff;
  writeFileSync(out('bad-corrupt-page.parquet'), snappy);
  add('bad-corrupt-page.parquet', 'DuckDB, then overwritten', 'duckdb-snappy.parquet with 64 bytes of 0xFF inside the question column chunk', true,
    'corrupt page data (valid footer): error naming the file and row group');
}
writeFileSync(out('bad-not-parquet.parquet'), 'id,system_prompt,question,response\nflan.1,,What is 2+2?,4\n');
add('bad-not-parquet.parquet', 'text', 'a CSV file named .parquet', true, 'not Parquet');
writeFileSync(out('bad-empty-0-bytes.parquet'), '');
add('bad-empty-0-bytes.parquet', 'none', '0-byte file', true, 'empty file (0 bytes)');

// ---- What DuckDB reads from each file.
async function describe(path) {
  const e = { bytes: statSync(path).size };
  // Error texts name the file; strip the directory so expected.json does not depend on where the script ran.
  const fail = (err) => { e.duckdb_error ??= String(err.message).split('\n')[0].replaceAll(path, basename(path)).slice(0, 160); };
  try {
    const meta = await rows(conn, `SELECT row_group_id, any_value(row_group_num_rows) AS n FROM parquet_metadata(${lit(path)}) GROUP BY ALL ORDER BY 1`);
    e.row_groups = meta.length;
    e.footer_rows = meta.reduce((a, m) => a + Number(m.n), 0);
    const cols = await rows(conn, `DESCRIBE SELECT * FROM read_parquet(${lit(path)})`);
    e.columns = Object.fromEntries(cols.map((c) => [c.column_name, c.column_type]));
  } catch (err) {
    fail(err);
    return e;
  }
  const present = COLS.filter((c) => c in e.columns);
  try {
    const [r] = await rows(conn, `SELECT count(*) AS rows, ${present.map((c) => `count(*) - count(${c}) AS "n_${c}"`).join(', ') || '0 AS x'}
                                  FROM read_parquet(${lit(path)})`);
    e.rows = Number(r.rows);
    e.nulls = Object.fromEntries(present.map((c) => [c, Number(r[`n_${c}`])]));
  } catch (err) {
    fail(err);
  }
  const strs = present.filter((c) => e.columns[c] === 'VARCHAR');
  try {
    // Total UTF-8 bytes per string column: lets a reader test check content, not only counts.
    const [s] = await rows(conn, `SELECT ${strs.map((c) => `coalesce(sum(strlen(${c})), 0) AS "b_${c}"`).join(', ')} FROM read_parquet(${lit(path)})`);
    e.text_bytes = Object.fromEntries(strs.map((c) => [c, Number(s[`b_${c}`])]));
  } catch (err) {
    fail(err);
  }
  return e;
}

// Invalid-UTF-8 rows come from the synth labels (DuckDB refuses to decode them).
const invalidRows = readFileSync(opts['invalid-labels'], 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  .filter((l) => l.kinds.includes('invalid_utf8')).map((l) => l.row);

const expected = {};
for (const f of files) {
  const e = await describe(out(f.file));
  expected[f.file] = { writer: f.writer, layout: f.layout, error: f.error, ...(f.reason ? { reason: f.reason } : {}), ...e };
  if (f.file === 'parquetgo-invalid-utf8.parquet') expected[f.file].invalid_utf8_rows = invalidRows;
}
for (const f of files) {
  if (f.file.includes('zero-rows') || f.error) continue;
  const e = expected[f.file];
  if (e.duckdb_error && f.file !== 'parquetgo-invalid-utf8.parquet') throw new Error(`DuckDB cannot read good fixture ${f.file}: ${e.duckdb_error}`);
  if (e.bytes > 50 * 1024) throw new Error(`${f.file} is ${e.bytes} bytes; fixtures must stay ≤ 50 KB`);
}
writeFileSync(join(dir, 'expected.json'), JSON.stringify(sortKeys(expected), null, 2) + '\n');

// ---- The sample for the README's first command: the whole synth file rewritten by DuckDB, same row order.
const sample = join(sampleDir, 'openorca-sample.parquet');
await conn.run(`COPY (SELECT * EXCLUDE (file_row_number) FROM read_parquet(${lit(opts['sample-src'])}, file_row_number = true)
               ORDER BY file_row_number) TO ${lit(sample + '.tmp')} (FORMAT parquet, COMPRESSION zstd)`);
renameSync(sample + '.tmp', sample);
copyFileSync(opts['sample-labels'], join(sampleDir, 'openorca-sample.labels.jsonl'));
const [moved] = await rows(conn, `SELECT count(*) AS n FROM read_parquet(${lit(sample)}, file_row_number = true) p
  JOIN read_json(${lit(opts['sample-labels'])}, format = 'newline_delimited', ${labelsCols}) l ON l.row = p.file_row_number
  WHERE p.id IS DISTINCT FROM l.id`);
if (moved.n !== '0') throw new Error(`sample: ${moved.n} rows are not where the labels say`);
const sampleDesc = await describe(sample);
if (sampleDesc.bytes > 2 * 1024 * 1024) throw new Error(`sample is ${sampleDesc.bytes} bytes; must stay ≤ 2 MB`);
const kinds = await rows(conn, `SELECT kinds[1] AS kind, count(*) AS n FROM read_json(${lit(opts['sample-labels'])}, format = 'newline_delimited', ${labelsCols}) GROUP BY 1 ORDER BY 1`);
const submix = await rows(conn, `SELECT split_part(id, '.', 1) AS s, count(*) AS n FROM read_parquet(${lit(sample)}) GROUP BY 1 ORDER BY 1`);
writeFileSync(join(sampleDir, 'expected.json'), JSON.stringify(sortKeys({
  'openorca-sample.parquet': {
    writer: 'DuckDB (rewrite of orcaprep synth output)', ...sampleDesc,
    by_submix: Object.fromEntries(submix.map((r) => [r.s, Number(r.n)])),
    label_kinds: Object.fromEntries(kinds.map((r) => [r.kind, Number(r.n)])),
  },
}), null, 2) + '\n');

writeFileSync(join(dir, 'README.md'), readme(expected, arrowInvalid));
console.error(`gen-fixtures: wrote ${files.length} fixtures to ${dir} and the ${sampleDesc.rows}-row sample (${sampleDesc.bytes} bytes) to ${sampleDir}`);

function sortKeys(o) {
  if (Array.isArray(o) || o === null || typeof o !== 'object') return o;
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, sortKeys(o[k])]));
}

function readme(exp, arrowInvalid) {
  const lines = [
    '# Parquet fixtures from writers other than parquet-go',
    '',
    'Generated by `scripts/gen-fixtures.sh` (do not edit by hand; rerun it). Source rows come from',
    '`orcaprep synth --rows 20000 --seed 1`; most files hold the same ~100 short rows (mostly clean, with NULLs',
    'in system_prompt and response, empty and whitespace fields, refusals, non-ASCII and `<|im_start|>` text).',
    '',
    'Row, NULL and byte counts below are what **DuckDB** reads from each file (computed by the script, not by hand);',
    '`expected.json` has the same numbers in machine-readable form: per file `rows`, `nulls` per column,',
    '`text_bytes` (sum of UTF-8 bytes per string column), `row_groups` and `footer_rows` (from the footer), `columns`',
    '(DuckDB types), `bytes`, and',
    '`error`: true when orcaprep must refuse the file (exit code 3), with `reason`. `duckdb_error` is set when',
    'DuckDB itself cannot read the file.',
    '',
    '| file | writer | layout | rows | NULLs id/sys/q/r | row groups | orcaprep must |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const [f, e] of Object.entries(exp)) {
    const nulls = e.nulls ? COLS.map((c) => (c in e.nulls ? e.nulls[c] : '–')).join('/') : '–';
    const must = e.error ? `refuse: ${e.reason}` : e.reason ? `read; ${e.reason}` : 'read';
    lines.push(`| ${f} | ${e.writer} | ${e.layout} | ${e.rows ?? (e.footer_rows !== undefined ? `(${e.footer_rows} in footer)` : '–')} | ${nulls} | ${e.row_groups ?? '–'} | ${must} |`);
  }
  lines.push('', `arrow-rs and invalid UTF-8: ${arrowInvalid}. The invalid-UTF-8 fixture is therefore written by parquet-go;`,
    'its bad rows (0-based) are listed in `expected.json` under `invalid_utf8_rows` (from the synth labels).', '',
    'The README sample lives in `../sample/` (2,000 rows rewritten by DuckDB, with labels and its own `expected.json`).', '');
  return lines.join('\n');
}
