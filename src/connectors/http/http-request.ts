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

/** Sends `request`; any status is an answer (the channel judges it), a failure to get one throws. */
export async function performRequest(dispatcher: Dispatcher, request: HttpRequest, signal: AbortSignal, secrets: readonly string[]): Promise<HttpAnswer> {
  const { statusCode: status, headers, body } = await dispatcher.request({ ...request, signal })
  if (status >= 200 && status < 300) return body.dump().catch(() => {}).then(() => ({ status }))
  return { status, excerpt: await excerpt(body, secrets), retryAfter: headers['retry-after'] }
}

/** The first 200 bytes of an error answer, as one line, without the connector's secrets. */
async function excerpt(body: Dispatcher.ResponseData['body'], secrets: readonly string[]): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  // What arrived before an error is enough for a message.
  await (async () => { for await (const chunk of body as AsyncIterable<Buffer>) if (chunks.push(chunk) && (size += chunk.length) >= 200) break })().catch(() => {})
  let text = Buffer.concat(chunks).subarray(0, 200).toString('utf8').replace(/[\x00-\x1f\x7f]+/g, ' ').trim()
  for (const secret of secrets) text = text.split(secret).join('******')
  return size > 200 ? `${text}...` : text
}
