/**
 * HTTP connector benchmark: a plain undici client against Junction on the same load, in pairs
 * (each run measures the raw client right before Junction), and the ratios. Prints figures;
 * asserts nothing.
 *
 *   node --import tsx bench/http.ts [messages=30000] [scenarios=channel,path,path-worker]
 *
 * The server is node:http in its own process (bench/http-server.mjs): it answers 200 and counts
 * the distinct `seq` of the bodies it took, so loss and duplicates are counted at the server.
 * - raw: an undici Pool of 8 connections (the connector's default poolSize) POSTing
 *   `{"seq","temp","clientid"}` with 8 requests in flight;
 * - channel: the same messages through the HTTP connector's channel as the runtime drives it
 *   (an ActionWorker with the default action options: one request per message, in flight at
 *   most the channel's concurrency = poolSize), default body (the output as JSON);
 * - path: MQTT QoS 1 publishes (bench/publisher.mjs, its own process) -> Junction's broker ->
 *   rule -> HTTP action (the defaults: the client on the main thread); ceiling min(ingest QoS 1,
 *   raw client): ingest QoS 1 is ~119,000 msg/s on this machine (docs/performance.md), far above
 *   an HTTP server, so the raw client decides;
 * - path-worker: the same with `workerThread: true` (the HTTP client in a worker thread).
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Pool } from 'undici'
import type { Channel, ChannelMessage } from '../src/connector-api/index.js'
import { withResourceOptions } from '../src/connector-api/index.js'
import { httpConnector } from '../src/connectors/http/definition.js'
import { validateWithSchema } from '../src/core/schema-validation.js'
import { ActionWorker, DEFAULT_ACTION_OPTIONS } from '../src/runtime/action-worker.js'
import { ActionMetrics } from '../src/runtime/metrics.js'
import { actionOf, fmt, machineCpu, machineLine, middle, ownCpuUs, pct, publish, quantile, ratioRange, root, waitConnected, withJunction } from './support.js'

const N = Number(process.argv[2] ?? 30_000)
const ONLY = new Set((process.argv[3] ?? 'channel,path,path-worker').split(','))
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const POOL = 8
const quiet = { debug() {}, info() {}, warn() {}, error() {} }

const server = spawn(process.execPath, ['bench/http-server.mjs'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
const port = await new Promise<number>((resolve) => server.stdout.once('data', (d) => resolve(Number(String(d).trim()))))
const origin = `http://127.0.0.1:${port}`
const stats = async (path: string) => (await (await fetch(`${origin}/stats?path=${encodeURIComponent(path)}`)).json()) as { requests: number; distinct: number }
let runId = 0
const freshPath = () => `/bench/run-${++runId}-${randomBytes(2).toString('hex')}`

interface Run { readonly rate: number; readonly p50: number; readonly p99: number; readonly lost: number }

async function summarise(path: string, startedAt: number, endedAt: number, latencies: number[]): Promise<Run> {
  const s = await stats(path)
  return { rate: N / ((endedAt - startedAt) / 1000), p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), lost: N - s.distinct + (s.requests - s.distinct) }
}

/** This process's CPU since `since` over `ms` of wall time, per message and as a share of one core. */
function cpuLine(label: string, since: NodeJS.CpuUsage, ms: number): void {
  const us = ownCpuUs(since)
  console.log(`  ${label} CPU ${(us / N).toFixed(1)} µs per message (${pct(us / 1000 / ms)} of a core)`)
}

/** The plain client: N POSTs, POOL in flight. */
async function raw(): Promise<Run> {
  const pool = new Pool(origin, { connections: POOL })
  const path = freshPath()
  const latencies: number[] = []
  let next = 0
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  const m0 = machineCpu()
  await Promise.all(Array.from({ length: POOL }, async () => {
    while (next < N) {
      const seq = next++
      const s = performance.now()
      const res = await pool.request({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ seq, temp: (seq % 400) / 10, clientid: 'dev-1' }) })
      await res.body.dump()
      if (res.statusCode !== 200) throw new Error(`raw: ${res.statusCode}`)
      latencies.push(performance.now() - s)
    }
  }))
  const t1 = performance.now()
  cpuLine('raw client', cpu0, t1 - t0)
  console.log(`  ${machineLine(m0, N)}`)
  await pool.close()
  return summarise(path, t0, t1, latencies)
}

