// DuckDB reference engine for sluice-bench.
//
//   node run.mjs <run_dir>/peer-spec.json
//
// Loads each scenario's CSV into an in-memory DuckDB table (untimed), then times
// `CREATE OR REPLACE TEMP TABLE peer_result AS <peer.sql>` warmup_runs + runs times and
// writes one result file per query, `<run_dir>/duckdb-<scenario>-batch-t<threads>.json`,
// in the "sluice-bench-result/1" schema (results/README.md), plus `<run_dir>/peer-status.json`.
// A failing query is recorded in its own file (checksum "fail", "error") and the others go on.

import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DuckDBInstance } from '@duckdb/node-api';

const CLIENT = '@duckdb/node-api 1.5.6-r.1';

function die(message) {
  process.stderr.write(`duckdb peer: ${message}\n`);
  process.exit(1);
}

const specPath = process.argv[2];
if (!specPath) die('usage: node run.mjs <peer-spec.json>');
const runDir = dirname(resolve(specPath));
let spec;
try {
  spec = JSON.parse(readFileSync(specPath, 'utf8'));
} catch (e) {
  die(`cannot read spec ${specPath}: ${e.message}`);
}

const positiveInt = (value, fallback) =>
  Number.isInteger(value) && value > 0 ? value : fallback;
const threads = positiveInt(spec.threads, 1);
const runs = positiveInt(spec.runs, 5);
const warmupRuns = Number.isInteger(spec.warmup_runs) && spec.warmup_runs >= 0 ? spec.warmup_runs : 1;
const queries = Array.isArray(spec.queries) ? spec.queries : [];

// --- helpers -----------------------------------------------------------------------------

const sqlString = (s) => `'${String(s).replace(/'/g, "''")}'`;
const sqlIdent = (s) => `"${String(s).replace(/"/g, '""')}"`;

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

function stats(values) {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

function writeJson(path, value) {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, path);
}

const peakRssBytes = () => process.resourceUsage().maxRSS * 1024; // maxRSS is in KiB

function formatRate(r) {
  if (!Number.isFinite(r)) return 'n/a';
  if (r >= 1e9) return `${(r / 1e9).toFixed(2)}G`;
  if (r >= 1e6) return `${(r / 1e6).toFixed(2)}M`;
  if (r >= 1e3) return `${(r / 1e3).toFixed(1)}K`;
  return r.toFixed(0);
}

async function scalar(conn, sql) {
  const reader = await conn.runAndReadAll(sql);
  return reader.getRows()[0][0];
}

// --- engine ------------------------------------------------------------------------------

const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) });
const conn = await instance.connect();
const version = String(await scalar(conn, 'SELECT version()'));
process.stderr.write(
  `duckdb peer: DuckDB ${version}, threads=${threads}, ${queries.length} queries, ` +
    `${warmupRuns} warmup + ${runs} timed runs each\n`,
);

// table name -> {csv, rows, loadSeconds, error}
const loaded = new Map();

async function loadTable(table) {
  const name = table.name;
  const current = loaded.get(name);
  if (current && current.csv === table.csv && !current.error) return current;
  const columns = (table.columns || [])
    .map(([col, type]) => `${sqlString(col)}: ${sqlString(type)}`)
    .join(', ');
  if (!columns) throw new Error(`table ${name}: no columns in the spec`);
  const sql =
    `CREATE OR REPLACE TABLE ${sqlIdent(name)} AS SELECT * FROM read_csv(${sqlString(table.csv)}, ` +
    `header = true, delim = ',', quote = '', escape = '', auto_detect = false, columns = {${columns}})`;
  const t0 = performance.now();
  try {
    await conn.run(sql);
  } catch (e) {
    loaded.set(name, { csv: table.csv, error: e.message });
    throw e;
  }
  const loadSeconds = (performance.now() - t0) / 1000;
  const rows = Number(await scalar(conn, `SELECT count(*) FROM ${sqlIdent(name)}`));
  const entry = { csv: table.csv, rows, loadSeconds };
  loaded.set(name, entry);
  process.stderr.write(
    `duckdb peer: loaded ${name} (${rows} rows) from ${table.csv} in ${loadSeconds.toFixed(2)} s\n`,
  );
  return entry;
}

