import { Pool } from 'undici'
import { tlsOptions } from '../../connector-api/index.js'
import type { HttpConfig } from './config-schema.js'

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
