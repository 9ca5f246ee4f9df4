/**
 * What the broker tests share. For the listener tests: mqtt.js on any transport and openssl-made
 * CAs. For the conformance tests: a broker to test (Junction's MqttBroker by default,
 * a private Mosquitto with JUNCTION_TEST_BROKER=mosquitto, to check the tests themselves against
 * a reference broker), real clients (the `mqtt` package), and a raw client that writes packets
 * as built (mqtt-packet) or as bytes, and records every packet the broker sends and when the
 * connection closes, for the wire-level assertions a full client library hides.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import { promisify } from 'node:util'
import { once } from 'node:events'
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import mqttPacket, { type Packet } from 'mqtt-packet'
import type { BrokerLimits, BrokerSink, ClientPermissions, DeviceAccess } from '../../src/broker/broker-types.js'
import { DEFAULT_BROKER_LIMITS } from '../../src/broker/broker-types.js'
import { MqttBroker } from '../../src/broker/mqtt-broker.js'
import { startPrivateMosquitto } from '../support/mosquitto.js'

/** Which broker the tests run against. */
export const BROKER_KIND: 'junction' | 'mosquitto' = process.env.JUNCTION_TEST_BROKER === 'mosquitto' ? 'mosquitto' : 'junction'
export const ON_MOSQUITTO = BROKER_KIND === 'mosquitto'

export interface BrokerOptions {
  /** Merged over DEFAULT_BROKER_LIMITS with allowAnonymous true. */
  readonly limits?: Partial<BrokerLimits>
  /** User name -> password; when given, only these users (and anonymous if allowAnonymous) connect. */
  readonly users?: Record<string, string>
  /** Topic filters no client may subscribe to (exact filter match). */
  readonly denySubscribe?: readonly string[]
  /** Topics no client may publish to (exact topic match). */
  readonly denyPublish?: readonly string[]
  /** Replaces the access built from users/deny* (MqttBroker only). */
  readonly access?: DeviceAccess
  readonly sink?: BrokerSink
}

export interface TestBroker {
  readonly port: number
  readonly url: string
  /** The MqttBroker under test; undefined on Mosquitto (tests using it skip there). */
  readonly broker: MqttBroker
  readonly kind: 'junction' | 'mosquitto'
  close(): Promise<void>
}

/** A broker on a free 127.0.0.1 port. */
export async function startBroker(options: BrokerOptions = {}): Promise<TestBroker> {
  const limits: BrokerLimits = { ...DEFAULT_BROKER_LIMITS, allowAnonymous: true, ...options.limits }
  if (BROKER_KIND === 'mosquitto') return startMosquittoBroker(limits, options)
  const broker = new MqttBroker({ limits, access: options.access ?? accessFrom(limits, options), ...(options.sink ? { sink: options.sink } : {}) })
  const sockets = new Set<Socket>()
  const server: Server = createServer((s) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
    broker.handle(s, { transport: 'tcp', peerhost: s.remoteAddress, peerport: s.remotePort })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as { port: number }).port
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    broker,
    kind: 'junction',
    async close() {
      server.close()
      await broker.close()
      for (const s of sockets) s.destroy()
    },
  }
}

function accessFrom(limits: BrokerLimits, options: BrokerOptions): DeviceAccess {
  const users = options.users
  const denySub = new Set(options.denySubscribe ?? [])
  const denyPub = new Set(options.denyPublish ?? [])
  const permissions: ClientPermissions = { canPublish: (t) => !denyPub.has(t), canSubscribe: (f) => !denySub.has(f) }
  return {
    async authenticate({ username, password }) {
      if (username === undefined) return limits.allowAnonymous ? { ok: true, anonymous: true, superuser: false } : { ok: false, reason: 'not_authorized' }
      if (!users) return { ok: true, anonymous: false, superuser: false }
      const expected = users[username]
      if (expected !== undefined && password?.toString() === expected) return { ok: true, anonymous: false, superuser: false }
      return { ok: false, reason: 'bad_username_or_password' }
    },
    permissions: () => permissions,
  }
}