/** The connector's channel, driven by an ActionWorker as the runtime drives it. */
async function channel(): Promise<Run> {
  const config = validateWithSchema<never>(withResourceOptions(httpConnector).configSchema, { url: `${origin}/bench`, poolSize: POOL }, 'config')
  if (!config.ok) throw new Error(JSON.stringify(config.errors))
  const connector = httpConnector.create(config.value, { connectorId: 'bench', logger: quiet })
  await connector.start(AbortSignal.timeout(10_000))
  const path = freshPath()
  const params = validateWithSchema<never>(httpConnector.paramsSchema, { path: path.slice('/bench'.length) }, 'params')
  if (!params.ok) throw new Error(JSON.stringify(params.errors))
  const inner = await connector.openChannel!(params.value)
  const latencies: number[] = []
  const timed: Channel = {
    concurrency: inner.concurrency!,
    send: async (m: ChannelMessage, signal: AbortSignal) => {
      const s = performance.now()
      await inner.send(m, signal)
      latencies.push(performance.now() - s)
    },
  }
  const metrics = new ActionMetrics()
  const worker = new ActionWorker('bench', { acquire: async () => timed, reportLost() {}, onReady: () => () => {} }, DEFAULT_ACTION_OPTIONS, metrics, quiet)
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  for (let seq = 0; seq < N; seq++) worker.enqueue({ seq, temp: (seq % 400) / 10, clientid: 'dev-1' })
  await worker.drained(600_000)
  const t1 = performance.now()
  cpuLine('channel', cpu0, t1 - t0)
  worker.stop()
  await connector.stop(AbortSignal.timeout(5_000))
  if (metrics.success !== N) console.log(`  channel: success ${metrics.success}, failed ${metrics.failed}, last error ${metrics.lastError}`)
  return summarise(`/bench${path.slice('/bench'.length)}`, t0, t1, latencies)
}

/** MQTT -> Junction's broker -> rule -> HTTP action; a fresh Junction per run. */
function wholePath(workerThread = false): Promise<Run> {
  return withJunction(async (j, url) => {
    const c = await j.connectors.create('default', { name: `http-${randomBytes(2).toString('hex')}`, type: 'http', config: { url: `${origin}/bench`, poolSize: POOL, workerThread } })
    await waitConnected(j, c.id)
    const path = freshPath()
    const topic = `bench/http/${runId}`
    const rule = await j.rules.create('default', { name: 'to-http', sql: `SELECT payload.seq AS seq, payload.temp AS temp, clientid FROM "${topic}"`, actions: [{ connectorId: c.id, params: { path: path.slice('/bench'.length) } }] })
    const action = actionOf(j, rule.id)
    const published = publish(url, topic, N, { publisher: 'lean' })
    // Timed from the first delivery, as bench/data-path.ts times ingest: the publisher's start is not Junction's.
    while (action().success === 0) await new Promise((r) => setTimeout(r, 1))
    const t0 = performance.now()
    const cpu0 = process.cpuUsage()
    const m0 = machineCpu()
    const lag = monitorEventLoopDelay({ resolution: 5 })
    lag.enable()
    let samples = 0
    let inflight = 0
    for (let a = action(); a.success + a.failed + a.dropped < N; a = action()) {
      await new Promise((r) => setTimeout(r, 5))
      samples++
      inflight += a.inflight
    }
    lag.disable()
    console.log(`  event loop delay p50 ${(lag.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(lag.percentile(99) / 1e6).toFixed(1)} ms; requests in flight on average ${(inflight / samples).toFixed(1)}`)
    const t1 = performance.now()
    cpuLine('junction', cpu0, t1 - t0)
    console.log(`  ${machineLine(m0, N)}`)
    await published
    return summarise(path, t0, t1, [])
  })
}

const rows: string[] = []
async function paired(name: string, junction: () => Promise<Run>): Promise<void> {
  const ratios: number[] = []
  const raws: Run[] = []
  const ours: Run[] = []
  for (let i = 0; i < RUNS; i++) {
    raws.push(await raw())
    ours.push(await junction())
    ratios.push(ours[i]!.rate / raws[i]!.rate)
    const lat = (r: Run) => (Number.isNaN(r.p50) ? '' : `, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms`)
    console.log(`  run ${i + 1}: raw ${fmt(raws[i]!.rate)} msg/s${lat(raws[i]!)}; junction ${fmt(ours[i]!.rate)} msg/s${lat(ours[i]!)}; ${pct(ratios[i]!)}; lost/doubled raw ${raws[i]!.lost}, junction ${ours[i]!.lost}`)
  }
  const mid = (runs: Run[], k: keyof Run) => middle(runs.map((r) => r[k]))
  const lat = (runs: Run[]) => (Number.isNaN(runs[0]!.p50) ? 'n/a' : `${mid(runs, 'p50').toFixed(2)} / ${mid(runs, 'p99').toFixed(2)} ms`)
  rows.push(`| ${name} | ${fmt(mid(raws, 'rate'))} | ${lat(raws)} | ${fmt(mid(ours, 'rate'))} | ${lat(ours)} | ${pct(middle(ratios))} (${ratioRange(ratios)}) | ${ours.reduce((n, r) => n + r.lost, 0)} |`)
}

try {
  console.log(`HTTP: ${N} messages per run, ${RUNS} pairs, poolSize ${POOL}`)
  if (ONLY.has('channel')) await paired('channel (ActionWorker -> HttpChannel)', channel)
  if (ONLY.has('path')) await paired('MQTT -> rule -> HTTP action', wholePath)
  if (ONLY.has('path-worker')) await paired('MQTT -> rule -> HTTP action, workerThread on', () => wholePath(true))
  console.log('\n| scenario | raw msg/s | raw p50 / p99 | Junction msg/s | Junction p50 / p99 | ratio (runs) | lost or doubled |\n| --- | --- | --- | --- | --- | --- | --- |')
  for (const r of rows) console.log(r)
} finally {
  server.kill()
}
