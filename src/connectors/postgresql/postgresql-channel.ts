import { createHash } from 'node:crypto'
import type pg from 'pg'
import { BatchOutcome, compileSqlTemplate, isolateBadRows, range, rolledBack, withLease, writesNothing } from '../../connector-api/index.js'
import type { Channel, ChannelMessage, Lease, LeasePool, SegmentFailure, SqlChannel, SqlTemplate } from '../../connector-api/index.js'
import { isRowError } from './classify-error.js'
import { multiRowInsert, type MultiRowInsert } from './insert-values.js'
import { PipelinedStatement, toWire, type WireValue } from './pipelined-statement.js'

/** Distinct multi-row INSERT sizes a channel prepares as named statements. */
const NAMED_ROW_COUNTS = 8

/** What a channel needs from its connector: pooled connections (the kit's withLease) and their bound. */
export interface PgChannelHost extends LeasePool<pg.PoolClient> {
  /** Most connections the pool opens (undefined: no bound known). */
  readonly poolSize?: number
}

/**
 * One rule action's statement. The SQL template is compiled once: every `${var}` is a bind
 * parameter, never spliced into the SQL text.
 *
 * - `send`: one execution of a named prepared statement, so each pooled connection parses it once.
 * - `sendBatch`, INSERT ... VALUES (...) template: one multi-row INSERT per round trip (chunked
 *   under the 65535 bind-parameter limit), all rows in one implicit transaction.
 * - `sendBatch`, any other statement: one pipelined round trip that runs it once per message in
 *   one transaction (see PipelinedStatement).
 * - A batch whose statement fails on a row's data (SQLSTATE classes 21, 22, 23, 54, P0) is
 *   narrowed down to the bad rows (see `isolate`): every other row is committed exactly once and a
 *   BatchError names the bad ones (the kit's isolateBadRows and BatchOutcome).
 */
export class PostgresqlChannel implements Channel, SqlChannel {
  private readonly template: SqlTemplate
  private readonly multiRow: MultiRowInsert | undefined
  /** Named prepared statement of `send`: one per distinct SQL text. */
  private readonly statementName: string
  /** Row counts whose multi-row INSERT runs as a named prepared statement (see multiRowName). */
  private readonly namedRowCounts = new Set<number>()

  /** The pool's size: more batches at once would only wait for a connection. */
  readonly concurrency: number | undefined

  constructor(sql: string, private readonly host: PgChannelHost, maxBindParams?: number) {
    this.concurrency = host.poolSize
    this.template = compileSqlTemplate(sql)
    this.multiRow = multiRowInsert(this.template.text, this.template.placeholders.length, maxBindParams)
    this.statementName = `junction_${createHash('sha256').update(this.template.text).digest('hex').slice(0, 24)}`
  }

  /** `insert_values` when batches become multi-row INSERTs, `pipelined` otherwise (docs, tests). */
  get batchMode(): 'insert_values' | 'pipelined' {
    return this.multiRow ? 'insert_values' : 'pipelined'
  }

  /**
   * Asks the server to parse and plan the statement without running it (Parse + Describe), so a
   * typo in a table or column name fails the action when it is created, with PostgreSQL's
   * message. Then `EXPLAIN` with NULL parameters (plans, executes nothing) checks the privileges
   * (INSERT on the table...); only a permission error counts there, since EXPLAIN does not apply
   * to every statement.
   */
  async validate(signal: AbortSignal): Promise<void> {
    await withLease(this.host, signal, async (lease) => {
      const describe = new PipelinedStatement(this.template.text, [])
      lease.conn.query(describe)
      const r = await lease.run(describe.result)
      if (!r.ok) throw lease.classify(r.error)
      const nulls = this.template.placeholders.map(() => null)
      try {
        await lease.run(lease.conn.query({ text: `EXPLAIN ${this.template.text}`, values: nulls }))
      } catch (err) {
        const e = lease.classify(err)
        if (e.code === 'NOT_PERMITTED' || e.kind !== 'permanent') throw e
      }
    })
  }

