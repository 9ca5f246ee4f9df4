/**
 * Data path benchmark: the raw ceilings on this machine and Junction on the same load, in pairs
 * (each run measures its ceiling right before Junction), and the ratios. Prints figures; asserts
 * nothing.
 *
 *   node --import tsx bench/data-path.ts [messages=50000]
 *
 * Needs the machine's PostgreSQL and the project's Kafka (`npm run test:services`).
 * - ingest: QoS 0 and QoS 1 publishes into the bare embedded broker vs Junction's broker with a
 *   matching rule (SQL evaluated, no action);
 * - memory: MQTT -> rule -> action queue -> a channel that only counts (Junction's own cost);
 * - PostgreSQL: plain `pg` COPY in batches of 1000 vs MQTT -> rule -> PostgreSQL action;
 * - Kafka: plain kafkajs producer vs MQTT -> rule -> Kafka action, batched alike (the Kafka type's
 *   default batch size, or BENCH_ACTION_OPTIONS's batchSize);
 * - latency: publish -> row committed at a fixed 2,000 msg/s from 2 publishers (issue 11's shape;
 *   bench/pg-latency.ts compares it with a hand-written subscriber) and 5,000 msg/s from the
 *   fleet, p50/p99;
 * - memory: peak RSS of this process (Junction runs in it; publishers run in child processes).
 */
import { randomBytes } from 'node:crypto'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Kafka, logLevel } from 'kafkajs'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { Type } from '@sinclair/typebox'
import type { ConnectorDefinition } from '../src/connector-api/index.js'
import { builtinConnectors } from '../src/connectors/index.js'
import { kafkaConnector } from '../src/connectors/kafka/definition.js'
import { postgresqlConnector } from '../src/connectors/postgresql/definition.js'
import type { Junction } from '../src/server.js'
import { sharedKafka } from '../test/support/kafka.js'
import { sharedPostgres } from '../test/support/postgres.js'
import {
  actionOf, bareIngest, cpuOfComm, cpuOfCommSince, ensureJunctionHeap, fmt, middle, pct, publish, quantile, ratioRange,
  settledAll, waitConnected, waitFor, withJunction, type PublisherOptions,
} from './support.js'

ensureJunctionHeap()

const N = Number(process.argv[2] ?? 50_000)
/** Only these scenarios (comma-separated: ingest,pg,latency,kafka); all by default. */
const ONLY = new Set((process.argv[3] ?? 'ingest,null,pg,latency,kafka').split(','))
/** Action queue settings for the Junction runs, as JSON (e.g. '{"batchSize":500}'); the types' defaults otherwise. */
const ACTION_OPTIONS = process.env.BENCH_ACTION_OPTIONS ? (JSON.parse(process.env.BENCH_ACTION_OPTIONS) as Record<string, unknown>) : undefined
/** Extra PostgreSQL connector settings for the throughput run, as JSON (e.g. '{"poolSize":16}'). */
const PG_CONFIG = process.env.BENCH_PG_CONFIG ? (JSON.parse(process.env.BENCH_PG_CONFIG) as Record<string, unknown>) : {}
const PG = sharedPostgres()
const KAFKA = sharedKafka()
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
/** The publisher: connections (a small fleet; one process, messages spread over them) and unacknowledged QoS 1 publishes per connection. */
const FLEET: PublisherOptions = { clients: Number(process.env.BENCH_CLIENTS ?? 4), window: Number(process.env.BENCH_WINDOW ?? 500) }

let peakRss = 0
const rssTimer = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage.rss()) }, 100)

const rows: Array<[string, string, string, string]> = []

/** A scenario's figures: medians over the runs, and the median of the runs' own ratios. */
interface Paired {
  readonly ceiling: number
  readonly junction: number
  readonly ratio: number
  readonly ratios: readonly number[]
}

function report(name: string, p: Paired, note = ''): void {
  const spread = p.ratios.length > 1 ? ` (runs ${ratioRange(p.ratios)})` : ''
  rows.push([name, fmt(p.ceiling), fmt(p.junction), `${pct(p.ratio)}${spread}${note ? `  ${note}` : ''}`])
  console.log(`  ${name}: ceiling ${fmt(p.ceiling)} msg/s, junction ${fmt(p.junction)} msg/s, ${pct(p.ratio)}${spread} ${note}`)
}

