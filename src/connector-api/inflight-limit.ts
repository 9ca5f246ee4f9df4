import { whenAborted } from './deadline.js'

/**
 * A bound on sends in flight on one connection that the resource sets (MQTT's Receive Maximum, a
 * publisher-confirm window): a send over it waits for a slot until its signal aborts or the
 * connection goes (`close`). It is per connection, shared by every action on it, which is why it
 * lives with the connector and not in the runtime's per-action inflight window.
 */
export class InflightLimit {
  private used = 0
  private closedWith: Error | undefined
  private readonly waiting: Waiter[] = []

  constructor(readonly max: number) {}

  /** Takes a slot, waiting for one while all are used; rejects with `onAbort()` when `signal` aborts first. */
  acquire(signal: AbortSignal, onAbort: () => Error): Promise<void> {
    if (this.closedWith) return Promise.reject(this.closedWith)
    if (signal.aborted) return Promise.reject(onAbort())
    if (this.used < this.max) {
      this.used++
      return Promise.resolve()
    }
    return new Promise((resolve, reject) => {
      const waiter = new Waiter(resolve, reject)
      waiter.stop = whenAborted(signal, () => {
        const i = this.waiting.indexOf(waiter)
        if (i >= 0) this.waiting.splice(i, 1)
        reject(onAbort())
      })
      this.waiting.push(waiter)
    })
  }

  /** Hands the slot to the longest-waiting send, or frees it. */
  release(): void {
    const next = this.waiting.shift()
    if (next) next.wake()
    else this.used = Math.max(0, this.used - 1)
  }

  /** The connection is gone: every waiting and later `acquire` rejects with `err`. */
  close(err: Error): void {
    this.closedWith ??= err
    for (const w of this.waiting.splice(0)) w.fail(err)
  }
}

const NOTHING = (): void => {}

/** A send waiting for a slot, until a slot, the connection's end or its signal (methods, not closures: one object a send). */
class Waiter {
  /** Stops listening to the send's signal (set right after construction). */
  stop: () => void = NOTHING

  constructor(private readonly resolve: () => void, private readonly reject: (err: Error) => void) {}

  wake(): void {
    this.stop()
    this.resolve()
  }

  fail(err: Error): void {
    this.stop()
    this.reject(err)
  }
}
