import type { Dispatcher } from 'undici'
import { whenAborted } from './deadline.js'
import { classifyBy, type ErrorRow } from './error-table.js'
import type { ConnectorError } from './errors.js'
import { excerpt } from './excerpt.js'

/**
 * HTTP requests and answers for every type that talks HTTP through undici (a webhook, and any
 * service with an HTTP API): a request as plain data (it may cross to a worker thread), the answer
 * read without a body stream, and a status that is not a success as a coded error. Type-only
 * import of undici: a type passes its own `Dispatcher` (pool or client).
 */

/** One request as a channel renders it: plain data only, so it may cross to a worker thread. */
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
  /** Stops listening to the signal (the answer came). */
  private readonly stopWaiting: () => void

  constructor(
    private readonly signal: AbortSignal,
    private readonly secrets: readonly string[],
    private readonly resolve: (answer: HttpAnswer) => void,
    private readonly reject: (err: Error) => void,
  ) {
    this.stopWaiting = whenAborted(signal, () => this.aborted())
  }

  /** The signal aborted: the request ends with its reason. */
  private aborted(): void {
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
    this.stopWaiting()
    this.resolve(this.answer())
  }

  onError(err: Error): void {
    this.stopWaiting()
    // Once the status arrived it is the answer, whatever happens to the rest of the body.
    if (this.status === 0) this.reject(err)
    else this.resolve(this.answer())
  }

  private answer(): HttpAnswer {
    const { status, chunks } = this
    return chunks ? { status, excerpt: excerpt(chunks, { secrets: this.secrets, maxBytes: EXCERPT_BYTES, totalBytes: this.size }), retryAfter: this.retryAfter } : { status }
  }
}

type Answer = { key: number; target: string; status: number; excerpt: string; retryAfterMs: number | undefined }
const ANSWERED = '{target} answered {status}{excerpt}'
// A server's answer that is not a success (2xx), by status: 408, 429 and 5xx are worth a retry, any other is this request's fault.
const ANSWERS: ReadonlyArray<ErrorRow<Answer>> = [
  [[429], 'RATE_LIMITED', 'retryable', ANSWERED, 'The server asked to slow down; the message is retried after its Retry-After.'],
  [[408], 'TIMEOUT', 'retryable', ANSWERED, 'The server timed out waiting for the request; it is retried.'],
  [(f) => f.status >= 500, 'SERVER_ERROR', 'retryable', ANSWERED, 'The server failed or is unavailable; the message is retried while the request TTL allows.'],
  [[401], 'AUTHENTICATION_FAILED', 'permanent', ANSWERED, "The server refused the credentials: check the connector's authorization (and headers)."],
  [[403], 'NOT_PERMITTED', 'permanent', ANSWERED, 'The credentials are not allowed to do this request; check them, the method and the path.'],
  [[413, 414, 431], 'MESSAGE_TOO_LARGE', 'permanent', ANSWERED, 'The request (body, URL or headers) is larger than the server accepts.'],
  [(f) => f.status < 400 || [404, 405, 410].includes(f.status), 'INVALID_PARAMS', 'permanent', ANSWERED,
    (f) => `Check the connector's URL and the action's method and path${f.status < 400 ? ' (redirects are not followed)' : ''}.`],
  [() => true, 'INVALID_DATA', 'permanent', ANSWERED, 'The server refused this message (its answer starts above); check the body and headers templates.'],
]
const byAnswer = classifyBy(ANSWERS)

/** An HTTP answer that is not a success (2xx), with its code and kind; the message has the status and the body's start. */
export function httpStatusError(status: number, target: string, bodyStart = '', retryAfterMs?: number): ConnectorError {
  return byAnswer({ key: status, target, status, excerpt: bodyStart ? `: ${bodyStart}` : '', retryAfterMs })!
}

/** `Retry-After` (a delay in seconds or an HTTP date) in milliseconds from now. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim()
  if (!v) return undefined
  const at = /^\d+$/.test(v) ? now + Number(v) * 1_000 : Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/** A base URL's path with a request's path appended as written (one slash where both have one). */
export function joinUrlPath(base: string, path: string): string {
  return base.endsWith('/') && path.startsWith('/') ? base + path.slice(1) : base + path
}
