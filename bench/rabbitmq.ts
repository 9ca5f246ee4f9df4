/**
 * RabbitMQ benchmark: plain amqplib publishing with publisher confirms vs Junction doing the same
 * writes, in pairs (each run measures amqplib right before Junction, so both see the machine in
 * the same state), and the ratios. Prints figures; asserts nothing.
 *
 *   node --import tsx bench/rabbitmq.ts [messages=100000] [runs=3] [batch=100] [inflight=8] [persistent|non_persistent] [channel,path]
 *
 * - channel: Junction's RabbitMQ channel (`sendBatch`) driven as the runtime drives it;
 * - path: the whole MQTT -> rule -> RabbitMQ action path in a Junction in this process, fed QoS 1
 *   by `bench/publisher.mjs` (4 connections, window 500, as bench/data-path.ts), timed from the
 *   first publish to the last action success.
 *
 * Both sides: `inflight` confirm channels on one connection, each publishing a batch of `batch`
 * messages (delivery mode as given, mandatory, body = the message as JSON) back to back and then waiting for
 * every confirm, as the runtime drives a channel (the type's default batch size and poolSize).
 * Every run checks that the queue holds exactly the messages sent (zero loss), then purges it.
 * Needs the machine's RabbitMQ on 127.0.0.1:5672 (guest/guest).
 */
import { randomBytes } from 'node:crypto'
import amqp from 'amqplib'
import type { Channel, ChannelMessage } from '../src/connector-api/index.js'
import type { RabbitmqConfig, RabbitmqParams } from '../src/connectors/rabbitmq/config-schema.js'
import { rabbitmqConnector } from '../src/connectors/rabbitmq/definition.js'
import { paramsWithDefaults, testContext, withDefaults } from '../test/support/connector-battery.js'
import { amqpUrl, sharedRabbitmq } from '../test/support/rabbitmq.js'
import { actionOf, fmt, middle, ownCpuUs, pct, publish, quantile, ratioRange, settledAll, waitConnected, waitFor, withJunction } from './support.js'

const N = Number(process.argv[2] ?? 100_000)
const RUNS = Number(process.argv[3] ?? 3)
const BATCH = Number(process.argv[4] ?? 100)
const INFLIGHT = Number(process.argv[5] ?? 8)
const MODE = (process.argv[6] ?? 'persistent') as 'persistent' | 'non_persistent'
const SCENARIOS = new Set((process.argv[7] ?? 'channel,path').split(','))
const RABBIT = sharedRabbitmq()
const tag = randomBytes(4).toString('hex')
const exchange = `junction-bench-x-${tag}`
const queue = `junction-bench-q-${tag}`

const messages: ChannelMessage[] = Array.from({ length: N }, (_, i) => ({
  id: `m-${i}`, temp: i / 2, note: `note ${i}`, clientid: `dev-${i % 100}`, topic: `site/${i % 100}/temp`,
}))
const batches: ChannelMessage[][] = []
for (let i = 0; i < N; i += BATCH) batches.push(messages.slice(i, i + BATCH))

/** Messages/s, batch latencies, and this process's CPU per message (the client's, or Junction's). */
interface Run { readonly rate: number; readonly p50: number; readonly p99: number; readonly cpuUs: number }

/** Sends every batch with `inflight` workers pulling the next one; times each batch. */
async function drive(send: (batch: ChannelMessage[], worker: number) => Promise<void>): Promise<Run> {
  let next = 0
  const latencies: number[] = []
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await Promise.all(Array.from({ length: INFLIGHT }, async (_, w) => {
    while (next < batches.length) {
      const b = batches[next++]!
      const s = performance.now()
      await send(b, w)
      latencies.push(performance.now() - s)
    }
  }))
  const seconds = (performance.now() - t0) / 1000
  const cpuUs = ownCpuUs(cpu0) / N
  return { rate: N / seconds, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), cpuUs }
}

async function rawAmqplib(): Promise<Run> {
  const conn = await amqp.connect(amqpUrl(RABBIT))
  try {
    const channels = await Promise.all(Array.from({ length: INFLIGHT }, () => conn.createConfirmChannel()))
    return await drive((batch, w) => new Promise<void>((resolve, reject) => {
      let waiting = batch.length
      const ch = channels[w]!
      for (const m of batch) {
        ch.publish(exchange, `readings.${String(m.id)}`, Buffer.from(JSON.stringify(m)), { persistent: MODE === 'persistent', mandatory: true }, (err: unknown) => {
          if (err) reject(err)
          else if (--waiting === 0) resolve()
        })
      }
    }))
  } finally {
    await conn.close()
  }
}

