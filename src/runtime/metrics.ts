import { RateHistory } from '../core/rate-history.js'

export type DropReason = 'queue_full' | 'expired' | 'stopped'

/** One action's counters. matched = success + failed + dropped + queuing + inflight, always. */
export class ActionMetrics {
  matched = 0
  success = 0
  failed = 0
  retried = 0
  readonly dropped: Record<DropReason, number> = { queue_full: 0, expired: 0, stopped: 0 }
  queuing = 0
  inflight = 0
  lastError: string | null = null
  lastErrorAt: string | null = null
  lastSuccessAt: string | null = null
  readonly successRate = new RateHistory()
  readonly failedRate = new RateHistory()
  readonly droppedRate = new RateHistory()

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
      lastError: this.lastError, lastErrorAt: this.lastErrorAt, lastSuccessAt: this.lastSuccessAt,
    }
  }
}