async function startMosquittoBroker(limits: BrokerLimits, options: BrokerOptions): Promise<TestBroker> {
  const config: string[] = [`max_packet_size ${limits.maxPacketSize}`, `max_inflight_messages ${limits.maxInflight}`,
    `max_queued_messages ${limits.maxQueuedMessages}`, 'persistent_client_expiration 2h']
  if (limits.serverKeepAlive !== null) config.push(`max_keepalive ${limits.serverKeepAlive}`)
  // Mosquitto's listener option; it refuses the extra connection by closing it (no CONNACK).
  if (limits.maxConnections !== null) config.push(`max_connections ${limits.maxConnections}`)
  const denied = [...new Set([...(options.denySubscribe ?? []), ...(options.denyPublish ?? [])])]
  const acl = denied.length === 0 ? undefined : [...denied.map((t) => `topic deny ${t}`), 'topic readwrite #', 'pattern readwrite #', ''].join('\n')
  const mosq = await startPrivateMosquitto({
    anonymous: limits.allowAnonymous,
    ...(options.users ? { users: options.users } : {}),
    ...(acl !== undefined ? { acl: options.users ? `${acl}\n${Object.keys(options.users).map((u) => `user ${u}\ntopic readwrite #`).join('\n')}\n` : acl } : {}),
    config,
  })
  return { port: mosq.port, url: `mqtt://127.0.0.1:${mosq.port}`, broker: undefined as unknown as MqttBroker, kind: 'mosquitto', close: () => mosq.destroy() }
}

// --- mqtt.js clients -----------------------------------------------------------------------------

export interface Connected {
  readonly client: MqttClient
  readonly connack: mqttPacket.IConnackPacket
  /** Every message received since before CONNACK (a resumed session's queue arrives right after it). */
  readonly messages: Received[]
}

let clientSeq = 0
/** A unique client ID for this test process. */
export function clientId(prefix = 'c'): string {
  return `${prefix}-${process.pid}-${++clientSeq}`
}

/** Connects an mqtt.js client (no automatic reconnect) and resolves with its CONNACK. */
export async function connect(tb: TestBroker, opts: IClientOptions = {}): Promise<Connected> {
  const v31 = opts.protocolVersion === 3 ? { protocolId: 'MQIsdp' as const } : {}
  const client = mqtt.connect(tb.url, { reconnectPeriod: 0, connectTimeout: 5_000, clientId: clientId(), protocolVersion: 5, ...v31, ...opts })
  const messages = recordMessages(client)
  const connack = await new Promise<mqttPacket.IConnackPacket>((resolve, reject) => {
    client.once('connect', resolve)
    client.once('error', reject)
    client.once('close', () => reject(new Error('closed before CONNACK')))
  })
  client.removeAllListeners('error')
  client.on('error', () => {})
  return { client, connack, messages }
}

/** Ends a client (forcefully: no DISCONNECT, so it also works on a dead connection). */
export async function end(...clients: MqttClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})))
}

export interface Received {
  readonly topic: string
  readonly payload: Buffer
  readonly packet: mqttPacket.IPublishPacket
}

/** Records every message a client receives. */
export function recordMessages(client: MqttClient): Received[] {
  const got: Received[] = []
  client.on('message', (topic, payload, packet) => got.push({ topic, payload, packet }))
  return got
}

