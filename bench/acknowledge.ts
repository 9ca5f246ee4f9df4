/**
 * End-to-end acknowledgement benchmark: MQTT QoS 1 -> rule -> PostgreSQL action with
 * `acknowledge` on-arrival (today's behaviour) and on-delivery (PUBACK once the row is committed),
 * and on-delivery with the disk buffer (PUBACK once written to disk), in pairs in the same run
 * (order alternating per run). Prints figures; asserts nothing.
 *
 *   node --import tsx bench/acknowledge.ts [messages=20000] [rate=2000]
 *   BENCH_RUNS=3 BENCH_ACTION_OPTIONS='{"batchTimeMs":0}' node --import tsx bench/acknowledge.ts
 *
 * Needs the machine's PostgreSQL. Per setting:
 * - throughput: `messages` as fast as the publisher's window (500 unacknowledged per connection,
 *   4 connections) lets them in; msg/s from the first publish to the last row, and to the last
 *   PUBACK, with PUBACK p50/p99 (under saturation: mostly queueing);
 * - latency: `messages / 4` at a fixed `rate` msg/s, PUBACK p50/p99 (what a device waits);
 * - peak RSS of this process (Junction runs in it; publishers run in child processes).
 * The publisher is bench/ack-publisher.mjs (its own process).
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import type { Junction } from '../src/server.js'
import { sharedPostgres } from '../test/support/postgres.js'
import { actionOf, ensureJunctionHeap, fmt, middle, root, settledAll, waitConnected, waitFor, withJunction } from './support.js'

ensureJunctionHeap()

const N = Number(process.argv[2] ?? 20_000)
const RATE = Number(process.argv[3] ?? 2_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const PG = sharedPostgres()
/** Extra action options for every setting, as JSON (e.g. '{"batchTimeMs":0}'). */
const ACTION_OPTIONS = process.env.BENCH_ACTION_OPTIONS ? (JSON.parse(process.env.BENCH_ACTION_OPTIONS) as Record<string, unknown>) : {}

type Setting = 'on-arrival' | 'on-delivery' | 'on-delivery+disk'
const SETTINGS: readonly Setting[] = ['on-arrival', 'on-delivery', 'on-delivery+disk']

interface Acked { readonly sent: number; readonly failed: number; readonly elapsedMs: number; readonly p50: number; readonly p99: number; readonly max: number }

function ackPublish(url: string, topic: string, count: number, rate: number): Promise<Acked> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bench/ack-publisher.mjs', url, topic, String(count), String(rate), '500', '4'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d) => { out += String(d) })
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as Acked) : reject(new Error(`publisher exited ${code}`))))
  })
}

let peakRss = 0
const rssTimer = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage.rss()) }, 100)

interface Figures { rowsPerS: number; acksPerS: number; p50: number; p99: number; rateP50: number; rateP99: number; rssMiB: number }

async function measure(setting: Setting, db: pg.Client): Promise<Figures> {
  const table = `ackbench_${randomBytes(4).toString('hex')}`
  await db.query(`CREATE TABLE ${table} (seq integer NOT NULL, temp double precision, ts bigint)`)
  peakRss = process.memoryUsage.rss()
  try {
    return await withJunction(async (j: Junction, url: string) => {
      const c = await j.connectors.create('default', { name: `pg-${table}`, type: 'postgresql', config: { host: PG.host, port: PG.port, database: PG.database, username: PG.user } })
      await waitConnected(j, c.id)
      const options = { ...ACTION_OPTIONS, acknowledge: setting === 'on-arrival' ? 'on-arrival' : 'on-delivery', diskBuffer: setting === 'on-delivery+disk' }
      const rule = await j.rules.create('default', {
        name: 'ack', sql: 'SELECT payload.seq AS seq, payload.temp AS temp, payload.ts AS ts FROM "bench/ack/#"',
        actions: [{ connectorId: c.id, params: { sql: `INSERT INTO ${table} (seq, temp, ts) VALUES (\${seq}, \${temp}, \${ts})` }, options }],
      })
      const action = actionOf(j, rule.id)
      const t0 = performance.now()
      const burst = await ackPublish(url, 'bench/ack/burst', N, 0)
      const last = await waitFor('rows', () => settledAll(action(), N))
      if (action().success < N) console.log(`  ${setting}: only ${action().success} of ${N} delivered`)
      const paced = await ackPublish(url, 'bench/ack/paced', Math.max(1, Math.floor(N / 4)), RATE)
      await waitFor('paced rows', () => settledAll(action(), N + Math.floor(N / 4)))
      if (burst.failed + paced.failed > 0) console.log(`  ${setting}: ${burst.failed + paced.failed} publishes refused`)
      return {
        rowsPerS: N / ((last - t0) / 1000), acksPerS: N / (burst.elapsedMs / 1000), p50: burst.p50, p99: burst.p99,
        rateP50: paced.p50, rateP99: paced.p99, rssMiB: peakRss / 2 ** 20,
      }
    })
  } finally {
    await db.query(`DROP TABLE IF EXISTS ${table}`)
  }
}

const db = new pg.Client({ host: PG.host, port: PG.port, database: PG.database, user: PG.user })
await db.connect()
const results = new Map<Setting, Figures[]>(SETTINGS.map((s) => [s, []]))
console.log(`acknowledge benchmark: ${fmt(N)} QoS 1 messages burst, ${fmt(Math.floor(N / 4))} at ${fmt(RATE)} msg/s, ${RUNS} run(s)`)
for (let run = 0; run < RUNS; run++) {
  const order = run % 2 === 0 ? SETTINGS : [...SETTINGS].reverse()
  for (const setting of order) {
    const f = await measure(setting, db)
    results.get(setting)!.push(f)
    console.log(`  run ${run + 1} ${setting}: ${fmt(f.rowsPerS)} rows/s, ${fmt(f.acksPerS)} PUBACKs/s, burst PUBACK p50 ${f.p50.toFixed(1)} ms p99 ${f.p99.toFixed(1)} ms; at ${fmt(RATE)} msg/s PUBACK p50 ${f.rateP50.toFixed(2)} ms p99 ${f.rateP99.toFixed(2)} ms; peak RSS ${fmt(f.rssMiB)} MiB`)
  }
}
clearInterval(rssTimer)
await db.end()

const med = (s: Setting, k: keyof Figures) => middle(results.get(s)!.map((f) => f[k]))
console.log('\n| acknowledge | rows/s (burst) | vs on-arrival | PUBACK p50 / p99 burst (ms) | PUBACK p50 / p99 at rate (ms) | peak RSS (MiB) |')
console.log('| --- | --- | --- | --- | --- | --- |')
for (const s of SETTINGS) {
  const ratio = med(s, 'rowsPerS') / med('on-arrival', 'rowsPerS')
  console.log(`| ${s} | ${fmt(med(s, 'rowsPerS'))} | ${Math.round(ratio * 100)}% | ${med(s, 'p50').toFixed(1)} / ${med(s, 'p99').toFixed(1)} | ${med(s, 'rateP50').toFixed(2)} / ${med(s, 'rateP99').toFixed(2)} | ${fmt(med(s, 'rssMiB'))} |`)
}
console.log('(medians over the runs; the machine was shared if these were taken with other work running)')
