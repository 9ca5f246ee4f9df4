import { isIP } from 'node:net'
import { Client, Pool, type Dispatcher } from 'undici'
import {
  ConnectorError, deadline, probeConnection, settleWithin, timedOut, tlsHandshake, tlsOptions, toConnectorError, untilAborted,
  type Channel, type Connector, type ConnectorContext, type Health, type ProbeResult,
} from '../../connector-api/index.js'
import { classifyHttpError, statusError } from './classify-error.js'
import type { HttpConfig, HttpParams } from './config-schema.js'
import { HttpChannel, type HttpServer } from './http-channel.js'

/**
 * An HTTP server (webhook): a keep-alive pool of `poolSize` connections (undici) that the rule
 * actions' requests share, and one more connection of its own for health checks, so that a check
 * never queues behind deliveries on a busy pool. A Test opens its own short-lived connection.
 */
export class HttpConnector implements Connector<HttpParams>, HttpServer {
  readonly target: string
  readonly https: boolean
  readonly headers: Readonly<Record<string, string>>
  readonly secrets: readonly string[]
  readonly concurrency: number
  private readonly origin: string
  private readonly host: string
  private readonly port: number
  private readonly basePath: string
  private pool: Pool | undefined
  private checker: Client | undefined
  private stopped = false

  constructor(private readonly config: HttpConfig, private readonly ctx: ConnectorContext) {
    const url = new URL(config.url)
    this.https = url.protocol === 'https:'
    this.origin = url.origin
    this.target = url.host
    this.host = url.hostname.replace(/^\[(.*)\]$/, '$1')
    this.port = url.port ? Number(url.port) : this.https ? 443 : 80
    this.basePath = url.pathname
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(config.headers)) headers[name.toLowerCase()] = value
    if (config.authorization !== undefined) headers.authorization = config.authorization
    this.headers = headers
    // A server that echoes the request in its error answer must not put the secret into lastError.
    const auth = config.authorization ?? ''
    this.secrets = [auth, auth.slice(auth.indexOf(' ') + 1)].filter((s) => s.length >= 4)
    this.concurrency = config.poolSize * config.pipelining
  }

  get dispatcher(): Dispatcher | undefined {
    return this.pool
  }

  /** The base URL's path with the action's rendered path appended as written (one slash where both have one). */
  requestPath(path: string): string {
    if (path === '') return this.basePath
    return this.basePath.endsWith('/') && path.startsWith('/') ? this.basePath + path.slice(1) : this.basePath + path
  }

  probe(signal: AbortSignal): Promise<ProbeResult> {
    let client: Client | undefined
    const c = this.config
    return probeConnection({
      host: this.host,
      port: this.port,
      timeoutMs: c.connectTimeoutMs,
      tls: this.https ? { ...c.tls, enable: true } : undefined,
      steps: [{
        // With credentials the request is what checks them.
        name: this.headers.authorization === undefined ? 'request' : 'authenticate',
        run: async (bound, address) => {
          client = new Client(this.origin, this.clientOptions())
          let status: number
          try {
            status = await this.head(client, bound)
          } catch (err) {
            throw await this.plainToTls(err, address, bound)
          }
          // 401/403 say the credentials are wrong; 5xx that the server cannot serve now. Any other
          // answer proves the server: the base URL itself need not take HEAD (404, 405).
          const refused = status === 401 || status === 403 || status >= 500 ? statusError(status, this.target, '', undefined) : undefined
          if (refused) throw refused
          return `HEAD ${this.basePath} answered ${status}`
        },
      }],
      classify: (err) => classifyHttpError(err, this.target, this.https),
      cleanup: () => client?.destroy(),
    }, signal)
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.stopped) throw new ConnectorError('CONNECTION_FAILED', 'This connector instance was stopped', { hint: 'Start a new instance.' })
    this.pool = new Pool(this.origin, { ...this.clientOptions(), connections: this.config.poolSize, pipelining: this.config.pipelining })
    this.checker = new Client(this.origin, this.clientOptions())
    await this.check(signal)
    this.ctx.logger.debug('HTTP connector ready', { server: this.target, poolSize: this.config.poolSize })
  }

  /** Connected while the server answers HTTP at all: the base URL is not where messages go, so its status says little. */
  async health(signal: AbortSignal): Promise<Health> {
    if (this.stopped || !this.checker) return { status: 'disconnected', code: 'CONNECTION_FAILED', reason: 'The connector is not started.' }
    try {
      await this.check(signal)
      return { status: 'connected' }
    } catch (err) {
      const e = err as ConnectorError
      return { status: 'disconnected', code: e.code, reason: e.message }
    }
  }

  async stop(signal: AbortSignal): Promise<void> {
    this.stopped = true
    const open = [this.pool, this.checker].filter((d): d is Pool | Client => d !== undefined)
    this.pool = undefined
    this.checker = undefined
    if (open.length === 0) return
    // Requests in flight may finish until the signal; then the sockets go.
    const polite = await settleWithin(Promise.all(open.map((d) => d.close())), signal)
    if (!polite) await Promise.all(open.map((d) => d.destroy().catch(() => {})))
  }

  async openChannel(params: HttpParams): Promise<Channel> {
    if (!this.pool) throw new ConnectorError('CONNECTION_LOST', 'The connector is not started', { kind: 'not_connected', hint: 'Junction opens the action again once connected.' })
    return new HttpChannel(this, params)
  }

  private clientOptions(): Pool.Options {
    const c = this.config
    const tls = this.https ? tlsOptions({ ...c.tls, enable: true }) : undefined
    return { connect: { timeout: c.connectTimeoutMs, ...tls }, headersTimeout: c.requestTimeoutMs, bodyTimeout: c.requestTimeoutMs }
  }

  private async head(client: Dispatcher, signal: AbortSignal): Promise<number> {
    const res = await client.request({ method: 'HEAD', path: this.basePath, headers: this.headers, signal })
    await res.body.dump().catch(() => {})
    return res.statusCode
  }

  /** One HEAD on the health connection, bounded by connectTimeoutMs; any answer will do. */
  private async check(signal: AbortSignal): Promise<void> {
    const checker = this.checker
    if (!checker) throw new ConnectorError('CONNECTION_FAILED', 'The connector is not started', { hint: 'Start it.' })
    const bound = deadline(signal, this.config.connectTimeoutMs)
    try {
      await untilAborted(this.head(checker, bound), bound, () => timedOut(this.target))
    } catch (err) {
      throw toConnectorError(err, this.target, { signal: bound, classify: (e) => classifyHttpError(e, this.target, this.https) })
    }
  }

  /** An http:// URL whose server closed the connection unanswered: if the port speaks TLS, say so. */
  private async plainToTls(err: unknown, address: string, signal: AbortSignal): Promise<unknown> {
    const e = classifyHttpError(err, this.target, this.https)
    if (this.https || e?.code !== 'CONNECTION_LOST') return err
    const speaksTls = await tlsHandshake({
      host: address, port: this.port, servername: isIP(this.host) === 0 ? this.host : undefined, options: { rejectUnauthorized: false },
      verify: false, timeoutMs: this.config.connectTimeoutMs, signal, onAbort: () => timedOut(this.target),
    }).then(() => true, () => false)
    return speaksTls
      ? new ConnectorError('TLS_REQUIRED', `${this.target} speaks HTTPS on this port, and the URL is http://`, { hint: 'Use an https:// URL.' })
      : err
  }
}
