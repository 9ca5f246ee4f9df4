import { isIP, connect as netConnect } from 'node:net'
import { checkServerIdentity, connect as tlsConnect } from 'node:tls'
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream'
import { connect, nkeyAuthenticator, nkeys, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node'
import {
  ConnectorError, deadline, probeConnection, settleWithin, timedOut, tlsOptions, toConnectorError, untilAborted,
  type Channel, type Connector, type ConnectorContext, type Health, type ProbeResult,
} from '../../connector-api/index.js'
import { classifyNatsError } from './classify-error.js'
import type { NatsConfig, NatsParams } from './config-schema.js'
import { NatsChannel } from './nats-channel.js'

interface Server { readonly host: string; readonly port: number; readonly address: string }

/** Splits a validated `servers` value into host, port (4222 by default) and `host:port`. */
export function parseServers(value: string): Server[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s !== '').map((item) => {
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(item)!
    const host = m[1]!.replace(/^\[|\]$/g, '')
    const port = Number(m[2] ?? 4222)
    return { host, port, address: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}` }
  })
}

/** What a channel needs of the live connection. */
export interface NatsLink {
  /** The open connection and its JetStream client; throws a `not_connected` error when there is none. */
  live(): { nc: NatsConnection; js: JetStreamClient }
  readonly target: string
}

export class NatsConnector implements Connector<NatsParams>, NatsLink {
  readonly target: string
  private readonly servers: Server[]
  private nc: NatsConnection | undefined
  private js: JetStreamClient | undefined
  private lost: ConnectorError | undefined
  private stopped = false

  constructor(private readonly config: NatsConfig, private readonly ctx: ConnectorContext) {
    this.servers = parseServers(config.servers)
    this.target = this.servers.map((s) => s.address).join(',')
  }

  private classify = (err: unknown, target = this.target, subject?: string) => classifyNatsError(err, { target, tls: this.config.tls.enable, ...(subject === undefined ? {} : { subject }) })

  /** nats.js options: no reconnect of its own (the runtime reconnects), servers in the order given. */
  private options(servers: readonly Server[], name: string): ConnectionOptions {
    const a = this.config.authentication
    const tls = this.config.tls
    const hosts = servers.map((s) => s.host)
    // nats.js checks an IP server's certificate against "localhost": check it against the configured names instead.
    const identity = tls.verify && !tls.serverName
      ? { checkServerIdentity: (_: string, cert: Parameters<typeof checkServerIdentity>[1]) => (hosts.some((h) => !checkServerIdentity(h, cert)) ? undefined : checkServerIdentity(hosts[0]!, cert)) }
      : {}
    return {
      servers: servers.map((s) => s.address), name, reconnect: false, noRandomize: true, timeout: this.config.connectTimeoutMs,
      ...(a.username === undefined ? {} : { user: a.username, pass: a.password ?? '' }),
      ...(a.token === undefined ? {} : { token: a.token }),
      ...(a.nkeySeed === undefined ? {} : { authenticator: nkeyAuthenticator(new TextEncoder().encode(a.nkeySeed)) }),
      ...(tls.enable ? { tls: { ...tlsOptions(tls), ...identity } as ConnectionOptions['tls'] } : {}),
    }
  }

  /** Connects (TCP, INFO, TLS, CONNECT + PING/PONG); a connection that arrives after `signal` aborted is closed. */
  private async open(signal: AbortSignal, servers: readonly Server[], name: string): Promise<NatsConnection> {
    const target = servers.map((s) => s.address).join(',')
    const pending = connect(this.options(servers, name))
    try {
      const nc = await untilAborted(pending, signal, () => timedOut(target), () => pending.then((c) => c.close()))
      if (!this.config.tls.enable && nc.info?.tls_required) {
        await nc.close()
        throw new ConnectorError('TLS_REQUIRED', `${target} requires TLS, and TLS is off`, { hint: 'Turn tls.enable on (with caCert for a private CA).' })
      }
      return nc
    } catch (err) {
      throw toConnectorError(err, target, { signal, classify: (e) => this.classify(e, target) })
    }
  }

  private get name(): string {
    return this.config.name ?? `junction-${this.ctx.connectorId}`
  }

  probe(signal: AbortSignal): Promise<ProbeResult> {
    const first = this.servers[0]!
    const target = first.address
    const timeoutMs = this.config.connectTimeoutMs
    let nc: NatsConnection | undefined
    const a = this.config.authentication
    const who = a.username !== undefined ? `as user "${a.username}"` : a.token !== undefined ? 'with a token'
      : a.nkeySeed !== undefined ? `as NKey user ${nkeys.fromSeed(new TextEncoder().encode(a.nkeySeed)).getPublicKey()}` : 'without authentication'
    return probeConnection({
      host: first.host, port: first.port, timeoutMs, tls: this.config.tls,
      tlsStep: (address, bound) => tlsUpgrade(address, first, this.config.tls, bound),
      steps: [
        {
          name: 'authenticate',
          run: async (bound) => {
            nc = await this.open(bound, [first], `${this.name}-probe`)
            return `${who}${nc.info?.tls_required || this.config.tls.enable ? ' over TLS' : ''}`
          },
        },
        { name: 'query', run: (bound) => untilAborted(describeServer(nc!, timeoutMs), bound, () => timedOut(target)) },
      ],
      classify: (err) => this.classify(err, target),
      cleanup: () => nc?.close(),
    }, signal)
  }

  async start(signal: AbortSignal): Promise<void> {
    const nc = await this.open(signal, this.servers, this.name)
    if (this.stopped) {
      await nc.close()
      throw new ConnectorError('CONNECTION_LOST', 'The connector was stopped while connecting')
    }
    this.nc = nc
    this.js = jetstream(nc)
    void nc.closed().then((err) => {
      if (this.stopped) return
      this.lost = err ? this.classify(err) : new ConnectorError('CONNECTION_LOST', `${this.target} closed the connection`, { hint: 'Junction reconnects when the server is back.' })
      this.ctx.logger.warn('NATS connection lost', { code: this.lost.code, reason: this.lost.message })
    })
  }

  live(): { nc: NatsConnection; js: JetStreamClient } {
    if (this.lost) throw this.lost
    if (!this.nc || !this.js || this.nc.isClosed()) throw new ConnectorError('CONNECTION_LOST', `Not connected to ${this.target}`, { hint: 'Junction reconnects when the server is back.' })
    return { nc: this.nc, js: this.js }
  }

  async stop(signal: AbortSignal): Promise<void> {
    this.stopped = true
    const nc = this.nc
    this.nc = undefined
    if (nc && !nc.isClosed()) await settleWithin(nc.close(), signal)
  }

  async health(signal: AbortSignal): Promise<Health> {
    try {
      const { nc } = this.live()
      const bound = deadline(signal, this.config.connectTimeoutMs)
      await untilAborted(nc.rtt(), bound, () => timedOut(this.target))
      return { status: 'connected' }
    } catch (err) {
      const e = toConnectorError(err, this.target, { classify: this.classify })
      return { status: 'disconnected', code: e.code, reason: e.message }
    }
  }

  async openChannel(params: NatsParams): Promise<Channel> {
    return new NatsChannel(this, params, (err, subject) => this.classify(err, this.target, subject))
  }
}

/** The `query` step: what the server says about itself, and whether JetStream answers for this account. */
async function describeServer(nc: NatsConnection, timeout: number): Promise<string> {
  const info = nc.info!
  let js = 'JetStream off'
  if (info.jetstream) {
    try {
      const account = await (await jetstreamManager(nc, { timeout, checkAPI: false })).getAccountInfo()
      js = `JetStream on, ${account.streams} stream(s) in this account`
    } catch (err) {
      if ((err as Error).name !== 'JetStreamNotEnabled') throw err
      js = 'JetStream off for this account'
    }
  }
  return `NATS ${info.version} "${info.server_name}", max payload ${info.max_payload} bytes, ${js}`
}

/**
 * The `tls` step: NATS speaks TLS after its INFO line (tls_required), so the kit's handshake on a
 * fresh socket cannot work; this reads INFO, then upgrades the same socket with the TLS settings.
 */
function tlsUpgrade(address: string, server: Server, tls: NatsConfig['tls'], signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: address, port: server.port })
    let head = ''
    const done = (err?: unknown, detail?: string) => {
      signal.removeEventListener('abort', onAbort)
      socket.destroy()
      if (err === undefined) resolve(detail!)
      else reject(err)
    }
    const onAbort = () => done(timedOut(server.address))
    signal.addEventListener('abort', onAbort, { once: true })
    socket.once('error', done)
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1')
      const end = head.indexOf('\r\n')
      if (end < 0 && head.length < 65_536) return
      socket.removeAllListeners('data')
      let info: { tls_required?: boolean; tls_available?: boolean }
      try {
        info = JSON.parse(/^INFO\s+(.*)$/.exec(head.slice(0, end))![1]!)
      } catch {
        return done(new ConnectorError('CONNECTION_FAILED', `${server.address} does not speak NATS (no INFO line)`, { hint: 'Check the port: NATS clients use 4222 by default.' }))
      }
      if (!info.tls_required && !info.tls_available) {
        return done(new ConnectorError('TLS_NOT_SUPPORTED', `TLS is on, but ${server.address} does not offer TLS`, { hint: 'Turn tls.enable off, or enable TLS on the server.' }))
      }
      const servername = tls.serverName ?? (isIP(server.host) === 0 ? server.host : undefined)
      // `host` is the name the certificate must carry when no server name is sent (an IP address).
      const secure = tlsConnect({ socket, host: server.host, ...tlsOptions(tls), ...(servername ? { servername } : {}) })
      secure.once('error', done)
      secure.once('secureConnect', () => {
        done(undefined, `${secure.getProtocol() ?? 'TLS'} after INFO, certificate ${tls.verify ? 'verified' : 'not verified (verify is off)'}`)
      })
    })
  })
}
