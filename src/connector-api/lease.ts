import { untilAborted } from './deadline.js'
import { ConnectorError } from './errors.js'

/**
 * A connection taken from a pool: `getting` (the pool's promise of one), or `onAbort`'s error as
 * soon as `signal` aborts; a connection that arrives after the caller gave up goes back through
 * `giveBack`, so an abandoned wait never keeps one checked out.
 */
export function acquireWithin<C>(getting: Promise<C>, signal: AbortSignal, onAbort: () => Error, giveBack: (conn: C) => void): Promise<C> {
  let abandoned = false
  let got: { conn: C } | undefined
  getting.then((conn) => (abandoned ? giveBack(conn) : (got = { conn })), () => undefined)
  return untilAborted(getting, signal, onAbort, () => {
    abandoned = true
    // Arrived, but the abort came before the caller took it.
    if (got) giveBack(got.conn)
  })
}

/** What `withLease` needs from a type's pool. */
export interface LeasePool<C> {
  /** The server, for messages. */
  readonly target: string
  /** A connection, waiting at most until `signal` aborts (see acquireWithin); a failure as a classified ConnectorError. */
  acquire(signal: AbortSignal): Promise<C>
  /** Gives `conn` back; with `broken`, the pool closes it instead of handing it to the next caller. */
  release(conn: C, broken: Error | undefined): void
  /** A statement's failure as a ConnectorError (the type's classifier, query phase). */
  classify(err: unknown): ConnectorError
}

/** A leased connection and the two ways its work reports a failure. */
export interface Lease<C> {
  readonly conn: C
  /** Classifies a failure; one that is not permanent marks the connection broken. */
  classify(err: unknown): ConnectorError
  /** `work`, or a retryable TIMEOUT as soon as the signal aborts (the connection is then broken: the statement's outcome is unknown). */
  run<T>(work: Promise<T>): Promise<T>
}

/**
 * Runs `use` on a pooled connection, bounded by `signal`. A connection that saw an abort or a
 * failure that is not permanent (a lost connection, a timeout) is closed rather than reused; an
 * error thrown out of `use` is classified.
 */
export async function withLease<C, T>(pool: LeasePool<C>, signal: AbortSignal, use: (lease: Lease<C>) => Promise<T>): Promise<T> {
  const conn = await pool.acquire(signal)
  let broken: Error | undefined
  const lease: Lease<C> = {
    conn,
    classify: (err) => {
      const e = err instanceof ConnectorError ? err : pool.classify(err)
      if (e.kind !== 'permanent') broken ??= e
      return e
    },
    run: (work) => untilAborted(work, signal, () => {
      const e = new ConnectorError('TIMEOUT', `Gave up waiting for ${pool.target} to answer; the statement may or may not have been applied`, {
        kind: 'retryable', hint: 'The server is slow or hung; check it, or allow more time (the request TTL).',
      })
      broken ??= e
      return e
    }),
  }
  try {
    return await use(lease)
  } catch (err) {
    throw lease.classify(err)
  } finally {
    pool.release(conn, broken)
  }
}
