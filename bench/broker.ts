/**
 * Broker benchmark: today's embedded broker (aedes, bare), Junction's MQTT 5 broker (MqttBroker,
 * bare) and the machine's Mosquitto on the same load, in rounds that alternate the three (the
 * machine's speed drifts by 20-30 % over minutes), each broker in its own process, medians of the
 * rounds. Prints figures; asserts nothing (losses are reported).
 *
 *   node --import tsx bench/broker.ts [messages=200000] [scenarios=qos0,qos1,latency,idle]
 *
 * Scenarios: qos0 / qos1 fan-in (4 publishers -> 1 subscriber on bench/#, 64-byte payloads),
 * latency at a fixed 5,000 msg/s (QoS 1), idle connections (5,000 MQTT 3.1.1 clients, one
 * subscription each). The load generator speaks raw MQTT with pre-encoded packets
 * (bench/mqtt-wire.ts): publishers in a worker thread, the subscriber in this thread.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect, createServer, type Socket } from 'node:net'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { Worker } from 'node:worker_threads'
import { CONNACK, DISCONNECT, PUBACK, PUBLISH, PacketReader, SUBACK, connectPacket, publishTemplate, pubacks, subscribePacket } from './mqtt-wire.js'
import type { PublishersJob } from './broker-publishers.js'

const N = Number(process.argv[2] ?? 200_000)
const ONLY = new Set((process.argv[3] ?? 'qos0,qos1,latency,idle').split(','))
const ROUNDS = Number(process.env.BENCH_RUNS ?? 3)
const PUBLISHERS = 4
/** Worker threads the publishers run in (2 cores: one leaves a core to the broker). */
const PUBLISHER_THREADS = Number(process.env.BENCH_PUBLISHER_THREADS ?? 1)
/** Unacknowledged QoS 1 publishes per publisher. */
const WINDOW = Number(process.env.BENCH_WINDOW ?? 100)
/** QoS 1 messages a broker may have unacknowledged per subscriber (Junction's default, as EMQX's). */
const INFLIGHT = Number(process.env.BENCH_INFLIGHT ?? 32)
/** Per-session queue: the whole run fits, so that no broker drops messages of a slow subscriber. */
const MAX_QUEUED = Math.max(2 * N, 100_000)
const PAYLOAD = 64
const LATENCY_RATE = 5000
const LATENCY_MESSAGES = Math.max(5000, Math.round(N / 8))
/** Latency samples skipped at the start (the brokers' JIT warm-up, connection buffers). */
const LATENCY_WARMUP = Math.round(LATENCY_MESSAGES / 10)
const IDLE_CLIENTS = Number(process.env.BENCH_IDLE_CLIENTS ?? 5000)
/** Messages nobody received for this long end a run (QoS 0 may lose some). */
const STALL_MS = 5000

const root = new URL('..', import.meta.url).pathname
const runId = Math.random().toString(36).slice(2, 8)
const now = () => performance.timeOrigin + performance.now()
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a')
const middle = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

type BrokerKind = 'aedes' | 'junction' | 'mosquitto'
const BROKERS: readonly BrokerKind[] = ['aedes', 'junction', 'mosquitto']

// ---------------------------------------------------------------- processes

/** User + system CPU time (ms) of a process so far. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10 // USER_HZ = 100
}

/** Resident memory (bytes) of a process: now (VmRSS) and its peak (VmHWM). */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]) * 1024
  return { rss: kb('VmRSS'), peak: kb('VmHWM') }
}

const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)) })
})

interface BrokerProcess {
  readonly kind: BrokerKind
  readonly pid: number
  readonly port: number
  /**
   * Collects garbage first where the broker has a collector (Node), for memory readings; the
   * JavaScript heap in use then (Node brokers only).
   */
  settle(): Promise<number | undefined>
  stop(): Promise<void>
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()))
}

