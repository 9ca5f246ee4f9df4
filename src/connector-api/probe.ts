import { lookup } from 'node:dns/promises'
import { connect as netConnect, isIP } from 'node:net'
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls'
import { ConnectorError, classifyNetworkError } from './errors.js'

export type ProbeStepName = 'resolve' | 'connect' | 'tls' | 'authenticate' | 'authorize' | 'query' | 'metadata'

export interface ProbeStep {
  readonly name: ProbeStepName
  readonly ok: boolean
  readonly ms: number
  readonly detail?: string
}

export interface ProbeError {
  readonly code: string
  readonly message: string
  readonly hint: string
}

export type ProbeResult =
  | { readonly ok: true; readonly latencyMs: number; readonly steps: readonly ProbeStep[] }
  | { readonly ok: false; readonly error: ProbeError; readonly steps: readonly ProbeStep[] }

/**
 * Records the steps of a Test. `step()` runs one check, times it, and on failure records the step
 * as failed and rethrows; `finish()` turns the run into a ProbeResult, so a connector's probe is a
 * straight sequence of `await run.step(...)` inside one try/catch.
 */
export class ProbeRun {
  private readonly steps: ProbeStep[] = []
  private readonly startedAt = performance.now()

  async step<T>(name: ProbeStepName, check: () => Promise<T>, detail?: (value: T) => string): Promise<T> {
    const t0 = performance.now()
    try {
      const value = await check()
      const d = detail?.(value)
      this.steps.push({ name, ok: true, ms: round(performance.now() - t0), ...(d === undefined ? {} : { detail: d }) })
      return value
    } catch (err) {
      this.steps.push({ name, ok: false, ms: round(performance.now() - t0), detail: errorMessage(err) })
      throw err
    }
  }

  succeed(): ProbeResult {
    return { ok: true, latencyMs: round(performance.now() - this.startedAt), steps: this.steps }
  }

  /** `err` should be a ConnectorError; anything else is reported as CONNECTION_FAILED. */
  fail(err: unknown): ProbeResult {
    const e = err instanceof ConnectorError ? err : undefined
    return {
      ok: false,
      error: {
        code: e?.code ?? 'CONNECTION_FAILED',
        message: e?.message ?? errorMessage(err),
        hint: e?.hint ?? 'Check the connector configuration and that the server is reachable from Junction.',
      },
      steps: this.steps,
    }
  }
}

/** The `resolve` step: DNS lookup of a host name (IP literals resolve to themselves). */
export async function resolveHost(host: string, signal: AbortSignal): Promise<string> {
  signal.throwIfAborted()
  try {
    const { address } = await lookup(host)
    return address
  } catch (err) {
    throw classifyNetworkError(err, host) ?? err
  }
}

/** The `connect` step: a plain TCP connect to host:port, closed at once. */
export function tcpConnect(host: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const target = `${host}:${port}`
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port })
    const done = (err?: unknown) => {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      socket.destroy()
      if (err === undefined) resolve()
      else reject(classifyNetworkError(err, target) ?? err)
    }
    const onAbort = () => done(Object.assign(new Error('aborted'), { code: 'TIMEOUT' }))
    const timer = setTimeout(() => done(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), timeoutMs)
    signal.addEventListener('abort', onAbort, { once: true })
    socket.once('connect', () => done())
    socket.once('error', (err) => done(err))
  })
}

/**
 * `work`, or the error `onAbort` makes as soon as `signal` aborts (a send's deadline). What `work`
 * settles to after the abort is ignored: the runtime has already counted the send as failed.
 */
export function abortable<T>(work: Promise<T>, signal: AbortSignal, onAbort: () => Error): Promise<T> {
  work.catch(() => {})
  if (signal.aborted) return Promise.reject(onAbort())
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(onAbort())
    signal.addEventListener('abort', abort, { once: true })
    work.then(
      (v) => { signal.removeEventListener('abort', abort); resolve(v) },
      (err: unknown) => { signal.removeEventListener('abort', abort); reject(err) },
    )
  })
}

/**
 * The `tls` step: a TLS handshake with the connector's TLS options on a connection of its own,
 * closed at once. Resolves with a detail such as "TLSv1.3, certificate verified"; rejects with the
 * raw socket or TLS error (the connector classifies it), `onAbort()` when `signal` aborts, or an
 * ETIMEDOUT error after `timeoutMs`.
 */
export function tlsHandshake(o: {
  host: string; port: number; servername?: string | undefined; options: ConnectionOptions; verify: boolean
  timeoutMs: number; signal: AbortSignal; onAbort: () => Error
}): Promise<string> {
  const servername = o.servername ?? (isIP(o.host) === 0 ? o.host : undefined)
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: o.host, port: o.port, ...o.options, ...(servername ? { servername } : {}) })
    let settled = false
    const done = (err: unknown, detail?: string) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      o.signal.removeEventListener('abort', onAbort)
      socket.destroy()
      if (err === undefined) resolve(detail ?? '')
      else reject(err)
    }
    const onAbort = () => done(o.onAbort())
    const timer = setTimeout(() => done(Object.assign(new Error('TLS handshake timed out'), { code: 'ETIMEDOUT' })), o.timeoutMs)
    o.signal.addEventListener('abort', onAbort, { once: true })
    socket.once('secureConnect', () => {
      done(undefined, `${socket.getProtocol() ?? 'TLS'}, certificate ${o.verify ? 'verified' : 'not verified (verify is off)'}`)
    })
    socket.on('error', (err) => done(err))
    socket.once('close', () => done(new Error('Client network socket disconnected before secure TLS connection was established')))
  })
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10
}
