import { once } from 'node:events'
import { isIP, connect as netConnect } from 'node:net'
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate } from 'node:tls'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect, nkeyAuthenticator, nkeys, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node'
import { ConnectorError, deadline, hostPorts, probeConnection, settleWithin, timedOut, tlsOptions, toConnectorError, untilAborted, type Channel, type Connector, type HostPort, type ConnectorContext, type Health, type ProbeResult } from '../../connector-api/index.js'
import { classifyNatsError } from './classify-error.js'
import type { NatsConfig, NatsParams } from './config-schema.js'
import { NatsChannel, NatsWire } from './nats-channel.js'

/** Splits a validated `servers` value into host, port (4222 by default) and `host:port`. */
export const parseServers = (value: string): HostPort[] => hostPorts(value, 4222)

export class NatsConnector implements Connector<NatsParams> {
  readonly target: string
  private readonly servers: HostPort[]
  private conn: { readonly nc: NatsConnection; readonly wire: NatsWire } | undefined
  private lost: ConnectorError | undefined
  private stopped = false

  constructor(private readonly config: NatsConfig, private readonly ctx: ConnectorContext) {
    this.servers = parseServers(config.servers)
    this.target = this.servers.map((s) => s.address).join(',')
  }

  private name = () => this.config.name ?? `junction-${this.ctx.connectorId}`
  classify = (err: unknown, target = this.target, subject?: string) => classifyNatsError(err, { target, tls: this.config.tls.enable, ...(subject === undefined ? {} : { subject }) })

  /** nats.js options: no reconnect of its own (the runtime reconnects), servers in the order given. */
  private options(servers: readonly HostPort[], name: string): ConnectionOptions {
    const { authentication: a, tls } = this.config
    // nats.js checks an IP server's certificate against "localhost": check it against the configured hosts.
    const hosts = servers.map((s) => s.host)
    const identity = (_: string, cert: PeerCertificate) => (hosts.some((h) => !checkServerIdentity(h, cert)) ? undefined : checkServerIdentity(hosts[0]!, cert))
    return {
      servers: servers.map((s) => s.address), name, reconnect: false, noRandomize: true, timeout: this.config.connectTimeoutMs,
      ...(a.username === undefined ? {} : { user: a.username, pass: a.password ?? '' }),
      ...(a.token === undefined ? {} : { token: a.token }),
      ...(a.nkeySeed === undefined ? {} : { authenticator: nkeyAuthenticator(new TextEncoder().encode(a.nkeySeed)) }),
      ...(tls.enable ? { tls: { ...(tls.verify && !tls.serverName ? { checkServerIdentity: identity } : {}), ...tlsOptions(tls) } as ConnectionOptions['tls'] } : {}),
    }
  }

  /** TCP, INFO, TLS, CONNECT + PING/PONG; a connection that arrives after `signal` aborted is closed. */
  private async open(signal: AbortSignal, servers: readonly HostPort[], name: string): Promise<NatsConnection> {
    const target = servers.map((s) => s.address).join(',')
    const pending = connect(this.options(servers, name))
    try {
      const nc = await untilAborted(pending, signal, () => timedOut(target), () => pending.then((c) => c.close()))
      if (this.config.tls.enable || !nc.info?.tls_required) return nc
      await nc.close()
      throw new ConnectorError('TLS_REQUIRED', `${target} requires TLS, and TLS is off`, { hint: 'Turn tls.enable on (with caCert for a private CA).' })
    } catch (err) {
      throw toConnectorError(err, target, { signal, classify: (e) => this.classify(e, target) })
    }
  }

  probe(signal: AbortSignal): Promise<ProbeResult> {
    const first = this.servers[0]!
    const { authentication: a, tls, connectTimeoutMs } = this.config
    let nc: NatsConnection | undefined
    const who = a.username !== undefined ? `as user "${a.username}"` : a.token !== undefined ? 'with a token'
      : a.nkeySeed !== undefined ? `as NKey user ${nkeys.fromSeed(new TextEncoder().encode(a.nkeySeed)).getPublicKey()}` : 'without authentication'
    const authenticate = async (bound: AbortSignal) => {
      nc = await this.open(bound, [first], `${this.name()}-probe`)
      return `${who}${tls.enable ? ' over TLS' : ''}`
    }
    return probeConnection({
      host: first.host, port: first.port, timeoutMs: connectTimeoutMs, tls,
      tlsStep: (address, bound) => tlsAfterInfo(address, first, tls, bound),
      steps: [{ name: 'authenticate', run: authenticate }, { name: 'query', run: () => describeServer(nc!, connectTimeoutMs) }],
      classify: (err) => this.classify(err, first.address),
      cleanup: () => nc?.close(),
    }, signal)
  }

