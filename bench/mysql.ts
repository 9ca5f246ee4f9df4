/**
 * MySQL / MariaDB benchmark, in pairs (each run measures the raw client right before Junction, so
 * both see the machine in the same state), with the ratios. Prints figures; asserts nothing.
 *
 *   node --import tsx bench/mysql.ts [messages=50000]
 *
 * Needs the machine's MariaDB (127.0.0.1:3306, root, database `test`). The CPU lines count this
 * process (Junction, including its start-up in the path runs) and mariadbd, per message.
 * - channel: plain mysql2 (a pool of 8, the same multi-row prepared INSERT of 500 rows, 8 batches
 *   in flight) vs Junction's channel `sendBatch` driven as the runtime drives it (500-row batches,
 *   at most `concurrency` in flight); msgs/s and the p50/p99 of one batch's round trip;
 * - path: MQTT QoS 1 -> rule -> MySQL action through Junction's broker and runtime, against
 *   min(bare broker ingest, raw client); every row read back (loss, duplicates).
 */
import mysql from 'mysql2'
import { pino } from 'pino'
import type { ChannelMessage } from '../src/connector-api/index.js'
import { mysqlConnector } from '../src/connectors/mysql/definition.js'
import { adminSql, sharedMariadb, uniqueName } from '../test/support/mariadb.js'
import {
  actionOf, bareIngest, cpuOfComm, cpuOfCommSince, ensureJunctionHeap, fmt, middle, ownCpuUs, pct, publish, quantile,
  settledAll, waitConnected, waitFor, withJunction,
} from './support.js'

ensureJunctionHeap()