async function startNodeBroker(kind: 'aedes' | 'junction'): Promise<BrokerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--expose-gc', '--max-semi-space-size=32', 'bench/broker-server.ts', kind, '0', String(MAX_QUEUED), String(INFLIGHT)], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d) => { stderr += String(d) })
  const lines = createInterface({ input: child.stdout! })
  const waiting: Array<(line: string) => void> = []
  lines.on('line', (line) => waiting.shift()?.(line))
  const nextLine = () => new Promise<string>((resolve, reject) => {
    waiting.push(resolve)
    child.once('exit', (code) => reject(new Error(`${kind} broker exited ${code}: ${stderr.trim()}`)))
  })
  const { port } = JSON.parse(await nextLine()) as { port: number }
  return {
    kind, port, pid: child.pid!,
    async settle() {
      child.stdin!.write('gc\n')
      const { heapUsed } = JSON.parse(await nextLine()) as { heapUsed: number }
      await sleep(500)
      return heapUsed
    },
    async stop() {
      child.stdin!.end('close\n')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited(child)
      clearTimeout(timer)
    },
  }
}

function mosquittoVersion(): string {
  const out = spawnSync('/usr/sbin/mosquitto', ['-h'], { encoding: 'utf8' })
  return /mosquitto version (\S+)/.exec(out.stdout + out.stderr)?.[1] ?? 'unknown'
}

async function startMosquitto(): Promise<BrokerProcess> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'bench-mosquitto-'))
  const conf = join(dir, 'mosquitto.conf')
  writeFileSync(conf, [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    `max_queued_messages ${MAX_QUEUED}`,
    `max_inflight_messages ${INFLIGHT}`,
    'set_tcp_nodelay true',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    '',
  ].join('\n'))
  const child = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] })
  const deadline = Date.now() + 10_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited ${child.exitCode}`)
    const up = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true) })
      s.once('error', () => resolve(false))
    })
    if (up) break
    if (Date.now() > deadline) throw new Error('mosquitto did not listen')
    await sleep(50)
  }
  return {
    kind: 'mosquitto', port, pid: child.pid!,
    settle: () => sleep(500).then(() => undefined),
    async stop() {
      child.kill('SIGTERM')
      await exited(child)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

const startBroker = (kind: BrokerKind) => (kind === 'mosquitto' ? startMosquitto() : startNodeBroker(kind))

// ---------------------------------------------------------------- load generator

/** One raw MQTT connection: CONNECT, then every packet to `onPacket`. */
function mqttConnection(port: number, clientId: string, keepalive: number, onPacket: (type: number, flags: number, data: Buffer, start: number, end: number) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true })
    let connected = false
    const reader = new PacketReader((type, flags, data, start, end) => {
      if (connected) return onPacket(type, flags, data, start, end)
      if (type !== CONNACK || data[start + 1] !== 0) return reject(new Error(`${clientId}: no CONNACK (${type}/${data[start + 1]})`))
      connected = true
      resolve(socket)
    })
    socket.on('data', (chunk) => reader.feed(chunk))
    socket.once('error', reject)
    socket.write(connectPacket(clientId, keepalive))
  })
}

/** The subscriber on `bench/#`: counts messages by sequence number, acknowledges QoS 1 ones per read. */
class Subscriber {
  received = 0
  duplicates = 0
  /** Socket reads that delivered data: how the broker batches its writes. */
  reads = 0
  firstAt = 0
  lastAt = 0
  readonly latencies: number[] = []
  private readonly seen: Uint8Array
  private socket!: Socket
  private acks: number[] = []
  private subacked!: (granted: number) => void
  /** When the read being parsed arrived: one clock read per read, not per message. */
  private readAt = 0

  constructor(private readonly messages: number, private readonly recordLatencyFrom = Infinity) {
    this.seen = new Uint8Array(messages)
  }

