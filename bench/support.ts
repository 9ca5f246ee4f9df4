/**
 * What the benchmarks share: the bare-broker ingest ceiling, the publisher process, a fresh
 * Junction per measurement, polling, medians and quantiles, CPU accounting and ratio formatting.
 * Kept to what they do alike, so that their figures stay comparable with one another.
 */
import { spawn, spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { pino } from 'pino'
import { DEFAULT_BROKER_LIMITS } from '../src/broker/broker-types.js'
import { BrokerListeners } from '../src/broker/listeners/broker-listeners.js'
import { MqttBroker } from '../src/broker/mqtt-broker.js'
import type { ConnectorDefinition } from '../src/connector-api/index.js'
import { builtinConnectors } from '../src/connectors/index.js'
import { createJunction, type Junction } from '../src/server.js'
import { DEFAULT_SETTINGS } from '../src/settings.js'
import { tempDataDir } from '../test/support/junction.js'

/** The repository's root: the publisher is started from there. */
export const root = new URL('..', import.meta.url).pathname

// Junction runs in the benchmarks with the V8 setting `npm start` gives it (package.json): a 32 MB
// young generation, which halves the time its event loop spends in scavenges under load.
const HEAP_FLAG = '--max-semi-space-size=32'

/** Runs this script again with the heap flag (and exits with its status) unless it already has it. */
export function ensureJunctionHeap(): void {
  if (process.execArgv.includes(HEAP_FLAG)) return
  const run = spawnSync(process.execPath, [HEAP_FLAG, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' })
  process.exit(run.status ?? 1)
}

// --- figures ---------------------------------------------------------------------------------------

export const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
export const pct = (ratio: number) => `${Math.round(ratio * 100)}%`
/** "lo%-hi%" over the runs' ratios. */
export const ratioRange = (ratios: readonly number[]) => `${pct(Math.min(...ratios))}-${pct(Math.max(...ratios))}`
/** The median (the upper one of an even count): single runs swing widely on this shared machine. */
export const middle = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
/** The value at fraction `q` (0.5, 0.99) of `values` (not modified); NaN when empty. */
export const quantile = (values: readonly number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]! : Number.NaN
}

// --- CPU -------------------------------------------------------------------------------------------

const USER_HZ = 100

function cpuMsOfStat(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * (1000 / USER_HZ)
}

/** CPU time (ms) used so far by each live process whose command is `comm` (postgres, mariadbd), by pid. */
export function cpuOfComm(comm: string): Map<string, number> {
  const byPid = new Map<string, number>()
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === comm) byPid.set(pid, cpuMsOfStat(stat))
    } catch { /* exited meanwhile */ }
  }
  return byPid
}

/**
 * CPU (ms) the `comm` processes used since `before`: per process alive now (a backend that
 * exited meanwhile, e.g. the previous run's connection, is not subtracted).
 */
export function cpuOfCommSince(comm: string, before: Map<string, number>): number {
  let total = 0
  for (const [pid, ms] of cpuOfComm(comm)) total += ms - (before.get(pid) ?? 0)
  return total
}

/** CPU time (ms) process `pid` has used so far. */
export function cpuOfPid(pid: number): number {
  return cpuMsOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))
}

/** This process's CPU (user + system) since `since`, in µs. */
export function ownCpuUs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since)
  return used.user + used.system
}

/**
 * The whole machine's CPU time so far (every process, every core) from /proc/stat, in µs: what
 * shows whether a multi-process path (publisher, Junction, the server) had any core left.
 */
export function machineCpu(): { busyUs: number; totalUs: number; cores: number } {
  const [cpu, ...rest] = readFileSync('/proc/stat', 'utf8').split('\n')
  const ticks = cpu!.trim().split(/\s+/).slice(1, 9).map(Number)
  // user nice system idle iowait irq softirq steal, in USER_HZ (100 a second on Linux).
  const idle = ticks[3]! + ticks[4]!
  const total = ticks.reduce((a, b) => a + b, 0)
  return { busyUs: (total - idle) * 10_000, totalUs: total * 10_000, cores: rest.filter((l) => /^cpu\d/.test(l)).length }
}

/** The whole machine's CPU (all processes, µs) per message since `since`. */
export function machineUsPerMessage(since: ReturnType<typeof machineCpu>, messages: number): number {
  return (machineCpu().busyUs - since.busyUs) / messages
}

/**
 * What the machine's cores allow a path that does both the ingest's and the raw client's work,
 * as a share of min(ingest, raw): when every process runs on the same cores a message costs at
 * least the sum of the two runs' CPU per message (every process, µs), so the path runs at most at
 * cores / (ingest + raw) messages per µs, and that only with every process busy all the time.
 * Where each process has cores to spare the bound is 100 %.
 */
export function sharedCpuBound(ingest: { rate: number; machineUs: number }, raw: { rate: number; machineUs: number }): number {
  const cores = machineCpu().cores
  return Math.min(1, (cores * 1e6) / (ingest.machineUs + raw.machineUs) / Math.min(ingest.rate, raw.rate))
}