const N = Number(process.argv[2] ?? 50_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const BATCH = mysqlConnector.batching!.maxSize
const POOL = 8
const DB = sharedMariadb()
const config = { host: DB.host, port: DB.port, database: DB.database, username: DB.user, poolSize: POOL }

/** Runs `work` and prints the CPU per message of this process (Junction) and of mariadbd. */
async function cpu<T>(label: string, work: () => Promise<T>): Promise<T> {
  const [own, srv] = [process.cpuUsage(), cpuOfComm('mariadbd')]
  const r = await work()
  console.log(`    ${label}: CPU per message: this process ${(ownCpuUs(own) / N).toFixed(1)} µs, mariadbd ${((cpuOfCommSince('mariadbd', srv) * 1000) / N).toFixed(1)} µs`)
  return r
}

async function freshTable(): Promise<string> {
  const table = uniqueName('bench_mysql')
  await adminSql(DB, `CREATE TABLE ${table} (id BIGINT AUTO_INCREMENT PRIMARY KEY, seq INT NOT NULL, temp DOUBLE, clientid VARCHAR(64), sent_at BIGINT) ENGINE=InnoDB`)
  return table
}
const countRows = async (table: string) => (await adminSql<Array<{ n: number; d: number }>>(DB, `SELECT COUNT(*) AS n, COUNT(DISTINCT seq) AS d FROM ${table}`))[0]!
const drop = (table: string) => adminSql(DB, `DROP TABLE IF EXISTS ${table}`)
const message = (seq: number): ChannelMessage => ({ seq, temp: (seq % 400) / 10, clientid: 'dev-1', ts: Date.now() })

/** Runs `batches` with at most `inflight` at once; msgs/s and each batch's time (ms). */
async function drive(inflight: number, send: (batch: ChannelMessage[]) => Promise<unknown>): Promise<{ rate: number; times: number[] }> {
  const batches: ChannelMessage[][] = []
  for (let off = 0; off < N; off += BATCH) batches.push(Array.from({ length: Math.min(BATCH, N - off) }, (_, i) => message(off + i)))
  const times: number[] = []
  let next = 0
  const t0 = performance.now()
  await Promise.all(Array.from({ length: inflight }, async () => {
    for (let b = next++; b < batches.length; b = next++) {
      const t = performance.now()
      await send(batches[b]!)
      times.push(performance.now() - t)
    }
  }))
  return { rate: N / ((performance.now() - t0) / 1000), times }
}

async function rawClient(table: string) {
  const pool = mysql.createPool({ host: DB.host, port: DB.port, user: DB.user, database: DB.database, connectionLimit: POOL })
  const row = '(?, ?, ?, ?)'
  const r = await drive(POOL, (batch) => new Promise((resolve, reject) => {
    const values = batch.flatMap((m) => [m.seq, m.temp, m.clientid, m.ts])
    pool.execute(`INSERT INTO ${table} (seq, temp, clientid, sent_at) VALUES ${Array(batch.length).fill(row).join(',')}`, values as never, (err) => (err ? reject(err) : resolve(undefined)))
  }))
  await new Promise((resolve) => pool.end(resolve))
  return r
}

async function junctionChannel(table: string) {
  const c = mysqlConnector.create({ ...config, port: DB.port, connectTimeoutMs: 5_000, tls: { enable: false, verify: true } } as never, { connectorId: 'bench', logger: pino({ level: 'warn' }) })
  await c.start(AbortSignal.timeout(10_000))
  const channel = await c.openChannel!({ sql: `INSERT INTO ${table} (seq, temp, clientid, sent_at) VALUES (\${seq}, \${temp}, \${clientid}, \${ts})` })
  const r = await drive(channel.concurrency ?? POOL, (batch) => channel.sendBatch!(batch, AbortSignal.timeout(30_000)))
  await c.stop(AbortSignal.timeout(5_000))
  return r
}

async function mqttToMysql(table: string): Promise<{ rate: number; loss: number; doubled: number }> {
  return withJunction(async (j, url) => {
    const c = await j.connectors.create('default', { name: `mysql-${table}`, type: 'mysql', config })
    await waitConnected(j, c.id)
    const rule = await j.rules.create('default', {
      name: `to-${table}`, sql: `SELECT payload.seq AS seq, payload.temp AS temp, payload.ts AS ts, clientid FROM "bench/mysql/${table}"`,
      actions: [{ connectorId: c.id, params: { sql: `INSERT INTO ${table} (seq, temp, clientid, sent_at) VALUES (\${seq}, \${temp}, \${clientid}, \${ts})` } }],
    })
    const action = actionOf(j, rule.id)
    const [t0, cpu0] = [performance.now(), process.cpuUsage()]
    const published = await publish(url, `bench/mysql/${table}`, N, { publisher: 'lean' })
    const last = await waitFor('mysql delivered', () => settledAll(action(), N))
    console.log(`    (publisher done after ${Math.round(published.elapsedMs)} ms, all rows after ${Math.round(last - t0)} ms; Junction ${(ownCpuUs(cpu0) / N).toFixed(1)} µs CPU per message meanwhile)`)
    const rows = await countRows(table)
    return { rate: N / ((last - t0) / 1000), loss: N - rows.d, doubled: rows.n - rows.d }
  })
}

const summary: string[] = []
console.log(`MySQL benchmark: ${fmt(N)} messages, ${RUNS} paired runs, batches of ${BATCH}, pool ${POOL}`)
const ch: Array<{ raw: number; jn: number }> = []
for (let i = 0; i < RUNS; i++) {
  const [t1, t2] = [await freshTable(), await freshTable()]
  const raw = await cpu('mysql2', () => rawClient(t1))
  const jn = await cpu('channel', () => junctionChannel(t2))
  const [r1, r2] = [await countRows(t1), await countRows(t2)]
  await drop(t1)
  await drop(t2)
  if (r2.d !== N || r2.n !== N) console.log(`  channel run ${i + 1}: ${N - r2.d} lost, ${r2.n - r2.d} doubled`)
  ch.push({ raw: raw.rate, jn: jn.rate })
  console.log(`  channel run ${i + 1}: mysql2 ${fmt(raw.rate)} msg/s (batch p50 ${quantile(raw.times, 0.5).toFixed(1)} / p99 ${quantile(raw.times, 0.99).toFixed(1)} ms), ` +
    `Junction sendBatch ${fmt(jn.rate)} msg/s (p50 ${quantile(jn.times, 0.5).toFixed(1)} / p99 ${quantile(jn.times, 0.99).toFixed(1)} ms), ${pct(jn.rate / raw.rate)} (raw rows ${r1.n})`)
}
summary.push(`| channel sendBatch vs mysql2 | ${fmt(middle(ch.map((x) => x.raw)))} | ${fmt(middle(ch.map((x) => x.jn)))} | ${pct(middle(ch.map((x) => x.jn / x.raw)))} |`)

const path: number[] = []
for (let i = 0; i < RUNS; i++) {
  const t1 = await freshTable()
  const ceiling = Math.min(await bareIngest(N), (await rawClient(t1)).rate)
  await drop(t1)
  const t2 = await freshTable()
  const r = await cpu('path', () => mqttToMysql(t2))
  await drop(t2)
  path.push(r.rate / ceiling)
  console.log(`  path run ${i + 1}: ceiling ${fmt(ceiling)} msg/s, MQTT -> rule -> MySQL ${fmt(r.rate)} msg/s, ${pct(r.rate / ceiling)}, lost ${r.loss}, doubled ${r.doubled}`)
  summary.push(`| MQTT QoS 1 -> rule -> MySQL (run ${i + 1}) | ${fmt(ceiling)} | ${fmt(r.rate)} | ${pct(r.rate / ceiling)}, lost ${r.loss}, doubled ${r.doubled} |`)
}
console.log('\n| scenario | ceiling msg/s | Junction msg/s | ratio |\n| --- | --- | --- | --- |')
for (const line of summary) console.log(line)
process.exit(0)
