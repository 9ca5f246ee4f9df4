/**
 * Redis benchmark: a raw ioredis pipeline per batch vs Junction's Redis channel (`sendBatch`, as
 * the action worker drives it: batches of the type's default size, several in flight on the one
 * connection), the same HSET commands with the same arguments, against the machine's Redis. In
 * pairs (one right after the other, the order alternating, so both see the machine in the same state), medians and the
 * median of the pairs' ratios; per-batch latency p50/p99. Prints figures; asserts nothing.
 *
 *   node --import tsx bench/redis.ts [messages=100000] [inflight=8]
 *   node --import tsx bench/redis.ts 300000 path     # the whole MQTT -> rule -> Redis path
 *
 * `path`: like bench/data-path.ts, a publisher process (bench/publisher.mjs, QoS 1) into a fresh
 * Junction with a rule whose action runs the HSET, vs the ceiling min(bare broker ingest, raw
 * ioredis pipeline rate), measured right before it; every key is counted afterwards.
 * Keys live under a unique prefix and are deleted after each run; nothing is flushed.
 */
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import type { ChannelMessage } from '../src/connector-api/index.js'
import { redisConnector } from '../src/connectors/redis/definition.js'
import { paramsWithDefaults, testContext, withDefaults } from '../test/support/connector-battery.js'
import { sharedRedis } from '../test/support/redis.js'
import {
  actionOf, bareIngest, ensureJunctionHeap, fmt, middle, ownCpuUs, pct, publish, quantile, ratioRange, settledAll, waitConnected, waitFor, withJunction,
} from './support.js'

// Only the whole path runs a Junction.
if (process.argv[3] === 'path') ensureJunctionHeap()

const N = Number(process.argv[2] ?? 100_000)
const PATH = process.argv[3] === 'path'
const INFLIGHT = PATH ? 8 : Number(process.argv[3] ?? 8)
const RUNS = Number(process.env.BENCH_RUNS ?? 5)
const BATCH = redisConnector.batching?.maxSize ?? 500
const { host, port } = sharedRedis()

interface Run { readonly rate: number; readonly p50: number; readonly p99: number; readonly cpuUs: number }

/** What a rule outputs per message. */
const messages: ChannelMessage[] = Array.from({ length: N }, (_, i) => ({ id: `d${i}`, temp: 20 + (i % 100) / 10, note: i % 10 === 0 ? undefined : `note ${i}` }))

/** Sends every batch with at most INFLIGHT in flight; the rate and each batch's latency. */
async function drive(sendBatch: (batch: readonly ChannelMessage[]) => Promise<void>): Promise<Run> {
  const latencies: number[] = []
  let next = 0
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  const lane = async () => {
    while (next < N) {
      const batch = messages.slice(next, next + BATCH)
      next += BATCH
      const s = performance.now()
      await sendBatch(batch)
      latencies.push(performance.now() - s)
    }
  }
  await Promise.all(Array.from({ length: INFLIGHT }, lane))
  const cpuUs = ownCpuUs(cpu0) / N
  return { rate: N / ((performance.now() - t0) / 1000), p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), cpuUs }
}

async function cleanup(client: Redis, prefix: string): Promise<number> {
  let cursor = '0'
  let found = 0
  do {
    const [nextCursor, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000)
    cursor = nextCursor
    found += keys.length
    if (keys.length > 0) await client.unlink(...keys)
  } while (cursor !== '0')
  return found
}

/** The same HSET as the channel's template renders: missing note -> "". */
async function raw(admin: Redis): Promise<Run> {
  const prefix = `bench-redis:${randomBytes(4).toString('hex')}:`
  const client = new Redis({ host, port, enableOfflineQueue: false, maxRetriesPerRequest: 0 })
  await new Promise((resolve) => client.once('ready', resolve))
  try {
    const run = await drive(async (batch) => {
      const p = client.pipeline()
      for (const m of batch) p.call('HSET', `${prefix}${m.id as string}`, 'temp', String(m.temp), 'note', (m.note as string | undefined) ?? '')
      const replies = await p.exec()
      if (!replies || replies.some(([err]) => err)) throw new Error('raw pipeline failed')
    })
    const written = await cleanup(admin, prefix)
    if (written !== N) throw new Error(`raw: ${written} keys of ${N}`)
    return run
  } finally {
    client.disconnect()
  }
}

async function junction(admin: Redis): Promise<Run> {
  const prefix = `bench-redis:${randomBytes(4).toString('hex')}:`
  const connector = redisConnector.create(withDefaults(redisConnector, { servers: `${host}:${port}` }) as never, testContext('bench'))
  await connector.start(AbortSignal.timeout(10_000))
  try {
    const params = paramsWithDefaults(redisConnector, { command: ['HSET', `${prefix}\${id}`, 'temp', '${temp}', 'note', '${note}'] })
    const channel = await connector.openChannel!(params as never)
    const run = await drive((batch) => channel.sendBatch!(batch, AbortSignal.timeout(30_000)))
    const written = await cleanup(admin, prefix)
    if (written !== N) throw new Error(`junction: ${written} keys of ${N}`)
    return run
  } finally {
    await connector.stop(AbortSignal.timeout(5_000))
  }
}

