import type { Dispatcher } from 'undici'
import {
  ConnectorError, compileTemplate, compileValue, errorMessage, toText, type Channel, type ChannelMessage, type Render,
} from '../../connector-api/index.js'
import { compileBody } from './body-template.js'
import { classifyHttpError, parseRetryAfter, statusError } from './classify-error.js'
import type { HttpParams } from './config-schema.js'

/** What a channel needs from its connector. */
export interface HttpServer {
  /** The pool of the running connection; undefined once stopped. */
  readonly dispatcher: Dispatcher | undefined
  readonly target: string
  readonly https: boolean
  /** Connector headers (names in lower case), `authorization` included. */
  readonly headers: Readonly<Record<string, string>>
  /** Values never repeated from a server's answer. */
  readonly secrets: readonly string[]
  readonly concurrency: number
  requestPath(rendered: string): string
}

const EXCERPT_BYTES = 200
const PLACEHOLDER = /\$\{\s*([^}]*?)\s*\}/g

/** One rule action: one request per message (method, path, headers and body from its templates). */
export class HttpChannel implements Channel {
  readonly concurrency: number
  private readonly method: HttpParams['method']
  private readonly path: (o: ChannelMessage) => string
  private readonly headers: (o: ChannelMessage) => Record<string, string>
  private readonly body: Render | undefined

  constructor(private readonly server: HttpServer, params: HttpParams) {
    this.concurrency = server.concurrency
    this.method = params.method
    try {
      this.path = compilePath(params.path)
      if (!/^[\x21-\x7e]*$/.test(this.path({}))) throw new Error('the path has characters a URL cannot carry; percent-encode them')
      const body = params.method === 'GET' || params.method === 'DELETE' ? undefined : compileBody(params.body)
      this.body = body?.render
      const fixed: Record<string, string> = { ...server.headers }
      const own = Object.entries(params.headers).map(([name, value]) => [name.toLowerCase(), compileHeader(value)] as const)
      for (const [name] of own) delete fixed[name]
      if (body && !('content-type' in fixed) && !own.some(([name]) => name === 'content-type')) {
        fixed['content-type'] = body.json ? 'application/json' : 'text/plain; charset=utf-8'
      }
      this.headers = own.length === 0 ? () => fixed : (o) => {
        const h = { ...fixed }
        for (const [name, render] of own) {
          const v = render(o)
          if (v !== undefined) h[name] = v
        }
        return h
      }
    } catch (err) {
      throw new ConnectorError('INVALID_PARAMS', `The action's templates cannot work: ${errorMessage(err)}`, { kind: 'permanent', hint: 'Fix the path, headers or body template.' })
    }
  }

  async send(message: ChannelMessage, signal: AbortSignal): Promise<void> {
    const dispatcher = this.server.dispatcher
    if (!dispatcher) throw new ConnectorError('CONNECTION_LOST', 'The connector is not connected', { kind: 'not_connected', hint: 'Junction resends once connected.' })
    let res: Dispatcher.ResponseData
    try {
      res = await dispatcher.request({
        method: this.method,
        path: this.server.requestPath(this.path(message)),
        headers: this.headers(message),
        body: this.body?.(message),
        signal,
      })
    } catch (err) {
      if (signal.aborted) {
        throw new ConnectorError('TIMEOUT', `No answer from ${this.server.target} within the request TTL`, { kind: 'retryable', hint: 'The request may still have arrived; it is retried while the TTL allows.', cause: err })
      }
      throw classifyHttpError(err, this.server.target, this.server.https)
        ?? new ConnectorError('CONNECTION_FAILED', `${this.server.target}: ${errorMessage(err)}`, { kind: 'retryable', hint: 'Check the server; the message is retried.', cause: err })
    }
    const status = res.statusCode
    if (status >= 200 && status < 300) {
      await res.body.dump().catch(() => {})
      return
    }
    const excerpt = await this.excerpt(res.body)
    throw statusError(status, this.server.target, excerpt, parseRetryAfter(res.headers['retry-after']))!
  }

  /** The start of an error answer, as one line, without the connector's secrets. */
  private async excerpt(body: Dispatcher.ResponseData['body']): Promise<string> {
    const chunks: Buffer[] = []
    let size = 0
    try {
      for await (const chunk of body) {
        chunks.push(chunk as Buffer)
        size += (chunk as Buffer).length
        if (size >= EXCERPT_BYTES) break
      }
    } catch {
      // what arrived is enough for a message
    }
    let text = Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8').replace(/[\x00-\x1f\x7f]+/g, ' ').trim()
    for (const secret of this.server.secrets) text = text.split(secret).join('******')
    return size > EXCERPT_BYTES ? `${text}...` : text
  }
}

/** Placeholders URL-encoded, `.` and `..` included, so message data stays one segment or value. */
function compilePath(template: string): (o: ChannelMessage) => string {
  const parts: Array<string | ((o: ChannelMessage) => unknown)> = []
  let last = 0
  for (const m of template.matchAll(PLACEHOLDER)) {
    parts.push(template.slice(last, m.index), compileValue(m[0]))
    last = m.index! + m[0].length
  }
  parts.push(template.slice(last))
  if (parts.length === 1) return () => template
  return (o) => {
    let s = ''
    for (const p of parts) s += typeof p === 'string' ? p : encodeURIComponent(toText(p(o))).replace(/^\.{1,2}$/, (d) => d.replace(/\./g, '%2E'))
    return s
  }
}

/** A header template; one that is a single placeholder is left out when its value is missing. */
function compileHeader(template: string): (o: ChannelMessage) => string | undefined {
  if (/^\s*\$\{[^}]*\}\s*$/.test(template)) {
    const value = compileValue(template)
    return (o) => {
      const v = value(o)
      return v === undefined || v === null ? undefined : toText(v)
    }
  }
  return compileTemplate(template)
}
