import type { Connection, PoolConnection } from 'mysql2'
import { BatchOutcome, ConnectorError, compileSqlTemplate, isolateBadRows, range, rolledBack, withLease, writesNothing } from '../../connector-api/index.js'
import type { Channel, ChannelMessage, Lease, LeasePool, SegmentFailure, SqlChannel, SqlTemplate } from '../../connector-api/index.js'
import { isRowError } from './classify-error.js'
import { multiRowInsert, type MultiRowInsert } from './multi-row-insert.js'

const MAX_PARAMS = 65_535 // MySQL's limit on the parameters of one prepared statement

export interface MysqlChannelHost extends LeasePool<PoolConnection> {
  readonly poolSize: number
}

/**
 * One rule action's statement: every `${var}` is a `?` parameter of a prepared statement. A batch of
 * `INSERT ... VALUES (...)` into a transactional table is one multi-row INSERT (all rows or none);
 * anything else, or a MyISAM/Aria table (a failed multi-row INSERT there keeps the rows before the bad one), runs per message.
 */
export class MysqlChannel implements Channel, SqlChannel {
  private readonly template: SqlTemplate
  private multi: MultiRowInsert | undefined
  readonly concurrency: number

  constructor(private readonly sql: string, private readonly host: MysqlChannelHost) {
    this.template = compileSqlTemplate(sql, 'question')
    this.multi = multiRowInsert(this.template.text)
    this.concurrency = host.poolSize
  }

  /**
   * The server prepares the statement (nothing runs), so a bad table, column or syntax fails at once with MySQL's message; then the
   * table's engine decides on multi-row batches. Answers how many columns the statement returns.
   */
  async validate(signal: AbortSignal): Promise<number> {
    return withLease(this.host, signal, async ({ conn, run }) => {
      // Left in the connection's statement cache: `send` executes the same text.
      const { columns } = await run(new Promise<{ columns: unknown[] }>((resolve, reject) => conn.prepare(this.template.text, (err, statement) => (err ? reject(err) : resolve(statement as never)))))
      if (!this.multi) return columns.length
      const [table, schema] = this.multi.table.split(/\s*\.\s*/).reverse().map((n) => n.replace(/^`|`$/g, '').replace(/``/g, '`'))
      const found = await run(execute(conn, 'SELECT e.TRANSACTIONS AS tx FROM information_schema.TABLES t JOIN information_schema.ENGINES e ON e.ENGINE = t.ENGINE ' +
        'WHERE t.TABLE_SCHEMA = IFNULL(?, DATABASE()) AND t.TABLE_NAME = ?', [schema ?? null, table])) as Array<{ tx: string | null }>
      if (found[0] && found[0].tx !== 'YES') this.multi = undefined
      return columns.length
    })
  }

  /** On a rule's save: `validate`, and a statement that reads FROM a table and returns rows (a SELECT where an INSERT was meant) is refused. */
  async check(signal: AbortSignal): Promise<void> {
    if ((await this.validate(signal)) > 0 && /\bFROM\b/i.test(this.sql)) throw writesNothing(' (it returns rows)', 'UPDATE, DELETE, REPLACE')
  }

  /**
   * The Test action with rollback. A table that is not transactional (MyISAM, Aria) keeps the row:
   * the server warns at ROLLBACK, and the test fails saying so.
   */
  async sendRolledBack(message: ChannelMessage, signal: AbortSignal): Promise<void> {
    await withLease(this.host, signal, ({ conn, run }) => rolledBack((sql) => run(query<{ warningStatus?: number }>(conn, sql)), () => run(execute(conn, this.template.text, this.template.params(message))), {
      begin: 'START TRANSACTION',
      afterRollback: (result) => {
        if (!result.warningStatus) return
        throw new ConnectorError('INVALID_PARAMS', 'The statement was applied but could not be rolled back: the table is not transactional (MyISAM, Aria)', {
          kind: 'permanent', hint: 'Test such a table without rollback, on a row you can delete afterwards.' })
      },
    }))
  }

  async send(message: ChannelMessage, signal: AbortSignal): Promise<void> {
    await withLease(this.host, signal, ({ conn, run }) => run(execute(conn, this.template.text, this.template.params(message))))
  }

  /** Segments of rows, each one statement, in order; a segment that fails on a row's data wrote nothing and is narrowed down (the kit's isolateBadRows). */
  async sendBatch(messages: readonly ChannelMessage[], signal: AbortSignal): Promise<void> {
    if (messages.length <= 1) return messages[0] && this.send(messages[0], signal)
    const rows = messages.map((m) => this.template.params(m))
    const perStatement = this.multi ? Math.floor(MAX_PARAMS / Math.max(1, this.template.placeholders.length)) : 1
    const segments = Array.from({ length: Math.ceil(rows.length / perStatement) }, (_, s) => range(s * perStatement, Math.min(rows.length, (s + 1) * perStatement)))
    const outcome = new BatchOutcome(rows.length)
    await withLease(this.host, signal, (lease) => isolateBadRows(outcome, segments, (seg) => this.write(lease, seg, rows), isRowError))
    outcome.throwIfFailed()
  }

  /** One segment as one statement; a failure names the row the server does (`at row N`), which then runs again alone. */
  private async write({ conn, run, classify }: Lease<PoolConnection>, seg: readonly number[], rows: unknown[][]): Promise<SegmentFailure | undefined> {
    try {
      await run(execute(conn, seg.length === 1 ? this.template.text : this.multi!.text(seg.length), seg.length === 1 ? rows[seg[0]!]! : seg.flatMap((i) => rows[i]!)))
      return undefined
    } catch (err) {
      const error = classify(err)
      return { error, row: Number(/ at row (\d+)/.exec(error.message)?.[1] ?? 0) - 1 }
    }
  }
}

/** One text-protocol statement without parameters. */
export function query<T = unknown>(conn: Connection | PoolConnection, sql: string): Promise<T> {
  return new Promise((resolve, reject) => conn.query(sql, (err, rows) => (err ? reject(err) : resolve(rows as T))))
}

/** One prepared-statement execution (mysql2 prepares a text on its first use on a connection). */
function execute(conn: PoolConnection, sql: string, values: unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) => conn.execute(sql, values as never, (err, result) => (err ? reject(err) : resolve(result))))
}
