/**
 * Redis benchmark: a raw ioredis pipeline per batch vs Junction's Redis channel (`sendBatch`, as
 * the action worker drives it: batches of the type's default size, several in flight on the one
 * connection), the same HSET commands with the same arguments, against the machine's Redis. In
 * pairs (one right after the other, the order alternating, so both see the machine in the same state), medians and the
 * median of the pairs' ratios; per-batch latency p50/p99. Prints figures; asserts nothing.
 *
 *   node --import tsx bench/redis.ts [messages=100000] [inflight=8]
 *
 * Keys live under a unique prefix and are deleted after each run; nothing is flushed.
 */
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import type { ChannelMessage } from '../src/connector-api/index.js'
import { redisConnector } from '../src/connectors/redis/definition.js'
import { paramsWithDefaults, testContext, withDefaults } from '../test/support/connector-battery.js'
import { sharedRedis } from '../test/support/redis.js'

const N = Number(process.argv[2] ?? 100_000)
const INFLIGHT = Number(process.argv[3] ?? 8)
const RUNS = Number(process.env.BENCH_RUNS ?? 5)
const BATCH = redisConnector.batching?.maxSize ?? 500
const { host, port } = sharedRedis()

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
const middle = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const quantile = (values: number[], q: number) => values.sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))]!

interface Run { readonly rate: number; readonly p50: number; readonly p99: number }

/** What a rule outputs per message. */
const messages: ChannelMessage[] = Array.from({ length: N }, (_, i) => ({ id: `d${i}`, temp: 20 + (i % 100) / 10, note: i % 10 === 0 ? undefined : `note ${i}` }))

/** Sends every batch with at most INFLIGHT in flight; the rate and each batch's latency. */
async function drive(sendBatch: (batch: readonly ChannelMessage[]) => Promise<void>): Promise<Run> {
  const latencies: number[] = []
  let next = 0
  const t0 = performance.now()
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
  return { rate: N / ((performance.now() - t0) / 1000), p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) }
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
  console.log(`  pair ${i + 1}: raw ${fmt(r.rate)} msg/s (p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms), junction ${fmt(j.rate)} msg/s (p50 ${j.p50.toFixed(1)} ms, p99 ${j.p99.toFixed(1)} ms), ${Math.round((j.rate / r.rate) * 100)}%`)
}
const med = (pick: (p: { raw: Run; junction: Run }) => number) => middle(pairs.map(pick))
const ratios = pairs.map((p) => p.junction.rate / p.raw.rate)
console.log('\n| client | msg/s | batch p50 ms | batch p99 ms |\n| --- | --- | --- | --- |')
console.log(`| raw ioredis pipeline | ${fmt(med((p) => p.raw.rate))} | ${med((p) => p.raw.p50).toFixed(1)} | ${med((p) => p.raw.p99).toFixed(1)} |`)
console.log(`| Junction channel | ${fmt(med((p) => p.junction.rate))} | ${med((p) => p.junction.p50).toFixed(1)} | ${med((p) => p.junction.p99).toFixed(1)} |`)
console.log(`\nratio (median of pairs): ${Math.round(middle(ratios) * 100)}% (pairs ${Math.round(Math.min(...ratios) * 100)}-${Math.round(Math.max(...ratios) * 100)}%); zero loss: every key counted after each run`)
admin.disconnect()