  /**
   * `validate`, then the plan of the statement (EXPLAIN with NULL parameters; nothing runs): one
   * that reads a table and modifies none (a SELECT where an INSERT was meant) would run for every
   * message and store nothing, so it is refused. A SELECT that reads no table (`SELECT
   * pg_notify(...)`, a function called for its effect) passes, as does anything EXPLAIN cannot plan.
   */
  async check(signal: AbortSignal): Promise<void> {
    await this.validate(signal)
    await withLease(this.host, signal, async (lease) => {
      const run = (text: string) => lease.run(lease.conn.query(text))
      const name = `junction_check_${this.statementName.slice('junction_'.length)}`
      const args = this.template.placeholders.length === 0 ? '' : `(${this.template.placeholders.map(() => 'NULL').join(', ')})`
      let plan: unknown
      let prepared = false
      // The generic plan: with the parameters' NULLs folded in, `WHERE a = $1` plans as no scan at all.
      await run('BEGIN')
      try {
        await run('SET LOCAL plan_cache_mode = force_generic_plan')
        await run(`PREPARE ${name} AS ${this.template.text}`)
        prepared = true
        const r = await run(`EXPLAIN (FORMAT JSON) EXECUTE ${name}${args}`)
        plan = (r.rows[0] as Record<string, unknown> | undefined)?.['QUERY PLAN']
      } catch (err) {
        const e = lease.classify(err)
        if (e.kind !== 'permanent') throw e
      } finally {
        await run('ROLLBACK')
        // A prepared statement outlives the transaction.
        if (prepared) await run(`DEALLOCATE ${name}`)
      }
      const tables = readOnlyTables(plan)
      if (tables.length > 0) throw writesNothing(` (${tables.map((t) => `"${t}"`).join(', ')})`, 'UPDATE, DELETE, MERGE')
    })
  }

  /**
   * The Test action with rollback: one execution of the statement in a transaction that is then
   * rolled back, on a pooled connection. The resource's answer is known and no row stays
   * (a sequence the statement draws from still advances: PostgreSQL never rolls those back).
   */
  async sendRolledBack(message: ChannelMessage, signal: AbortSignal): Promise<void> {
    const values = this.values(message)
    await withLease(this.host, signal, ({ conn, run, classify }) => {
      const step = (q: Promise<unknown>) => run(q).catch((err: unknown) => { throw classify(err) })
      return rolledBack((sql) => step(conn.query(sql)), () => step(conn.query({ text: this.template.text, values })))
    })
  }

  async send(message: ChannelMessage, signal: AbortSignal): Promise<void> {
    const values = this.values(message)
    await withLease(this.host, signal, async (lease) => {
      try {
        await lease.run(lease.conn.query({ name: this.statementName, text: this.template.text, values }))
      } catch (err) {
        throw lease.classify(err)
      }
    })
  }

  async sendBatch(messages: readonly ChannelMessage[], signal: AbortSignal): Promise<void> {
    if (messages.length === 0) return
    if (messages.length === 1) return this.send(messages[0]!, signal)
    const rows = this.rows(messages)
    const outcome = new BatchOutcome(messages.length)
    await withLease(this.host, signal, async (lease) => {
      const multi = this.multiRow
      if (!multi) {
        await this.isolate(lease, range(0, messages.length), rows, outcome)
        return
      }
      for (let start = 0; start < messages.length && !outcome.halted; start += multi.maxRows) {
        const end = Math.min(messages.length, start + multi.maxRows)
        const statement = new PipelinedStatement(multi.text(end - start), [rows.values(start, end)], this.multiRowName(end - start))
        let r
        try {
          lease.conn.query(statement)
          r = await lease.run(statement.result)
        } catch (err) {
          outcome.halt(range(start, end), lease.classify(err))
          break
        }
        if (r.ok) {
          outcome.succeededRange(start, end)
          continue
        }
        const e = lease.classify(r.error)
        if (isRowError(e)) await this.isolate(lease, range(start, end), rows, outcome)
        else outcome.halt(range(start, end), e)
      }
      outcome.failRest()
    })
    outcome.throwIfFailed()
  }

