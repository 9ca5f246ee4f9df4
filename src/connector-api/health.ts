import type { Health } from './contract.js'
import { deadline, timedOut, toConnectorError, untilAborted } from './deadline.js'
import { ConnectorError } from './errors.js'

/** `health` of an instance that is not started (or stopped). */
export const NOT_STARTED: Health = { status: 'disconnected', code: 'CONNECTION_FAILED', reason: 'The connector is not started.' }

/** What a channel, a Test action or a lease gets from an instance that is not started (or stopped): the runtime opens it again once connected. */
export function notStarted(hint?: string): ConnectorError {
  return new ConnectorError('CONNECTION_LOST', 'The connector is not started', { kind: 'not_connected', ...(hint === undefined ? {} : { hint }) })
}

export interface RoundTripOptions {
  /** The type's own bound (its connect timeout), joined with the caller's signal. */
  readonly timeoutMs: number
  /** The server, for messages. */
  readonly target: string
  /** The type's classifier; socket, DNS and TLS errors are the kit's. */
  readonly classify?: ((err: unknown) => ConnectorError | undefined) | undefined
  /** Runs on any failure (a timeout too) before the answer: drop the connection the work used. */
  readonly onFailure?: (() => unknown) | undefined
}

/**
 * One round trip a start or a health check makes (`SELECT 1`, a HEAD, a ping), bounded by
 * `signal` and `timeoutMs` as a whole, so a dead or hung server answers instead of a hang. Any
 * failure as a ConnectorError: TIMEOUT when the time ran out, else the type's classification.
 */
export async function roundTrip<T>(signal: AbortSignal, o: RoundTripOptions, work: (bound: AbortSignal) => Promise<T>): Promise<T> {
  const bound = deadline(signal, o.timeoutMs)
  try {
    if (bound.aborted) throw timedOut(o.target)
    return await untilAborted(work(bound), bound, () => timedOut(o.target))
  } catch (err) {
    try {
      o.onFailure?.()
    } catch {
      // dropping a connection is best effort: the answer is the failure either way
    }
    throw toConnectorError(err, o.target, { signal: bound, classify: o.classify })
  }
}

/** `health` from one `roundTrip`: connected, or disconnected with the failure's code and message. */
export function checkHealth(signal: AbortSignal, o: RoundTripOptions, work: (bound: AbortSignal) => Promise<unknown>): Promise<Health> {
  return roundTrip(signal, o, work).then(() => ({ status: 'connected' }), (e: ConnectorError) => ({ status: 'disconnected', code: e.code, reason: e.message }))
}

/**
 * A health check's connection of its own, outside the pool: under load every pooled connection is
 * busy, and a check waiting for one would report a busy but healthy server as down. Opened by the
 * first check and kept; a failed check drops it (and one that is no longer `alive`, e.g. closed by
 * a restarting server, is replaced), so the next check opens a new one. `T` is whatever handle the
 * type keeps (a connection, or the promise of one).
 */
export class KeptConnection<T> {
  private current: T | undefined

  constructor(private readonly o: { open: (signal: AbortSignal) => T; close: (handle: T) => void; alive?: (handle: T) => boolean }) {}

  /** The kept handle, or a new one opening now. */
  get(signal: AbortSignal): T {
    if (this.current !== undefined && this.o.alive?.(this.current) !== false) return this.current
    return (this.current = this.o.open(signal))
  }

  /** Closes `handle` (the kept one by default) and forgets it if it is still the kept one. */
  drop(handle: T | undefined = this.current): void {
    if (handle === undefined) return
    if (handle === this.current) this.current = undefined
    this.o.close(handle)
  }

  /** Forgets the kept handle without closing it, and answers it (a stop closes it its own way). */
  take(): T | undefined {
    const handle = this.current
    this.current = undefined
    return handle
  }

  /** `health` from `use` on the kept handle (see `checkHealth`); a failure drops that handle. */
  check(signal: AbortSignal, o: Omit<RoundTripOptions, 'onFailure'>, use: (handle: T, bound: AbortSignal) => Promise<unknown>): Promise<Health> {
    let handle: T | undefined
    return checkHealth(signal, { ...o, onFailure: () => this.drop(handle) }, (bound) => use((handle = this.get(bound)), bound))
  }
}