  async open(port: number, qos: 0 | 1): Promise<void> {
    const granted = new Promise<number>((r) => { this.subacked = r })
    this.socket = await mqttConnection(port, `bench-sub-${runId}`, 0, (type, flags, data, start, end) => this.onPacket(type, flags, data, start, end))
    // Before the packet reader mqttConnection registered: the time is needed while it parses.
    this.socket.prependListener('data', () => { this.readAt = now(); this.reads++ })
    this.socket.on('data', () => {
      if (this.acks.length === 0) return
      this.socket.write(pubacks(this.acks))
      this.acks = []
    })
    this.socket.write(subscribePacket(1, 'bench/#', qos))
    const code = await granted
    if (code !== qos) throw new Error(`subscription granted QoS ${code}, asked ${qos}`)
  }

  private onPacket(type: number, flags: number, data: Buffer, start: number, end: number): void {
    if (type === SUBACK) return this.subacked(data[start + 2]!)
    if (type !== PUBLISH) return
    const qos = (flags >> 1) & 3
    let at = start + 2 + data.readUInt16BE(start)
    if (qos > 0) {
      this.acks.push(data.readUInt16BE(at))
      at += 2
    }
    if (end - at < 12) return
    const seq = data.readUInt32BE(at)
    const t = this.readAt
    if (this.received++ === 0) this.firstAt = t
    this.lastAt = t
    if (seq >= this.recordLatencyFrom) this.latencies.push(t - data.readDoubleBE(at + 4))
    if (seq < this.messages) {
      if (this.seen[seq]) this.duplicates++
      this.seen[seq] = 1
    }
  }

  /** Resolves when every message came, or none came for STALL_MS. */
  async drained(): Promise<void> {
    let last = -1
    let since = Date.now()
    while (this.received - this.duplicates < this.messages) {
      if (this.received !== last) { last = this.received; since = Date.now() }
      if (Date.now() - since > STALL_MS) return
      await sleep(5)
    }
  }

  get lost(): number {
    let missing = 0
    for (let i = 0; i < this.messages; i++) if (!this.seen[i]) missing++
    return missing
  }

  close(): Promise<void> {
    return new Promise((r) => { this.socket.once('close', () => r()); this.socket.end(DISCONNECT); setTimeout(() => { this.socket.destroy(); r() }, 2000) })
  }
}

