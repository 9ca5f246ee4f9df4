import { RateHistory } from '../core/rate-history.js'
import { DeliveryTracker, MAX_STALL_BOUND_MS, type ActionHealth, type RequestFailure } from './action-health.js'

export type DropReason = 'queue_full' | 'expired' | 'stopped'

/** One action's counters. matched = success + failed + dropped + queuing + inflight, always. */
export class ActionMetrics {
  matched = 0
  success = 0
  failed = 0
  retried = 0
  readonly dropped: Record<DropReason, number> = { queue_full: 0, expired: 0, stopped: 0 }
  private queuingCount = 0
  private inflightCount = 0
  lastError: string | null = null
  /** The ConnectorError code of lastError. */
  lastErrorCode: string | null = null
  lastErrorAt: string | null = null
  /** Epoch ms of the last delivery: set per delivered request, so formatted only when read. */
  lastSuccessMs: number | undefined
  get lastSuccessAt(): string | null {
    return this.lastSuccessMs === undefined ? null : new Date(this.lastSuccessMs).toISOString()
  }
  readonly successRate = new RateHistory()
  readonly failedRate = new RateHistory()
  readonly droppedRate = new RateHistory()
  private readonly delivery: DeliveryTracker

  /** `stallAfterMs`: see stallBoundMs (action-health.ts). */
  constructor(stallAfterMs = MAX_STALL_BOUND_MS) {
    this.delivery = new DeliveryTracker(stallAfterMs)
  }

  // Accessors so that the health learns when the action starts and stops holding messages
  // without the worker telling it at each of its many updates.
  get queuing(): number {
    return this.queuingCount
  }

  set queuing(n: number) {
    this.queuingCount = n
    this.delivery.waitingChanged(n + this.inflightCount)
  }

  get inflight(): number {
    return this.inflightCount
  }

  set inflight(n: number) {
    this.inflightCount = n
    this.delivery.waitingChanged(this.queuingCount + n)
  }

  /** A request of `size` messages settled with these failures (none: all delivered). */
  settled(size: number, failures: readonly RequestFailure[]): void {
    this.delivery.settled(size, failures)
  }

  /** ok, failing or stalled, from what the action delivered (action-health.ts). */
  health(now = Date.now()): ActionHealth {
    return this.delivery.health(this.queuingCount + this.inflightCount, now)
  }

  get droppedTotal(): number {
    return this.dropped.queue_full + this.dropped.expired + this.dropped.stopped
  }

  /** With `series`, the last minute per second (oldest first), for charts. */
  snapshot(series = false) {
    return {
      ...(series ? { series: { success: this.successRate.series(), failed: this.failedRate.series(), dropped: this.droppedRate.series() } } : {}),
      matched: this.matched, success: this.success, failed: this.failed, retried: this.retried,
      dropped: this.droppedTotal, droppedByReason: { ...this.dropped },
      queuing: this.queuing, inflight: this.inflight,
      rate: { success: this.successRate.rate(), failed: this.failedRate.rate(), dropped: this.droppedRate.rate() },
      lastError: this.lastError, lastErrorCode: this.lastErrorCode, lastErrorAt: this.lastErrorAt, lastSuccessAt: this.lastSuccessAt,
      health: this.health(),
    }
  }
}

/** A rule's actions taken together, as EMQX counts them per rule (`actions.total/success/failed`). */
export interface RuleActionTotals {
  /** Outputs handed to the rule's actions (one per output and action). */
  readonly total: number
  readonly success: number
  /** Failed for good (a permanent error). */
  readonly failed: number
  /** Dropped: queue full, expired or stopped. total - success - failed - discarded are still on their way. */
  readonly discarded: number
}

/** Fallback actions are not counted: they handle what their action failed, which counts there. */
export function ruleActionTotals(actions: readonly ActionMetrics[]): RuleActionTotals {
  let total = 0, success = 0, failed = 0, discarded = 0
  for (const m of actions) {
    total += m.matched
    success += m.success
    failed += m.failed
    discarded += m.droppedTotal
  }
  return { total, success, failed, discarded }
}
