import type pg from 'pg'
import { pgWire } from '../../library-patches/pg.js'
import { FrontendMessages, type WireValue } from './frontend-messages.js'

export type { WireValue } from './frontend-messages.js'

/** One scratch buffer for every statement: submit encodes and takes synchronously. */
const messages = new FrontendMessages()

/** What one pipelined round trip answered. */
export type PipelineResult =
  | { readonly ok: true }
  /** `failedAt`: how many executions had completed when the error came (the failing one's position, or `rows` when it failed at commit). */
  | { readonly ok: false; readonly error: unknown; readonly failedAt: number }

/**
 * Runs one statement for many parameter rows in ONE round trip and ONE transaction, with the
 * extended query protocol: Parse, then Bind + Execute per row, then a single Sync, all in one
 * socket write. Everything before the Sync is an implicit transaction: it commits at the Sync
 * when every execution succeeded; after an error the server skips the rest and rolls the whole
 * back. The error says at which row it happened (the executions completed before it), which is
 * how a failing batch finds its bad rows.
 *
 * With a `name`, the statement is prepared once per connection: the Parse is sent only the first
 * time this connection sees the name (pg's record of prepared statements is shared with its own
 * named queries, so the two never disagree). A multi-row INSERT is one "row" of all its values.
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

  constructor(
    readonly text: string,
    readonly rows: readonly (readonly WireValue[])[],
    /** A prepared statement's name; "" for the unnamed statement (parsed every time). */
    readonly name = '',
  ) {
    this.result = new Promise((resolve) => { this.settle = resolve })
  }

  /** Called by pg when the client is free: encodes every message and writes them at once. */
  submit(connection: pg.Connection): void {
    const wire = pgWire(connection)
    // Without pg's record of prepared statements, a name could be parsed twice: go unnamed.
    const name = wire.parsedStatements ? this.name : ''
    const prepared = name !== '' && (wire.parsedStatements![name] === this.text || wire.submittedNamedStatements?.[name] === this.text)
    if (!prepared) {
      messages.parse(name, this.text)
      if (name !== '' && wire.submittedNamedStatements) wire.submittedNamedStatements[name] = this.text
    }
    if (this.rows.length === 0) messages.describeStatement(name)
    for (const values of this.rows) messages.bind(name, values).execute()
    const bytes = messages.sync().take()
    // A closed socket: pg reports the connection's end to the active query (handleError).
    if (wire.stream.writable) wire.stream.write(bytes)
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
    pgWire(connection).sendCopyFail('COPY FROM STDIN cannot be used in a rule action')
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
