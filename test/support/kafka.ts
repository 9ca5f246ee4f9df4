/**
 * Kafka for tests: the shared broker that scripts/test-services.mjs keeps running, and private
 * brokers (own temp dir, free ports) that a test may stop and start to simulate an outage.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { SASL_PASSWORD, SASL_USER, killBrokerSync, startBroker, stopBroker, waitReady } from '../../scripts/kafka/broker.mjs'
import { selfSignedCertificate } from './certificate.js'
import { freePort, type Destination } from './connector-battery.js'
import { cleanUpAtExit } from './leftovers.js'

export interface SharedKafka {
  /** PLAINTEXT listener. */
  readonly bootstrap: string
  /** SASL_PLAINTEXT listener (PLAIN and SCRAM-SHA-256). */
  readonly saslBootstrap: string
  readonly user: string
  readonly password: string
}

/** The shared broker started by `node scripts/test-services.mjs` (same environment variables). */
export function sharedKafka(): SharedKafka {
  const env = process.env
  return {
    bootstrap: `127.0.0.1:${env.JUNCTION_TEST_KAFKA_PORT || '9092'}`,
    saslBootstrap: `127.0.0.1:${env.JUNCTION_TEST_KAFKA_SASL_PORT || '9093'}`,
    user: env.JUNCTION_TEST_KAFKA_USER || SASL_USER,
    password: env.JUNCTION_TEST_KAFKA_PASSWORD || SASL_PASSWORD,
  }
}

export interface PrivateKafka {
  /** PLAINTEXT listener, `127.0.0.1:<port>`. */
  readonly bootstrap: string
  readonly saslBootstrap: string
  /** With `{ tls: true }`: the SSL listener, `127.0.0.1:<port>`, and the PEM of its self-signed certificate (CN and SAN localhost, 127.0.0.1). */
  readonly sslBootstrap?: string
  readonly certPem?: string
  /** Stops the broker and waits until the JVM has exited. SIGTERM by default; `kill` for SIGKILL. */
  stop(opts?: { kill?: boolean }): Promise<void>
  /** Starts it again on the same ports and data dir; resolves when it answers requests. */
  start(): Promise<void>
  /** Kills it and deletes its directory. Idempotent. */
  destroy(): Promise<void>
}

/**
 * Starts a private single-node broker in a temp dir on free loopback ports (a few seconds);
 * `tls: true` adds an SSL listener with a fresh self-signed certificate; `autoCreateTopics: false`
 * makes a producer's unknown topic an error, as on most production clusters.
 */
export async function startPrivateKafka(opts: { tls?: boolean; autoCreateTopics?: boolean } = {}): Promise<PrivateKafka> {
  const dir = await mkdtemp(join(tmpdir(), 'junction-kafka-'))
  const [port, saslPort, controllerPort, sslPort] = await distinctFreePorts(4)
  const ports = { port: port!, saslPort: saslPort!, controllerPort: controllerPort! }
  // A test process that dies must not leave JVMs behind.
  let live = true
  const forget = cleanUpAtExit(() => killBrokerSync(dir))
  const cert = opts.tls ? await selfSignedCertificate(dir) : undefined
  const ssl = cert ? { port: sslPort!, certPem: cert.certPem, keyPem: cert.keyPem } : undefined

  const start = async () => {
    const pid = startBroker({ dir, ...ports, ...(ssl ? { ssl } : {}), autoCreateTopics: opts.autoCreateTopics ?? true })
    await waitReady({ dir, port: ports.port, saslPort: ports.saslPort, pid, timeoutMs: 120_000 })
  }
  const destroy = async () => {
    if (!live) return
    await stopBroker({ dir, kill: true })
    live = false
    forget()
    await rm(dir, { recursive: true, force: true })
  }
  try {
    await start()
  } catch (err) {
    await destroy()
    throw err
  }
  return {
    bootstrap: `127.0.0.1:${ports.port}`,
    saslBootstrap: `127.0.0.1:${ports.saslPort}`,
    ...(ssl ? { sslBootstrap: `127.0.0.1:${ssl.port}`, certPem: ssl.certPem } : {}),
    stop: (opts = {}) => stopBroker({ dir, kill: opts.kill ?? false }),
    start,
    destroy,
  }
}

async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>()
  while (ports.size < n) ports.add(await freePort())
  return [...ports]
}

/** Creates `topic` with one partition (or `partitions`) and waits for its leaders, on an admin client of its own. */
export async function createTopic(kafka: Kafka, topic: string, partitions = 1): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true })
  } finally {
    await admin.disconnect()
  }
}

/**
 * A fresh one-partition topic for the connector battery and the flow check: the action keys each
 * record by `${id}` and writes the whole rule output as JSON; `readBack` consumes the topic from
 * the beginning up to its high watermark (a fresh consumer group each time) and returns
 * `{ id, temp, note }` per record.
 */
export async function kafkaDestination(bootstrap: string): Promise<Destination> {
  const kafka = new Kafka({ brokers: [bootstrap], clientId: 'junction-test-destination', logLevel: logLevel.NOTHING })
  const topic = `junction-battery.${Math.random().toString(36).slice(2, 10)}`
  await createTopic(kafka, topic)
  return {
    params: { topic, key: '${id}', value: '${.}' },
    readBack: async () => {
      const a = kafka.admin()
      await a.connect()
      const offsets = await a.fetchTopicOffsets(topic).finally(() => a.disconnect())
      const total = offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0)
      if (total === 0) return []
      const got: Array<{ id: unknown; temp?: unknown; note?: unknown }> = []
      const consumer = kafka.consumer({ groupId: `junction-test-${Math.random().toString(36).slice(2)}` })
      await consumer.connect()
      try {
        await consumer.subscribe({ topics: [topic], fromBeginning: true })
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`read ${got.length} of ${total} records of ${topic}`)), 30_000)
          void consumer.run({
            eachMessage: async ({ message }) => {
              const value = JSON.parse(String(message.value)) as { temp?: unknown; note?: unknown }
              got.push({ id: message.key === null ? null : String(message.key), temp: value.temp, note: value.note })
              if (got.length >= total) { clearTimeout(timer); resolve() }
            },
          })
        })
      } finally {
        await consumer.disconnect()
      }
      return got
    },
    close: async () => {
      const a = kafka.admin()
      await a.connect()
      await a.deleteTopics({ topics: [topic], timeout: 10_000 }).catch(() => undefined)
      await a.disconnect()
    },
  }
}