/** Publishers in worker threads (this thread keeps the subscriber). */
async function startPublishers(port: number, qos: 0 | 1): Promise<{ go(): Promise<{ endedAt: number; acked: number }>; close(): Promise<void> }> {
  const url = new URL('./broker-publishers.ts', import.meta.url).href
  // Workers do not inherit tsx's loader; each registers it before loading the TypeScript module.
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url)}) })`
  const threads = Math.min(PUBLISHER_THREADS, PUBLISHERS)
  const workers = await Promise.all(Array.from({ length: threads }, (_, t) => new Promise<Worker>((resolve, reject) => {
    const job: PublishersJob = { port, indices: Array.from({ length: PUBLISHERS }, (_, i) => i).filter((i) => i % threads === t), total: PUBLISHERS, messages: N, qos, window: WINDOW, payloadSize: PAYLOAD, runId }
    const worker = new Worker(boot, { eval: true, workerData: job })
    worker.once('error', reject)
    worker.once('message', (m: { type: string }) => (m.type === 'ready' ? resolve(worker) : reject(new Error(String(m)))))
  })))
  return {
    async go() {
      const done = await Promise.all(workers.map((w) => new Promise<{ endedAt: number; acked: number }>((resolve, reject) => {
        w.once('message', resolve)
        w.once('error', reject)
        w.postMessage('go')
      })))
      return { endedAt: Math.max(...done.map((d) => d.endedAt)), acked: done.reduce((a, d) => a + d.acked, 0) }
    },
    async close() {
      await Promise.all(workers.map((w) => { const gone = new Promise((r) => w.once('exit', r)); w.postMessage('close'); return gone }))
    },
  }
}

// ---------------------------------------------------------------- scenarios

/** A run's figures by metric. */
type Figures = Record<string, number>

async function fanIn(broker: BrokerProcess, qos: 0 | 1): Promise<Figures> {
  const subscriber = new Subscriber(N)
  await subscriber.open(broker.port, qos)
  const publishers = await startPublishers(broker.port, qos)
  const cpu0 = cpuMs(broker.pid)
  const gen0 = process.cpuUsage()
  const reads0 = subscriber.reads
  const t0 = now()
  const published = await publishers.go()
  await subscriber.drained()
  const wallMs = subscriber.lastAt - t0
  const brokerCpu = cpuMs(broker.pid) - cpu0
  const gen = process.cpuUsage(gen0)
  const { peak } = memory(broker.pid)
  await publishers.close()
  await subscriber.close()
  const lost = subscriber.lost
  if (qos === 1 && published.acked !== N) console.log(`  ${broker.kind}: only ${published.acked} of ${N} publishes acknowledged`)
  return {
    'subscriber msg/s': (subscriber.received - 1) / ((subscriber.lastAt - subscriber.firstAt) / 1000),
    'publisher msg/s': N / ((published.endedAt - t0) / 1000),
    'lost': lost,
    'duplicates': subscriber.duplicates,
    'broker CPU s per 1M msgs': (brokerCpu * 1000) / N,
    'broker CPU % (of one core)': (brokerCpu / wallMs) * 100,
    'generator CPU µs/msg': ((gen.user + gen.system) / N),
    'messages per subscriber read': subscriber.received / (subscriber.reads - reads0),
    'broker peak RSS MB': peak / 2 ** 20,
  }
}

async function latency(broker: BrokerProcess): Promise<Figures> {
  const subscriber = new Subscriber(LATENCY_MESSAGES, LATENCY_WARMUP)
  await subscriber.open(broker.port, 1)
  const template = publishTemplate('bench/latency', PAYLOAD, 1)
  let acked = 0
  const socket = await mqttConnection(broker.port, `bench-pub-${runId}-latency`, 0, (type) => { if (type === PUBACK) acked++ })
  const cpu0 = cpuMs(broker.pid)
  const t0 = now()
  let sent = 0
  await new Promise<void>((resolve) => {
    // Paced in 1 ms ticks: each tick sends what is due by then, each with the tick's time.
    const timer = setInterval(() => {
      const due = Math.min(LATENCY_MESSAGES, Math.floor(((now() - t0) * LATENCY_RATE) / 1000))
      const n = Math.min(due - sent, WINDOW - (sent - acked))
      if (n > 0) {
        const size = template.bytes.length
        const buf = Buffer.allocUnsafe(size * n)
        const ts = now()
        for (let j = 0; j < n; j++) {
          template.bytes.copy(buf, j * size)
          buf.writeUInt16BE(((sent + j) % 65535) + 1, j * size + template.packetIdAt)
          buf.writeUInt32BE(sent + j, j * size + template.payloadAt)
          buf.writeDoubleBE(ts, j * size + template.payloadAt + 4)
        }
        socket.write(buf)
        sent += n
      }
      if (sent >= LATENCY_MESSAGES) { clearInterval(timer); resolve() }
    }, 1)
  })
  await subscriber.drained()
  const brokerCpu = cpuMs(broker.pid) - cpu0
  const wallMs = subscriber.lastAt - t0
  await new Promise<void>((r) => { socket.once('close', () => r()); socket.end(DISCONNECT); setTimeout(() => { socket.destroy(); r() }, 2000) })
  await subscriber.close()
  const sorted = subscriber.latencies.sort((a, b) => a - b)
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
  return {
    'p50 ms': pct(50),
    'p99 ms': pct(99),
    'max ms': sorted.at(-1)!,
    'lost': subscriber.lost,
    'broker CPU % (of one core)': (brokerCpu / wallMs) * 100,
  }
}

async function idle(broker: BrokerProcess): Promise<Figures> {
  const heapBefore = await broker.settle()
  const before = memory(broker.pid).rss
  const sockets: Socket[] = []
  const t0 = performance.now()
  // 100 handshakes at a time: bursts of thousands overflow listen backlogs (SYN retries, 1 s each).
  for (let i = 0; i < IDLE_CLIENTS; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, IDLE_CLIENTS - i) }, async (_, j) => {
      let subacked!: () => void
      const granted = new Promise<void>((r) => { subacked = r })
      const socket = await mqttConnection(broker.port, `bench-idle-${runId}-${i + j}`, 60, (type) => { if (type === SUBACK) subacked() })
      socket.write(subscribePacket(1, `bench/idle/${runId}/${i + j}`, 1))
      await granted
      sockets.push(socket)
    }))
  }
  const connectMs = performance.now() - t0
  const heapAfter = await broker.settle()
  const after = memory(broker.pid).rss
  for (const s of sockets) s.destroy()
  return {
    'RSS before MB': before / 2 ** 20,
    'RSS after MB': after / 2 ** 20,
    'bytes per connection': (after - before) / IDLE_CLIENTS,
    // RSS keeps heap pages the connect burst's garbage used; the live heap is the lower bound.
    'JS heap bytes per connection': heapBefore === undefined ? NaN : (heapAfter! - heapBefore) / IDLE_CLIENTS,
    'connects/s (CONNECT+SUBSCRIBE)': IDLE_CLIENTS / (connectMs / 1000),
  }
}

// ---------------------------------------------------------------- rounds and report

interface Scenario {
  readonly key: string
  readonly title: string
  readonly run: (broker: BrokerProcess) => Promise<Figures>
}

const SCENARIOS: Scenario[] = ([
  { key: 'qos0', title: `1. QoS 0 fan-in: ${PUBLISHERS} publishers -> 1 subscriber (bench/#), ${fmt(N)} messages of ${PAYLOAD} bytes`, run: (b: BrokerProcess) => fanIn(b, 0) },
  { key: 'qos1', title: `2. QoS 1 fan-in: ${PUBLISHERS} publishers (window ${WINDOW} each) -> 1 QoS 1 subscriber, ${fmt(N)} messages`, run: (b: BrokerProcess) => fanIn(b, 1) },
  { key: 'latency', title: `3. Latency at ${fmt(LATENCY_RATE)} msg/s, QoS 1, 1 publisher -> 1 subscriber, ${fmt(LATENCY_MESSAGES)} messages (first ${fmt(LATENCY_WARMUP)} not counted)`, run: latency },
  { key: 'idle', title: `4. Idle connections: ${fmt(IDLE_CLIENTS)} MQTT 3.1.1 clients, keepalive 60, one subscription each`, run: idle },
] satisfies Scenario[]).filter((s) => ONLY.has(s.key))