/**
 * Where the CPU went during `run`: this process (Junction), the publisher, and a server; and how
 * late Junction's event loop ran (a busy loop delays every PUBACK, which throttles publishers).
 */
async function cpuShare<T extends { cpuMs?: number }>(server: string, messages: number, run: () => Promise<{ result: T; wallMs: number }>): Promise<T> {
  const own0 = process.cpuUsage()
  const srv0 = cpuOfComm(server)
  const lag = monitorEventLoopDelay({ resolution: 1 })
  lag.enable()
  const { result, wallMs } = await run()
  lag.disable()
  const own = process.cpuUsage(own0)
  // Per message as well as per cent: on a noisy machine CPU per message varies far less than rates.
  const share = (ms: number) => `${Math.round((ms / wallMs) * 100)}% (${((ms * 1000) / messages).toFixed(1)} µs/msg)`
  const ms = (ns: number) => (ns / 1e6).toFixed(1)
  console.log(`  CPU over ${Math.round(wallMs)} ms (of 200% on 2 cores): junction ${share((own.user + own.system) / 1000)}, publisher ${share(result.cpuMs ?? 0)}, ${server} ${share(cpuOfCommSince(server, srv0))}; event loop delay p50 ${ms(lag.percentile(50))} ms, p99 ${ms(lag.percentile(99))} ms`)
  return result
}

/**
 * A connector type that delivers to memory: MQTT -> rule -> queue -> channel with no resource,
 * which is Junction's own cost, apart from any client library and server. Batched as PostgreSQL.
 */
let nullDelivered = 0
const nullConnector: ConnectorDefinition = {
  type: 'null', title: 'Null', summary: 'Counts and discards (benchmarks only)',
  configSchema: Type.Object({}), paramsSchema: Type.Object({}), batching: postgresqlConnector.batching,
  create: () => ({
    probe: async () => ({ ok: true, latencyMs: 0, steps: [] }), start: async () => {}, stop: async () => {}, health: async () => ({ status: 'connected' }),
    openChannel: async () => ({ send: async () => { nullDelivered++ }, sendBatch: async (ms) => { nullDelivered += ms.length } }),
  }),
}

/**
 * A Junction for one measurement, closed after it: the ceilings are measured with no Junction in
 * the process (an idle one beside the bare broker cost it ~8 %), and every run starts alike.
 */
const inJunction = <T>(measure: (j: Junction, url: string) => Promise<T>) => withJunction(measure, { connectors: [...builtinConnectors, nullConnector] })

/**
 * When rule `ruleId` saw its first message. Junction's rates run from there to the last delivery,
 * as the ingest ceiling runs from the first message in to the last: timed from before the
 * publisher started, they counted its start (a process and its connections, ~300 ms) against
 * Junction alone, 30 % of a 50,000-message run. Polled every 5 ms, as junctionIngest does.
 */
function firstMatched(j: Junction, ruleId: string): Promise<number> {
  return waitFor('first message', () => j.deployments.runtime('default').rules.metrics(ruleId)!.rule.matched > 0)
}

async function junctionToNull(j: Junction, url: string): Promise<number> {
  const c = await j.connectors.create('default', { name: `null-${randomBytes(2).toString('hex')}`, type: 'null', config: {} })
  await waitConnected(j, c.id)
  const rule = await j.rules.create('default', { name: 'to-null', sql: 'SELECT payload.seq AS seq, payload.temp AS temp, payload.ts AS ts, clientid FROM "bench/null"', actions: [{ connectorId: c.id, params: {} }] })
  nullDelivered = 0
  const t0 = performance.now()
  let last = 0
  let first = 0
  await cpuShare('postgres', N, async () => {
    const pub = publish(url, 'bench/null', N, FLEET)
    first = await firstMatched(j, rule.id)
    last = await waitFor('null delivered', () => nullDelivered >= N)
    return { result: await pub, wallMs: last - t0 }
  })
  await j.rules.remove('default', rule.id)
  return (N - 1) / ((last - first) / 1000)
}

