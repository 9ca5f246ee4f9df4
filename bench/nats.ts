/**
 * NATS JetStream benchmark: the raw nats.js client against Junction's NATS connector, in pairs
 * (each run measures its ceiling right before Junction), and the ratios. Prints figures; asserts
 * nothing.
 *
 *   node --import tsx bench/nats.ts [messages=200000] [scenarios=channel,path,latency]
 *
 * Needs the machine's nats-server with JetStream on 127.0.0.1:4222 (JUNCTION_TEST_NATS_SERVERS).
 * Every run publishes into a fresh stream of its own (file storage, as a user's stream would be),
 * deleted afterwards.
 * - channel: the raw client (the faster of `js.publish` and core publishes with reply subjects on
 *   one inbox) in batches of the type's batch size (100), all of a batch published at once and its
 *   PubAcks awaited together, with as many batches in flight as an action keeps (the channel's
 *   concurrency, 4), vs the connector's channel `sendBatch` driven the same way;
 * - path: Junction's ingest (MQTT -> rule, no action) vs MQTT -> rule -> NATS action -> PubAck,
 *   read back from the stream (zero loss and no duplicate checked by `seq`);
 * - latency: the whole path at a fixed 5,000 msg/s, publish -> stored in the stream, p50/p99.
 */
import { randomBytes } from 'node:crypto'
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream'
import { connect, createInbox, type NatsConnection } from '@nats-io/transport-node'
import type { Channel, ChannelMessage } from '../src/connector-api/index.js'
import type { NatsConfig, NatsParams } from '../src/connectors/nats/config-schema.js'
import { natsConnector } from '../src/connectors/nats/definition.js'
import { paramsWithDefaults, testContext, withDefaults } from '../test/support/connector-battery.js'
import { sharedNatsServers } from '../test/support/nats.js'
import { actionOf, ensureJunctionHeap, fmt, machineCpu, machineLine, machineUsPerMessage, middle, ownCpuUs, pct, publish, quantile, ratioRange, settledAll, sharedCpuBound, waitConnected, waitFor, withJunction } from './support.js'

ensureJunctionHeap()

const N = Number(process.argv[2] ?? 200_000)
const ONLY = new Set((process.argv[3] ?? 'channel,path,latency').split(','))
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const SERVERS = sharedNatsServers()
const BATCH = natsConnector.batching!.maxSize
/** Batches in flight: as many as an action keeps on this channel (its `concurrency`). */
const WINDOW = 4

let admin: NatsConnection
let jsm: JetStreamManager

/** A fresh stream for one run: its name and the subject prefix it captures. */
async function freshStream(): Promise<{ name: string; prefix: string }> {
  const id = randomBytes(4).toString('hex')
  const s = { name: `BENCH_${id}`, prefix: `bench.nats.${id}` }
  await jsm.streams.add({ name: s.name, subjects: [`${s.prefix}.>`] })
  return s
}

/** Every stored message's `seq` and publish -> stored latency (ms); fails on a duplicate. */
async function readStream(name: string): Promise<{ count: number; latencies: number[] }> {
  const consumer = await jetstream(admin).consumers.get(name)
  const { state } = await jsm.streams.info(name)
  const seen = new Set<number>()
  const latencies: number[] = []
  const messages = await consumer.consume({ max_messages: 1000 })
  for await (const m of messages) {
    const body = m.json<{ seq: number; ts?: number }>()
    if (seen.has(body.seq)) throw new Error(`seq ${body.seq} stored twice`)
    seen.add(body.seq)
    if (body.ts !== undefined) latencies.push(m.info.timestampNanos / 1e6 - body.ts)
    if (m.seq >= state.last_seq) break
  }
  await messages.close()
  await jsm.streams.delete(name)
  return { count: seen.size, latencies }
}

const record = (seq: number): ChannelMessage => ({ seq, temp: (seq % 400) / 10, clientid: 'dev-1' })

