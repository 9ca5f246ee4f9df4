import { BatchError, type ConnectorError } from './errors.js'

/**
 * Which rows of a batch were written and which failed, with why. A row is settled once: written,
 * or failed with its error; a halt (an error that is not about a row: the connection, the server,
 * the statement) fails every row not yet settled.
 */
export class BatchOutcome {
  private readonly done: boolean[]
  private readonly failures = new Map<number, ConnectorError>()
  private written = 0
  private stop: ConnectorError | undefined

  constructor(readonly size: number) {
    this.done = new Array<boolean>(size).fill(false)
  }

  get halted(): boolean {
    return this.stop !== undefined
  }

  succeeded(indexes: readonly number[]): void {
    for (const i of indexes) this.done[i] = true
    this.written += indexes.length
  }

  succeededRange(start: number, end: number): void {
    for (let i = start; i < end; i++) this.done[i] = true
    this.written += end - start
  }

  failed(index: number, error: ConnectorError): void {
    this.done[index] = true
    this.failures.set(index, error)
  }

  /** `error` stops the batch: `indexes` and every row not yet settled fail with it. */
  halt(indexes: readonly number[], error: ConnectorError): void {
    this.stop ??= error
    for (const i of indexes) this.failed(i, error)
    this.failRest()
  }

  /** After a halt, every row not yet settled fails with the halting error. */
  failRest(): void {
    if (!this.stop) return
    for (let i = 0; i < this.size; i++) if (!this.done[i]) this.failed(i, this.stop)
  }

  /**
   * Nothing failed: returns. Nothing was written and every row failed the same way: throws that
   * error (the whole batch, retried or failed as one). Otherwise a BatchError naming the failed
   * rows in order, so the written ones are never sent again.
   */
  throwIfFailed(): void {
    if (this.failures.size === 0) return
    const errors = new Set(this.failures.values())
    if (this.written === 0 && errors.size === 1 && this.failures.size === this.size) throw [...errors][0]!
    const failures = [...this.failures].sort(([a], [b]) => a - b).map(([index, error]) => ({ index, error }))
    throw new BatchError(failures, `${failures.length} of ${this.size} row(s) failed: ${failures[0]!.error.message}`)
  }
}

/** Why a segment's statement failed (it wrote nothing), and which of its rows the resource named, when it did. */
export interface SegmentFailure {
  readonly error: ConnectorError
  /** The segment position of the row the failure names. */
  readonly row?: number | undefined
  /** Whether that row is known to fail (it is failed at once) or is only where to cut (it runs again alone). */
  readonly rowFailed?: boolean
}

/**
 * Writes `segments` (lists of row indexes) one by one, each as one all-or-nothing statement or
 * transaction through `run`, and narrows down a failure that is about a row's data (`isRowError`):
 * around the row the resource names, else by halves, until a lone failing row fails. Each good row
 * is so written exactly once and a batch with k bad rows costs about 2k + 1 more round trips. A
 * failure of another kind, or `run` throwing (the outcome unknown), halts the batch.
 */
export async function isolateBadRows(
  outcome: BatchOutcome,
  segments: number[][],
  run: (segment: readonly number[]) => Promise<SegmentFailure | undefined>,
  isRowError: (e: ConnectorError) => boolean,
): Promise<void> {
  while (segments.length > 0 && !outcome.halted) {
    const seg = segments.shift()!
    let failure: SegmentFailure | undefined
    try {
      failure = await run(seg)
    } catch (err) {
      outcome.halt(seg, err as ConnectorError)
      break
    }
    if (!failure) {
      outcome.succeeded(seg)
      continue
    }
    const { error, row } = failure
    if (!isRowError(error)) {
      outcome.halt(seg, error)
    } else if (seg.length === 1) {
      outcome.failed(seg[0]!, error)
    } else if (row !== undefined && row >= 0 && row < seg.length) {
      if (failure.rowFailed) outcome.failed(seg[row]!, error)
      const parts = failure.rowFailed ? [seg.slice(0, row), seg.slice(row + 1)] : [seg.slice(0, row), [seg[row]!], seg.slice(row + 1)]
      segments.unshift(...parts.filter((p) => p.length > 0))
    } else {
      const mid = seg.length >> 1
      segments.unshift(seg.slice(0, mid), seg.slice(mid))
    }
  }
}

/** The indexes start..end-1. */
export function range(start: number, end: number): number[] {
  const out = new Array<number>(end - start)
  for (let i = start; i < end; i++) out[i - start] = i
  return out
}
