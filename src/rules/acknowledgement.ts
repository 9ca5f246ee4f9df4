import type { AcknowledgementOutcome, PendingAcknowledgement } from '../broker/broker-types.js'

/** Ends one commitment of a message; calls after the first are ignored. */
export type AcknowledgementRelease = (outcome: AcknowledgementOutcome) => void

/** What an action that acknowledges on delivery takes with a message: one hold per commitment it owes. */
export interface AcknowledgementHold {
  hold(): AcknowledgementRelease
}

/**
 * The pending commitments of one published message: each action with `acknowledge: on-delivery`
 * takes a hold and releases it when the message is delivered, written to its disk buffer, or
 * finally lost. The engine holds one itself while it runs the rules, so a commitment that settles
 * at once (a disk buffer write) cannot settle the message before every action has had it.
 */
export class AcknowledgementCounter implements PendingAcknowledgement, AcknowledgementHold {
  private pending = 1
  private outcome: AcknowledgementOutcome = 'committed'
  private settled: ((outcome: AcknowledgementOutcome) => void) | undefined

  hold(): AcknowledgementRelease {
    this.pending++
    let released = false
    return (outcome) => {
      if (released) return
      released = true
      this.release(outcome)
    }
  }

  /** The engine's own hold, released once every rule has run. */
  release(outcome: AcknowledgementOutcome = 'committed'): void {
    // The first loss decides what the device is told.
    if (outcome !== 'committed' && this.outcome === 'committed') this.outcome = outcome
    if (--this.pending > 0) return
    const settled = this.settled
    this.settled = undefined
    settled?.(this.outcome)
  }

  whenSettled(settled: (outcome: AcknowledgementOutcome) => void): void {
    if (this.pending === 0) settled(this.outcome)
    else this.settled = settled
  }
}
