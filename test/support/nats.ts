/**
 * NATS servers for tests: the machine's shared nats-server with JetStream (never stopped or
 * reconfigured; tests only create and delete streams of their own) and private throwaway servers
 * (`nats-server -a 127.0.0.1 -p <free port>`) for authentication, TLS and outages. A private server
 * lives in its own temp dir and is killed, and the dir removed, when the test process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect as netConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { jetstreamManager, type StreamConfig } from '@nats-io/jetstream'
import { connect, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node'
import { selfSignedCertificate } from './certificate.js'
import type { Destination } from './connector-battery.js'
import { freePort } from './connector-battery.js'
import { cleanUpAtExit } from './leftovers.js'

/** The machine's nats-server (JetStream on, no auth); overridable with JUNCTION_TEST_NATS_SERVERS. */
export function sharedNatsServers(): string {
  return process.env.JUNCTION_TEST_NATS_SERVERS ?? '127.0.0.1:4222'
}

export interface TestStream {
  readonly name: string
  /** Every subject under it (`<prefix>.x`) is captured by the stream. */
  readonly prefix: string
  /** Every message stored so far, in order, with its subject, payload text and headers. */
  messages(): Promise<Array<{ subject: string; data: string; headers: Record<string, string[]> }>>
  /** Deletes the stream and closes the admin connection. */
  close(): Promise<void>
}

/** A fresh stream on `servers` capturing `<prefix>.>`, created the way a user would (the connector never creates one). */
export async function createTestStream(servers: string, options: ConnectionOptions = {}, extra: Partial<StreamConfig> = {}): Promise<TestStream> {
  const id = randomBytes(5).toString('hex')
  const name = `JUNCTION_TEST_${id}`
  const prefix = `junction.test.${id}`
  let nc: NatsConnection | undefined
  const admin = async () => {
    if (nc && !nc.isClosed()) return jetstreamManager(nc)
    nc = await connect({ servers: servers.split(','), reconnect: false, ...options })
    return jetstreamManager(nc)
  }
  await (await admin()).streams.add({ name, subjects: [`${prefix}.>`], ...extra })
  return {
    name,
    prefix,
    async messages() {
      const jsm = await admin()
      const { state } = await jsm.streams.info(name)
      const out: Array<{ subject: string; data: string; headers: Record<string, string[]> }> = []
      for (let seq = state.first_seq; state.messages > 0 && seq <= state.last_seq; seq++) {
        const m = await jsm.streams.getMessage(name, { seq })
        if (!m) continue
        const headers: Record<string, string[]> = {}
        for (const k of m.header?.keys() ?? []) headers[k] = m.header!.values(k)
        out.push({ subject: m.subject, data: m.string(), headers })
      }
      return out
    },
    async close() {
      try {
        await (await admin()).streams.delete(name)
      } catch {
        // the server may be gone (an outage test); its store dir is removed with it
      }
      await nc?.close()
    },
  }
}

/**
 * A battery destination: a fresh stream, and params publishing the whole output as JSON (the
 * default payload) to `<prefix>.<id>` with the id and note also as header templates; read back
 * from the headers, each checked against the payload.
 */
export async function streamDestination(servers: string, params: Record<string, unknown> = {}, options: ConnectionOptions = {}): Promise<Destination & { stream: TestStream }> {
  const stream = await createTestStream(servers, options)
  return {
    stream,
    params: { subject: `${stream.prefix}.readings.\${id}`, headers: { 'Junction-Id': '${id}', 'Junction-Note': '${note}' }, ...params },
    readBack: async () => (await stream.messages()).map((m) => {
      const payload = JSON.parse(m.data) as { id: unknown; temp?: unknown; note?: unknown }
      const id = m.headers['Junction-Id']?.[0]
      const note = m.headers['Junction-Note']?.[0]
      if (id !== String(payload.id) || m.subject !== `${stream.prefix}.readings.${id}` || (note ?? null) !== (payload.note ?? null)) {
        throw new Error(`headers, subject and payload disagree: ${JSON.stringify(m)}`)
      }
      return { id, temp: payload.temp, note }
    }),
    close: () => stream.close(),
  }
}

export interface PrivateNatsOptions {
  /** `-js` with a store dir of its own, kept across stop/start. */
  jetstream?: boolean
  user?: string
  pass?: string
  /** A config file's text (e.g. NKey users); written to the server's dir. */
  configText?: string
  /** TLS with a self-signed certificate for localhost and 127.0.0.1. */
  tls?: boolean
}

export interface PrivateNats {
  readonly port: number
  /** `127.0.0.1:<port>` */
  readonly servers: string
  /** PEM of the self-signed certificate when TLS is on. */
  readonly certPem: string | undefined
  stop(): Promise<void>
  start(): Promise<void>
  close(): Promise<void>
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port })
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => resolve(false))
  })
}

/** Starts a private nats-server on a free loopback port. */
export async function startPrivateNats(o: PrivateNatsOptions = {}): Promise<PrivateNats> {
  const dir = await mkdtemp(join(tmpdir(), 'junction-nats-'))
  const port = await freePort()
  const args = ['-a', '127.0.0.1', '-p', String(port)]
  if (o.jetstream) args.push('-js', '-sd', join(dir, 'store'))
  if (o.user !== undefined) args.push('--user', o.user, '--pass', o.pass ?? '')
  if (o.configText !== undefined) {
    await writeFile(join(dir, 'server.conf'), o.configText)
    args.push('-c', join(dir, 'server.conf'))
  }
  let certPem: string | undefined
  if (o.tls) {
    const cert = await selfSignedCertificate(dir)
    certPem = cert.certPem
    args.push('--tls', '--tlscert', cert.certFile, '--tlskey', cert.keyFile)
  }
  let child: ChildProcess | undefined
  const start = async () => {
    const proc = spawn('nats-server', args, { stdio: ['ignore', 'ignore', 'pipe'] })
    let log = ''
    proc.stderr!.on('data', (c: Buffer) => { log = (log + c.toString()).slice(-4000) })
    child = proc
    // A server still running when the process exits is killed and its dir removed.
    const forget = cleanUpAtExit(() => {
      proc.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    })
    proc.once('exit', () => forget())
    for (let i = 0; i < 200; i++) {
      if (proc.exitCode !== null) throw new Error(`nats-server ${args.join(' ')} exited: ${log}`)
      if (await listening(port)) return
      await sleep(25)
    }
    throw new Error(`nats-server did not listen on ${port}: ${log}`)
  }
  const stop = async () => {
    const proc = child
    child = undefined
    if (!proc || proc.exitCode !== null) return
    const exited = new Promise((resolve) => proc.once('exit', resolve))
    proc.kill('SIGTERM')
    await exited
  }
  await start()
  return {
    port,
    servers: `127.0.0.1:${port}`,
    certPem,
    start,
    stop,
    async close() {
      await stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
