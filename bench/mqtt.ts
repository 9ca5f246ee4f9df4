/**
 * MQTT connector benchmark: the raw mqtt.js client and Junction's MQTT connector publishing the
 * same QoS 1 messages to a private Mosquitto, in pairs (each run measures the raw client right
 * before the connector), and the ratios. Prints figures; asserts nothing but zero loss is checked
 * and printed for every run.
 *
 *   node --import tsx bench/mqtt.ts [messages=100000] [scenarios=channel,path]
 *
 * Needs the `mosquitto` binary (Debian's); the machine's shared Mosquitto is not used: the bench
 * starts its own on a free port (anonymous, no persistence, TCP_NODELAY, unbounded queues so a
 * slow subscriber loses nothing, Mosquitto's default in-flight limit: Receive Maximum 20) and
 * stops it at the end.
 * - channel: the raw client keeping as many publishes unacknowledged as the connector may (the
 *   runtime's inflight window within the broker's Receive Maximum), counting PUBACKs, vs the
 *   connector's channel driven by an ActionWorker with the type's default action options, as the
 *   runtime drives it under load: fed by this process with twice the action's inflight window
 *   outstanding, so its queue never runs dry (its latency then includes that queue's wait).
 *   BENCH_FEED=<n> feeds both sides alike with n outstanding (n = the window: no queue on either
 *   side, latencies compare);
 * - path: MQTT -> rule -> MQTT connector through an embedded Junction (the load from
 *   bench/lean-publisher.mjs in its own process, timed from the first message the rule sees) vs
 *   min(bare ingest with the same publisher, the raw client); its latency
 *   includes the wait in the action's queue when the publisher outruns the connector.
 * A subscriber in its own process (QoS 0 subscription) counts deliveries on the target broker:
 * losses and duplicates, publish -> delivery latency (the sender's timestamp in the payload).
 */
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect as netConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { connectAsync, type MqttClient } from 'mqtt'
import { withResourceOptions, type Channel, type ChannelMessage } from '../src/connector-api/index.js'
import type { MqttConfig, MqttParams } from '../src/connectors/mqtt/config-schema.js'
import { mqttConnector } from '../src/connectors/mqtt/definition.js'
import { effectiveOptions } from '../src/control/rule-service.js'
import { validateWithSchema } from '../src/core/schema-validation.js'
import { ActionWorker, type ChannelSource } from '../src/runtime/action-worker.js'
import { ActionMetrics } from '../src/runtime/metrics.js'
import { freePort } from '../test/support/connector-battery.js'
import {
  actionOf, bareIngest, cpuOfPid, ensureJunctionHeap, fmt, middle, ownCpuUs, pct, publish, ratioRange, root, settledAll, sleep, waitConnected, waitFor, withJunction,
  type PublisherOptions,
} from './support.js'

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across this machine's processes. */
const now = () => performance.timeOrigin + performance.now()

// --- the subscriber, in its own process (this file again, with --subscriber) ---------------------

async function subscriberMain(): Promise<void> {
  const [, , , url, topic, countArg] = process.argv
  const count = Number(countArg)
  const seen = new Uint8Array(count)
  const latencies = new Float64Array(count)
  let received = 0
  let distinct = 0
  let firstAt = 0
  let lastAt = 0
  let cpu0: NodeJS.CpuUsage | undefined
  let finished = false
  const client = await connectAsync(url!, { protocolVersion: 5, reconnectPeriod: 0, clientId: `bench-sub-${process.pid}` })
  const finish = async () => {
    if (finished) return
    finished = true
    await client.endAsync(true)
    const sorted = latencies.subarray(0, distinct).sort()
    const at = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN)
    const cpu = process.cpuUsage(cpu0)
    process.stdout.write(`${JSON.stringify({ received, distinct, firstAt, lastAt, p50: at(50), p99: at(99), cpuMs: (cpu.user + cpu.system) / 1000 })}\n`)
    process.exit(0)
  }
  client.on('message', (_topic, payload) => {
    const t = now()
    received++
    const m = JSON.parse(payload.toString()) as { seq: number; ts: number }
    if (m.seq >= 0 && m.seq < count && seen[m.seq] === 0) {
      seen[m.seq] = 1
      latencies[distinct++] = t - m.ts
    }
    if (firstAt === 0) firstAt = t
    lastAt = t
    if (distinct === count) void finish()
  })
  await client.subscribeAsync(topic!, { qos: 0 })
  // CPU from here on only: loading this file through tsx costs seconds of it.
  cpu0 = process.cpuUsage()
  process.stdout.write('ready\n')
  // The parent closes stdin when it gives up waiting (a loss): report what arrived.
  process.stdin.on('end', () => void finish())
  process.stdin.resume()
}