/** Polls until `pred` holds (bounded; fails with `what`). */
export async function until(pred: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!pred()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/**
 * Waits until the broker has handled everything a client sent before: a QoS 1 round trip on that
 * connection (a broker handles one connection's packets in order).
 */
export async function settle(client: MqttClient): Promise<void> {
  await client.publishAsync(`settle/${clientId()}`, '', { qos: 1 })
}

// --- raw clients ---------------------------------------------------------------------------------

export interface RawClient {
  readonly socket: Socket
  /** Every packet received so far, in order. */
  readonly packets: Packet[]
  /** Every byte received so far (for answers the parser cannot read, e.g. to a foreign protocol level). */
  bytes(): Buffer
  /** Whether the broker closed (or reset) the connection. */
  closed(): boolean
  readonly closedAt: Promise<void>
  send(packet: Packet): void
  sendBytes(bytes: Buffer | number[]): void
  /** The first not yet taken packet of this kind (waits for it); fails if the connection closes first. */
  next<C extends Packet['cmd']>(cmd: C, timeoutMs?: number): Promise<Extract<Packet, { cmd: C }>>
  /** Resolves when the connection is closed; fails if it stays open for `timeoutMs`. */
  waitClosed(timeoutMs?: number): Promise<void>
  destroy(): void
}

/** A TCP connection that parses what the broker sends as MQTT `protocolVersion` packets. */
export async function raw(tb: TestBroker, protocolVersion: 3 | 4 | 5 = 5): Promise<RawClient> {
  const socket = netConnect({ host: '127.0.0.1', port: tb.port })
  await once(socket, 'connect')
  const parser = mqttPacket.parser({ protocolVersion })
  const packets: Packet[] = []
  const taken = new Set<Packet>()
  let isClosed = false
  const closedAt = new Promise<void>((resolve) => socket.once('close', () => { isClosed = true; resolve() }))
  socket.on('error', () => {})
  parser.on('packet', (p: Packet) => packets.push(p))
  parser.on('error', () => {})
  const chunks: Buffer[] = []
  socket.on('data', (d: Buffer) => { chunks.push(d); parser.parse(d) })
  const client: RawClient = {
    socket,
    packets,
    bytes: () => Buffer.concat(chunks),
    closed: () => isClosed,
    closedAt,
    send(packet) {
      socket.write(mqttPacket.generate(packet, { protocolVersion }))
    },
    sendBytes(bytes) {
      socket.write(Buffer.from(bytes))
    },
    async next(cmd, timeoutMs = 5_000) {
      const end = Date.now() + timeoutMs
      for (;;) {
        const p = packets.find((x) => x.cmd === cmd && !taken.has(x))
        if (p) { taken.add(p); return p as never }
        if (isClosed) assert.fail(`connection closed while waiting for ${cmd}; got ${packets.map((x) => x.cmd).join(',') || 'nothing'}`)
        if (Date.now() > end) assert.fail(`no ${cmd} within ${timeoutMs} ms; got ${packets.map((x) => x.cmd).join(',') || 'nothing'}`)
        await sleep(5)
      }
    },
    async waitClosed(timeoutMs = 5_000) {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs) })
      try { await Promise.race([closedAt, timeout]) } finally { clearTimeout(timer) }
    },
    destroy: () => socket.destroy(),
  }
  return client
}

/** A raw client that has sent CONNECT (v5 unless given) and received a successful CONNACK. */
export async function rawConnected(tb: TestBroker, connect: Partial<mqttPacket.IConnectPacket> = {}): Promise<RawClient> {
  const version = (connect.protocolVersion ?? 5) as 3 | 4 | 5
  const c = await raw(tb, version)
  c.send({ cmd: 'connect', protocolId: version === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: version, clean: true, keepalive: 60, clientId: clientId('raw'), ...connect })
  const connack = await c.next('connack')
  assert.equal(version === 5 ? connack.reasonCode : connack.returnCode, 0, 'CONNACK refused')
  return c
}

/** An MQTT variable byte integer. */
export function varint(n: number): number[] {
  const out: number[] = []
  do {
    let b = n % 128
    n = Math.floor(n / 128)
    if (n > 0) b |= 0x80
    out.push(b)
  } while (n > 0)
  return out
}

/** A UTF-8 string as MQTT encodes it (two-byte length, then the bytes). */
export function mqttString(s: string | Buffer): number[] {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s
  return [b.length >> 8, b.length & 0xff, ...b]
}

/** A whole packet: fixed header byte, remaining length, body. */
export function packet(first: number, body: number[]): Buffer {
  return Buffer.from([first, ...varint(body.length), ...body])
}