async function junctionIngest(j: Junction, url: string, qos: number): Promise<number> {
  const rule = await j.rules.create('default', { name: `ingest-${qos}`, sql: 'SELECT payload.temp AS t, clientid FROM "bench/ingest/#" WHERE payload.temp > -1000', actions: [] })
  const metrics = () => j.deployments.runtime('default').rules.metrics(rule.id)!.rule
  let first = 0
  const pub = publish(url, `bench/ingest/${qos}`, N, { ...FLEET, qos })
  await waitFor('first', () => { if (metrics().matched > 0) { first = performance.now(); return true } return false })
  const last = await waitFor('junction ingest', () => metrics().passed >= N)
  await pub
  await j.rules.remove('default', rule.id)
  return (N - 1) / ((last - first) / 1000)
}

async function pgCopyCeiling(table: string): Promise<number> {
  const client = new pg.Client({ host: PG.host, port: PG.port, database: PG.database, user: PG.user })
  await client.connect()
  const t0 = performance.now()
  for (let off = 0; off < N; off += 1000) {
    let text = ''
    for (let i = off; i < Math.min(N, off + 1000); i++) text += `${i}\t${(i % 400) / 10}\tdev-1\n`
    await new Promise<void>((resolve, reject) => {
      const stream = client.query(copyFrom(`COPY ${table} (seq, temp, clientid) FROM STDIN`))
      stream.on('finish', resolve)
      stream.on('error', reject)
      stream.end(text)
    })
  }
  const rate = N / ((performance.now() - t0) / 1000)
  await client.end()
  return rate
}

async function junctionToPostgres(j: Junction, url: string, table: string, admin: pg.Client): Promise<{ rate: number; loss: number; actionId: string }> {
  const c = await j.connectors.create('default', { name: `pg-${table}-${randomBytes(2).toString('hex')}`, type: 'postgresql', config: { host: PG.host, port: PG.port, database: PG.database, username: PG.user, ...PG_CONFIG } })
  await waitConnected(j, c.id)
  const rule = await j.rules.create('default', {
    name: `to-${table}`, sql: `SELECT payload.seq AS seq, payload.temp AS temp, payload.ts AS ts, clientid FROM "bench/pg/${table}"`,
    actions: [{ connectorId: c.id, params: { sql: `INSERT INTO ${table} (seq, temp, clientid, sent_at) VALUES (\${seq}, \${temp}, \${clientid}, \${ts})` }, ...(ACTION_OPTIONS ? { options: ACTION_OPTIONS } : {}) }],
  })
  const action = actionOf(j, rule.id)
  const t0 = performance.now()
  let last = 0
  let first = 0
  const published = await cpuShare('postgres', N, async () => {
    const pub = publish(url, `bench/pg/${table}`, N, FLEET)
    first = await firstMatched(j, rule.id)
    last = await waitFor('pg delivered', () => settledAll(action(), N))
    return { result: await pub, wallMs: last - t0 }
  })
  console.log(`  (publisher done after ${Math.round(published.elapsedMs)} ms of publishing, all rows ${Math.round(last - first)} ms after the first message in)`)
  const rows = Number((await admin.query(`SELECT count(DISTINCT seq) AS n FROM ${table}`)).rows[0].n)
  await j.rules.remove('default', rule.id)
  return { rate: (N - 1) / ((last - first) / 1000), loss: N - rows, actionId: rule.id }
}

async function kafkaCeiling(topic: string): Promise<number> {
  const producer = new Kafka({ brokers: [KAFKA.bootstrap], logLevel: logLevel.NOTHING }).producer()
  await producer.connect()
  const t0 = performance.now()
  const inflight: Promise<unknown>[] = []
  const batch = Number(ACTION_OPTIONS?.batchSize ?? kafkaConnector.batching!.maxSize)
  for (let off = 0; off < N; off += batch) {
    const messages = []
    for (let i = off; i < Math.min(N, off + batch); i++) messages.push({ key: 'dev-1', value: `{"seq":${i},"temp":${(i % 400) / 10},"clientid":"dev-1"}` })
    inflight.push(producer.send({ topic, messages, acks: -1 }))
    if (inflight.length >= 100) await Promise.all(inflight.splice(0))
  }
  await Promise.all(inflight)
  const rate = N / ((performance.now() - t0) / 1000)
  await producer.disconnect()
  return rate
}