// --- the benchmark ------------------------------------------------------------------------------

interface Delivery {
  readonly received: number
  readonly distinct: number
  readonly firstAt: number
  readonly lastAt: number
  readonly p50: number
  readonly p99: number
  readonly cpuMs: number
}

interface Subscriber {
  /** The sender is done: what arrived, once every message did or after `graceMs` more. */
  done(graceMs: number): Promise<Delivery>
}

async function startSubscriber(port: number, topic: string, count: number): Promise<Subscriber> {
  const child = spawn(process.execPath, [...process.execArgv, new URL(import.meta.url).pathname, '--subscriber', `mqtt://127.0.0.1:${port}`, topic, String(count)], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout! })
  const iterator = lines[Symbol.asyncIterator]()
  const first = await iterator.next()
  if (first.value !== 'ready') throw new Error(`subscriber did not start: ${String(first.value)}`)
  const result = iterator.next().then((r) => {
    if (r.done) throw new Error('subscriber exited without a report')
    return JSON.parse(r.value as string) as Delivery
  })
  return {
    async done(graceMs) {
      const timer = setTimeout(() => child.stdin!.end(), graceMs)
      try {
        return await result
      } finally {
        clearTimeout(timer)
      }
    },
  }
}

interface Mosquitto {
  readonly port: number
  readonly pid: number
  stop(): Promise<void>
}

