// Shared helpers for the fixture scripts: an in-memory DuckDB connection and SQL quoting.
import { DuckDBInstance } from '@duckdb/node-api';

/** Opens an in-memory DuckDB with one thread and insertion order preserved, so output is reproducible. */
export async function duckdb() {
  const inst = await DuckDBInstance.create(':memory:', { threads: '1', preserve_insertion_order: 'true' });
  return inst.connect();
}

/** Runs sql and returns its rows as plain JSON-able objects (BIGINTs as strings). */
export async function rows(conn, sql) {
  const r = await conn.runAndReadAll(sql);
  return r.getRowObjectsJson();
}

/** Quotes s as a SQL string literal. */
export function lit(s) {
  return "'" + String(s).replaceAll("'", "''") + "'";
}

/** Parses --name value pairs (and bare positionals) from argv. */
export function parseArgs(argv) {
  const opts = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) opts[a.slice(2, eq)] = a.slice(eq + 1);
      else opts[a.slice(2)] = argv[++i];
    } else {
      opts._.push(a);
    }
  }
  return opts;
}
