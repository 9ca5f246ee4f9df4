import { lookup } from 'node:dns/promises'
import { connect as netConnect, isIP } from 'node:net'
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls'
import type { ConnectorErrorCode } from './error-codes.js'
import { deadline, timedOut, toConnectorError, untilAborted } from './deadline.js'
import { ConnectorError, classifyNetworkError } from './errors.js'
import { tlsOptions } from './schema-fields.js'

export type ProbeStepName = 'resolve' | 'connect' | 'tls' | 'authenticate' | 'authorize' | 'query' | 'metadata' | 'request'

export interface ProbeStep {
  readonly name: ProbeStepName
  readonly ok: boolean
  readonly ms: number
  readonly detail?: string
}

export interface ProbeError {
  readonly code: ConnectorErrorCode
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
class ProbeRun {
  private readonly steps: ProbeStep[] = []
  private readonly startedAt = performance.now()

  async step<T>(name: ProbeStepName, check: () => Promise<T>, detail?: (value: T) => string | undefined): Promise<T> {
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
async function resolveHost(host: string, signal: AbortSignal): Promise<string> {
  signal.throwIfAborted()
  try {
    const { address } = await lookup(host)
    return address
  } catch (err) {
    throw classifyNetworkError(err, host) ?? err
  }
}

/** The `connect` step: a plain TCP connect to host:port, closed at once. */
function tcpConnect(host: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
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

/** TLS settings as `tlsSchema` fills them in. */
export interface TlsSettings {
  readonly enable: boolean
  readonly verify: boolean
  readonly caCert?: string | undefined
  readonly clientCert?: string | undefined
  readonly clientKey?: string | undefined
  readonly serverName?: string | undefined
}

/** One protocol step of a Test after resolve, connect and tls: its name and its check. */
export interface ProbeStepSpec {
  readonly name: ProbeStepName
  /** This step's bound instead of the recipe's `timeoutMs` (a step that connects and then makes a request). */
  readonly timeoutMs?: number
  /** Resolves with the step's detail (shown beside it) or nothing. `address` is the resolved IP. */
  run(signal: AbortSignal, address: string): Promise<string | void>
}

/**
 * A connector's Test as data: the kit runs `resolve` (DNS), `connect` (a TCP connect of its own),
 * `tls` when TLS is on (a handshake of its own with the connector's settings, or the type's
 * `tlsStep` for a protocol that upgrades in-band), then the type's own steps (`authenticate`,
 * `authorize`, `query`...). Each step is timed and bounded by `timeoutMs` and the Test's signal;
 * whatever a step throws is classified (`classify` first, then socket/DNS/TLS errors), and
 * `cleanup` closes what the steps opened, whatever happened.
 */
export interface ProbeRecipe {
  readonly host: string
  readonly port: number
  readonly timeoutMs: number
  readonly tls?: TlsSettings | undefined
  readonly tlsStep?: (address: string, signal: AbortSignal) => Promise<string>
  readonly steps: readonly ProbeStepSpec[]
  readonly classify?: (err: unknown) => ConnectorError | undefined
  readonly cleanup?: () => unknown
}

export async function probeConnection(recipe: ProbeRecipe, signal: AbortSignal): Promise<ProbeResult> {
  const target = `${recipe.host}:${recipe.port}`
  const run = new ProbeRun()
  const classify = (err: unknown, bound: AbortSignal) => toConnectorError(err, target, { signal: bound, classify: recipe.classify })
  const step = async (name: ProbeStepName, check: (bound: AbortSignal) => Promise<string | void>, timeoutMs = recipe.timeoutMs) => {
    const bound = deadline(signal, timeoutMs)
    return run.step(name, async () => {
      try {
        return await untilAborted(check(bound), bound, () => timedOut(target, bound.reason))
      } catch (err) {
        throw classify(err, bound)
      }
    }, (detail) => detail || undefined)
  }
  try {
    const address = (await step('resolve', (bound) => resolveHost(recipe.host, bound))) as string
    await step('connect', async (bound) => {
      await tcpConnect(address, recipe.port, recipe.timeoutMs, bound)
      return `${address}:${recipe.port}`
    })
    const tls = recipe.tls
    if (tls?.enable) {
      await step('tls', (bound) => recipe.tlsStep?.(address, bound) ?? tlsHandshake({
        host: address, port: recipe.port, servername: tls.serverName ?? (isIP(recipe.host) === 0 ? recipe.host : undefined),
        options: tlsOptions(tls) ?? {}, verify: tls.verify, timeoutMs: recipe.timeoutMs, signal: bound, onAbort: () => timedOut(target),
      }))
    }
    for (const s of recipe.steps) await step(s.name, (bound) => s.run(bound, address), s.timeoutMs)
    return run.succeed()
  } catch (err) {
    return run.fail(err)
  } finally {
    try {
      await recipe.cleanup?.()
    } catch {
      // closing a Test's connections is best effort
    }
  }
}
