#!/usr/bin/env node
// Usage: node arrowrs-rewrite.mjs IN.parquet OUT.parquet [--compression snappy|zstd|gzip|uncompressed]
//                                 [--row-group-size N] [--batch-rows N]
// Rewrites the four OpenOrca string columns of any Parquet file with arrow-rs (parquet-rs inside
// parquet-wasm), keeping the row order, streaming: DuckDB reads the input in batches, apache-arrow turns
// them into Arrow IPC, and parquet-wasm's transformParquetStream writes them. Everything else is
// arrow-rs's default: row groups of up to 1,048,576 rows, 1 MB data pages, dictionary encoding with
// PLAIN fallback, data page v1. OUT is written under a temporary name and renamed when complete.
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { duckdb, lit, parseArgs, rows } from './lib.mjs';

const opts = parseArgs(process.argv.slice(2));
const [input, output] = opts._;
if (!input || !output) {
  console.error('usage: node arrowrs-rewrite.mjs IN.parquet OUT.parquet [--compression snappy] [--row-group-size N] [--batch-rows N]');
  process.exit(2);
}
const codecs = { snappy: pw.Compression.SNAPPY, zstd: pw.Compression.ZSTD, gzip: pw.Compression.GZIP, uncompressed: pw.Compression.UNCOMPRESSED };
const compression = codecs[opts.compression ?? 'snappy'];
if (compression === undefined) {
  console.error(`arrowrs-rewrite: unknown compression ${opts.compression}`);
  process.exit(2);
}
const batchRows = Number(opts['batch-rows'] ?? 65536);
let props = new pw.WriterPropertiesBuilder().setCreatedBy('parquet-rs via parquet-wasm 0.8.0').setCompression(compression);
if (opts['row-group-size']) props = props.setMaxRowGroupSize(Number(opts['row-group-size']));
props = props.build();

const COLS = ['id', 'system_prompt', 'question', 'response'];
const conn = await duckdb();
const [{ n: want }] = await rows(conn, `SELECT count(*) AS n FROM read_parquet(${lit(input)})`);
const result = await conn.stream(`SELECT ${COLS.join(', ')} FROM read_parquet(${lit(input)}, file_row_number = true) ORDER BY file_row_number`);

let written = 0;
const batches = new ReadableStream({
  async pull(controller) {
    const cols = COLS.map(() => []);
    while (cols[0].length < batchRows) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const got = chunk.getColumns();
      for (let c = 0; c < COLS.length; c++) for (const v of got[c]) cols[c].push(v);
    }
    if (cols[0].length === 0) {
      controller.close();
      return;
    }
    const t = new arrow.Table(Object.fromEntries(COLS.map((c, i) => [c, arrow.vectorFromArray(cols[i], new arrow.Utf8())])));
    for (const b of pw.Table.fromIPCStream(arrow.tableToIPC(t, 'stream')).recordBatches()) controller.enqueue(b);
    written += cols[0].length;
  },
});

const tmp = `${output}.tmp-${process.pid}`;
try {
  const parquet = await pw.transformParquetStream(batches, props);
  await parquet.pipeTo(Writable.toWeb(createWriteStream(tmp)));
  if (String(written) !== String(want)) throw new Error(`wrote ${written} rows, input has ${want}`);
  const [{ n: got }] = await rows(conn, `SELECT count(*) AS n FROM read_parquet(${lit(tmp)})`);
  if (got !== want) throw new Error(`row count changed: ${want} → ${got}`);
  const [d] = await rows(conn, `SELECT count(*) AS n FROM
      (SELECT id, file_row_number FROM read_parquet(${lit(input)}, file_row_number = true)) a JOIN
      (SELECT id, file_row_number FROM read_parquet(${lit(tmp)}, file_row_number = true)) b USING (file_row_number)
      WHERE a.id IS DISTINCT FROM b.id`);
  if (d.n !== '0') throw new Error(`${d.n} rows changed position`);
  renameSync(tmp, output);
  console.error(`arrowrs-rewrite: ${input} → ${output} (${got} rows, ${opts.compression ?? 'snappy'})`);
} catch (e) {
  rmSync(tmp, { force: true });
  console.error(`arrowrs-rewrite: ${String(e.message ?? e).slice(0, 500)}`);
  process.exit(1);
}