/** Drives `sendBatch(batch)` over N records the way an action does: batches of BATCH, WINDOW in flight. */
async function drive(sendBatch: (batch: ChannelMessage[]) => Promise<void>): Promise<{ rate: number; p50: number; p99: number; cpu: number; machineUs: number }> {
  const times: number[] = []
  const cpu0 = process.cpuUsage()
  const m0 = machineCpu()
  const inflight = new Set<Promise<void>>()
  const t0 = performance.now()
  for (let off = 0; off < N; off += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, N - off) }, (_, i) => record(off + i))
    const started = performance.now()
    const p: Promise<void> = sendBatch(batch).then(() => { times.push(performance.now() - started); inflight.delete(p) })
    inflight.add(p)
    if (inflight.size >= WINDOW) await Promise.race(inflight)
  }
  await Promise.all(inflight)
  // CPU per message of this process (the client side): steadier than rates on a shared machine.
  const cpu = ownCpuUs(cpu0) / N
  const machineUs = machineUsPerMessage(m0, N)
  console.log(`    client: ${machineLine(m0, N)}`)
  return { rate: N / ((performance.now() - t0) / 1000), p50: quantile(times, 0.5), p99: quantile(times, 0.99), cpu, machineUs }
}

/**
 * The raw client doing the same writes, the faster of two ways: `js.publish` (nats.js's JetStream
 * client: a request per message) and core publishes with reply subjects on one inbox subscription
 * (what the connector does), each batch published at once and its PubAcks awaited together.
 */
async function rawClient(kind: 'js.publish' | 'inbox'): Promise<{ rate: number; p50: number; p99: number; cpu: number; machineUs: number; count: number }> {
  const s = await freshStream()
  const nc = await connect({ servers: SERVERS.split(','), reconnect: false })
  const js = jetstream(nc)
  const subject = `${s.prefix}.dev-1`
  const encoder = new TextEncoder()
  const inbox = createInbox()
  const waiting = new Map<string, () => void>()
  nc.subscribe(`${inbox}.*`, { callback: (_, m) => { waiting.get(m.subject)?.(); waiting.delete(m.subject) } })
  let next = 0
  const one = (m: ChannelMessage): Promise<unknown> => {
    if (kind === 'js.publish') return js.publish(subject, encoder.encode(JSON.stringify(m)), { timeout: 5_000 })
    const reply = `${inbox}.${next++}`
    return new Promise<void>((resolve) => { waiting.set(reply, resolve); nc.publish(subject, encoder.encode(JSON.stringify(m)), { reply }) })
  }
  const r = await drive(async (batch) => { await Promise.all(batch.map(one)) })
  await nc.close()
  return { ...r, count: (await readStream(s.name)).count }
}

async function bestRaw(): Promise<{ rate: number; p50: number; p99: number; cpu: number; machineUs: number; count: number; kind: string }> {
  const a = { ...(await rawClient('js.publish')), kind: 'js.publish' }
  const b = { ...(await rawClient('inbox')), kind: 'inbox' }
  console.log(`    raw js.publish ${fmt(a.rate)} msg/s (${a.cpu.toFixed(1)} µs CPU/msg), raw inbox ${fmt(b.rate)} msg/s (${b.cpu.toFixed(1)} µs CPU/msg)`)
  return a.rate > b.rate ? a : b
}

async function junctionChannel(): Promise<{ rate: number; p50: number; p99: number; cpu: number; machineUs: number; count: number }> {
  const s = await freshStream()
  const c = natsConnector.create(withDefaults(natsConnector, { servers: SERVERS }) as NatsConfig, testContext('bench'))
  await c.start(AbortSignal.timeout(10_000))
  const channel: Channel = await c.openChannel!(paramsWithDefaults(natsConnector, { subject: `${s.prefix}.\${clientid}` }) as NatsParams)
  const r = await drive((batch) => channel.sendBatch!(batch, AbortSignal.timeout(30_000)))
  await c.stop(AbortSignal.timeout(5_000))
  return { ...r, count: (await readStream(s.name)).count }
}

/** Junction's ingest with a matching rule and no action: the other ceiling of the path. */
const ingest = () => withJunction(async (j, url) => {
  const rule = await j.rules.create('default', { name: 'ingest', sql: 'SELECT payload.seq AS seq, payload.temp AS temp, clientid FROM "bench/ingest"', actions: [] })
  const metrics = () => j.deployments.runtime('default').rules.metrics(rule.id)!.rule
  const pub = publish(url, 'bench/ingest', N, { publisher: 'lean' })
  const first = await waitFor('first', () => metrics().matched > 0)
  const m0 = machineCpu()
  const last = await waitFor('ingest', () => metrics().passed >= N)
  const machineUs = machineUsPerMessage(m0, N)
  console.log(`    ingest: ${machineLine(m0, N)}`)
  await pub
  return { rate: (N - 1) / ((last - first) / 1000), machineUs }
})

