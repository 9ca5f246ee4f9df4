import { RateHistory } from '../core/rate-history.js'
import { connectorDelivery, DeliveryTracker, MAX_STALL_BOUND_MS, type ActionHealth, type HealthState, type RequestFailure } from './action-health.js'

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
  return sumActionTotals(actions, (m) => m.droppedTotal)
}

/** A rule's action totals from its actions' counters, live (`ActionMetrics`) or reported (`ActionCounters`); `dropped` reads each one's drops. */
export function sumActionTotals<A extends { readonly matched: number; readonly success: number; readonly failed: number }>(actions: readonly A[], dropped: (a: A) => number): RuleActionTotals {
  let total = 0, success = 0, failed = 0, discarded = 0
  for (const a of actions) {
    total += a.matched
    success += a.success
    failed += a.failed
    discarded += dropped(a)
  }
  return { total, success, failed, discarded }
}

/**
 * One action's counters (on one node), read straight from its ActionMetrics: no rates, series or
 * error text, so that a heartbeat can report every action of every rule each second.
 */
export interface ActionCounters {
  readonly matched: number; readonly success: number; readonly failed: number; readonly dropped: number
  readonly queuing: number; readonly inflight: number; readonly retried: number
  readonly health: HealthState
  /** Its fallback's counters, when it has one. */
  readonly fallback?: ActionCounters
}

export function actionCounters(m: ActionMetrics, now: number, fallback?: ActionMetrics): ActionCounters {
  const c = {
    matched: m.matched, success: m.success, failed: m.failed, dropped: m.droppedTotal,
    queuing: m.queuing, inflight: m.inflight, retried: m.retried, health: m.health(now).state,
  }
  return fallback ? { ...c, fallback: actionCounters(fallback, now) } : c
}

/** A connector's totals over the actions sending through it (fallbacks included): what its answer's `metrics` holds, without series. */
export interface ConnectorCounters {
  readonly matched: number; readonly success: number; readonly failed: number; readonly dropped: number
  readonly queuing: number; readonly inflight: number; readonly retried: number
  /** Messages per second over the last 10 s. */
  readonly rate: { readonly success: number; readonly failed: number; readonly dropped: number }
  readonly lastSuccessAt: string | null
  readonly lastError: string | null
}

export function connectorCounters(all: readonly ActionMetrics[]): ConnectorCounters {
  let matched = 0, success = 0, failed = 0, dropped = 0, queuing = 0, inflight = 0, retried = 0
  let successRate = 0, failedRate = 0, droppedRate = 0
  let lastSuccessMs: number | undefined
  let lastError: string | null = null
  for (const m of all) {
    matched += m.matched
    success += m.success
    failed += m.failed
    dropped += m.droppedTotal
    queuing += m.queuing
    inflight += m.inflight
    retried += m.retried
    successRate += m.successRate.rate()
    failedRate += m.failedRate.rate()
    droppedRate += m.droppedRate.rate()
    if (m.lastSuccessMs !== undefined && (lastSuccessMs === undefined || m.lastSuccessMs > lastSuccessMs)) lastSuccessMs = m.lastSuccessMs
    lastError ??= m.lastError
  }
  return {
    matched, success, failed, dropped, queuing, inflight, retried,
    rate: { success: roundRate(successRate), failed: roundRate(failedRate), dropped: roundRate(droppedRate) },
    lastSuccessAt: lastSuccessMs === undefined ? null : new Date(lastSuccessMs).toISOString(),
    lastError,
  }
}

/** The delivery state of a connector on this node, from its actions' health (see ConnectorDelivery). */
export function connectorDeliveryState(all: readonly ActionMetrics[], now: number): HealthState {
  return connectorDelivery(all.map((m) => m.health(now))).state
}

const roundRate = (n: number) => Math.round(n * 10) / 10
