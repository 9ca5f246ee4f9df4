import { createHash } from 'node:crypto'
import type pg from 'pg'
import {
  BatchError, ConnectorError, compileSqlTemplate,
  type Channel, type ChannelMessage, type SqlTemplate, untilAborted } from '../../connector-api/index.js'
import { isRowError, type PgPhase } from './classify-error.js'
import { multiRowInsert, type MultiRowInsert } from './insert-values.js'
import { PipelinedStatement, toWire, type WireValue } from './pipelined-statement.js'

/** Distinct multi-row INSERT sizes a channel prepares as named statements. */
const NAMED_ROW_COUNTS = 8

/** What a channel needs from its connector: pooled connections and the error switch. */
export interface PgChannelHost {
  /** A connection from the pool; waits at most until `signal` aborts. Throws a classified ConnectorError. */
  acquire(signal: AbortSignal): Promise<pg.PoolClient>
  /** Gives a connection back; with an error, the pool closes it instead of reusing it. */
  release(client: pg.PoolClient, err?: Error): void
  classifyError(err: unknown, phase: PgPhase): ConnectorError
  readonly target: string
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
 *   BatchError names the bad ones.
 */
export class PostgresqlChannel implements Channel {
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
    await this.lease(signal, async (lease) => {
      const describe = new PipelinedStatement(this.template.text, [])
      lease.client.query(describe)
      const r = await lease.run(describe.result)
      if (!r.ok) throw lease.classify(r.error)
      const nulls = this.template.placeholders.map(() => null)
      try {
        await lease.run(lease.client.query({ text: `EXPLAIN ${this.template.text}`, values: nulls }))
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
    await this.lease(signal, async (lease) => {
      const run = (text: string) => lease.run(lease.client.query(text))
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
      if (tables.length > 0) {
        throw new ConnectorError('STATEMENT_WRITES_NOTHING', `The action's SQL only reads (${tables.map((t) => `"${t}"`).join(', ')}) and writes nothing: run for every message, it would store nothing`, {
          kind: 'permanent', hint: 'Write the rows with INSERT (or UPDATE, DELETE, MERGE), e.g. INSERT INTO t (clientid, temp) VALUES (${clientid}, ${temp}).',
        })
      }
    })
  }

  /**
   * The Test action with rollback: one execution of the statement in a transaction that is then
   * rolled back, on a pooled connection. The resource's answer is known and no row stays
   * (a sequence the statement draws from still advances: PostgreSQL never rolls those back).
   */
  async sendRolledBack(message: ChannelMessage, signal: AbortSignal): Promise<void> {
    const values = this.values(message)
    await this.lease(signal, async (lease) => {
      const step = async (q: Promise<unknown>) => {
        try {
          await lease.run(q)
        } catch (err) {
          throw err instanceof ConnectorError ? err : lease.classify(err)
        }
      }
      await step(lease.client.query('BEGIN'))
      try {
        await step(lease.client.query({ text: this.template.text, values }))
      } finally {
        await step(lease.client.query('ROLLBACK'))
      }
    })
  }

  async send(message: ChannelMessage, signal: AbortSignal): Promise<void> {
    const values = this.values(message)
    await this.lease(signal, async (lease) => {
      try {
        await lease.run(lease.client.query({ name: this.statementName, text: this.template.text, values }))
      } catch (err) {
        throw lease.classify(err)
      }
    })
  }

  async sendBatch(messages: readonly ChannelMessage[], signal: AbortSignal): Promise<void> {
    if (messages.length === 0) return
    if (messages.length === 1) return this.send(messages[0]!, signal)
    const rows = this.rows(messages)
    const outcome = new Outcome(messages.length)
    await this.lease(signal, async (lease) => {
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
          lease.client.query(statement)
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
  private async isolate(lease: Lease, indexes: readonly number[], rows: Rows, outcome: Outcome): Promise<void> {
    const segments: number[][] = [[...indexes]]
    while (segments.length > 0 && !outcome.halted) {
      const seg = segments.shift()!
      const statement = new PipelinedStatement(this.template.text, seg.map((i) => rows.values(i, i + 1)))
      let r
      try {
        lease.client.query(statement)
        r = await lease.run(statement.result)
      } catch (err) {
        outcome.halt(seg, lease.classify(err))
        break
      }
      if (r.ok) {
        outcome.succeeded(seg)
        continue
      }
      const e = lease.classify(r.error)
      if (!isRowError(e)) {
        outcome.halt(seg, e)
      } else if (seg.length === 1) {
        outcome.failed(seg[0]!, e)
      } else if (r.failedAt < seg.length) {
        outcome.failed(seg[r.failedAt]!, e)
        segments.unshift(...[seg.slice(0, r.failedAt), seg.slice(r.failedAt + 1)].filter((s) => s.length > 0))
      } else {
        const mid = seg.length >> 1
        segments.unshift(seg.slice(0, mid), seg.slice(mid))
      }
    }
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

  /**
   * Runs `use` on a pooled connection. An abort of `signal` ends the wait at once with a
   * retryable TIMEOUT and closes the connection (the statement's outcome is then unknown); a
   * connection that saw a non-permanent error is closed rather than reused.
   */
  private async lease<T>(signal: AbortSignal, use: (lease: Lease) => Promise<T>): Promise<T> {
    const client = await this.host.acquire(signal)
    let broken: Error | undefined
    const lease: Lease = {
      client,
      classify: (err) => {
        const e = this.host.classifyError(err, 'query')
        if (e.kind !== 'permanent') broken ??= e
        return e
      },
      run: (work) => untilAborted(work, signal, () => {
        const e = new ConnectorError('TIMEOUT', `Gave up waiting for ${this.host.target} to answer; the statement may or may not have been applied`, {
          kind: 'retryable', hint: 'The server is slow or hung; check it, or allow more time (the request TTL).',
        })
        broken ??= e
        return e
      }),
    }
    try {
      return await use(lease)
    } catch (err) {
      if (!(err instanceof ConnectorError) || err.kind !== 'permanent') broken ??= err instanceof Error ? err : new Error(String(err))
      throw err
    } finally {
      this.host.release(client, broken)
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

function range(start: number, end: number): number[] {
  const out = new Array<number>(end - start)
  for (let i = start; i < end; i++) out[i - start] = i
  return out
}

interface Lease {
  readonly client: pg.PoolClient
  /** Classifies a query-phase error, and marks the connection broken unless it is permanent. */
  classify(err: unknown): ConnectorError
  /** `work`, or a rejection as soon as the signal aborts. */
  run<T>(work: Promise<T>): Promise<T>
}

/** Which rows of a batch were committed and which failed, with why. */
class Outcome {
  private readonly done: boolean[]
  private readonly failures = new Map<number, ConnectorError>()
  private committed = 0
  /** A connection, server or statement error that stops the batch. */
  private stop: ConnectorError | undefined

  constructor(private readonly size: number) {
    this.done = new Array<boolean>(size).fill(false)
  }

  get halted(): boolean {
    return this.stop !== undefined
  }

  succeeded(indexes: readonly number[]): void {
    for (const i of indexes) this.done[i] = true
    this.committed += indexes.length
  }

  succeededRange(start: number, end: number): void {
    for (let i = start; i < end; i++) this.done[i] = true
    this.committed += end - start
  }

  failed(index: number, error: ConnectorError): void {
    this.done[index] = true
    this.failures.set(index, error)
  }

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
   * Nothing failed: returns. Nothing was committed and every row failed the same way: throws that
   * error (the whole batch). Otherwise a BatchError naming the failed rows, in order.
   */
  throwIfFailed(): void {
    if (this.failures.size === 0) return
    const errors = new Set(this.failures.values())
    if (this.committed === 0 && errors.size === 1 && this.failures.size === this.size) throw [...errors][0]!
    const failures = [...this.failures].sort(([a], [b]) => a - b).map(([index, error]) => ({ index, error }))
    throw new BatchError(failures, `${failures.length} of ${this.size} row(s) failed: ${failures[0]!.error.message}`)
  }
}