  async start(signal: AbortSignal): Promise<void> {
    const nc = await this.open(signal, this.servers, this.name())
    if (this.stopped) return void (await nc.close())
    this.conn = { nc, wire: new NatsWire(nc) }
    void nc.closed().then((err) => {
      if (this.stopped) return
      this.lost = err ? this.classify(err) : new ConnectorError('CONNECTION_LOST', `${this.target} closed the connection`, { hint: 'Junction reconnects when the server is back.' })
      this.ctx.logger.warn('NATS connection lost', { code: this.lost.code, reason: this.lost.message })
    })
  }

  /** The open connection and its publishing side; throws a `not_connected` error when there is none. */
  live(): { nc: NatsConnection; wire: NatsWire } {
    if (this.lost) throw this.lost
    if (!this.conn || this.conn.nc.isClosed()) throw new ConnectorError('CONNECTION_LOST', `Not connected to ${this.target}`, { hint: 'Junction reconnects when the server is back.' })
    return this.conn
  }

  async stop(signal: AbortSignal): Promise<void> {
    this.stopped = true
    if (this.conn && !this.conn.nc.isClosed()) await settleWithin(this.conn.nc.close(), signal)
  }

  async health(signal: AbortSignal): Promise<Health> {
    const rtt = untilAborted(Promise.resolve().then(() => this.live().nc.rtt()), deadline(signal, this.config.connectTimeoutMs), () => timedOut(this.target))
    const e = await rtt.then(() => undefined, (err: unknown) => toConnectorError(err, this.target, { classify: this.classify }))
    return e ? { status: 'disconnected', code: e.code, reason: e.message } : { status: 'connected' }
  }

  openChannel = async (params: NatsParams): Promise<Channel> => new NatsChannel(this, params)
}

/** The `query` step: the server's INFO, and whether JetStream answers for this account (a round trip). */
async function describeServer(nc: NatsConnection, timeout: number): Promise<string> {
  const js = await jetstreamManager(nc, { timeout, checkAPI: false }).then((m) => m.getAccountInfo()).then((a) => `JetStream on, ${a.streams} stream(s) in this account`,
    (err: Error) => { if (err.name === 'JetStreamNotEnabled') return 'JetStream off for this account'; throw err })
  return `NATS ${nc.info!.version} "${nc.info!.server_name}", max payload ${nc.info!.max_payload} bytes, ${js}`
}

/** The `tls` step: NATS upgrades after its INFO line (tls_required), so this reads INFO, then upgrades that socket. */
async function tlsAfterInfo(address: string, server: HostPort, tls: NatsConfig['tls'], signal: AbortSignal): Promise<string> {
  const socket = netConnect({ host: address, port: server.port, signal })
  try {
    let head = ''
    while (!head.includes('\r\n') && head.length < 65_536) head += String((await once(socket, 'data', { signal }))[0])
    const info = /^INFO\s+(\{.*\})\s*\r\n/.exec(head)?.[1]
    if (!info) throw new ConnectorError('CONNECTION_FAILED', `${server.address} does not speak NATS (no INFO line)`, { hint: 'Check the port: NATS clients use 4222 by default.' })
    if (!/"tls_(required|available)"\s*:\s*true/.test(info)) throw new ConnectorError('TLS_NOT_SUPPORTED', `TLS is on, but ${server.address} does not offer TLS`, { hint: 'Turn tls.enable off, or enable TLS on the server.' })
    // `host`: the name the certificate must carry when no server name is sent (an IP address).
    const servername = tls.serverName ?? (isIP(server.host) === 0 ? server.host : undefined)
    const secure = tlsConnect({ socket, host: server.host, ...tlsOptions(tls), ...(servername ? { servername } : {}) })
    await once(secure, 'secureConnect', { signal })
    return `${secure.getProtocol() ?? 'TLS'} after INFO, certificate ${tls.verify ? 'verified' : 'not verified (verify is off)'}`
  } finally {
    socket.destroy()
  }
}
