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
    let abortRequest: ((reason: Error) => void) | undefined
    let abortedWith: Error | undefined
    let status = 0
    let retryAfter: string | undefined
    let chunks: Buffer[] | undefined
    let size = 0
    const onAbort = () => {
      abortedWith = signal.reason as Error
      abortRequest?.(abortedWith)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    const finish = () => signal.removeEventListener('abort', onAbort)
    dispatcher.dispatch({ method: request.method, path: request.path, headers: request.headers, body: request.body }, {
      onConnect(abort) {
        abortRequest = abort
        if (abortedWith !== undefined) abort(abortedWith)
      },
      onHeaders(statusCode, rawHeaders) {
        status = statusCode
        if (statusCode >= 200 && statusCode < 300) return true
        chunks = []
        for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
          if (rawHeaders[i]!.length === 11 && rawHeaders[i]!.toString('latin1').toLowerCase() === 'retry-after') retryAfter = rawHeaders[i + 1]!.toString('latin1')
        }
        return true
      },
      onData(chunk) {
        // An error answer's start is enough for its message; the rest is read and dropped.
        if (chunks && size < EXCERPT_BYTES) chunks.push(chunk)
        size += chunk.length
        return true
      },
      onComplete() {
        finish()
        resolve(chunks ? { status, excerpt: excerpt(chunks, size, secrets), retryAfter } : { status })
      },
      onError(err) {
        finish()
        // Once the status arrived it is the answer, whatever happens to the rest of the body.
        if (status === 0) reject(err)
        else resolve(chunks ? { status, excerpt: excerpt(chunks, size, secrets), retryAfter } : { status })
      },
    })
  })
}

/** The first 200 bytes of an error answer, as one line, without the connector's secrets. */
function excerpt(chunks: readonly Buffer[], size: number, secrets: readonly string[]): string {
  let text = Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8').replace(/[\x00-\x1f\x7f]+/g, ' ').trim()
  for (const secret of secrets) text = text.split(secret).join('******')
  return size > EXCERPT_BYTES ? `${text}...` : text
}