/** CONNECT bytes (no will, no credentials); `clientIdBytes` may be any bytes, even invalid UTF-8. */
export function connectBytes(opts: { version?: 3 | 4 | 5; clientIdBytes?: Buffer; clean?: boolean; keepalive?: number; flags?: number; protocolName?: string } = {}): Buffer {
  const version = opts.version ?? 5
  const name = opts.protocolName ?? (version === 3 ? 'MQIsdp' : 'MQTT')
  const flags = opts.flags ?? ((opts.clean ?? true) ? 0x02 : 0x00)
  const keepalive = opts.keepalive ?? 60
  const body = [...mqttString(name), version, flags, keepalive >> 8, keepalive & 0xff, ...(version === 5 ? [0] : []),
    ...mqttString(opts.clientIdBytes ?? Buffer.from(clientId('b')))]
  return packet(0x10, body)
}

// --- listener tests: transports and certificates ---------------------------------------------

export const run = promisify(execFile)

export type Transport = 'tcp' | 'tls' | 'ws' | 'wss'
export const TRANSPORTS: readonly Transport[] = ['tcp', 'tls', 'ws', 'wss']

export function urlOf(transport: Transport, host: string, port: number, path = '/mqtt'): string {
  return ({ tcp: `mqtt://${host}:${port}`, tls: `mqtts://${host}:${port}`, ws: `ws://${host}:${port}${path}`, wss: `wss://${host}:${port}${path}` })[transport]
}

/** An MQTT 3.1.1 client that verifies the server's certificate against `ca` (for mqtts and wss). */
export function connectClient(url: string, ca?: string, extra: mqtt.IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...(ca ? { ca, rejectUnauthorized: true } : {}), ...extra })
}

/** Waits for `count` messages on a client; resolves with their topics and payloads. */
export function collect(client: MqttClient, count: number, timeoutMs = 10_000): Promise<Array<[string, string]>> {
  const got: Array<[string, string]> = []
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`got ${got.length} of ${count} messages: ${JSON.stringify(got)}`)), timeoutMs)
    client.on('message', (topic, payload) => {
      got.push([topic, payload.toString()])
      if (got.length === count) {
        clearTimeout(timer)
        resolve(got)
      }
    })
  })
}

/** The SHA-256 fingerprint of the certificate a TLS server presents (no verification). */
export function presentedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const fp = socket.getPeerCertificate().fingerprint256
      socket.end()
      resolve(fp)
    })
    socket.once('error', reject)
  })
}

/** A CA and a server certificate it signed for localhost and 127.0.0.1, made with Debian's openssl. */
export async function makeCaAndServerCertificate(): Promise<{ dir: string; caCert: string; serverCert: string; serverKey: string; otherKey: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'junction-ca-'))
  const f = (name: string) => join(dir, name)
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  await run('openssl', ['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=Junction Test CA'])
  await run('openssl', ['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost'])
  await writeFile(f('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n')
  await run('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '2', '-extfile', f('ext.cnf')])
  await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', f('other.key')])
  const [caCert, serverCert, serverKey, otherKey] = await Promise.all(['ca.crt', 'server.crt', 'server.key', 'other.key'].map((n) => readFile(f(n), 'utf8')))
  return { dir, caCert: caCert!, serverCert: serverCert!, serverKey: serverKey!, otherKey: otherKey! }
}

/**
 * A subscriber that never reads: a raw MQTT 3.1.1 client (clean session) that subscribes to
 * `filter` at QoS 1 and stops reading once the broker has had time to take the SUBSCRIBE.
 * `ready` says when the subscription exists (default: 200 ms later).
 */
export async function stuckSubscriber(port: number, filter: string, ready: () => Promise<unknown> = () => sleep(200)): Promise<Socket> {
  const socket = netConnect({ host: '127.0.0.1', port })
  socket.on('error', () => {})
  await once(socket, 'connect')
  socket.write(connectBytes({ version: 4, clientIdBytes: Buffer.from('stuck-sub'), clean: true, keepalive: 60 }))
  socket.write(packet(0x82, [0, 1, ...mqttString(filter), 1]))
  await ready()
  socket.pause()
  return socket
}