async function junctionToKafka(j: Junction, url: string, topic: string): Promise<number> {
  const c = await j.connectors.create('default', { name: `kafka-${topic}-${randomBytes(2).toString('hex')}`, type: 'kafka', config: { bootstrapServers: KAFKA.bootstrap } })
  await waitConnected(j, c.id)
  const rule = await j.rules.create('default', {
    name: `to-${topic}`, sql: `SELECT payload.seq AS seq, payload.temp AS temp, clientid FROM "bench/kafka/${topic}"`,
    actions: [{ connectorId: c.id, params: { topic, key: '${clientid}', value: '${.}' }, ...(ACTION_OPTIONS ? { options: ACTION_OPTIONS } : {}) }],
  })
  const action = actionOf(j, rule.id)
  const t0 = performance.now()
  let last = 0
  let first = 0
  await cpuShare('java', N, async () => {
    const pub = publish(url, `bench/kafka/${topic}`, N, FLEET)
    first = await firstMatched(j, rule.id)
    last = await waitFor('kafka delivered', () => settledAll(action(), N))
    return { result: await pub, wallMs: last - t0 }
  })
  const a = action()
  if (a.success !== N) console.log(`  (kafka: ${a.failed} failed, ${a.dropped} dropped)`)
  await j.rules.remove('default', rule.id)
  return (N - 1) / ((last - first) / 1000)
}

/** Median of `runs` measurements: the machine is shared and single runs swing widely. */
async function median(runs: number, measure: () => Promise<number>): Promise<number> {
  const values: number[] = []
  for (let i = 0; i < runs; i++) values.push(await measure())
  return middle(values)
}

/**
 * `runs` pairs, each measuring the ceiling right before Junction, so that both see the machine
 * in the same state: its speed drifts by 20-30 % over minutes (other tenants), which made ratios
 * of ceilings and Junction rates measured minutes apart swing as much.
 */
async function paired(runs: number, ceiling: () => Promise<number>, junction: () => Promise<number>): Promise<Paired> {
  const ceilings: number[] = []
  const rates: number[] = []
  for (let i = 0; i < runs; i++) {
    ceilings.push(await ceiling())
    rates.push(await junction())
    console.log(`  run ${i + 1}: ceiling ${fmt(ceilings[i]!)} msg/s, junction ${fmt(rates[i]!)} msg/s, ${pct(rates[i]! / ceilings[i]!)}`)
  }
  const ratios = rates.map((r, i) => r / ceilings[i]!)
  return { ceiling: middle(ceilings), junction: middle(rates), ratio: middle(ratios), ratios }
}

const suffix = randomBytes(3).toString('hex')
const admin = new pg.Client({ host: PG.host, port: PG.port, database: PG.database, user: PG.user })
await admin.connect()
const tables = ['copy', 'junction', 'latency'].map((t) => `bench_${t}_${suffix}`)
for (const t of tables) await admin.query(`CREATE UNLOGGED TABLE ${t} (seq integer, temp numeric, clientid text, sent_at float8, committed_at timestamptz DEFAULT clock_timestamp())`)