/** A private Mosquitto (its pid, so that its CPU is its own, not the shared one's). */
async function startMosquitto(): Promise<Mosquitto> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'bench-mqtt-mosquitto-'))
  const conf = join(dir, 'mosquitto.conf')
  writeFileSync(conf, [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    // Unbounded: a subscriber that falls behind must not lose messages (a loss would be the bench's).
    'max_queued_messages 0',
    'set_tcp_nodelay true',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    // As root Mosquitto would switch to the `mosquitto` user, which cannot read this directory.
    ...(process.getuid?.() === 0 ? ['user root'] : []),
    '',
  ].join('\n'))
  const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  // A benchmark that fails half-way leaves no broker behind.
  const kill = () => { child.kill('SIGKILL'); rmSync(dir, { recursive: true, force: true }) }
  process.once('exit', kill)
  const deadline = Date.now() + 10_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited ${child.exitCode}`)
    const up = await new Promise<boolean>((resolve) => {
      const s = netConnect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true) })
      s.once('error', () => resolve(false))
    })
    if (up) break
    if (Date.now() > deadline) throw new Error('mosquitto did not listen')
    await sleep(25)
  }
  return {
    port, pid: child.pid!,
    async stop() {
      process.off('exit', kill)
      child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

function mosquittoVersion(): string {
  const out = spawnSync('mosquitto', ['-h'], { encoding: 'utf8' })
  return /mosquitto version (\S+)/.exec(out.stdout + out.stderr)?.[1] ?? 'unknown'
}

/** Write system calls this process has made so far (socket writes, nearly all of them here). */
function writeCalls(): number {
  return Number(/syscw:\s*(\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? NaN)
}


const CONNECTOR_OPTIONS = effectiveOptions(undefined, mqttConnector.batching)
const CONFIG: Record<string, unknown> = { protocolVersion: '5' }

function connectorConfig(port: number): MqttConfig {
  const r = validateWithSchema<MqttConfig>(withResourceOptions(mqttConnector).configSchema, { server: `127.0.0.1:${port}`, ...CONFIG }, 'config')
  if (!r.ok) throw new Error(`invalid config: ${JSON.stringify(r.errors)}`)
  return r.value
}

function connectorParams(topic: string): MqttParams {
  const r = validateWithSchema<MqttParams>(mqttConnector.paramsSchema, { topic, qos: 1, payload: '${.}' }, 'params')
  if (!r.ok) throw new Error(`invalid params: ${JSON.stringify(r.errors)}`)
  return r.value
}

/** One measurement's figures. */
interface Run {
  readonly rate: number
  readonly lost: number
  readonly duplicates: number
  readonly p50: number
  readonly p99: number
  /** CPU µs per message: this process (client or Junction), Mosquitto, the subscriber, the publisher (path). */
  readonly cpu: { own: number; broker: number; subscriber: number; publisher?: number }
  /** Write system calls of this process per message: how well its client gathers packets into one write. */
  readonly writesPerMsg: number
}

/**
 * Starts counting what a run costs (this process's CPU and write calls, Mosquitto's CPU); the
 * returned function turns that, and what the subscriber saw, into the run's figures.
 */
function startRun(broker: Mosquitto): (d: Delivery, t0: number, settledAt: number, publisherCpuMs?: number) => Run {
  const own0 = process.cpuUsage()
  const writes0 = writeCalls()
  const broker0 = cpuOfPid(broker.pid)
  return (d, t0, settledAt, publisherCpuMs) => {
    const ownUs = ownCpuUs(own0)
    const writes = writeCalls() - writes0
    const end = Math.max(settledAt, d.lastAt || settledAt)
    const perMsgUs = (ms: number) => (ms / N) * 1000
    return {
      rate: N / ((end - t0) / 1000),
      lost: N - d.distinct,
      duplicates: d.received - d.distinct,
      p50: d.p50,
      p99: d.p99,
      cpu: {
        own: perMsgUs(ownUs / 1000), broker: perMsgUs(cpuOfPid(broker.pid) - broker0), subscriber: perMsgUs(d.cpuMs),
        ...(publisherCpuMs === undefined ? {} : { publisher: perMsgUs(publisherCpuMs) }),
      },
      // In the path, Junction's broker writes PUBACKs to the publisher too.
      writesPerMsg: writes / N,
    }
  }
}

function describe(label: string, r: Run): string {
  const cpu = `CPU µs/msg: ${label} ${r.cpu.own.toFixed(1)}${r.cpu.publisher !== undefined ? `, publisher ${r.cpu.publisher.toFixed(1)}` : ''}, mosquitto ${r.cpu.broker.toFixed(1)}, subscriber ${r.cpu.subscriber.toFixed(1)}`
  return `${fmt(r.rate)} msg/s, lost ${r.lost}, duplicates ${r.duplicates}, latency p50 ${r.p50.toFixed(1)} ms p99 ${r.p99.toFixed(1)} ms; ${cpu}; ${label} writes/msg ${r.writesPerMsg.toFixed(2)}`
}

/**
 * Sends N messages through `send` (which resolves when the broker acknowledged), keeping at most
 * `outstanding` unsettled, and the figures from the subscriber's side.
 */
async function measure(broker: Mosquitto, topic: string, outstanding: number, send: (seq: number, ts: number) => Promise<void>): Promise<Run> {
  const subscriber = await startSubscriber(broker.port, topic, N)
  const finishRun = startRun(broker)
  const t0 = now()
  let next = 0
  let failed = 0
  await new Promise<void>((resolve) => {
    let settled = 0
    const refill = () => {
      while (next < N && next - settled < outstanding) {
        const seq = next++
        send(seq, now()).catch(() => { failed++ }).finally(() => {
          settled++
          if (settled === N) resolve()
          else refill()
        })
      }
    }
    refill()
  })
  const acked = now()
  const run = finishRun(await subscriber.done(10_000), t0, acked)
  if (failed > 0) console.log(`  (${failed} sends failed)`)
  return run
}

/** The raw client: options as the connector sets them, `window` publishes unacknowledged. */
async function rawClient(broker: Mosquitto, window: number): Promise<Run> {
  const client: MqttClient = await connectAsync({
    host: '127.0.0.1', port: broker.port, protocolVersion: 5, clientId: `bench-raw-${randomBytes(3).toString('hex')}`,
    clean: true, keepalive: 60, reconnectPeriod: 0, queueQoSZero: false, resubscribe: false,
  })
  const topic = `bench/mqtt/raw/${randomBytes(3).toString('hex')}`
  try {
    return await measure(broker, topic, FEED ?? window, (seq, ts) => new Promise<void>((resolve, reject) => {
      const payload = `{"seq":${seq},"ts":${ts},"temp":${(seq % 400) / 10},"clientid":"dev-1"}`
      client.publish(topic, payload, { qos: 1 }, (err) => (err ? reject(err) : resolve()))
    }))
  } finally {
    await client.endAsync()
  }
}

/** The broker's Receive Maximum as a fresh MQTT 5 client sees it (the connector's limit). */
async function receiveMaximum(broker: Mosquitto): Promise<number> {
  const client = await connectAsync({ host: '127.0.0.1', port: broker.port, protocolVersion: 5, reconnectPeriod: 0 })
  const rm = (client as unknown as { connackPacket?: { properties?: { receiveMaximum?: number } } }).connackPacket?.properties?.receiveMaximum
  await client.endAsync()
  return rm ?? 65_535
}

/** The connector's channel behind an ActionWorker with the type's default options, fed per settled message. */
async function connectorChannel(broker: Mosquitto, window: number): Promise<Run> {
  const connectorId = `bench-${randomBytes(3).toString('hex')}`
  const connector = mqttConnector.create(connectorConfig(broker.port), { connectorId, logger: quietLogger })
  await connector.start(AbortSignal.timeout(10_000))
  const topic = `bench/mqtt/connector/${randomBytes(3).toString('hex')}`
  const channel = await connector.openChannel!(connectorParams(topic))
  // The feeder learns of each settled message through the channel (one more await per message).
  const settledHooks = new Map<number, { resolve(): void }>()
  const tracked: Channel = {
    async send(m: ChannelMessage, signal: AbortSignal) {
      try {
        await channel.send(m, signal)
      } finally {
        const seq = m.seq as number
        settledHooks.get(seq)?.resolve()
        settledHooks.delete(seq)
      }
    },
  }
  const source: ChannelSource = { acquire: async () => tracked, reportLost() {}, onReady: () => () => {} }
  const metrics = new ActionMetrics()
  const worker = new ActionWorker(connectorId, source, CONNECTOR_OPTIONS, metrics, quietLogger)
  try {
    return await measure(broker, topic, FEED ?? 2 * CONNECTOR_OPTIONS.inflightWindow, (seq, ts) => new Promise<void>((resolve) => {
      settledHooks.set(seq, { resolve })
      worker.enqueue({ seq, ts, temp: (seq % 400) / 10, clientid: 'dev-1' })
    }))
  } finally {
    if (metrics.success !== N) console.log(`  (connector: success ${metrics.success}, failed ${metrics.failed}, retried ${metrics.retried}, last error ${metrics.lastError ?? 'none'})`)
    worker.stop()
    await connector.stop(AbortSignal.timeout(5_000))
  }
}

const quietLogger = { debug() {}, info() {}, warn() {}, error() {} }

/** MQTT -> rule -> MQTT connector through a fresh embedded Junction (closed after the run). */
function junctionPath(broker: Mosquitto): Promise<Run> {
  return withJunction(async (j, url) => {
    const id = randomBytes(3).toString('hex')
    const c = await j.connectors.create('default', { name: `mqtt-${id}`, type: 'mqtt', config: { server: `127.0.0.1:${broker.port}`, ...CONFIG } })
    await waitConnected(j, c.id)
    const out = `bench/mqtt/path/${id}`
    const rule = await j.rules.create('default', {
      name: `to-mqtt-${id}`, sql: `SELECT payload.seq AS seq, payload.ts AS ts, payload.temp AS temp, clientid FROM "bench/in/${id}"`,
      actions: [{ connectorId: c.id, params: { topic: out, qos: 1, payload: '${.}' } }],
    })
    const action = actionOf(j, rule.id)
    const subscriber = await startSubscriber(broker.port, out, N)
    const finishRun = startRun(broker)
    const published = publish(url, `bench/in/${id}`, N, PUBLISHER)
    // Timed from the first message the rule sees, as the bare ingest is (not the publisher's start-up).
    await waitFor('first', () => j.deployments.runtime('default').rules.metrics(rule.id)!.rule.matched > 0)
    const t0 = now()
    await waitFor('path delivered', () => settledAll(action(), N))
    const settled = now()
    const pub = await published
    const run = finishRun(await subscriber.done(10_000), t0, settled, pub.cpuMs)
    const a = action()
    if (a.success !== N) console.log(`  (action: success ${a.success}, failed ${a.failed}, dropped ${a.dropped})`)
    return run
  }, { logLevel: 'error' })
}

/** Figures of one scenario: medians over the pairs, and the median of the pairs' own ratios. */
interface Paired {
  readonly ceiling: number
  readonly junction: number
  readonly ratio: number
  readonly ratios: readonly number[]
  readonly lost: number
  readonly duplicates: number
  readonly p50: readonly [number, number]
  readonly p99: readonly [number, number]
  readonly cpu: readonly [number, number]
}

/**
 * `RUNS` pairs, the ceiling measured right before Junction so that both see the machine in the
 * same state (its speed drifts by 20-30 % over minutes).
 */
async function paired(ceiling: () => Promise<Run & { bound?: number }>, junction: () => Promise<Run>, labels: [string, string]): Promise<Paired> {
  const c: Array<Run & { bound?: number }> = []
  const j: Run[] = []
  for (let i = 0; i < RUNS; i++) {
    const raw = await ceiling()
    console.log(`  run ${i + 1} ${labels[0]}: ${describe('client', raw)}${raw.bound !== undefined ? `; ceiling min(that, ingest) ${fmt(raw.bound)}` : ''}`)
    const jr = await junction()
    console.log(`  run ${i + 1} ${labels[1]}: ${describe('junction', jr)}`)
    c.push(raw)
    j.push(jr)
    const bound = raw.bound ?? raw.rate
    console.log(`  run ${i + 1}: ratio ${pct(jr.rate / bound)}`)
  }
  const bounds = c.map((r) => r.bound ?? r.rate)
  const ratios = j.map((r, i) => r.rate / bounds[i]!)
  const sum = (runs: Run[], f: (r: Run) => number) => runs.reduce((s, r) => s + f(r), 0)
  return {
    ceiling: middle(bounds), junction: middle(j.map((r) => r.rate)), ratio: middle(ratios), ratios,
    lost: sum(j, (r) => r.lost) + sum(c, (r) => r.lost), duplicates: sum(j, (r) => r.duplicates) + sum(c, (r) => r.duplicates),
    p50: [middle(c.map((r) => r.p50)), middle(j.map((r) => r.p50))],
    p99: [middle(c.map((r) => r.p99)), middle(j.map((r) => r.p99))],
    cpu: [middle(c.map((r) => r.cpu.own)), middle(j.map((r) => r.cpu.own))],
  }
}

const rows: string[] = []
function report(name: string, p: Paired, note: string): void {
  const spread = p.ratios.length > 1 ? ` (${ratioRange(p.ratios)})` : ''
  const line = [name, fmt(p.ceiling), fmt(p.junction), `**${pct(p.ratio)}**${spread}`, `${p.lost} / ${p.duplicates}`,
    `${p.p50[0].toFixed(1)} / ${p.p99[0].toFixed(1)}`, `${p.p50[1].toFixed(1)} / ${p.p99[1].toFixed(1)}`, `${p.cpu[0].toFixed(1)} / ${p.cpu[1].toFixed(1)}`]
  rows.push(`| ${line.join(' | ')} |`)
  console.log(`  ${name}: ceiling ${fmt(p.ceiling)} msg/s, junction ${fmt(p.junction)} msg/s, ${pct(p.ratio)}${spread}; lost ${p.lost}, duplicates ${p.duplicates} (all runs, both sides) ${note}`)
}

const N = Number(process.argv[2] ?? 100_000)
/** Scenarios (comma-separated: channel, path); all by default. */
const ONLY = new Set((process.argv[3] ?? 'channel,path').split(','))
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
/**
 * Messages the channel scenario's feeder keeps outstanding, both sides; by default the raw client
 * gets its window and the connector twice its action's inflight window (a queue, as under load).
 */
const FEED = process.env.BENCH_FEED ? Number(process.env.BENCH_FEED) : undefined
/** The path scenario's publisher: connections, and unacknowledged publishes per connection (as bench/data-path.ts). */
const PUB_CLIENTS = Number(process.env.BENCH_CLIENTS ?? 4)
const PUB_WINDOW = Number(process.env.BENCH_WINDOW ?? 500)
// The lean device fleet, as the other resource benchmarks use: mqtt.js would spend several times
// the CPU per publish that Junction's broker spends taking it, on the cores Junction shares.
const PUBLISHER: PublisherOptions = { clients: PUB_CLIENTS, window: PUB_WINDOW, publisher: 'lean' }

async function main(): Promise<void> {
  ensureJunctionHeap()
  const broker = await startMosquitto()
  try {
    const rm = await receiveMaximum(broker)
    const window = Math.min(CONNECTOR_OPTIONS.inflightWindow, rm)
    const o = CONNECTOR_OPTIONS
    console.log(`Junction MQTT connector benchmark: ${fmt(N)} QoS 1 messages per run, ${RUNS} pairs, node ${process.version}, mosquitto ${mosquittoVersion()}, ${new Date().toISOString()}`)
    console.log(`connector: MQTT ${CONFIG.protocolVersion}, action options batch ${o.batchSize} / ${o.batchTimeMs} ms, inflight window ${o.inflightWindow}; broker Receive Maximum ${rm}: ${window} publishes in flight; feeder keeps ${FEED === undefined ? `${window} (raw) / ${2 * o.inflightWindow} (connector)` : FEED} outstanding`)
    if (ONLY.has('channel')) {
      console.log('channel: raw mqtt.js client vs the connector\'s channel behind an ActionWorker')
      report('raw client -> connector channel', await paired(() => rawClient(broker, window), () => connectorChannel(broker, window), ['raw client', 'connector']), '')
    }
    if (ONLY.has('path')) {
      console.log(`path: MQTT -> rule -> MQTT connector (publisher: ${PUB_CLIENTS} connections, ${PUB_WINDOW} unacknowledged each) vs min(bare ingest QoS 1, raw client)`)
      report('MQTT -> rule -> MQTT', await paired(async () => {
        const raw = await rawClient(broker, window)
        return { ...raw, bound: Math.min(raw.rate, await bareIngest(N, PUBLISHER)) }
      }, () => junctionPath(broker), ['raw client', 'junction path']), '(path latency includes the action queue\'s wait)')
    }
    console.log('\n| scenario | ceiling msg/s | Junction msg/s | ratio (pairs) | lost / duplicates | raw p50 / p99 ms | Junction p50 / p99 ms | CPU µs/msg raw / Junction |')
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- |')
    for (const r of rows) console.log(r)
  } finally {
    await broker.stop()
  }
}

if (process.argv[2] === '--subscriber') await subscriberMain()
else await main()