/** MQTT -> rule -> Redis action in a fresh Junction: messages/s from the first publish to the last acknowledged HSET. */
async function wholePath(admin: Redis): Promise<number> {
  const prefix = `bench-redis:${randomBytes(4).toString('hex')}:`
  return withJunction(async (j, url) => {
    const c = await j.connectors.create('default', { name: 'bench-redis', type: 'redis', config: { servers: `${host}:${port}` } })
    await waitConnected(j, c.id)
    const rule = await j.rules.create('default', {
      name: 'to-redis', sql: 'SELECT payload.seq AS seq, payload.temp AS temp, clientid FROM "bench/redis"',
      actions: [{ connectorId: c.id, params: { command: ['HSET', `${prefix}\${seq}`, 'temp', '${temp}', 'client', '${clientid}'] } }],
    })
    const action = actionOf(j, rule.id)
    // From the first message in (as the bare ingest counts), so the publisher's start-up is not counted.
    const pub = publish(url, 'bench/redis', N, { publisher: 'lean' })
    const t0 = await waitFor('first', () => j.deployments.runtime('default').rules.metrics(rule.id)!.rule.matched > 0)
    const cpu0 = process.cpuUsage()
    const last = await waitFor('redis delivered', () => settledAll(action(), N))
    const cpuUs = ownCpuUs(cpu0)
    await pub
    const a = action()
    const written = await cleanup(admin, prefix)
    console.log(`    junction: ${a.success} ok, ${a.failed} failed, ${a.dropped} dropped; ${written} keys in Redis; CPU ${(cpuUs / N).toFixed(1)} µs/msg, ${pct(cpuUs / 1000 / (last - t0))} of a core`)
    return N / ((last - t0) / 1000)
  })
}

if (PATH) {
  const admin = new Redis({ host, port })
  console.log(`MQTT -> rule -> Redis, ${fmt(N)} QoS 1 messages per run, ${RUNS} pairs (ceiling right before Junction)`)
  const ratios: number[] = []
  const ceilings: number[] = []
  const rates: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const ingest = await bareIngest(N)
    const rawRate = (await raw(admin)).rate
    const ceiling = Math.min(ingest, rawRate)
    const rate = await wholePath(admin)
    ceilings.push(ceiling)
    rates.push(rate)
    ratios.push(rate / ceiling)
    console.log(`  pair ${i + 1}: ingest ${fmt(ingest)}, raw ioredis ${fmt(rawRate)} -> ceiling ${fmt(ceiling)} msg/s; junction ${fmt(rate)} msg/s, ${pct(rate / ceiling)}`)
  }
  console.log(`\nceiling ${fmt(middle(ceilings))} msg/s, junction ${fmt(middle(rates))} msg/s, ratio ${pct(middle(ratios))} (pairs ${ratioRange(ratios)})`)
  admin.disconnect()
  process.exit(0)
}

const admin = new Redis({ host, port })
console.log(`Redis ${host}:${port}: ${fmt(N)} HSETs, batches of ${BATCH}, ${INFLIGHT} in flight, ${RUNS} pairs`)
await raw(admin) // warm-up: connections, JIT, the server's allocator
await junction(admin)
const pairs: Array<{ raw: Run; junction: Run }> = []
for (let i = 0; i < RUNS; i++) {
  // Alternating which goes first keeps the order (a server still freeing the last run's keys) out of the ratio.
  const first = i % 2 === 0 ? await raw(admin) : await junction(admin)
  const second = i % 2 === 0 ? await junction(admin) : await raw(admin)
  const [r, j] = i % 2 === 0 ? [first, second] : [second, first]
  pairs.push({ raw: r, junction: j })
  console.log(`  pair ${i + 1}: raw ${fmt(r.rate)} msg/s (p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, CPU ${r.cpuUs.toFixed(1)} µs/msg), junction ${fmt(j.rate)} msg/s (p50 ${j.p50.toFixed(1)} ms, p99 ${j.p99.toFixed(1)} ms, CPU ${j.cpuUs.toFixed(1)} µs/msg), ${pct(j.rate / r.rate)}`)
}
const med = (pick: (p: { raw: Run; junction: Run }) => number) => middle(pairs.map(pick))
const ratios = pairs.map((p) => p.junction.rate / p.raw.rate)
console.log('\n| client | msg/s | batch p50 ms | batch p99 ms | CPU µs/msg |\n| --- | --- | --- | --- | --- |')
console.log(`| raw ioredis pipeline | ${fmt(med((p) => p.raw.rate))} | ${med((p) => p.raw.p50).toFixed(1)} | ${med((p) => p.raw.p99).toFixed(1)} | ${med((p) => p.raw.cpuUs).toFixed(1)} |`)
console.log(`| Junction channel | ${fmt(med((p) => p.junction.rate))} | ${med((p) => p.junction.p50).toFixed(1)} | ${med((p) => p.junction.p99).toFixed(1)} | ${med((p) => p.junction.cpuUs).toFixed(1)} |`)
console.log(`\nratio (median of pairs): ${pct(middle(ratios))} (pairs ${ratioRange(ratios)}); zero loss: every key counted after each run`)
admin.disconnect()