console.log(`Junction data path benchmark: ${fmt(N)} messages per run, node ${process.version}, ${new Date().toISOString()}`)
try {
  console.log('ingest (one publisher)')
  for (const qos of ONLY.has('ingest') ? [0, 1] : []) {
    report(`ingest QoS ${qos}`, await paired(RUNS, () => bareIngest(N, { ...FLEET, qos }), () => inJunction((j, url) => junctionIngest(j, url, qos))), '(ceiling: the bare broker)')
  }

  if (ONLY.has('null')) {
    console.log('Junction alone (in-memory channel)')
    report('MQTT -> rule -> memory', await paired(RUNS, () => bareIngest(N, FLEET), () => inJunction(junctionToNull)),
      `(ceiling: ingest QoS 1; batched as PostgreSQL: ${postgresqlConnector.batching!.maxSize} / ${postgresqlConnector.batching!.maxWaitMs} ms)`)
  }
  if (ONLY.has('pg')) {
    console.log('PostgreSQL')
    const copy = await median(RUNS, () => pgCopyCeiling(tables[0]!))
    console.log(`  plain pg COPY: ${fmt(copy)} rows/s`)
    let lost = 0
    const pg = await paired(RUNS, async () => Math.min(copy, await bareIngest(N, FLEET)), () => inJunction(async (j, url) => {
      await admin.query(`TRUNCATE ${tables[1]}`)
      const r = await junctionToPostgres(j, url, tables[1]!, admin)
      lost += r.loss
      return r.rate
    }))
    report('MQTT -> PostgreSQL', pg, `(ceiling: min(ingest QoS 1, COPY ${fmt(copy)}/s)); lost: ${lost}`)
  }

  const latencies: Array<{ rate: number; ms: number[] }> = []
  for (const { rate, clients } of ONLY.has('latency') ? [{ rate: 2000, clients: 2 }, { rate: 5000, clients: FLEET.clients }] : []) {
    console.log(`latency at ${fmt(rate)} msg/s from ${clients} publishers, publish -> row committed`)
    // 12.5 s at 2,000 msg/s, 5 s at 5,000.
    const latencyN = Math.min(N, 25_000)
    const ms = await inJunction(async (j, url) => {
      await admin.query(`TRUNCATE ${tables[2]}`)
      const c = await j.connectors.create('default', { name: 'pg-latency', type: 'postgresql', config: { host: PG.host, port: PG.port, database: PG.database, username: PG.user } })
      await waitConnected(j, c.id)
      const rule = await j.rules.create('default', {
        name: 'latency', sql: `SELECT payload.seq AS seq, payload.ts AS ts, clientid FROM "bench/latency"`,
        actions: [{ connectorId: c.id, params: { sql: `INSERT INTO ${tables[2]} (seq, clientid, sent_at) VALUES (\${seq}, \${clientid}, \${ts})` }, ...(ACTION_OPTIONS ? { options: ACTION_OPTIONS } : {}) }],
      })
      await publish(url, 'bench/latency', latencyN, { ...FLEET, clients, rate, preciseTs: true })
      await waitFor('latency rows', () => settledAll(actionOf(j, rule.id)(), latencyN))
      const r = await admin.query(`SELECT (extract(epoch from committed_at) * 1000 - sent_at)::float8 AS ms FROM ${tables[2]}`)
      return (r.rows as Array<{ ms: number }>).map((x) => x.ms).sort((a, b) => a - b)
    })
    latencies.push({ rate, ms })
    console.log(`  p50 ${quantile(ms, 0.5).toFixed(2)} ms, p99 ${quantile(ms, 0.99).toFixed(2)} ms, max ${ms.at(-1)!.toFixed(1)} ms over ${fmt(ms.length)} messages (batch time ${postgresqlConnector.batching!.maxWaitMs} ms, an upper bound)`)
  }

  if (ONLY.has('kafka')) {
    console.log('Kafka')
    // Topics are created (and their leaders elected) before timing: creation is not data path.
    const junctionTopics = Array.from({ length: RUNS }, (_, i) => `bench-junction-${suffix}-${i}`)
    const kafkaAdmin = new Kafka({ brokers: [KAFKA.bootstrap], logLevel: logLevel.NOTHING }).admin()
    await kafkaAdmin.connect()
    await kafkaAdmin.createTopics({ topics: [`bench-raw-${suffix}`, ...junctionTopics].map((topic) => ({ topic })), waitForLeaders: true })
    await kafkaAdmin.disconnect()
    let k = 0
    const producer: number[] = []
    const kafka = await paired(RUNS, async () => {
      const rate = await kafkaCeiling(`bench-raw-${suffix}`)
      producer.push(rate)
      return Math.min(rate, await bareIngest(N, FLEET))
    }, () => inJunction((j, url) => junctionToKafka(j, url, junctionTopics[k++]!)))
    report('MQTT -> Kafka', kafka, `(ceiling: min(ingest QoS 1, plain producer ${fmt(middle(producer))}/s))`)
  }

  clearInterval(rssTimer)
  console.log(`peak RSS of the benchmark process (Junction inside): ${Math.round(peakRss / 1024 / 1024)} MB`)
  console.log('\n| scenario | ceiling msg/s | Junction msg/s | ratio |\n| --- | --- | --- | --- |')
  for (const r of rows) console.log(`| ${r.join(' | ')} |`)
  for (const { rate, ms } of latencies) console.log(`| latency at ${fmt(rate)} msg/s | | p50 ${quantile(ms, 0.5).toFixed(2)} ms | p99 ${quantile(ms, 0.99).toFixed(2)} ms |`)
} finally {
  for (const t of tables) await admin.query(`DROP TABLE IF EXISTS ${t}`)
  await admin.end()
  clearInterval(rssTimer)
}
