/**
 * Kafka for tests: the shared broker that scripts/test-services.mjs keeps running, and private
 * brokers (own temp dir, free ports) that a test may stop and start to simulate an outage.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SASL_PASSWORD, SASL_USER, killBrokerSync, startBroker, stopBroker, waitReady } from '../../scripts/kafka/broker.mjs'
import { freePort } from './connector-battery.js'

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
  /** Stops the broker and waits until the JVM has exited. SIGTERM by default; `kill` for SIGKILL. */
  stop(opts?: { kill?: boolean }): Promise<void>
  /** Starts it again on the same ports and data dir; resolves when it answers requests. */
  start(): Promise<void>
  /** Kills it and deletes its directory. Idempotent. */
  destroy(): Promise<void>
}

const live = new Set<string>()
let exitHookInstalled = false

/** Starts a private single-node broker in a temp dir on free loopback ports (a few seconds). */
export async function startPrivateKafka(): Promise<PrivateKafka> {
  if (!exitHookInstalled) {
    // A test process that dies must not leave JVMs behind.
    process.once('exit', () => { for (const dir of live) killBrokerSync(dir) })
    exitHookInstalled = true
  }
  const dir = await mkdtemp(join(tmpdir(), 'junction-kafka-'))
  const [port, saslPort, controllerPort] = await distinctFreePorts(3)
  const ports = { port: port!, saslPort: saslPort!, controllerPort: controllerPort! }
  live.add(dir)

  const start = async () => {
    const pid = startBroker({ dir, ...ports })
    await waitReady({ dir, port: ports.port, saslPort: ports.saslPort, pid, timeoutMs: 120_000 })
  }
  const destroy = async () => {
    if (!live.has(dir)) return
    await stopBroker({ dir, kill: true })
    live.delete(dir)
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