async function junction(): Promise<Run> {
  const config = withDefaults(rabbitmqConnector, { server: RABBIT.host, port: RABBIT.port, username: RABBIT.username, password: RABBIT.password, poolSize: INFLIGHT })
  const connector = rabbitmqConnector.create(config as RabbitmqConfig, testContext('bench'))
  await connector.start(AbortSignal.timeout(10_000))
  try {
    const channel: Channel = await connector.openChannel!(paramsWithDefaults(rabbitmqConnector, { exchange, routingKey: 'readings.${id}', deliveryMode: MODE }) as RabbitmqParams)
    const run = await drive((batch) => channel.sendBatch!(batch, AbortSignal.timeout(30_000)))
    await channel.close?.()
    return run
  } finally {
    await connector.stop(AbortSignal.timeout(5_000))
  }
}

/** MQTT -> rule -> RabbitMQ action in a fresh Junction; no batch latencies (NaN). */
function junctionPath(): Promise<Run> {
  return withJunction(async (j, url) => {
    const c = await j.connectors.create('default', { name: `rabbitmq-${tag}`, type: 'rabbitmq', config: { server: RABBIT.host, port: RABBIT.port, username: RABBIT.username, password: RABBIT.password, poolSize: INFLIGHT } })
    await waitConnected(j, c.id)
    const rule = await j.rules.create('default', {
      name: 'to-rabbitmq', sql: 'SELECT payload.seq AS id, payload.temp AS temp, clientid FROM "bench/rabbitmq"',
      actions: [{ connectorId: c.id, params: { exchange, routingKey: 'readings.${id}', deliveryMode: MODE }, options: { batchSize: BATCH } }],
    })
    const action = actionOf(j, rule.id)
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    const publisher = publish(url, 'bench/rabbitmq', N, { publisher: 'lean' })
    const last = await waitFor('rabbitmq delivered', () => settledAll(action(), N))
    const cpuUs = ownCpuUs(cpu0) / N
    await publisher
    const a = action()
    if (a.success !== N) throw new Error(`${a.failed} failed, ${a.dropped} dropped`)
    await j.rules.remove('default', rule.id)
    return { rate: N / ((last - t0) / 1000), p50: Number.NaN, p99: Number.NaN, cpuUs }
  })
}

/** The run's figures, after checking that the queue holds exactly N messages; empties it. */
async function checked(admin: amqp.Channel, measure: () => Promise<Run>): Promise<Run> {
  const run = await measure()
  const { messageCount } = await admin.checkQueue(queue)
  if (messageCount !== N) throw new Error(`the queue holds ${messageCount} messages, expected ${N}`)
  await admin.purgeQueue(queue)
  return run
}

const adminConn = await amqp.connect(amqpUrl(RABBIT))
const admin = await adminConn.createChannel()
await admin.assertExchange(exchange, 'topic', { durable: true })
await admin.assertQueue(queue, { durable: true })
await admin.bindQueue(queue, exchange, 'readings.*')
/** `runs` pairs of amqplib then `measure`; prints each pair and the medians. */
async function pairs(name: string, measure: () => Promise<Run>): Promise<void> {
  await checked(admin, measure) // warm-up (JIT, the queue's first segment files)
  const raw: Run[] = []
  const ours: Run[] = []
  for (let i = 0; i < RUNS; i++) {
    raw.push(await checked(admin, rawAmqplib))
    ours.push(await checked(admin, measure))
    console.log(`  pair ${i + 1}: amqplib ${fmt(raw[i]!.rate)} msg/s, ${name} ${fmt(ours[i]!.rate)} msg/s, ${pct(ours[i]!.rate / raw[i]!.rate)}`)
  }
  const ratios = ours.map((r, i) => r.rate / raw[i]!.rate)
  const ms = (v: number) => (Number.isNaN(v) ? 'n/a' : v.toFixed(1))
  const row = (label: string, runs: Run[]) => `| ${label} | ${fmt(middle(runs.map((r) => r.rate)))} | ${ms(middle(runs.map((r) => r.p50)))} | ${ms(middle(runs.map((r) => r.p99)))} | ${middle(runs.map((r) => r.cpuUs)).toFixed(1)} |`
  console.log('\n| client | msg/s | batch p50 ms | batch p99 ms | CPU µs/msg (this process) |\n| --- | --- | --- | --- | --- |')
  console.log(row('amqplib, confirm channels', raw))
  console.log(row(name, ours))
  console.log(`ratio (median of the pairs' ratios): ${pct(middle(ratios))} (runs ${ratioRange(ratios)}); zero loss: every run's queue held exactly ${N}\n`)
}

try {
  console.log(`${N} messages, batches of ${BATCH}, ${INFLIGHT} in flight, ${MODE}, confirms; ${RUNS} pairs`)
  if (SCENARIOS.has('channel')) await pairs("Junction's channel (sendBatch)", junction)
  if (SCENARIOS.has('path')) await pairs('MQTT -> rule -> RabbitMQ (Junction)', junctionPath)
} finally {
  await admin.deleteQueue(queue)
  await admin.deleteExchange(exchange)
  await adminConn.close()
}
