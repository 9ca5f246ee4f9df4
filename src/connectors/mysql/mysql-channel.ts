import type { PoolConnection } from 'mysql2'
import { BatchError, ConnectorError, compileSqlTemplate, type Channel, type ChannelMessage, type SqlTemplate } from '../../connector-api/index.js'
import { isRowError, type MysqlPhase } from './classify-error.js'
import { multiRowInsert, type MultiRowInsert } from './multi-row-insert.js'

const MAX_PARAMS = 65_535 // MySQL's limit on the parameters of one prepared statement

export interface MysqlChannelHost {
  lease<T>(signal: AbortSignal, use: (conn: PoolConnection) => Promise<T>): Promise<T>
  classify(err: unknown, phase: MysqlPhase): ConnectorError
  readonly poolSize: number
}

/**
 * One rule action's statement: every `${var}` is a `?` parameter of a prepared statement. A batch of
 * `INSERT ... VALUES (...)` into a transactional table is one multi-row INSERT (all rows or none);
 * anything else, or a MyISAM/Aria table (a failed multi-row INSERT there keeps the rows before the bad one), runs per message.
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

  /**
   * The server prepares the statement (nothing runs), so a bad table, column or syntax fails at once with MySQL's message; then the
   * table's engine decides on multi-row batches. Answers how many columns the statement returns.
   */
  async validate(signal: AbortSignal): Promise<number> {
    return this.host.lease(signal, async (conn) => {
      // Left in the connection's statement cache: `send` executes the same text.
      const { columns } = await new Promise<{ columns: unknown[] }>((resolve, reject) => conn.prepare(this.template.text, (err, statement) => (err ? reject(err) : resolve(statement as never))))
      if (!this.multi) return columns.length
      const [table, schema] = this.multi.table.split(/\s*\.\s*/).reverse().map((n) => n.replace(/^`|`$/g, '').replace(/``/g, '`'))
      const found = await execute(conn, 'SELECT e.TRANSACTIONS AS tx FROM information_schema.TABLES t JOIN information_schema.ENGINES e ON e.ENGINE = t.ENGINE ' +
        'WHERE t.TABLE_SCHEMA = IFNULL(?, DATABASE()) AND t.TABLE_NAME = ?', [schema ?? null, table]) as Array<{ tx: string | null }>
      if (found[0] && found[0].tx !== 'YES') this.multi = undefined
      return columns.length
    })
  }

  /**
   * The Test action with rollback: one execution in a transaction that is rolled back. A table
   * that is not transactional (MyISAM, Aria) keeps the row: the server warns at ROLLBACK, and the
   * test fails saying so.
   */
  async sendRolledBack(message: ChannelMessage, signal: AbortSignal): Promise<void> {
    await this.host.lease(signal, async (conn) => {
      await query(conn, 'START TRANSACTION')
      try {
        await execute(conn, this.template.text, this.template.params(message))
      } finally {
        if (((await query(conn, 'ROLLBACK')) as { warningStatus?: number }).warningStatus) {
          throw new ConnectorError('INVALID_PARAMS', 'The statement was applied but could not be rolled back: the table is not transactional (MyISAM, Aria)', {
            kind: 'permanent', hint: 'Test such a table without rollback, on a row you can delete afterwards.' })
        }
      }
    })
  }

  async send(message: ChannelMessage, signal: AbortSignal): Promise<void> {
    await this.host.lease(signal, (conn) => execute(conn, this.template.text, this.template.params(message)))
  }

  async sendBatch(messages: readonly ChannelMessage[], signal: AbortSignal): Promise<void> {
    if (messages.length <= 1) return messages[0] && this.send(messages[0], signal)
    const rows = messages.map((m) => this.template.params(m))
    const perStatement = this.multi ? Math.floor(MAX_PARAMS / Math.max(1, this.template.placeholders.length)) : 1
    const segments = Array.from({ length: Math.ceil(rows.length / perStatement) }, (_, s) => range(s * perStatement, Math.min(rows.length, (s + 1) * perStatement)))
    const written = new Set<number>()
    const failed = new Map<number, ConnectorError>()
    await this.host.lease(signal, (conn) => this.write(conn, segments, rows, written, failed))
    if (failed.size === 0) return
    const errors = new Set(failed.values())
    if (written.size === 0 && errors.size === 1) throw [...errors][0]!
    const failures = [...failed].sort(([a], [b]) => a - b).map(([index, error]) => ({ index, error }))
    throw new BatchError(failures, `${failures.length} of ${rows.length} row(s) failed: ${failures[0]!.error.message}`)
  }

  /**
   * Runs each segment as one statement, in order. One that fails on a row's data wrote nothing and is narrowed down: the row the server
   * names (`at row N`) alone and the rows around it, or else its halves; a lone failing row fails. So every good row is written exactly
   * once. Any other error stops the batch: the rows not yet written fail with it.
   */
  private async write(conn: PoolConnection, segments: number[][], rows: unknown[][], written: Set<number>, failed: Map<number, ConnectorError>): Promise<void> {
    for (let seg = segments.shift(); seg; seg = segments.shift()) {
      try {
        await execute(conn, seg.length === 1 ? this.template.text : this.multi!.text(seg.length), seg.length === 1 ? rows[seg[0]!]! : seg.flatMap((i) => rows[i]!))
        for (const i of seg) written.add(i)
      } catch (err) {
        const e = this.host.classify(err, 'query')
        if (!isRowError(e)) {
          for (let i = 0; i < rows.length; i++) if (!written.has(i) && !failed.has(i)) failed.set(i, e)
          return
        }
        if (seg.length === 1) {
          failed.set(seg[0]!, e)
          continue
        }
        const named = Number(/ at row (\d+)/.exec(e.message)?.[1] ?? 0) - 1
        const parts = named >= 0 && named < seg.length ? [seg.slice(0, named), [seg[named]!], seg.slice(named + 1)] : [seg.slice(0, seg.length >> 1), seg.slice(seg.length >> 1)]
        segments.unshift(...parts.filter((p) => p.length > 0))
      }
    }
  }
}

function query(conn: PoolConnection, sql: string): Promise<unknown> {
  return new Promise((resolve, reject) => conn.query(sql, (err, result) => (err ? reject(err) : resolve(result))))
}

/** One prepared-statement execution (mysql2 prepares a text on its first use on a connection). */
function execute(conn: PoolConnection, sql: string, values: unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) => conn.execute(sql, values as never, (err, result) => (err ? reject(err) : resolve(result))))
}

function range(start: number, end: number): number[] {
  return Array.from({ length: end - start }, (_, i) => start + i)
}