function baseResult(q) {
  return {
    schema: 'sluice-bench-result/1',
    run_id: spec.run_id ?? null,
    timestamp: spec.timestamp ?? null,
    engine: 'duckdb',
    engine_version: version,
    engine_client: CLIENT,
    machine: spec.machine ?? null,
    build: spec.build ?? null,
    scenario: q.scenario,
    title: q.title ?? q.scenario,
    level: 'batch',
    threads,
    placement: 'default',
    source_partitions: 1,
    batch_size: null,
    records: q.records ?? null,
    warmup_runs: warmupRuns,
    runs,
    seconds: null,
    records_per_second: null,
    records_per_second_per_core: null,
    target: q.target ?? null,
    goal_records_per_second_per_core: q.goal_records_per_second_per_core ?? null,
    latency_us: null,
    peak_rss_bytes: null,
    peak_rss_note: 'peak RSS of the whole peer process (every table loaded so far), not of this query alone',
    state: null,
    output_rows: null,
    checksum: null,
    load_seconds: null,
    sql: q.sql,
  };
}

const expectedText = (q) =>
  Number.isInteger(q.expected_rows) ? `rows=${q.expected_rows}` : 'rows=unknown (not in the spec)';

async function runQuery(q) {
  const result = baseResult(q);
  try {
    if (!q.scenario) throw new Error('query without a scenario name');
    if (!q.sql) throw new Error('query without sql');
    if (!q.table || !q.table.name || !q.table.csv) throw new Error('query without table.name/table.csv');
    const table = await loadTable(q.table);
    result.load_seconds = table.loadSeconds;
    if (Number.isInteger(q.records) && q.records !== table.rows) {
      process.stderr.write(
        `duckdb peer: warning: ${q.scenario}: spec says ${q.records} records, the CSV holds ${table.rows}; using ${table.rows}\n`,
      );
      result.records_in_spec = q.records;
    }
    result.records = table.rows;

    const statement = `CREATE OR REPLACE TEMP TABLE peer_result AS ${q.sql.trim().replace(/;\s*$/, '')}`;
    const timings = [];
    for (let i = 0; i < warmupRuns + runs; i++) {
      const t0 = performance.now();
      await conn.run(statement);
      const seconds = (performance.now() - t0) / 1000;
      if (i >= warmupRuns) timings.push(seconds);
    }
    const rows = Number(await scalar(conn, 'SELECT count(*) FROM peer_result'));
    await conn.run('DROP TABLE IF EXISTS peer_result');

    const rates = timings.map((s) => result.records / s);
    result.seconds = stats(timings);
    result.records_per_second = stats(rates);
    result.records_per_second_per_core = stats(rates.map((r) => r / threads));
    result.output_rows = rows;
    const pass = Number.isInteger(q.expected_rows) ? rows === q.expected_rows : true;
    result.checksum = {
      status: pass ? 'rows-only' : 'fail',
      oracle: 'row count from sqlite',
      expected: expectedText(q),
      actual: `rows=${rows}`,
    };
    result.peak_rss_bytes = peakRssBytes();
    process.stderr.write(
      `duckdb peer: ${q.scenario}: median ${formatRate(result.records_per_second.median)} rec/s ` +
        `(${result.seconds.median.toFixed(3)} s, ${rows} rows${pass ? '' : `, expected ${q.expected_rows}: FAIL`})\n`,
    );
    return true;
  } catch (e) {
    result.peak_rss_bytes = peakRssBytes();
    result.checksum = {
      status: 'fail',
      oracle: 'row count from sqlite',
      expected: expectedText(q),
      actual: 'error',
    };
    result.error = e.message;
    process.stderr.write(`duckdb peer: ${q.scenario ?? '(unnamed)'}: ERROR ${String(e.message).split('\n')[0]}\n`);
    try {
      await conn.run('DROP TABLE IF EXISTS peer_result');
    } catch {
      // the connection may be unusable; the next query reports its own error
    }
    return false;
  } finally {
    const scenario = String(q.scenario ?? 'unnamed').replace(/[^A-Za-z0-9_.-]/g, '_');
    writeJson(join(runDir, `duckdb-${scenario}-batch-t${threads}.json`), result);
  }
}

// Queries sharing a CSV run back to back so each CSV is loaded once (stable order otherwise).
const order = [];
const byCsv = new Map();
for (const q of queries) {
  const key = `${q?.table?.name}\u0000${q?.table?.csv}`;
  if (!byCsv.has(key)) {
    byCsv.set(key, []);
    order.push(key);
  }
  byCsv.get(key).push(q);
}

let failed = 0;
for (const key of order) {
  for (const q of byCsv.get(key)) {
    if (!(await runQuery(q))) failed++;
  }
}

conn.closeSync();
instance.closeSync();

writeJson(join(runDir, 'peer-status.json'), {
  engine: 'duckdb',
  status: 'ok',
  version,
  client: CLIENT,
  threads,
  queries: queries.length,
  failed_queries: failed,
});
