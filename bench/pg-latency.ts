/**
 * MQTT -> PostgreSQL in the shape of issue 11's peer harness, Junction against a hand-written
 * subscriber on the same PostgreSQL, in pairs (each run measures the subscriber right before
 * Junction). Prints figures; asserts nothing.
 *
 *   node --import tsx bench/pg-latency.ts [burst=50000] [steadySeconds=10] [rate=2000]
 *
 * Each side, fresh per run, with 2 publishers (bench/publisher.mjs, QoS 1, its own process):
 * - burst: `burst` messages as fast as they are taken; messages/s from the first message in to
 *   the last row, and publish -> row p50/p99 (mostly queueing: it shows how batches keep up);
 * - steady: `rate` msg/s for `steadySeconds`; publish -> row p50/p99 (the publisher's clock, with
 *   microseconds, against the row's clock_timestamp(): one machine, one clock).
 * Junction: MQTT -> rule -> PostgreSQL action with the type's default batching (or
 * BENCH_ACTION_OPTIONS, e.g. '{"batchTimeMs":0}'). The hand-written subscriber: mqtt.js
 * subscribed with QoS 1 to the bare embedded broker (Junction's MqttBroker, limits raised so that
 * it queues the burst), in this process as Junction is; one pg connection, each message queued
 * and one multi-row INSERT (up to 500 rows) sent whenever none is in flight, as one writes it
 * by hand. Settings: BENCH_RUNS (3), BENCH_CLIENTS (2 publishers), BENCH_WINDOW (500
 * unacknowledged publishes per connection).
 */
import { randomBytes } from 'node:crypto'
import mqtt from 'mqtt'
import pg from 'pg'
import { DEFAULT_BROKER_LIMITS } from '../src/broker/broker-types.js'
import { BrokerListeners } from '../src/broker/listeners/broker-listeners.js'
import { MqttBroker } from '../src/broker/mqtt-broker.js'
import { postgresqlConnector } from '../src/connectors/postgresql/definition.js'
import type { Junction } from '../src/server.js'
import { sharedPostgres } from '../test/support/postgres.js'
import { actionOf, ensureJunctionHeap, fmt, middle, pct, publish, quantile, waitConnected, waitFor, withJunction, type PublisherOptions } from './support.js'

ensureJunctionHeap()

