/**
 * Counters with a per-second history, for rates ("messages/s over the last 10 s") and the
 * console's charts (the last 5 minutes, one point per second).
 */
export class RateHistory {
  private readonly buckets: Float64Array
  private second = Math.floor(Date.now() / 1000)
  private index = 0
  /** The second of the last add: a history idle for a whole window has a rate of 0 without summing it. */
  private lastAdd = -Infinity

  constructor(private readonly seconds = 300) {
    this.buckets = new Float64Array(seconds)
  }

  add(n = 1): void {
    this.advance()
    this.buckets[this.index]! += n
    this.lastAdd = this.second
  }

  /** Mean per second over the last `window` complete seconds. */
  rate(window = 10): number {
    // Most actions of a large installation are idle: their rate is read every heartbeat.
    if (this.lastAdd < Math.floor(Date.now() / 1000) - window) return 0
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
