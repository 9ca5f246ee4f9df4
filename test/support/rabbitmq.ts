/**
 * RabbitMQ for tests: the machine's shared server (127.0.0.1:5672, guest/guest; never stopped or
 * reconfigured: tests only declare exchanges and queues of their own and delete them) and private
 * throwaway nodes (own node name, ports, data and log dirs, a plain and a TLS listener) for TLS and
 * outage cases. A private node is killed and its directory removed when the test process exits.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync, rmSync } from 'node:fs'
import { chmod, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { connect as netConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import amqp from 'amqplib'
import { selfSignedCertificate } from './certificate.js'
import { freePort } from './connector-battery.js'
import type { Destination } from './connector-battery.js'
import { cleanUpAtExit } from './leftovers.js'

const run = promisify(execFile)
const RABBIT_BIN = '/usr/lib/rabbitmq/bin'
/** Where the shared node's Erlang cookie lives: rabbitmqctl must run with the same HOME. */
const RABBIT_HOME = '/var/lib/rabbitmq'

export interface RabbitAddress {
  readonly host: string
  readonly port: number
  readonly username: string
  readonly password: string
}

export function sharedRabbitmq(): RabbitAddress {
  const env = process.env
  return {
    host: env.JUNCTION_TEST_RABBITMQ_HOST ?? '127.0.0.1',
    port: Number(env.JUNCTION_TEST_RABBITMQ_PORT ?? 5672),
    username: env.JUNCTION_TEST_RABBITMQ_USER ?? 'guest',
    password: env.JUNCTION_TEST_RABBITMQ_PASSWORD ?? 'guest',
  }
}

export const amqpUrl = (a: RabbitAddress, vhost = '/') => `amqp://${encodeURIComponent(a.username)}:${encodeURIComponent(a.password)}@${a.host}:${a.port}/${encodeURIComponent(vhost)}`

/**
 * A fresh durable topic exchange with a durable queue bound to `readings.*`, declared the way a
 * user would; `params` publish with routing key `readings.${id}` (so an id with a dot is
 * unroutable). `readBack` takes every message off the queue (acknowledged) and returns all taken
 * so far, parsed as JSON; each call opens a connection of its own, so it works across an outage.
 */
export async function rabbitDestination(a: RabbitAddress, extra: Record<string, unknown> = {}): Promise<Destination & { exchange: string; queue: string; raw: amqp.GetMessage[] }> {
  const tag = randomBytes(4).toString('hex')
  const exchange = `junction-test-x-${tag}`
  const queue = `junction-test-q-${tag}`
  const withChannel = async <T>(work: (ch: amqp.Channel) => Promise<T>): Promise<T> => {
    const conn = await amqp.connect(amqpUrl(a))
    try {
      const ch = await conn.createChannel()
      return await work(ch)
    } finally {
      await conn.close().catch(() => {})
    }
  }
  await withChannel(async (ch) => {
    await ch.assertExchange(exchange, 'topic', { durable: true })
    await ch.assertQueue(queue, { durable: true })
    await ch.bindQueue(queue, exchange, 'readings.*')
  })
  const raw: amqp.GetMessage[] = []
  return {
    exchange,
    queue,
    raw,
    params: { exchange, routingKey: 'readings.${id}', ...extra },
    readBack: () => withChannel(async (ch) => {
      for (;;) {
        const m = await ch.get(queue, { noAck: true })
        if (m === false) break
        raw.push(m)
      }
      return raw.map((m) => JSON.parse(m.content.toString('utf8')) as { id: unknown; temp?: unknown; note?: unknown })
    }),
    close: () => withChannel(async (ch) => {
      await ch.deleteQueue(queue)
      await ch.deleteExchange(exchange)
    }).then(() => {}, () => {}),
  }
}

export interface PrivateRabbitmq extends RabbitAddress {
  /** The TLS listener's port (self-signed certificate for localhost and 127.0.0.1). */
  readonly tlsPort: number
  readonly certPem: string
  readonly nodeName: string
  /** `rabbitmqctl stop_app`: listeners close and connections are dropped; the node and its data stay. */
  stop(): Promise<void>
  /** `rabbitmqctl start_app`; resolves when the AMQP port accepts connections. */
  start(): Promise<void>
  /** Runs rabbitmqctl against this node. */
  ctl(...args: string[]): Promise<string>
  /** Stops the node and removes its directory. Idempotent. */
  destroy(): Promise<void>
}

