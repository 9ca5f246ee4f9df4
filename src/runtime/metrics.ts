/**
 * Counters with a per-second history, for rates ("messages/s over the last 10 s") and the
 * console's charts (the last 5 minutes, one point per second).
 */
export class RateHistory {
  private readonly buckets: Float64Array
  private second = Math.floor(Date.now() / 1000)
  private index = 0

  constructor(private readonly seconds = 300) {
    this.buckets = new Float64Array(seconds)
  }

  add(n = 1): void {
    this.advance()
    this.buckets[this.index]! += n
  }

  /** Mean per second over the last `window` complete seconds. */
  rate(window = 10): number {
    this.advance()
    let sum = 0
    for (let i = 1; i <= window; i++) sum += this.buckets[(this.index - i + this.seconds) % this.seconds]!
    return Math.round((sum / window) * 10) / 10
  }

  /** Counts per second, oldest first, ending with the last complete second. */
  series(points = 60): number[] {
    this.advance()
    const out: number[] = []
    for (let i = points; i >= 1; i--) out.push(this.buckets[(this.index - i + this.seconds) % this.seconds]!)
    return out
  }

  private advance(): void {
    const now = Math.floor(Date.now() / 1000)
    if (now === this.second) return
    const steps = Math.min(now - this.second, this.seconds)
    for (let i = 0; i < steps; i++) {
      this.index = (this.index + 1) % this.seconds
      this.buckets[this.index] = 0
    }
    this.second = now
  }
}

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

/** One rule's counters. matched = passed + noResult + failed. */
export class RuleMetrics {
  matched = 0
  passed = 0
  noResult = 0
  failed = 0
  lastError: string | null = null
  readonly matchedRate = new RateHistory()

  snapshot(series = false) {
    return {
      ...(series ? { series: { matched: this.matchedRate.series() } } : {}),
      matched: this.matched, passed: this.passed, noResult: this.noResult, failed: this.failed,
      rate: { matched: this.matchedRate.rate() }, lastError: this.lastError,
    }
  }
}