/** `machine: <busy>% of <n> cores, <µs> of CPU per message (all processes)` since `since`. */
export function machineLine(since: ReturnType<typeof machineCpu>, messages: number): string {
  const now = machineCpu()
  const busy = now.busyUs - since.busyUs
  return `machine ${pct(busy / (now.totalUs - since.totalUs))} of ${now.cores} cores busy, ${(busy / messages).toFixed(1)} µs of CPU per message (all processes)`
}

// --- waiting and loading ---------------------------------------------------------------------------

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls `done` every 5 ms; the time (performance.now()) it first held. */
export async function waitFor(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 300_000): Promise<number> {
  const end = Date.now() + timeoutMs
  while (!(await done())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`)
    await sleep(5)
  }
  return performance.now()
}

export interface PublisherOptions {
  readonly qos?: number
  /** Messages/s in all; 0 = as fast as the broker takes them. */
  readonly rate?: number
  /** Unacknowledged QoS 1 publishes per connection. */
  readonly window?: number
  /** Connections (a small fleet, messages spread over them). */
  readonly clients?: number
  /** `ts` in the payload with microseconds (a float; ms otherwise, an integer). */
  readonly preciseTs?: boolean
  /**
   * `mqtt.js` (bench/publisher.mjs, the default) or `lean` (bench/lean-publisher.mjs: the same load
   * written straight onto sockets, for benchmarks whose ratio the devices' CPU would distort).
   */
  readonly publisher?: 'mqtt.js' | 'lean'
}

export interface Published { readonly sent: number; readonly elapsedMs: number; readonly cpuMs: number }

/** Runs the load generator (its own process, so it shares no event loop with what it loads) to the end. */
export function publish(url: string, topic: string, count: number, { qos = 1, rate = 0, window = 500, clients = 4, preciseTs = false, publisher = 'mqtt.js' }: PublisherOptions = {}): Promise<Published> {
  return new Promise((resolve, reject) => {
    const env = preciseTs ? { ...process.env, BENCH_TS_FRACTION: '1' } : process.env
    const script = publisher === 'lean' ? 'bench/lean-publisher.mjs' : 'bench/publisher.mjs'
    const child = spawn(process.execPath, [script, url, topic, String(count), String(qos), String(rate), String(window), String(clients)], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d) => { out += String(d) })
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as Published) : reject(new Error(`publisher exited ${code}`))))
  })
}

/**
 * Messages/s the bare embedded broker (no rules, no Junction: a sink that counts) takes from the
 * publisher, from the first message in to the last: the ingest ceiling of every MQTT path.
 */
export async function bareIngest(count: number, options: PublisherOptions = {}): Promise<number> {
  let received = 0
  let first = 0
  const broker = new MqttBroker({ limits: { ...DEFAULT_BROKER_LIMITS, allowAnonymous: true }, sink: { published() { if (received++ === 0) first = performance.now() }, clientEvent() {}, wants: () => false } })
  const listeners = await BrokerListeners.start(broker, { host: '127.0.0.1', listeners: [{ transport: 'tcp', port: 0, fallback: false }] })
  const pub = publish(`mqtt://127.0.0.1:${listeners.listeners[0]!.port}`, 'bench/raw', count, options)
  const last = await waitFor('bare ingest', () => received >= count)
  await pub
  await listeners.close()
  await broker.close()
  return (count - 1) / ((last - first) / 1000)
}

// --- Junction ----------------------------------------------------------------------------------------

export interface BenchJunctionOptions {
  readonly connectors?: readonly ConnectorDefinition[]
  readonly logLevel?: 'warn' | 'error'
}

/**
 * A fresh Junction (own data directory, ephemeral ports, anonymous MQTT) for one measurement,
 * closed after it, so every run starts alike and ceilings are measured with none in the process.
 */
export async function withJunction<T>(measure: (j: Junction, mqttUrl: string) => Promise<T>, { connectors = builtinConnectors, logLevel = 'warn' }: BenchJunctionOptions = {}): Promise<T> {
  const dataDir = tempDataDir()
  const settings = { ...DEFAULT_SETTINGS, httpHost: '127.0.0.1', httpPort: 0, mqttHost: '127.0.0.1', mqttPort: 0, mqttAllowAnonymous: true, dataDir, adminPassword: 'bench-admin', logLevel: 'warn' as const }
  const j = await createJunction(settings, { logger: pino({ level: logLevel }), connectors })
  try {
    return await measure(j, `mqtt://127.0.0.1:${(await j.deployments.get('default')).mqtt!.port}`)
  } finally {
    await j.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

/** Waits until connector `id` of the default deployment reports connected. */
export async function waitConnected(j: Junction, id: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(`connector ${id} connected`, async () => (await j.connectors.get('default', id)).status === 'connected', timeoutMs)
}

/** Reads the current counters of rule `ruleId`'s first action. */
export function actionOf(j: Junction, ruleId: string) {
  return () => j.deployments.runtime('default').rules.metrics(ruleId)!.actions[0]!
}

/** Whether an action has settled (delivered, failed or dropped) `count` messages. */
export const settledAll = (a: { success: number; failed: number; dropped: number }, count: number) => a.success + a.failed + a.dropped >= count