  /**
   * Runs `indexes` pipelined in one transaction; when a row's data fails it, that row is recorded
   * as failed and the rows before and after it are run again as their own transactions, in order.
   * A failed transaction commits nothing, so no row is ever committed twice; a batch with k bad
   * rows costs at most 2k + 1 round trips. An error at commit (a deferred constraint) names no
   * row: the rows are then halved until it does. A connection, server or statement error stops
   * the batch: the rows not yet committed fail with it.
   */
  private isolate(lease: Lease<pg.PoolClient>, indexes: number[], rows: Rows, outcome: BatchOutcome): Promise<void> {
    return isolateBadRows(outcome, [indexes], async (seg): Promise<SegmentFailure | undefined> => {
      const statement = new PipelinedStatement(this.template.text, seg.map((i) => rows.values(i, i + 1)))
      let r
      try {
        lease.conn.query(statement)
        r = await lease.run(statement.result)
      } catch (err) {
        throw lease.classify(err)
      }
      return r.ok ? undefined : { error: lease.classify(r.error), row: r.failedAt, rowFailed: true }
    }, isRowError)
  }

  /**
   * The prepared statement name of the multi-row INSERT of `rows` rows: named (parsed and planned
   * once per connection, then only bound and executed) for the first NAMED_ROW_COUNTS row counts
   * this channel sees, which under load are the full batches: parsing and planning a 100-row
   * VALUES list for every batch doubled the server's CPU per row (1.9 vs 0.95 µs, as much as
   * COPY). Other counts (partial batches flushed by the timer) run unnamed (""), so a connection
   * holds a bounded number of statements.
   */
  private multiRowName(rows: number): string {
    if (!this.namedRowCounts.has(rows) && this.namedRowCounts.size < NAMED_ROW_COUNTS) this.namedRowCounts.add(rows)
    return this.namedRowCounts.has(rows) ? `${this.statementName}_${rows}` : ''
  }

  private values(message: ChannelMessage): WireValue[] {
    const values: WireValue[] = new Array(this.template.placeholders.length)
    this.template.writeParams(message, values, 0, toWire)
    return values
  }

  /** Every message's parameters, rendered once into one flat array (row after row). */
  private rows(messages: readonly ChannelMessage[]): Rows {
    const width = this.template.placeholders.length
    const flat: WireValue[] = new Array(messages.length * width)
    let at = 0
    for (const m of messages) at = this.template.writeParams(m, flat, at, toWire)
    return {
      values: (start, end) => (start === 0 && end === messages.length ? flat : flat.slice(start * width, end * width)),
    }
  }
}

/** A batch's rendered parameters. */
interface Rows {
  /** The parameters of rows start..end-1, in order, as one list (a multi-row statement's). */
  values(start: number, end: number): WireValue[]
}

/**
 * The tables an EXPLAIN (FORMAT JSON) plan reads when it modifies none (no ModifyTable node,
 * CTEs included); empty when it writes, or reads no table.
 */
function readOnlyTables(plan: unknown): string[] {
  const tables = new Set<string>()
  let writes = false
  const visit = (node: unknown) => {
    if (typeof node !== 'object' || node === null) return
    const n = node as Record<string, unknown>
    if (n['Node Type'] === 'ModifyTable') writes = true
    if (typeof n['Relation Name'] === 'string') tables.add(n['Relation Name'])
    if (Array.isArray(n.Plans)) n.Plans.forEach(visit)
  }
  for (const entry of Array.isArray(plan) ? plan : []) visit((entry as { Plan?: unknown } | undefined)?.Plan)
  return writes ? [] : [...tables]
}
