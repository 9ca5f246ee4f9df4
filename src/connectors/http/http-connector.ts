import { isIP } from 'node:net'
import { Client, Pool, type Dispatcher } from 'undici'
import { checkHealth, ConnectorError, httpStatusError, joinUrlPath, NOT_STARTED, notStarted, performRequest, probeConnection, roundTrip, settleWithin, startWorkerThread, timedOut, tlsHandshake, WorkerCalls } from '../../connector-api/index.js'
import type { Channel, Connector, ConnectorContext, Health, HttpAnswer, HttpRequest, ProbeResult } from '../../connector-api/index.js'
import { classifyHttpError } from './classify-error.js'
import type { HttpConfig, HttpParams } from './config-schema.js'
import { HttpChannel, requestTtlOver, type HttpServer } from './http-channel.js'
import { clientOptions, openPool, secretsOf } from './http-request.js'

/**
 * An HTTP server (webhook): a keep-alive pool of `poolSize` connections (undici) that the rule
 * actions' requests share, and one more connection of its own for health checks, so that a check
 * never queues behind deliveries on a busy pool. A Test opens its own short-lived connection.
 * With `workerThread` the pool lives in a worker thread: undici's work per request (about 23 µs
 * of CPU, half of the path's) leaves the main thread, which renders the requests and hands them
 * over in batches; a gain only where a core is spare.
 */
export class HttpConnector implements Connector<HttpParams>, HttpServer {
  readonly target: string
  readonly https: boolean
  readonly headers: Readonly<Record<string, string>>
  private readonly url: URL
  private readonly host: string
  private readonly port: number
  /** How the channels send on the running connection; undefined until started and once stopped. */
  transport: ((request: HttpRequest, signal: AbortSignal) => Promise<HttpAnswer>) | undefined
  /** The running connection: a pool here, or the worker thread's calls. */
  private pool: Pool | undefined
  private calls: WorkerCalls<HttpRequest, HttpAnswer> | undefined
  private checker: Client | undefined

  constructor(private readonly config: HttpConfig, private readonly ctx: ConnectorContext) {
    this.url = new URL(config.url)
    this.https = this.url.protocol === 'https:'
    this.target = this.url.host
    this.host = this.url.hostname.replace(/^\[(.*)\]$/, '$1')
    this.port = this.url.port ? Number(this.url.port) : this.https ? 443 : 80
    const auth = config.authorization
    this.headers = { ...Object.fromEntries(Object.entries(config.headers).map(([k, v]) => [k.toLowerCase(), v])), ...(auth === undefined ? {} : { authorization: auth }) }
  }

  /** The base URL's path with the action's rendered path appended as written (one slash where both have one). */
  requestPath(path: string): string {
    return joinUrlPath(this.url.pathname, path)
  }

  probe(signal: AbortSignal): Promise<ProbeResult> {
    let client: Client | undefined
    return probeConnection({
      host: this.host, port: this.port, timeoutMs: this.config.connectTimeoutMs,
      tls: this.https ? { ...this.config.tls, enable: true } : undefined,
      // With credentials, the request is what checks them.
      steps: [{ name: this.headers.authorization === undefined ? 'request' : 'authenticate', run: async (bound, address) => {
        client = new Client(this.url.origin, clientOptions(this.config))
        const status = await this.head(client, bound).catch(async (err: unknown) => { throw await this.plainToTls(err, address, bound) })
        // 401/403: the credentials; 5xx: the server cannot serve now. Any other answer proves the server (a webhook need not take HEAD).
        if (status === 401 || status === 403 || status >= 500) throw httpStatusError(status, this.target)
        return `HEAD ${this.url.pathname} answered ${status}`
      } }],
      classify: (err) => classifyHttpError(err, this.target, this.https),
      cleanup: () => client?.destroy(),
    }, signal)
  }

  async start(signal: AbortSignal): Promise<void> {
    const c = this.config
    if (c.workerThread) {
      const worker = startWorkerThread(new URL('./http-worker.js', import.meta.url), { name: `http ${this.ctx.connectorId}`, workerData: { config: c } })
      const calls = (this.calls = new WorkerCalls<HttpRequest, HttpAnswer>(worker, { label: 'HTTP', logger: this.ctx.logger, onAbort: () => requestTtlOver(this.target) }))
      this.transport = (request, s) => calls.call(request, s)
    } else {
      const [pool, secrets] = [(this.pool = openPool(c)), secretsOf(c)]
      this.transport = (request, s) => performRequest(pool, request, s, secrets)
    }
    const checker = (this.checker = new Client(this.url.origin, clientOptions(c)))
    await roundTrip(signal, this.checkOptions, (bound) => this.head(checker, bound))
  }

  /** Connected while the server answers HTTP at all: the base URL is not where messages go, so its status says little. */
  async health(signal: AbortSignal): Promise<Health> {
    const checker = this.checker
    return checker ? checkHealth(signal, this.checkOptions, (bound) => this.head(checker, bound)) : NOT_STARTED
  }

  async stop(signal: AbortSignal): Promise<void> {
    const open = [this.pool, this.checker].filter((d): d is Pool | Client => d !== undefined)
    const calls = this.calls
    this.pool = this.checker = this.calls = this.transport = undefined
    // Requests in flight may finish until the signal; then the sockets go (with the thread).
    const settled = Promise.all([...open.map((d) => d.close()), calls?.idle()])
    if (!(await settleWithin(settled, signal))) await Promise.all(open.map((d) => d.destroy().catch(() => {})))
    await calls?.worker.terminate()
  }

  async openChannel(params: HttpParams): Promise<Channel> {
    if (!this.transport) throw notStarted('Junction opens the action again once connected.')
    // Through a worker thread, more requests waiting in its pool let calls and answers cross in batches.
    return new HttpChannel(this, params, this.config.poolSize * this.config.pipelining * (this.calls ? 4 : 1))
  }

  private async head(client: Dispatcher, signal: AbortSignal): Promise<number> {
    const { statusCode, body } = await client.request({ method: 'HEAD', path: this.url.pathname, headers: this.headers, signal })
    return body.dump().catch(() => {}).then(() => statusCode)
  }

  /** A start's and a health check's HEAD on the health connection, bounded by connectTimeoutMs; any answer will do. */
  private get checkOptions() {
    return { timeoutMs: this.config.connectTimeoutMs, target: this.target, classify: (e: unknown) => classifyHttpError(e, this.target, this.https) }
  }

  /** An http:// URL whose server closed the connection unanswered: when the port speaks TLS, say so. */
  private async plainToTls(err: unknown, address: string, signal: AbortSignal): Promise<unknown> {
    if (this.https || classifyHttpError(err, this.target, false)?.code !== 'CONNECTION_LOST') return err
    const speaksTls = await tlsHandshake({ host: address, port: this.port, servername: isIP(this.host) === 0 ? this.host : undefined, options: { rejectUnauthorized: false }, verify: false,
      timeoutMs: this.config.connectTimeoutMs, signal, onAbort: () => timedOut(this.target) }).then(() => true, () => false)
    return speaksTls ? new ConnectorError('TLS_REQUIRED', `${this.target} speaks HTTPS on this port, and the URL is http://`, { hint: 'Use an https:// URL.' }) : err
  }
}