/** MQTT -> rule -> NATS action; the rate until every message is acknowledged by the stream. */
const wholePath = (rate = 0) => withJunction(async (j, url) => {
  const s = await freshStream()
  const c = await j.connectors.create('default', { name: `nats-${s.name}`, type: 'nats', config: { servers: SERVERS } })
  await waitConnected(j, c.id)
  const rule = await j.rules.create('default', {
    name: 'to-nats', sql: 'SELECT payload.seq AS seq, payload.ts AS ts, payload.temp AS temp, clientid FROM "bench/nats"',
    actions: [{ connectorId: c.id, params: { subject: `${s.prefix}.\${clientid}` } }],
  })
  const action = actionOf(j, rule.id)
  // Timed from the first message the rule sees, as the ingest ceiling is (not the publisher's start-up).
  const pub = publish(url, 'bench/nats', N, { rate, publisher: 'lean' })
  const first = await waitFor('first', () => j.deployments.runtime('default').rules.metrics(rule.id)!.rule.matched > 0)
  const m0 = machineCpu()
  const last = await waitFor('delivered', () => settledAll(action(), N))
  const machineUs = machineUsPerMessage(m0, N)
  if (rate === 0) console.log(`    path: ${machineLine(m0, N)}`)
  await pub
  const a = action()
  const stored = await readStream(s.name)
  return { rate: (N - 1) / ((last - first) / 1000), machineUs, failed: a.failed + a.dropped, loss: N - stored.count, latencies: stored.latencies }
})

admin = await connect({ servers: SERVERS.split(','), reconnect: false })
jsm = await jetstreamManager(admin)
console.log(`NATS JetStream benchmark: ${fmt(N)} messages per run, ${RUNS} pairs, batches of ${BATCH}, ${WINDOW} in flight`)

if (ONLY.has('channel')) {
  console.log('channel: raw nats.js client (pipelined batches) vs the connector channel sendBatch')
  const ratios: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const raw = await bestRaw()
    const ch = await junctionChannel()
    ratios.push(ch.rate / raw.rate)
    console.log(`  run ${i + 1}: raw (${raw.kind}) ${fmt(raw.rate)} msg/s (batch ack p50 ${raw.p50.toFixed(1)} ms, p99 ${raw.p99.toFixed(1)} ms, stored ${fmt(raw.count)}), ` +
      `channel ${fmt(ch.rate)} msg/s (${ch.cpu.toFixed(1)} µs CPU/msg, p50 ${ch.p50.toFixed(1)} ms, p99 ${ch.p99.toFixed(1)} ms, stored ${fmt(ch.count)}), ${pct(ratios[i]!)}`)
  }
  console.log(`  channel/raw: median ${pct(middle(ratios))} (runs ${ratioRange(ratios)})`)
}

if (ONLY.has('path')) {
  console.log('path: min(Junction ingest, raw client) vs MQTT -> rule -> NATS JetStream action')
  const ratios: number[] = []
  const bounds: number[] = []
  const efficiencies: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const ingested = await ingest()
    const raw = await bestRaw()
    const path = await wholePath()
    const ceiling = Math.min(ingested.rate, raw.rate)
    ratios.push(path.rate / ceiling)
    bounds.push(sharedCpuBound(ingested, raw))
    efficiencies.push((ingested.machineUs + raw.machineUs) / path.machineUs)
    console.log(`  run ${i + 1}: ingest ${fmt(ingested.rate)} msg/s, raw ${fmt(raw.rate)} msg/s, path ${fmt(path.rate)} msg/s ` +
      `(failed ${path.failed}, lost ${path.loss}), ${pct(ratios[i]!)} of min; CPU per message: ingest ${ingested.machineUs.toFixed(1)} + raw ${raw.machineUs.toFixed(1)} µs ` +
      `= ${(ingested.machineUs + raw.machineUs).toFixed(1)}, path ${path.machineUs.toFixed(1)} µs; shared-CPU bound ${pct(bounds[i]!)} of min`)
  }
  console.log(`  path/min(ingest, raw): median ${pct(middle(ratios))} (runs ${ratioRange(ratios)}); ` +
    `the bound when all share the machine's cores: ${pct(middle(bounds))}; (ingest + raw CPU) / path CPU: ${pct(middle(efficiencies))} (runs ${ratioRange(efficiencies)})`)
}

if (ONLY.has('latency')) {
  const rate = 5_000
  const r = await wholePath(rate)
  console.log(`latency at ${fmt(rate)} msg/s: publish -> stored p50 ${quantile(r.latencies, 0.5).toFixed(1)} ms, p99 ${quantile(r.latencies, 0.99).toFixed(1)} ms (failed ${r.failed}, lost ${r.loss})`)
}

await admin.close()
