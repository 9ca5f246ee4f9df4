/**
 * An action's health, derived from what it delivered rather than from its connector's
 * connection: a connector can be `connected` while every insert fails (a missing table) or while
 * nothing comes back (a table locked by someone else). docs/rules.md ("Health") explains the
 * states to users; the numbers here are the ones it quotes.
 */

export type HealthState = 'ok' | 'failing' | 'stalled'

export interface ActionHealth {
  readonly state: HealthState
  /** failing: the ConnectorError code of the latest failure; stalled: none. */
  readonly code?: string
  /** failing: the latest failure's message; stalled: how many wait and for how long. */
  readonly message?: string
  /** failing: when the run of failures began; stalled: since when nothing was delivered. */
  readonly since?: string
}

/**
 * Failed requests in a row (no success between) that make an action `failing` while every
 * message is still being retried: one transient error that the next attempt overcomes does not.
 * A message lost for good (a permanent error) makes it failing at once.
 */
export const FAILING_AFTER_REQUESTS = 3

/** Waiting this long with nothing delivered is `stalled`, at most (see stallBoundMs). */
export const MAX_STALL_BOUND_MS = 10_000
export const MIN_STALL_BOUND_MS = 1_000

/**
 * How long messages may wait with nothing delivered before the action is `stalled`: a quarter of
 * the request TTL (so it shows well before they expire), between 1 s and 10 s, plus the batch
 * time the user allows a message to wait on purpose.
 */
export function stallBoundMs(options: { readonly requestTtlMs: number; readonly batchTimeMs: number }): number {
  return Math.min(MAX_STALL_BOUND_MS, Math.max(MIN_STALL_BOUND_MS, options.requestTtlMs / 4)) + options.batchTimeMs
}

/** A failed request, as the worker settles it. */
export interface RequestFailure {
  readonly error: { readonly code: string; readonly message: string; readonly kind: string }
}

/** Failures with no success since the first of them. */
export interface FailureRun {
  /** When the first failure of the run was settled (ms since the epoch). */
  readonly since: number
  /** Requests that failed (a batch is one request). */
  requests: number
  /** Messages finally failed (permanent errors) in the run. */
  lost: number
  code: string
  message: string
}

/** What the health is derived from: kept up to date by the worker through ActionMetrics. */
export interface DeliveryFacts {
  readonly run: FailureRun | undefined
  /** The latest success (ms since the epoch), 0 when none. */
  readonly lastSuccess: number
  /** Since when something has been queuing or in flight without a pause (ms), undefined when nothing waits. */
  readonly waitingSince: number | undefined
  /** Messages queuing + in flight now. */
  readonly waiting: number
  readonly stallAfterMs: number
}

/** The health the facts show at `now`. Pure: the same facts and time give the same answer. */
export function evaluateHealth(f: DeliveryFacts, now: number): ActionHealth {
  const run = f.run
  if (run && (run.lost > 0 || run.requests >= FAILING_AFTER_REQUESTS)) {
    return { state: 'failing', code: run.code, message: run.message, since: new Date(run.since).toISOString() }
  }
  if (f.waiting > 0 && f.waitingSince !== undefined) {
    // A message that arrived after a long idle time has waited only since it arrived.
    const from = Math.max(f.waitingSince, f.lastSuccess)
    const waited = now - from
    if (waited >= f.stallAfterMs) {
      return {
        state: 'stalled',
        message: `${f.waiting} message(s) waiting; nothing delivered for ${Math.round(waited / 1000)} s`,
        since: new Date(from).toISOString(),
      }
    }
  }
  return { state: 'ok' }
}

/**
 * The delivery facts of one action: fed with every settled request and every change of what
 * waits; answers the health at any time.
 */
export class DeliveryTracker {
  private run: FailureRun | undefined
  private lastSuccess = 0
  private waitingSince: number | undefined

  constructor(readonly stallAfterMs: number) {}

  /**
   * One request settled: `size` messages, of which `failures` failed. Failures are taken first,
   * so a batch that delivered anything ends the run: the resource takes deliveries (the failed
   * ones are counted and carry lastError).
   */
  settled(size: number, failures: readonly RequestFailure[], now = Date.now()): void {
    const last = failures.at(-1)
    if (last) {
      const run = this.run ?? { since: now, requests: 0, lost: 0, code: '', message: '' }
      run.requests++
      for (const f of failures) if (f.error.kind === 'permanent') run.lost++
      run.code = last.error.code
      run.message = last.error.message
      this.run = run
    }
    if (size > failures.length) {
      this.run = undefined
      this.lastSuccess = now
    }
  }

  /** Messages queuing + in flight changed to `waiting` (called per message: reads the clock only when waiting begins). */
  waitingChanged(waiting: number, now?: number): void {
    if (waiting <= 0) this.waitingSince = undefined
    else if (this.waitingSince === undefined) this.waitingSince = now ?? Date.now()
  }

  health(waiting: number, now = Date.now()): ActionHealth {
    return evaluateHealth({ run: this.run, lastSuccess: this.lastSuccess, waitingSince: this.waitingSince, waiting, stallAfterMs: this.stallAfterMs }, now)
  }
}

/** What a connector's delivery looks like over the actions sending through it. */
export interface ConnectorDelivery {
  readonly state: HealthState
  /** The first failing action's message (or the first stalled one's), when not ok. */
  readonly reason?: string
  readonly code?: string
  /** The earliest `since` of the actions in that state. */
  readonly since?: string
  readonly failingActions: number
  readonly stalledActions: number
}

/** failing when any action fails, else stalled when any stalls, else ok. */
export function connectorDelivery(healths: readonly ActionHealth[]): ConnectorDelivery {
  const failing = healths.filter((h) => h.state === 'failing')
  const stalled = healths.filter((h) => h.state === 'stalled')
  const counts = { failingActions: failing.length, stalledActions: stalled.length }
  const worst = failing.length > 0 ? failing : stalled
  const first = worst[0]
  if (!first) return { state: 'ok', ...counts }
  const since = worst.map((h) => h.since).filter((s): s is string => s !== undefined).sort()[0]
  return {
    state: first.state,
    ...(first.message !== undefined ? { reason: first.message } : {}),
    ...(first.code !== undefined ? { code: first.code } : {}),
    ...(since !== undefined ? { since } : {}),
    ...counts,
  }
}
