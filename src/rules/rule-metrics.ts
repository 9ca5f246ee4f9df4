import { RateHistory } from '../core/rate-history.js'

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
