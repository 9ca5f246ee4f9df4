/**
 * Counts failed device logins of one deployment (in total, per username, per peer host) and says
 * how long to wait before checking the next attempt of a username or host that failed recently:
 * 0 at first, then doubling from `baseDelayMs` per recent failure up to `maxDelayMs`. The wait
 * comes before the password check, so a client that gives up early gains nothing; it is a timer,
 * so the event loop never blocks. Failures older than `windowMs` stop counting toward the delay.
 */
export interface LoginGuardOptions {
  readonly baseDelayMs: number
  readonly maxDelayMs: number
  readonly windowMs: number
  /** Usernames and hosts remembered (least recently failed forgotten first). */
  readonly maxTracked: number
}

export const DEFAULT_LOGIN_GUARD: LoginGuardOptions = { baseDelayMs: 200, maxDelayMs: 5000, windowMs: 5 * 60_000, maxTracked: 10_000 }

interface Tally {
  /** Since start. */
  failures: number
  /** In the current streak (reset by a success of the username, or `windowMs` without failure). */
  recent: number
  lastFailureAt: number
}

export interface FailureCount {
  readonly failures: number
  readonly lastFailureAt: string
}

export interface LoginStats {
  readonly succeeded: number
  readonly failed: number
  /** Clients without credentials refused because the deployment does not allow anonymous ones. */
  readonly anonymousRefused: number
  /** The usernames with the most failures, most first (at most 20). */
  readonly failedByUsername: ReadonlyArray<{ readonly username: string } & FailureCount>
  readonly failedByPeerhost: ReadonlyArray<{ readonly peerhost: string } & FailureCount>
}

const TOP = 20

export class LoginGuard {
  private succeeded = 0
  private failed = 0
  private anonymousRefused = 0
  private readonly byUsername = new Map<string, Tally>()
  private readonly byPeerhost = new Map<string, Tally>()

  constructor(private readonly options: LoginGuardOptions = DEFAULT_LOGIN_GUARD, private readonly now: () => number = Date.now) {}

  /** Milliseconds to wait before checking this attempt. */
  delayFor(username: string | undefined, peerhost: string | undefined): number {
    const n = Math.max(this.recent(this.byUsername, username), this.recent(this.byPeerhost, peerhost))
    if (n === 0) return 0
    return Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** Math.min(n - 1, 30))
  }

  /**
   * Milliseconds until the next attempt of this username or host is worth checking, for callers
   * that refuse (HTTP 429 with Retry-After) instead of waiting: the first `free` failures of a
   * streak cost nothing, each further one doubles the wait from `baseDelayMs`.
   */
  retryAfterMs(username: string | undefined, peerhost: string | undefined, free: number): number {
    const wait = (map: Map<string, Tally>, key: string | undefined) => {
      const n = this.recent(map, key)
      if (n < free || key === undefined) return 0
      const t = map.get(key)!
      const delay = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** Math.min(n - free, 30))
      return Math.max(0, t.lastFailureAt + delay - this.now())
    }
    return Math.max(wait(this.byUsername, username), wait(this.byPeerhost, peerhost))
  }

  recordFailure(username: string | undefined, peerhost: string | undefined): void {
    this.failed++
    this.bump(this.byUsername, username)
    this.bump(this.byPeerhost, peerhost)
  }

  recordAnonymousRefused(): void {
    this.anonymousRefused++
  }

  /** A success ends the username's streak; the host's stays (one known password must not unlock guessing others). */
  recordSuccess(username: string | undefined): void {
    this.succeeded++
    const t = username === undefined ? undefined : this.byUsername.get(username)
    if (t) t.recent = 0
  }

  /** The totals alone (cheap: for /metrics). */
  counts(): { succeeded: number; failed: number; anonymousRefused: number } {
    return { succeeded: this.succeeded, failed: this.failed, anonymousRefused: this.anonymousRefused }
  }

  stats(): LoginStats {
    const top = <K extends string>(map: Map<string, Tally>, key: K) => [...map.entries()]
      .sort((a, b) => b[1].failures - a[1].failures || b[1].lastFailureAt - a[1].lastFailureAt)
      .slice(0, TOP)
      .map(([name, t]) => ({ [key]: name, failures: t.failures, lastFailureAt: new Date(t.lastFailureAt).toISOString() }) as { [P in K]: string } & FailureCount)
    return {
      succeeded: this.succeeded,
      failed: this.failed,
      anonymousRefused: this.anonymousRefused,
      failedByUsername: top(this.byUsername, 'username'),
      failedByPeerhost: top(this.byPeerhost, 'peerhost'),
    }
  }

  private recent(map: Map<string, Tally>, key: string | undefined): number {
    if (key === undefined) return 0
    const t = map.get(key)
    if (!t) return 0
    if (this.now() - t.lastFailureAt > this.options.windowMs) t.recent = 0
    return t.recent
  }

  private bump(map: Map<string, Tally>, key: string | undefined): void {
    if (key === undefined) return
    const now = this.now()
    const t = map.get(key) ?? { failures: 0, recent: 0, lastFailureAt: now }
    if (now - t.lastFailureAt > this.options.windowMs) t.recent = 0
    t.failures++
    t.recent++
    t.lastFailureAt = now
    // Re-inserted so the map's order is least recently failed first: the one to forget when full.
    map.delete(key)
    map.set(key, t)
    if (map.size > this.options.maxTracked) map.delete(map.keys().next().value!)
  }
}
