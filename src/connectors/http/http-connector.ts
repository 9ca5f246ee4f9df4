import { isIP } from 'node:net'
import { Client, Pool, type Dispatcher } from 'undici'
import { ConnectorError, deadline, probeConnection, settleWithin, timedOut, tlsHandshake, tlsOptions, toConnectorError, untilAborted } from '../../connector-api/index.js'
import type { Channel, Connector, ConnectorContext, Health, ProbeResult } from '../../connector-api/index.js'
import { classifyHttpError, statusError } from './classify-error.js'
import type { HttpConfig, HttpParams } from './config-schema.js'
import { HttpChannel } from './http-channel.js'

/**
 * An HTTP server (webhook): a keep-alive pool of `poolSize` connections (undici) that the rule
 * actions' requests share, and one more connection of its own for health checks, so that a check
 * never queues behind deliveries on a busy pool. A Test opens its own short-lived connection.
 */
export class HttpConnector implements Connector<HttpParams> {
  readonly target: string
  readonly https: boolean
  /** Connector headers (names in lower case), `authorization` included. */
  readonly headers: Readonly<Record<string, string>>
  /** Values never repeated from a server's answer (one that echoes the request must not put the secret into lastError). */
  readonly secrets: readonly string[]
  private readonly url: URL
  private readonly host: string
  private readonly port: number
  /** The pool of the running connection (the channels send on it); undefined once stopped. */
  pool: Pool | undefined
  private checker: Client | undefined
  private stopped = false

  constructor(private readonly config: HttpConfig, private readonly ctx: ConnectorContext) {
    this.url = new URL(config.url)
    this.https = this.url.protocol === 'https:'
    this.target = this.url.host
    this.host = this.url.hostname.replace(/^\[(.*)\]$/, '$1')
    this.port = this.url.port ? Number(this.url.port) : this.https ? 443 : 80
    const auth = config.authorization
    this.headers = { ...Object.fromEntries(Object.entries(config.headers).map(([k, v]) => [k.toLowerCase(), v])), ...(auth === undefined ? {} : { authorization: auth }) }
    this.secrets = auth === undefined ? [] : [auth, auth.slice(auth.indexOf(' ') + 1)].filter((s) => s.length >= 4)
  }

  /** The base URL's path with the action's rendered path appended as written (one slash where both have one). */
  requestPath(path: string): string {
    const base = this.url.pathname
    return base.endsWith('/') && path.startsWith('/') ? base + path.slice(1) : base + path
  }

  probe(signal: AbortSignal): Promise<ProbeResult> {
    let client: Client | undefined
    return probeConnection({
      host: this.host, port: this.port, timeoutMs: this.config.connectTimeoutMs,
      tls: this.https ? { ...this.config.tls, enable: true } : undefined,
      // With credentials, the request is what checks them.
      steps: [{ name: this.headers.authorization === undefined ? 'request' : 'authenticate', run: async (bound, address) => {
        client = new Client(this.url.origin, this.clientOptions())
        const status = await this.head(client, bound).catch(async (err: unknown) => { throw await this.plainToTls(err, address, bound) })
        // 401/403: the credentials; 5xx: the server cannot serve now. Any other answer proves the server (a webhook need not take HEAD).
        if (status === 401 || status === 403 || status >= 500) throw statusError(status, this.target, '', undefined)
        return `HEAD ${this.url.pathname} answered ${status}`
      } }],
      classify: (err) => classifyHttpError(err, this.target, this.https),
      cleanup: () => client?.destroy(),
    }, signal)
  }

  async start(signal: AbortSignal): Promise<void> {
    this.pool = new Pool(this.url.origin, { ...this.clientOptions(), connections: this.config.poolSize, pipelining: this.config.pipelining })
    this.checker = new Client(this.url.origin, this.clientOptions())
    await this.check(signal)
  }

  /** Connected while the server answers HTTP at all: the base URL is not where messages go, so its status says little. */
  async health(signal: AbortSignal): Promise<Health> {
    if (this.stopped || !this.checker) return { status: 'disconnected', code: 'CONNECTION_FAILED', reason: 'The connector is not started.' }
    return this.check(signal).then(() => ({ status: 'connected' }), (e: ConnectorError) => ({ status: 'disconnected', code: e.code, reason: e.message }))
  }

  async stop(signal: AbortSignal): Promise<void> {
    this.stopped = true
    const open = [this.pool, this.checker].filter((d): d is Pool | Client => d !== undefined)
    this.pool = this.checker = undefined
    // Requests in flight may finish until the signal; then the sockets go.
    if (!(await settleWithin(Promise.all(open.map((d) => d.close())), signal))) await Promise.all(open.map((d) => d.destroy().catch(() => {})))
  }

  async openChannel(params: HttpParams): Promise<Channel> {
    if (!this.pool) throw new ConnectorError('CONNECTION_LOST', 'The connector is not started', { kind: 'not_connected', hint: 'Junction opens the action again once connected.' })
    return new HttpChannel(this, params, this.config.poolSize * this.config.pipelining)
  }

  private clientOptions(): Pool.Options {
    const c = this.config
    const tls = this.https ? tlsOptions({ ...c.tls, enable: true }) : undefined
    return { connect: { timeout: c.connectTimeoutMs, ...tls }, headersTimeout: c.requestTimeoutMs, bodyTimeout: c.requestTimeoutMs }
  }

  private async head(client: Dispatcher, signal: AbortSignal): Promise<number> {
    const res = await client.request({ method: 'HEAD', path: this.url.pathname, headers: this.headers, signal })
    await res.body.dump().catch(() => {})
    return res.statusCode
  }

  /** One HEAD on the health connection, bounded by connectTimeoutMs; any answer will do. */
  private async check(signal: AbortSignal): Promise<void> {
    const bound = deadline(signal, this.config.connectTimeoutMs)
    try {
      await untilAborted(this.head(this.checker!, bound), bound, () => timedOut(this.target))
    } catch (err) {
      throw toConnectorError(err, this.target, { signal: bound, classify: (e) => classifyHttpError(e, this.target, this.https) })
    }
  }

  /** An http:// URL whose server closed the connection unanswered: when the port speaks TLS, say so. */
  private async plainToTls(err: unknown, address: string, signal: AbortSignal): Promise<unknown> {
    if (this.https || classifyHttpError(err, this.target, false)?.code !== 'CONNECTION_LOST') return err
    const speaksTls = await tlsHandshake({ host: address, port: this.port, servername: isIP(this.host) === 0 ? this.host : undefined, options: { rejectUnauthorized: false }, verify: false,
      timeoutMs: this.config.connectTimeoutMs, signal, onAbort: () => timedOut(this.target) }).then(() => true, () => false)
    return speaksTls ? new ConnectorError('TLS_REQUIRED', `${this.target} speaks HTTPS on this port, and the URL is http://`, { hint: 'Use an https:// URL.' }) : err
  }
}
