/**
 * RabbitMQ benchmark: plain amqplib publishing with publisher confirms vs Junction's RabbitMQ
 * channel doing the same writes, in pairs (each run measures amqplib right before Junction, so
 * both see the machine in the same state), and the ratio. Prints figures; asserts nothing.
 *
 *   node --import tsx bench/rabbitmq.ts [messages=100000] [runs=3] [batch=100] [inflight=8] [persistent|non_persistent]
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

const N = Number(process.argv[2] ?? 100_000)
const RUNS = Number(process.argv[3] ?? 3)
const BATCH = Number(process.argv[4] ?? 100)
const INFLIGHT = Number(process.argv[5] ?? 8)
const MODE = (process.argv[6] ?? 'persistent') as 'persistent' | 'non_persistent'
const RABBIT = sharedRabbitmq()
const tag = randomBytes(4).toString('hex')
const exchange = `junction-bench-x-${tag}`
const queue = `junction-bench-q-${tag}`

const messages: ChannelMessage[] = Array.from({ length: N }, (_, i) => ({
  id: `m-${i}`, temp: i / 2, note: `note ${i}`, clientid: `dev-${i % 100}`, topic: `site/${i % 100}/temp`,
}))
const batches: ChannelMessage[][] = []
for (let i = 0; i < N; i += BATCH) batches.push(messages.slice(i, i + BATCH))

interface Run { readonly rate: number; readonly p50: number; readonly p99: number }

/** Sends every batch with `inflight` workers pulling the next one; times each batch. */
async function drive(send: (batch: ChannelMessage[], worker: number) => Promise<void>): Promise<Run> {
  let next = 0
  const latencies: number[] = []
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
  latencies.sort((a, b) => a - b)
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!
  return { rate: N / seconds, p50: q(0.5), p99: q(0.99) }
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

/** The run's figures, after checking that the queue holds exactly N messages; empties it. */
async function checked(admin: amqp.Channel, measure: () => Promise<Run>): Promise<Run> {
  const run = await measure()
  const { messageCount } = await admin.checkQueue(queue)
  if (messageCount !== N) throw new Error(`the queue holds ${messageCount} messages, expected ${N}`)
  await admin.purgeQueue(queue)
  return run
}

const middle = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

const adminConn = await amqp.connect(amqpUrl(RABBIT))
const admin = await adminConn.createChannel()
await admin.assertExchange(exchange, 'topic', { durable: true })
await admin.assertQueue(queue, { durable: true })
await admin.bindQueue(queue, exchange, 'readings.*')
try {
  console.log(`${N} messages, batches of ${BATCH}, ${INFLIGHT} in flight, ${MODE}, confirms; ${RUNS} pairs`)
  await checked(admin, junction) // warm-up (JIT, the queue's first segment files)
  const raw: Run[] = []
  const ours: Run[] = []
  for (let i = 0; i < RUNS; i++) {
    raw.push(await checked(admin, rawAmqplib))
    ours.push(await checked(admin, junction))
    console.log(`  pair ${i + 1}: amqplib ${fmt(raw[i]!.rate)} msg/s, Junction ${fmt(ours[i]!.rate)} msg/s, ${Math.round((ours[i]!.rate / raw[i]!.rate) * 100)}%`)
  }
  const ratios = ours.map((r, i) => r.rate / raw[i]!.rate)
  const row = (name: string, runs: Run[]) =>
    `| ${name} | ${fmt(middle(runs.map((r) => r.rate)))} | ${middle(runs.map((r) => r.p50)).toFixed(1)} | ${middle(runs.map((r) => r.p99)).toFixed(1)} |`
  console.log('\n| client | msg/s | batch p50 ms | batch p99 ms |\n| --- | --- | --- | --- |')
  console.log(row('amqplib, confirm channels', raw))
  console.log(row("Junction's channel (sendBatch)", ours))
  console.log(`\nratio (median of the pairs' ratios): ${Math.round(middle(ratios) * 100)}% (runs ${Math.round(Math.min(...ratios) * 100)}-${Math.round(Math.max(...ratios) * 100)}%); zero loss: every run's queue held exactly ${N}`)
} finally {
  await admin.deleteQueue(queue)
  await admin.deleteExchange(exchange)
  await adminConn.close()
}
