import type { ChannelMessage } from './contract.js'
import { aboutParam, ConnectorError } from './errors.js'
import { notStarted } from './health.js'
import { TemplateError } from './templates.js'

/** What a SQL type's channel does besides sending, for `SqlActions`. */
export interface SqlChannel {
  /** The server prepares the statement (nothing runs): a bad table, column or syntax fails here with the server's message. */
  validate(signal: AbortSignal): Promise<unknown>
  /** `validate` and what a rule's save refuses besides (a statement that writes nothing). */
  check(signal: AbortSignal): Promise<void>
  /** One execution in a transaction that is rolled back (see `rolledBack`). */
  sendRolledBack(message: ChannelMessage, signal: AbortSignal): Promise<void>
}

/**
 * The action side of a SQL type's connector, written once: a channel per action's `sql` (its
 * template compiled; a bad placeholder is INVALID_PARAMS), opened after the server validated it,
 * checked on a rule's save (every refusal names `sql`), and the Test action with rollback.
 */
export class SqlActions<C extends SqlChannel> {
  constructor(private readonly o: {
    /** A channel for the statement (no I/O); throws a TemplateError for a bad placeholder. */
    open: (sql: string) => C
    started: () => boolean
    /** How long opening a channel may wait (for a pooled connection, then the server). */
    validateMs: () => number
  }) {}

  channelFor(params: { sql: string }): C {
    if (!this.o.started()) throw notStarted()
    try {
      return this.o.open(params.sql)
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err
      throw new ConnectorError('INVALID_PARAMS', `Invalid placeholder in the action's SQL: ${err.message}`, { kind: 'permanent', hint: 'Placeholders look like ${payload.temp} or ${tags[1]}.' })
    }
  }

  async openChannel(params: { sql: string }): Promise<C> {
    const channel = this.channelFor(params)
    await channel.validate(AbortSignal.timeout(this.o.validateMs()))
    return channel
  }

  async checkAction(params: { sql: string }, signal: AbortSignal): Promise<void> {
    try {
      await this.channelFor(params).check(signal)
    } catch (err) {
      throw aboutParam(err, 'sql')
    }
  }

  async sendRolledBack(params: { sql: string }, message: ChannelMessage, signal: AbortSignal): Promise<void> {
    await this.channelFor(params).sendRolledBack(message, signal)
  }
}

/**
 * `work` in a transaction that is rolled back whatever happens: a Test action whose answer is the
 * server's and that leaves no row. `afterRollback` sees ROLLBACK's result (a server that warns
 * there kept the row).
 */
export async function rolledBack<R>(exec: (sql: string) => Promise<R>, work: () => Promise<unknown>, o: { begin?: string; afterRollback?: (result: R) => void } = {}): Promise<void> {
  await exec(o.begin ?? 'BEGIN')
  try {
    await work()
  } finally {
    const result = await exec('ROLLBACK')
    o.afterRollback?.(result)
  }
}

/** A rule's save refused: the statement only reads (`reads`: what, e.g. ` ("t")`), so run for every message it would store nothing. */
export function writesNothing(reads: string, verbs: string): ConnectorError {
  return new ConnectorError('STATEMENT_WRITES_NOTHING', `The action's SQL only reads${reads} and writes nothing: run for every message, it would store nothing`, {
    kind: 'permanent', hint: `Write the rows with INSERT (or ${verbs}), e.g. INSERT INTO t (clientid, temp) VALUES (\${clientid}, \${temp}).`,
  })
}