const BURST = Number(process.argv[2] ?? 50_000)
const STEADY_SECONDS = Number(process.argv[3] ?? 10)
const RATE = Number(process.argv[4] ?? 2_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const PUBLISHERS: PublisherOptions = { clients: Number(process.env.BENCH_CLIENTS ?? 2), window: Number(process.env.BENCH_WINDOW ?? 500), preciseTs: true }
const ACTION_OPTIONS = process.env.BENCH_ACTION_OPTIONS ? (JSON.parse(process.env.BENCH_ACTION_OPTIONS) as Record<string, unknown>) : undefined
const PG = sharedPostgres()
const TOPIC = 'bench/pglat'

interface Figures {
  /** Burst: messages/s from the first message in to the last row. */
  readonly burstRate: number
  readonly burst: readonly number[]
  /** Steady: publish -> row latencies (ms), sorted. */
  readonly steady: readonly number[]
  readonly lost: number
}

/** One side under test: what it takes to publish to, and how many rows it has written so far. */
interface Target {
  readonly url: string
  /** Messages taken in so far (the subscriber's received, the rule's matched). */
  received(): number
  written(): number
}

const admin = new pg.Client({ host: PG.host, port: PG.port, database: PG.database, user: PG.user })
await admin.connect()
const suffix = randomBytes(3).toString('hex')
const tables: string[] = []

async function freshTable(name: string): Promise<string> {
  const table = `bench_pglat_${name}_${suffix}`
  tables.push(table)
  await admin.query(`DROP TABLE IF EXISTS ${table}`)
  await admin.query(`CREATE UNLOGGED TABLE ${table} (seq integer, temp numeric, clientid text, sent_at float8, committed_at timestamptz DEFAULT clock_timestamp())`)
  return table
}

async function latencies(table: string): Promise<number[]> {
  const r = await admin.query(`SELECT (extract(epoch from committed_at) * 1000 - sent_at)::float8 AS ms FROM ${table}`)
  return (r.rows as Array<{ ms: number }>).map((x) => x.ms).sort((a, b) => a - b)
}

async function distinctRows(table: string): Promise<number> {
  return Number((await admin.query(`SELECT count(DISTINCT seq) AS n FROM ${table}`)).rows[0].n)
}

/** The burst, then the steady rate, into `table` through `target`. */
async function measure(target: Target, table: string): Promise<Figures> {
  // Timed from the first message in, as bench/data-path.ts times it: not the publisher's start.
  const pub = publish(target.url, TOPIC, BURST, PUBLISHERS)
  const first = await waitFor('first message', () => target.received() > 0)
  const last = await waitFor('burst rows', () => target.written() >= BURST)
  await pub
  const burstRate = (BURST - 1) / ((last - first) / 1000)
  let lost = BURST - (await distinctRows(table))
  const burst = await latencies(table)
  await admin.query(`TRUNCATE ${table}`)
  const before = target.written()
  const steadyCount = Math.round(RATE * STEADY_SECONDS)
  await publish(target.url, TOPIC, steadyCount, { ...PUBLISHERS, rate: RATE })
  await waitFor('steady rows', () => target.written() - before >= steadyCount)
  lost += steadyCount - (await distinctRows(table))
  return { burstRate, burst, steady: await latencies(table), lost }
}

/** The hand-written subscriber on a bare broker, for one measurement. */
async function handWritten(table: string): Promise<Figures> {
  const broker = new MqttBroker({
    limits: { ...DEFAULT_BROKER_LIMITS, allowAnonymous: true, maxQueuedMessages: 1_000_000, maxInflight: 1_000 },
    sink: { published() {}, clientEvent() {}, wants: () => false },
  })
  const listeners = await BrokerListeners.start(broker, { host: '127.0.0.1', listeners: [{ transport: 'tcp', port: 0, fallback: false }] })
  const url = `mqtt://127.0.0.1:${listeners.listeners[0]!.port}`
  const db = new pg.Client({ host: PG.host, port: PG.port, database: PG.database, user: PG.user })
  await db.connect()
  const sub = await mqtt.connectAsync(url, { clientId: `hand-${suffix}`, protocolVersion: 4, reconnectPeriod: 0 })
  ;(sub.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true)
  let pending: unknown[][] = []
  let writing = false
  let written = 0
  let received = 0
  const flush = async () => {
    writing = true
    while (pending.length > 0) {
      const rows = pending.length > 500 ? pending.splice(0, 500) : pending
      if (rows === pending) pending = []
      const values = rows.map((_, i) => `($${i * 4 + 1}, $${i * 4 + 2}, $${i * 4 + 3}, $${i * 4 + 4})`).join(', ')
      await db.query(`INSERT INTO ${table} (seq, temp, clientid, sent_at) VALUES ${values}`, rows.flat())
      written += rows.length
    }
    writing = false
  }
  sub.on('message', (_topic, payload) => {
    received++
    const m = JSON.parse(String(payload)) as { seq: number; temp: number; ts: number }
    pending.push([m.seq, m.temp, 'hand', m.ts])
    if (!writing) void flush()
  })
  await sub.subscribeAsync(TOPIC, { qos: 1 })
  try {
    return await measure({ url, received: () => received, written: () => written }, table)
  } finally {
    await sub.endAsync()
    await db.end()
    await listeners.close()
    await broker.close()
  }
}

async function junction(j: Junction, url: string, table: string): Promise<Figures> {
  const c = await j.connectors.create('default', { name: `pg-${suffix}`, type: 'postgresql', config: { host: PG.host, port: PG.port, database: PG.database, username: PG.user } })
  await waitConnected(j, c.id)
  const rule = await j.rules.create('default', {
    name: 'pglat', sql: `SELECT payload.seq AS seq, payload.temp AS temp, payload.ts AS ts, clientid FROM "${TOPIC}"`,
    actions: [{ connectorId: c.id, params: { sql: `INSERT INTO ${table} (seq, temp, clientid, sent_at) VALUES (\${seq}, \${temp}, \${clientid}, \${ts})` }, ...(ACTION_OPTIONS ? { options: ACTION_OPTIONS } : {}) }],
  })
  const action = actionOf(j, rule.id)
  const settled = () => { const a = action(); return a.success + a.failed + a.dropped }
  const figures = await measure({ url, received: () => j.deployments.runtime('default').rules.metrics(rule.id)!.rule.matched, written: settled }, table)
  const a = action()
  if (a.failed + a.dropped > 0) console.log(`  (junction: ${a.failed} failed, ${a.dropped} dropped)`)
  return figures
}

const ms = (v: number) => v.toFixed(2)
const line = (who: string, f: Figures) =>
  `${who}: burst ${fmt(f.burstRate)} msg/s (p50 ${ms(quantile(f.burst, 0.5))} / p99 ${ms(quantile(f.burst, 0.99))} ms), ` +
  `steady p50 ${ms(quantile(f.steady, 0.5))} / p99 ${ms(quantile(f.steady, 0.99))} / max ${ms(f.steady.at(-1) ?? Number.NaN)} ms, lost ${f.lost}`

const batching = postgresqlConnector.batching!
console.log(`MQTT -> PostgreSQL, issue 11's shape: ${PUBLISHERS.clients} publishers, burst ${fmt(BURST)} QoS 1, then ${fmt(RATE)} msg/s for ${STEADY_SECONDS} s; ` +
  `Junction's action ${ACTION_OPTIONS ? JSON.stringify(ACTION_OPTIONS) : `defaults (batch ${batching.maxSize}, batch time ${batching.maxWaitMs} ms)`}; node ${process.version}, ${new Date().toISOString()}`)
const hands: Figures[] = []
const juncs: Figures[] = []
try {
  for (let i = 0; i < RUNS; i++) {
    hands.push(await handWritten(await freshTable(`hand${i}`)))
    console.log(`  run ${i + 1} ${line('hand-written', hands[i]!)}`)
    const table = await freshTable(`junction${i}`)
    juncs.push(await withJunction((j, url) => junction(j, url, table)))
    console.log(`  run ${i + 1} ${line('junction    ', juncs[i]!)}`)
  }
  const med = (fs: Figures[], f: (x: Figures) => number) => middle(fs.map(f))
  const ratios = juncs.map((j, i) => j.burstRate / hands[i]!.burstRate)
  console.log('\n| | hand-written | Junction |\n| --- | --- | --- |')
  console.log(`| burst msg/s (median of ${RUNS}) | ${fmt(med(hands, (f) => f.burstRate))} | ${fmt(med(juncs, (f) => f.burstRate))} (${pct(middle(ratios))}, runs ${ratios.map(pct).join(', ')}) |`)
  for (const [name, q] of [['p50', 0.5], ['p99', 0.99]] as const) {
    console.log(`| steady ${fmt(RATE)} msg/s ${name} ms | ${ms(med(hands, (f) => quantile(f.steady, q)))} | ${ms(med(juncs, (f) => quantile(f.steady, q)))} |`)
  }
  console.log(`| lost | ${hands.reduce((n, f) => n + f.lost, 0)} | ${juncs.reduce((n, f) => n + f.lost, 0)} |`)
} finally {
  for (const t of tables) await admin.query(`DROP TABLE IF EXISTS ${t}`)
  await admin.end()
}