const isRoot = process.getuid?.() === 0
/** RabbitMQ's scripts expect its own OS user (its Erlang cookie, file ownership). */
const asRabbit = (cmd: string, args: string[], env: Record<string, string>): [string, string[]] => {
  const withEnv = ['env', `HOME=${RABBIT_HOME}`, ...Object.entries(env).map(([k, v]) => `${k}=${v}`), cmd, ...args]
  return isRoot ? ['runuser', ['-u', 'rabbitmq', '--', ...withEnv]] : [withEnv[0]!, withEnv.slice(1)]
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port })
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => resolve(false))
  })
}

async function waitForPort(port: number, limitMs: number, failed: () => string | undefined): Promise<void> {
  const end = Date.now() + limitMs
  while (!(await portOpen(port))) {
    const why = failed()
    if (why !== undefined) throw new Error(why)
    if (Date.now() > end) throw new Error(`RabbitMQ did not listen on ${port} within ${limitMs} ms`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

/** Starts a private RabbitMQ node (a few seconds) with a plain and a TLS listener on free 127.0.0.1 ports. */
export async function startPrivateRabbitmq(): Promise<PrivateRabbitmq> {
  const dir = await mkdtemp(join(tmpdir(), 'junction-rabbitmq-'))
  const [port, tlsPort, distPort] = [await freePort(), await freePort(), await freePort()]
  const nodeName = `junction-test-${randomBytes(4).toString('hex')}@localhost`
  const cert = await selfSignedCertificate(dir)
  await chmod(cert.keyFile, 0o600)
  await writeFile(join(dir, 'rabbitmq.conf'), [
    `listeners.tcp.default = 127.0.0.1:${port}`,
    `listeners.ssl.default = 127.0.0.1:${tlsPort}`,
    `ssl_options.certfile = ${cert.certFile}`,
    `ssl_options.keyfile = ${cert.keyFile}`,
    'ssl_options.verify = verify_none',
    'ssl_options.fail_if_no_peer_cert = false',
    '',
  ].join('\n'))
  await writeFile(join(dir, 'enabled_plugins'), '[].\n')
  await writeFile(join(dir, 'rabbitmq-env.conf'), '')
  if (isRoot) {
    const uid = Number((await run('id', ['-u', 'rabbitmq'])).stdout.trim())
    const gid = Number((await run('id', ['-g', 'rabbitmq'])).stdout.trim())
    for (const f of [dir, cert.certFile, cert.keyFile, ...['rabbitmq.conf', 'enabled_plugins', 'rabbitmq-env.conf'].map((n) => join(dir, n))]) await chown(f, uid, gid)
  }
  const pidFile = join(dir, 'rabbitmq.pid')
  const env = {
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_DIST_PORT: String(distPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    ERL_FLAGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_PID_FILE: pidFile,
  }
  const [cmd, args] = asRabbit(join(RABBIT_BIN, 'rabbitmq-server'), [], env)
  const child: ChildProcess = spawn(cmd, args, { cwd: dir, stdio: 'ignore' })
  let exited: string | undefined
  child.once('exit', (code) => { exited = `rabbitmq-server exited with ${code}` })
  // A node still running when the process exits is killed and its dir removed.
  const forget = cleanUpAtExit(() => {
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL')
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true })
  })
  const ctl = async (...a: string[]) => {
    const [c, ca] = asRabbit(join(RABBIT_BIN, 'rabbitmqctl'), ['-n', nodeName, ...a], {})
    const { stdout } = await run(c, ca, { timeout: 60_000, cwd: '/' })
    return stdout
  }
  const logTail = async () => (await readFile(join(dir, 'log', `${nodeName}.log`), 'utf8').catch(() => '')).split('\n').slice(-15).join('\n')
  try {
    await waitForPort(port, 60_000, () => exited)
    await ctl('await_startup', '--timeout', '60')
  } catch (err) {
    const tail = await logTail()
    await destroyNode()
    throw new Error(`private RabbitMQ did not start: ${(err as Error).message}\n${tail}`)
  }
  let destroyed = false
  async function destroyNode(): Promise<void> {
    await ctl('stop').catch(() => {})
    try {
      process.kill(Number((await readFile(pidFile, 'utf8')).trim()), 'SIGKILL')
    } catch {
      // stopped already
    }
    child.kill('SIGKILL')
    forget()
    await rm(dir, { recursive: true, force: true })
  }
  return {
    host: '127.0.0.1', port, tlsPort, username: 'guest', password: 'guest', nodeName,
    certPem: cert.certPem,
    ctl,
    stop: async () => { await ctl('stop_app') },
    start: async () => {
      await ctl('start_app')
      await waitForPort(port, 30_000, () => exited)
    },
    destroy: async () => {
      if (destroyed) return
      destroyed = true
      await destroyNode()
    },
  }
}
