import type pg from 'pg'

/** A bind parameter as it goes on the wire: text, bytes (bytea) or NULL. */
export type WireValue = string | Buffer | null

/**
 * The part of pg's protocol connection a Submittable writes to (the interface pg-cursor uses).
 * Typed here because @types/pg describes an older signature.
 */
interface WireConnection {
  readonly stream: { cork?(): void; uncork?(): void }
  parse(query: { text: string; name: string; types: number[] }): void
  bind(config: { portal: string; statement: string; values: WireValue[] }): void
  execute(config: { portal: string; rows: number }): void
  describe(config: { type: 'S' | 'P'; name: string }): void
  sync(): void
  sendCopyFail(message: string): void
}

/** What one pipelined round trip answered. */
export type PipelineResult =
  | { readonly ok: true }
  /** `failedAt`: how many executions had completed when the error came (the failing one's position, or `rows` when it failed at commit). */
  | { readonly ok: false; readonly error: unknown; readonly failedAt: number }

/**
 * Runs one statement for many parameter rows in ONE round trip and ONE transaction, with the
 * extended query protocol: Parse (unnamed), then Bind + Execute per row, then a single Sync.
 * Everything before the Sync is an implicit transaction: it commits at the Sync when every
 * execution succeeded; after an error the server skips the rest and rolls the whole back. The
 * error says at which row it happened (the executions completed before it), which is how a
 * failing batch finds its bad rows.
 *
 * With `rows` empty it sends Parse + Describe + Sync: the server parses and plans the statement
 * (tables, columns, types) and executes nothing; that is how a channel validates its SQL.
 *
 * It is a pg "Submittable" (the interface pg-cursor uses): `client.query(new PipelinedStatement(...))`
 * on a checked-out client, then `await statement.result`.
 */
export class PipelinedStatement {
  readonly result: Promise<PipelineResult>
  private settle!: (r: PipelineResult) => void
  private completed = 0
  private settled = false

  constructor(readonly text: string, private readonly rows: readonly (readonly WireValue[])[]) {
    this.result = new Promise((resolve) => { this.settle = resolve })
  }

  /** Called by pg when the client is free: writes every message at once (corked). */
  submit(connection: pg.Connection): void {
    const wire = connection as unknown as WireConnection
    wire.stream.cork?.()
    try {
      wire.parse({ text: this.text, name: '', types: [] })
      if (this.rows.length === 0) wire.describe({ type: 'S', name: '' })
      for (const values of this.rows) {
        wire.bind({ portal: '', statement: '', values: [...values] })
        wire.execute({ portal: '', rows: 0 })
      }
      wire.sync()
    } finally {
      wire.stream.uncork?.()
    }
  }

  handleCommandComplete(): void {
    this.completed++
  }

  /** The whole pipeline went through and (for executions) committed. */
  handleReadyForQuery(): void {
    this.finish({ ok: true })
  }

  /**
   * A server error (pg then ignores the rest until ReadyForQuery and does not call
   * handleReadyForQuery) or a dead connection.
   */
  handleError(error: unknown): void {
    this.finish({ ok: false, error, failedAt: this.completed })
  }

  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
  handleCopyInResponse(connection: pg.Connection): void {
    ;(connection as unknown as WireConnection).sendCopyFail('COPY FROM STDIN cannot be used in a rule action')
  }

  private finish(r: PipelineResult): void {
    if (this.settled) return
    this.settled = true
    this.settle(r)
  }
}

/** A parameter value as PostgreSQL text: what pg itself sends, with Dates in UTC ISO form. */
export function toWire(v: unknown): WireValue {
  if (v === null || v === undefined) return null
  if (Buffer.isBuffer(v)) return v
  if (v instanceof Date) return v.toISOString()
  if (typeof v === 'object') return JSON.stringify(v)
  return String(v)
}
