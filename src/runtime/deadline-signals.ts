import { setMaxListeners } from 'node:events'

/**
 * Abort signals for delivery deadlines, one per 50 ms slot, shared by every delivery whose
 * deadline falls in it. A signal of its own per delivery (`AbortSignal.timeout`) cost ~10 µs of
 * CPU, a third of an HTTP request's whole client-side cost (bench/http.ts); a shared one costs a
 * map lookup. A signal aborts (a `TimeoutError`, as `AbortSignal.timeout`'s) at its deadline or
 * up to one slot later; its timer is unref'd and the slot forgotten once it fired.
 */
export class DeadlineSignals {
  private readonly slots = new Map<number, AbortSignal>()

  constructor(private readonly slotMs = 50) {}

  /** A signal that aborts at `deadline` (epoch ms), or at most one slot later. */
  at(deadline: number): AbortSignal {
    const slot = Math.ceil(deadline / this.slotMs) * this.slotMs
    const known = this.slots.get(slot)
    if (known) return known
    const controller = new AbortController()
    // Every delivery of the slot may listen to it at once: no leak warning past 10 listeners.
    setMaxListeners(0, controller.signal)
    this.slots.set(slot, controller.signal)
    setTimeout(() => {
      this.slots.delete(slot)
      controller.abort(new DOMException('The request TTL ran out', 'TimeoutError'))
    }, Math.max(0, slot - Date.now())).unref()
    return controller.signal
  }
}
