import { ConnectorError, compileOptionalTemplate, compilePayloadTemplate, compileUrlTemplate, errorMessage, httpStatusError, notStarted, parseRetryAfter } from '../../connector-api/index.js'
import type { Channel, ChannelMessage, HttpAnswer, HttpRequest } from '../../connector-api/index.js'
import { classifyHttpError } from './classify-error.js'
import type { HttpParams } from './config-schema.js'

type Render<T> = (o: ChannelMessage) => T

/** What a channel sends through: the running connection's transport (its pool, in a worker thread or not) and the connector's headers (lower-case names, `authorization` included). */
export interface HttpServer {
  readonly transport: ((request: HttpRequest, signal: AbortSignal) => Promise<HttpAnswer>) | undefined
  readonly target: string
  readonly https: boolean
  readonly headers: Readonly<Record<string, string>>
  requestPath(path: string): string
}

/** One rule action: one request per message (method, path, headers and body from its templates). */
export class HttpChannel implements Channel {
  private readonly path: Render<string>
  private readonly headers: Render<Record<string, string>>
  private readonly body: Render<string> | undefined

  constructor(private readonly server: HttpServer, private readonly params: HttpParams, readonly concurrency: number) {
    try {
      this.path = compileUrlTemplate(params.path)
      if (!/^[\x21-\x7e]*$/.test(this.path({}))) throw new Error('the path has characters a URL cannot carry; percent-encode them')
      const body = params.method === 'GET' || params.method === 'DELETE' ? undefined : compilePayloadTemplate(params.body)
      this.body = body?.render
      const own = Object.entries(params.headers).map(([name, value]) => [name.toLowerCase(), compileOptionalTemplate(value)] as const)
      const fixed: Record<string, string> = { ...server.headers }
      for (const [name] of own) delete fixed[name]
      if (body && !('content-type' in server.headers) && !own.some(([name]) => name === 'content-type')) fixed['content-type'] = body.json ? 'application/json' : 'text/plain; charset=utf-8'
      this.headers = own.length === 0 ? () => fixed : (o) => {
        const h = { ...fixed }
        for (const [name, render] of own) h[name] = render(o)!
        // undici sends no header whose value is undefined: a missing single placeholder leaves its header out.
        return h
      }
    } catch (err) {
      throw new ConnectorError('INVALID_PARAMS', `The action's templates cannot work: ${errorMessage(err)}`, { kind: 'permanent', hint: 'Fix the path, headers or body template.' })
    }
  }

  async send(message: ChannelMessage, signal: AbortSignal): Promise<void> {
    const { transport, target, https } = this.server
    if (!transport) throw notStarted('Junction resends once connected.')
    let answer: HttpAnswer
    try {
      answer = await transport({ method: this.params.method, path: this.server.requestPath(this.path(message)), headers: this.headers(message), body: this.body?.(message) }, signal)
    } catch (err) {
      if (signal.aborted) throw requestTtlOver(target, err)
      throw classifyHttpError(err, target, https) ?? new ConnectorError('CONNECTION_FAILED', `${target}: ${errorMessage(err)}`, { kind: 'retryable', hint: 'The message is retried.', cause: err })
    }
    if (answer.status >= 200 && answer.status < 300) return
    throw httpStatusError(answer.status, target, answer.excerpt, parseRetryAfter(answer.retryAfter))
  }
}

export const requestTtlOver = (target: string, cause?: unknown) => new ConnectorError('TIMEOUT', `No answer from ${target} within the request TTL`, { kind: 'retryable', hint: 'It may still have arrived; it is retried while the TTL allows.', cause })
