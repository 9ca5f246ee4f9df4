/**
 * When a partial batch (fewer messages queued than the batch size) leaves, given that a request
 * slot is free. Nagle's rule, as databases group their commits: a fixed wait for a batch to fill
 * is paid by every message at low rates (a 20 ms timer made p99 publish -> row 22 ms at 2,000
 * msg/s where one round trip takes well under 1 ms), so nothing waits for a batch to form while
 * no request is in flight. While one is, what arrives meanwhile waits for it, and leaves together
 * as the next batch when it completes: the batch grows with the rate times the round trip, and
 * under load (where the round trip, including the event loop's lag, grows too) batches fill to
 * their size as before, one request per batch. The batch time stays as an upper bound on that
 * wait, for a slow resource: past it, a partial batch takes a free slot anyway.
 */

/**
 * Requests in flight beyond which a partial batch waits rather than going at once. One, as in
 * Nagle's rule, rather than every free slot of the window or of the channel's `concurrency`
 * (PostgreSQL's pool of 8, Kafka's window of 100): filling every free slot would cut what arrives
 * into as many small requests as there are slots at moderate rates, each costing a round trip's
 * CPU here and on the server. Two measured the same publish -> row p99 at 2,000 msg/s as one,
 * within the machine's noise. Full batches still use every slot.
 */
export const EAGER_INFLIGHT_BATCHES = 1

export type PartialBatchStep =
  /** Cut the batch now from what is queued. */
  | { readonly kind: 'send' }
  /**
   * Cut it at the end of this turn of the event loop (setImmediate: after the I/O callbacks of
   * this turn): what the sockets read in this turn (a burst decoded message by message, several
   * publishers' packets) goes together, for no measurable wait.
   */
  | { readonly kind: 'gather' }
  /** Wait: for a request in flight to complete, or at most `forMs` (the batch time's rest). */
  | { readonly kind: 'hold'; readonly forMs: number }

export interface PartialBatchState {
  /** The action's batch time; 0 = never wait, whatever is queued leaves whenever a slot is free. */
  readonly batchTimeMs: number
  /** Batches in flight now. */
  readonly inflightBatches: number
  /** How long the oldest queued message has waited. */
  readonly oldestWaitedMs: number
  /** Whether this is the end of the turn that a `gather` waited for. */
  readonly endOfTurn: boolean
}

// Shared: the pump asks once per batch cut, and these carry nothing of their own.
const SEND: PartialBatchStep = { kind: 'send' }
const GATHER: PartialBatchStep = { kind: 'gather' }

export function partialBatchStep({ batchTimeMs, inflightBatches, oldestWaitedMs, endOfTurn }: PartialBatchState): PartialBatchStep {
  if (batchTimeMs <= 0 || oldestWaitedMs >= batchTimeMs) return SEND
  if (inflightBatches < EAGER_INFLIGHT_BATCHES) return endOfTurn ? SEND : GATHER
  return { kind: 'hold', forMs: batchTimeMs - oldestWaitedMs }
}
