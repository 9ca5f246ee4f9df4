import type { PoolConnection } from 'mysql2'
import { BatchError, ConnectorError, compileSqlTemplate, type Channel, type ChannelMessage, type SqlTemplate } from '../../connector-api/index.js'
import { isRowError, type MysqlPhase } from './classify-error.js'
import { multiRowInsert, type MultiRowInsert } from './multi-row-insert.js'

/** MySQL's limit on the parameters of one prepared statement. */
const MAX_PARAMS = 65_535

export interface MysqlChannelHost {
  lease<T>(signal: AbortSignal, use: (conn: PoolConnection) => Promise<T>): Promise<T>
  classify(err: unknown, phase: MysqlPhase): ConnectorError
  readonly poolSize: number
}

/**
 * One rule action's statement, compiled once: every `${var}` is a `?` parameter of a prepared
 * statement (mysql2 prepares a text once per connection and keeps it), never SQL text.
 * `sendBatch` of an `INSERT ... VALUES (...)` into a transactional table is one multi-row INSERT
 * (split under 65,535 parameters), which writes all its rows or none; anything else, or a table
 * whose engine is not transactional (MyISAM, Aria: a failed multi-row INSERT keeps the rows
 * before the bad one), runs once per message, in order, on one connection.
 */
export class MysqlChannel implements Channel {
  private readonly template: SqlTemplate
  private multi: MultiRowInsert | undefined
  readonly concurrency: number

  constructor(sql: string, private readonly host: MysqlChannelHost) {
    this.template = compileSqlTemplate(sql, 'question')
    this.multi = multiRowInsert(this.template.text)
    this.concurrency = host.poolSize
  }

  get batchMode(): 'multi_row' | 'per_message' {
    return this.multi ? 'multi_row' : 'per_message'
  }

  /**
   * The server prepares the statement (nothing runs): an unknown table or column, a syntax error
   * or a missing privilege fails the action at once with MySQL's message. Then the table's engine
   * decides whether batches may be multi-row.
   */
  async validate(signal: AbortSignal): Promise<void> {
    await this.host.lease(signal, async (conn) => {
      // Left in the connection's statement cache: `send` executes the same text.
      const statement = await new Promise<{ parameterCount: number }>((resolve, reject) => conn.prepare(this.template.text, (err, s) => (err ? reject(err) : resolve(s as never))))
      if (statement.parameterCount !== this.template.placeholders.length) {
        throw new ConnectorError('INVALID_STATEMENT', `The SQL has ${statement.parameterCount} parameter(s) for ${this.template.placeholders.length} placeholder(s)`, {
          kind: 'permanent', hint: 'Write every value as a ${...} placeholder; a bare ? has no value to take.',
        })
      }
      if (!this.multi) return
      const [table, schema] = this.multi.table.split(/\s*\.\s*/).reverse().map((n) => n.replace(/^`|`$/g, '').replace(/``/g, '`'))
      const found = await execute(conn, 'SELECT e.TRANSACTIONS AS tx FROM information_schema.TABLES t JOIN information_schema.ENGINES e ON e.ENGINE = t.ENGINE ' +
        'WHERE t.TABLE_SCHEMA = IFNULL(?, DATABASE()) AND t.TABLE_NAME = ?', [schema ?? null, table]) as Array<{ tx: string | null }>
      if (found[0] && found[0].tx !== 'YES') this.multi = undefined
    })
  }

  async send(message: ChannelMessage, signal: AbortSignal): Promise<void> {
    const values = this.template.params(message)
    await this.host.lease(signal, (conn) => execute(conn, this.template.text, values))
  }

  async sendBatch(messages: readonly ChannelMessage[], signal: AbortSignal): Promise<void> {
    if (messages.length <= 1) return messages[0] && this.send(messages[0], signal)
    const rows = messages.map((m) => this.template.params(m))
    const perStatement = this.multi ? Math.floor(MAX_PARAMS / Math.max(1, this.template.placeholders.length)) : 1
    const segments: number[][] = []
    for (let start = 0; start < rows.length; start += perStatement) {
      segments.push(Array.from({ length: Math.min(rows.length, start + perStatement) - start }, (_, i) => start + i))
    }
    const outcome = new Outcome(rows.length)
    await this.host.lease(signal, (conn) => this.write(conn, segments, rows, outcome))
    outcome.throwIfFailed()
  }

  /**
   * Runs each segment of rows as one statement, in order. One that fails on a row's data wrote
   * nothing and is narrowed down: the row the server names (`at row N`) alone and the rows around
   * it, or else its halves, each run as its own statement; a lone failing row is recorded as
   * failed. So every good row is written exactly once, in at most 2k + 1 extra statements for k
   * bad rows the server names. Any other error stops the batch: rows not yet written fail with it.
   */
  private async write(conn: PoolConnection, segments: number[][], rows: unknown[][], outcome: Outcome): Promise<void> {
    for (let seg = segments.shift(); seg; seg = segments.shift()) {
      try {
        await execute(conn, seg.length === 1 ? this.template.text : this.multi!.text(seg.length), seg.length === 1 ? rows[seg[0]!]! : seg.flatMap((i) => rows[i]!))
        outcome.written(seg)
      } catch (err) {
        const e = this.host.classify(err, 'query')
        if (!isRowError(e)) return outcome.halt(e)
        if (seg.length === 1) {
          outcome.failed(seg[0]!, e)
          continue
        }
        const named = Number(/ at row (\d+)/.exec(e.message)?.[1] ?? 0) - 1
        const parts = named >= 0 && named < seg.length ? [seg.slice(0, named), [seg[named]!], seg.slice(named + 1)] : [seg.slice(0, seg.length >> 1), seg.slice(seg.length >> 1)]
        segments.unshift(...parts.filter((p) => p.length > 0))
      }
    }
  }
}

/** One prepared-statement execution (mysql2 prepares a text on its first use on a connection). */
function execute(conn: PoolConnection, sql: string, values: unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) => conn.execute(sql, values as never, (err, result) => (err ? reject(err) : resolve(result))))
}

/** Which rows of a batch were written and which failed, with why. */
class Outcome {
  private readonly settled: boolean[]
  private readonly failures = new Map<number, ConnectorError>()
  private writtenCount = 0

  constructor(private readonly size: number) {
    this.settled = new Array<boolean>(size).fill(false)
  }

  written(indexes: readonly number[]): void {
    for (const i of indexes) this.settled[i] = true
    this.writtenCount += indexes.length
  }

  failed(index: number, error: ConnectorError): void {
    this.settled[index] = true
    this.failures.set(index, error)
  }

  halt(error: ConnectorError): void {
    for (let i = 0; i < this.size; i++) if (!this.settled[i]) this.failed(i, error)
  }

  /** Nothing written and one error for all: that error; else a BatchError naming the failed rows. */
  throwIfFailed(): void {
    if (this.failures.size === 0) return
    const errors = new Set(this.failures.values())
    if (this.writtenCount === 0 && errors.size === 1) throw [...errors][0]!
    const failures = [...this.failures].sort(([a], [b]) => a - b).map(([index, error]) => ({ index, error }))
    throw new BatchError(failures, `${failures.length} of ${this.size} row(s) failed: ${failures[0]!.error.message}`)
  }
}
