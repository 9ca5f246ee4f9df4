import { ConnectorError, classifyNetworkError } from './errors.js'

/**
 * Deadlines and cancellation, written once for every connector. A connector's I/O is bounded by
 * the runtime's signal (a Test's timeout, a start timeout, a send's deadline) and often by a
 * timeout of its own: `deadline` joins the two; `untilAborted` makes any promise answer as soon as
 * the signal aborts and closes what the work opened; `toConnectorError` turns whatever a library
 * threw into a coded error.
 */

/**
 * A signal that aborts with `signal` or after `ms`, whichever comes first. For a Test's steps, a
 * start and health checks, not per message: on Node 20 every `AbortSignal.any` on a long-lived
 * signal stays referenced from it (measured ~65 us a call and a growing heap), so a send bounds
 * its work with its own signal and `untilAborted` instead.
 */
export function deadline(signal: AbortSignal, ms: number): AbortSignal {
  return AbortSignal.any([signal, AbortSignal.timeout(ms)])
}

/** The callbacks waiting on each signal that `whenAborted` listens to, and its one listener there. */
const waiting = new WeakMap<AbortSignal, { readonly callbacks: Set<() => void>; readonly listener: () => void }>()

/**
 * Calls `callback` once, when `signal` aborts (not when it already has: check `signal.aborted`
 * first); returns what stops that. For sends that wait on a shared deadline signal, hundreds at a
 * time: the signal gets one listener, whatever number wait on it, where Node's EventTarget walks
 * every listener of a signal on each add (measured 1 µs an add and remove with 200 waiting, ~13 %
 * of the MQTT connector's thread). The listener goes when the last callback does.
 */
export function whenAborted(signal: AbortSignal, callback: () => void): () => void {
  let entry = waiting.get(signal)
  if (!entry) {
    const callbacks = new Set<() => void>()
    const listener = () => {
      waiting.delete(signal)
      for (const c of callbacks) {
        try {
          c()
        } catch (err) {
          // As EventTarget does with a listener's exception: reported, the others still called.
          queueMicrotask(() => { throw err })
        }
      }
    }
    entry = { callbacks, listener }
    waiting.set(signal, entry)
    signal.addEventListener('abort', listener, { once: true })
  }
  const { callbacks, listener } = entry
  callbacks.add(callback)
  return () => {
    if (!callbacks.delete(callback) || callbacks.size > 0 || waiting.get(signal) !== entry) return
    waiting.delete(signal)
    signal.removeEventListener('abort', listener)
  }
}

/**
 * `work`, or the error `onAbort` makes as soon as `signal` aborts; then `cancel` runs (best effort)
 * to close what `work` opened. What `work` settles to after the abort is ignored: the caller has
 * already counted it as failed.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal, onAbort: () => Error, cancel?: () => unknown): Promise<T> {
  work.catch(() => {})
  if (signal.aborted) return Promise.reject(cancelled(onAbort, cancel))
  return new Promise<T>((resolve, reject) => {
    const stop = whenAborted(signal, () => reject(cancelled(onAbort, cancel)))
    work.then(
      (v) => { stop(); resolve(v) },
      (err: unknown) => { stop(); reject(err) },
    )
  })
}

/** The abort's error, once `cancel` has been asked to close the work (best effort). */
function cancelled(onAbort: () => Error, cancel: (() => unknown) | undefined): Error {
  try {
    Promise.resolve(cancel?.()).catch(() => {})
  } catch {
    // cancelling is best effort: the answer is the abort either way
  }
  return onAbort()
}

/** Waits for `work` until `signal` aborts; never throws. True when `work` settled in time (a stop's wait). */
export async function settleWithin(work: Promise<unknown>, signal: AbortSignal): Promise<boolean> {
  const settled = work.then(() => true, () => true)
  if (signal.aborted) return false
  let onSignal: (() => void) | undefined
  const aborted = new Promise<boolean>((resolve) => {
    onSignal = () => resolve(false)
    signal.addEventListener('abort', onSignal, { once: true })
  })
  try {
    return await Promise.race([settled, aborted])
  } finally {
    signal.removeEventListener('abort', onSignal!)
  }
}

/** The error of a step or request that got no answer in time. */
export function timedOut(target: string, cause?: unknown): ConnectorError {
  return new ConnectorError('TIMEOUT', `No answer from ${target} in time`, {
    hint: 'Check that the server is up and reachable, or raise the timeout.',
    ...(cause === undefined ? {} : { cause }),
  })
}

/**
 * Whatever a library threw, as a coded error: a ConnectorError as it is; an abort or timeout as
 * TIMEOUT; then the type's own classification; then socket, DNS and TLS errors; anything else
 * CONNECTION_FAILED with the library's message.
 */
export function toConnectorError(
  err: unknown,
  target: string,
  o: { signal?: AbortSignal | undefined; classify?: ((err: unknown) => ConnectorError | undefined) | undefined } = {},
): ConnectorError {
  if (err instanceof ConnectorError) return err
  const name = (err as { name?: unknown } | undefined)?.name
  if (o.signal?.aborted || name === 'AbortError' || name === 'TimeoutError') return timedOut(target, err)
  return o.classify?.(err) ?? classifyNetworkError(err, target) ?? new ConnectorError('CONNECTION_FAILED', `${target}: ${errorText(err)}`, {
    hint: 'Check the connector configuration and that the server is reachable from Junction.', cause: err,
  })
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