/** results[scenario][broker][round]; a failed run leaves its round empty. */
const results = new Map<string, Map<BrokerKind, Array<Figures | undefined>>>(SCENARIOS.map((s) => [s.key, new Map(BROKERS.map((b) => [b, []]))]))
const unavailable = new Map<BrokerKind, string>()
/** Runs that failed (a broker's error or a timeout), reported at the end. */
const failures: string[] = []
/** A run taking longer than this is abandoned (a broker that stopped answering). */
const RUN_TIMEOUT_MS = 60_000 + (N / 5000) * 1000
const withTimeout = <T>(work: Promise<T>, ms: number) => new Promise<T>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`no result after ${ms / 1000} s`)), ms)
  work.then((v) => { clearTimeout(timer); resolve(v) }, (e: unknown) => { clearTimeout(timer); reject(e as Error) })
})
/** Metrics that count things (printed without decimals). */
const COUNTS = new Set(['lost', 'duplicates'])

const aedesVersion = (JSON.parse(readFileSync(join(root, 'node_modules/aedes/package.json'), 'utf8')) as { version: string }).version
console.log(`Broker benchmark, ${new Date().toISOString()}: ${fmt(N)} messages per throughput run, ${ROUNDS} rounds`)
console.log(`machine: ${cpus().length} cores (nproc), ${cpus()[0]?.model ?? 'unknown CPU'}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
console.log(`node ${process.version}; aedes ${aedesVersion}; mosquitto ${mosquittoVersion()}; max inflight ${INFLIGHT}, max queued ${fmt(MAX_QUEUED)}; publishers in ${PUBLISHER_THREADS} worker thread(s)`)

for (let round = 0; round < ROUNDS; round++) {
  for (const scenario of SCENARIOS) {
    // Each round starts with another broker, so no broker always runs first (or last).
    const order = BROKERS.map((_, i) => BROKERS[(i + round) % BROKERS.length]!)
    for (const kind of order) {
      if (unavailable.has(kind)) continue
      let broker: BrokerProcess
      try {
        broker = await startBroker(kind)
      } catch (err) {
        // A broker that fails to start (or is missing from the tree) leaves the others to be measured.
        const why = `failed to start: ${(err as Error).message}`
        unavailable.set(kind, why)
        console.log(`${kind}: not available (${why})`)
        continue
      }
      try {
        const figures = await withTimeout(scenario.run(broker), RUN_TIMEOUT_MS)
        results.get(scenario.key)!.get(kind)![round] = figures
        console.log(`round ${round + 1} ${scenario.key} ${kind}: ${Object.entries(figures).map(([k, v]) => `${k} ${fmt(v, COUNTS.has(k) || v >= 10 ? 0 : 2)}`).join(', ')}`)
      } catch (err) {
        failures.push(`round ${round + 1} ${scenario.key} ${kind}: ${(err as Error).message}`)
        console.log(failures.at(-1))
      } finally {
        await broker.stop()
      }
    }
  }
}

console.log(`\nload average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
const ratio = (scenario: string, metric: string, a: BrokerKind, b: BrokerKind): string => {
  const as = results.get(scenario)!.get(a)!
  const bs = results.get(scenario)!.get(b)!
  const rs = as.map((f, i) => (f && bs[i] ? f[metric]! / bs[i]![metric]! : NaN)).filter((r) => Number.isFinite(r))
  if (rs.length === 0) return 'n/a'
  const spread = rs.length > 1 ? ` (${Math.min(...rs).toFixed(2)}-${Math.max(...rs).toFixed(2)})` : ''
  return `${middle(rs).toFixed(2)}${spread}`
}
for (const scenario of SCENARIOS) {
  const byBroker = results.get(scenario.key)!
  const metrics = Object.keys([...byBroker.values()].flat().find((f) => f !== undefined) ?? {})
  console.log(`\n${scenario.title}\n`)
  console.log('| metric | aedes | junction | mosquitto | junction / mosquitto | junction / aedes | aedes / mosquitto |')
  console.log('| --- | --- | --- | --- | --- | --- | --- |')
  for (const metric of metrics) {
    const cell = (kind: BrokerKind) => {
      const runs = byBroker.get(kind)!.filter((f) => f !== undefined)
      if (runs.length === 0) return unavailable.has(kind) ? 'not available' : 'n/a'
      const m = middle(runs.map((f) => f[metric]!))
      return fmt(m, COUNTS.has(metric) || Math.abs(m) >= 10 ? 0 : 2)
    }
    console.log(`| ${metric} | ${cell('aedes')} | ${cell('junction')} | ${cell('mosquitto')} | ${ratio(scenario.key, metric, 'junction', 'mosquitto')} | ${ratio(scenario.key, metric, 'junction', 'aedes')} | ${ratio(scenario.key, metric, 'aedes', 'mosquitto')} |`)
  }
}
for (const [kind, why] of unavailable) console.log(`\n${kind}: not available (${why})`)
for (const failure of failures) console.log(`failed: ${failure}`)
console.log(`\nMedians of ${ROUNDS} rounds; ratios are medians of each round's ratio (range in brackets).`)
// Workers or sockets of an abandoned run may still wait for a broker that is gone.
process.exit(0)
