import { Pool, type Dispatcher } from 'undici'
import { tlsOptions } from '../../connector-api/index.js'
import type { HttpConfig } from './config-schema.js'

/** One request as the channel renders it: what crosses to the worker thread, so plain data only. */
export interface HttpRequest {
  readonly method: Dispatcher.HttpMethod
  readonly path: string
  readonly headers: Record<string, string | undefined>
  readonly body: string | undefined
}

/** The server's answer: the status, and for a failure the start of its body and its Retry-After. */
export interface HttpAnswer {
  readonly status: number
  readonly excerpt?: string
  readonly retryAfter?: string | string[]
}

/** undici's options for the connector's connections (pool, health and Test alike). */
export function clientOptions(c: HttpConfig): Pool.Options {
  const tls = c.url.toLowerCase().startsWith('https:') ? tlsOptions({ ...c.tls, enable: true }) : undefined
  return { connect: { timeout: c.connectTimeoutMs, ...tls }, headersTimeout: c.requestTimeoutMs, bodyTimeout: c.requestTimeoutMs }
}

/** The pool the actions' requests share, on the main thread or in the worker thread. */
export function openPool(c: HttpConfig): Pool {
  return new Pool(new URL(c.url).origin, { ...clientOptions(c), connections: c.poolSize, pipelining: c.pipelining })
}

/** The credentials a request carries, never to be repeated from an answer (a server may echo the request). */
export function secretsOf(c: HttpConfig): string[] {
  const auth = c.authorization
  return auth === undefined ? [] : [auth, auth.slice(auth.indexOf(' ') + 1)].filter((s) => s.length >= 4)
}

/** Bytes of an error answer kept for its message. */
const EXCERPT_BYTES = 200

/**
 * Sends `request`; any status is an answer (the channel judges it), a failure to get one throws.
 * Through undici's `dispatch` with a handler of its own rather than `request`: the answer's body
 * is never wanted as a stream (a 2xx body is dropped, an error's first bytes kept), and skipping
 * the stream and its promises halves undici's share of a request's CPU on the main thread.
 */
export function performRequest(dispatcher: Dispatcher, request: HttpRequest, signal: AbortSignal, secrets: readonly string[]): Promise<HttpAnswer> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<HttpAnswer>((resolve, reject) => {
    dispatcher.dispatch({ method: request.method, path: request.path, headers: request.headers, body: request.body }, new AnswerHandler(signal, secrets, resolve, reject))
  })
}

/** One request's undici handler: the status, and for a failure the start of the body and its Retry-After. */
class AnswerHandler implements Dispatcher.DispatchHandlers {
  private abortRequest: ((reason: Error) => void) | undefined
  private abortedWith: Error | undefined
  private status = 0
  private retryAfter: string | undefined
  /** An error answer's first chunks (undefined for a 2xx, whose body is dropped). */
  private chunks: Buffer[] | undefined
  private size = 0

  constructor(
    private readonly signal: AbortSignal,
    private readonly secrets: readonly string[],
    private readonly resolve: (answer: HttpAnswer) => void,
    private readonly reject: (err: Error) => void,
  ) {
    signal.addEventListener('abort', this, { once: true })
  }

  /** The signal's listener (an object listener: no closure per request). */
  handleEvent(): void {
    this.abortedWith = this.signal.reason as Error
    this.abortRequest?.(this.abortedWith)
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortRequest = abort
    if (this.abortedWith !== undefined) abort(this.abortedWith)
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    this.status = statusCode
    if (statusCode >= 200 && statusCode < 300) return true
    this.chunks = []
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      if (rawHeaders[i]!.length === 11 && rawHeaders[i]!.toString('latin1').toLowerCase() === 'retry-after') this.retryAfter = rawHeaders[i + 1]!.toString('latin1')
    }
    return true
  }

  onData(chunk: Buffer): boolean {
    // An error answer's start is enough for its message; the rest is read and dropped.
    if (this.chunks && this.size < EXCERPT_BYTES) this.chunks.push(chunk)
    this.size += chunk.length
    return true
  }

  onComplete(): void {
    this.signal.removeEventListener('abort', this)
    this.resolve(this.answer())
  }

  onError(err: Error): void {
    this.signal.removeEventListener('abort', this)
    // Once the status arrived it is the answer, whatever happens to the rest of the body.
    if (this.status === 0) this.reject(err)
    else this.resolve(this.answer())
  }

  private answer(): HttpAnswer {
    const { status, chunks } = this
    return chunks ? { status, excerpt: excerpt(chunks, this.size, this.secrets), retryAfter: this.retryAfter } : { status }
  }
}

/** The first 200 bytes of an error answer, as one line, without the connector's secrets. */
function excerpt(chunks: readonly Buffer[], size: number, secrets: readonly string[]): string {
  let text = Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8').replace(/[\x00-\x1f\x7f]+/g, ' ').trim()
  for (const secret of secrets) text = text.split(secret).join('******')
  return size > EXCERPT_BYTES ? `${text}...` : text
}
