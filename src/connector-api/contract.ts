import type { TObject } from '@sinclair/typebox'
import type { ConnectorErrorCode } from './error-codes.js'
import type { ProbeResult } from './probe.js'

/**
 * What every connector type provides. The runtime (src/runtime) owns everything generic:
 * lifecycle, health checks, reconnect with backoff, status, timeouts. A connector only knows how
 * to talk to its resource.
 */
export interface ConnectorDefinition<C = any, P = any> {
  /** Stable identifier used in the API (`postgresql`, `kafka`). Never renamed. */
  readonly type: string
  readonly title: string
  /** One line for the type picker. */
  readonly summary: string
  /**
   * JSON Schema of the connection settings. It drives validation, defaults (filled in on save and
   * shown in details), docs and the console's forms. Secret fields are built with `secretString`
   * (`writeOnly: true`) so they are encrypted at rest and masked in every answer.
   */
  readonly configSchema: TObject
  /** JSON Schema of one rule action's settings on this connector (templates). */
  readonly paramsSchema: TObject
  /**
   * Batching defaults for this type's actions (a user may override them per action). Types whose
   * resource takes many rows/records per round trip batch by default; others send one by one.
   */
  readonly batching?: { readonly maxSize: number; readonly maxWaitMs: number }
  /** Builds an instance from a validated config (defaults filled in). Must not do I/O. */
  create(config: C, ctx: ConnectorContext): Connector<P>
}

export interface ConnectorLogger {
  debug(msg: string, data?: Record<string, unknown>): void
  info(msg: string, data?: Record<string, unknown>): void
  warn(msg: string, data?: Record<string, unknown>): void
  error(msg: string, data?: Record<string, unknown>): void
}

export interface ConnectorContext {
  /** The connector's ID, or `probe` for a Test of an unsaved config. */
  readonly connectorId: string
  /** Never pass config or secrets to it. */
  readonly logger: ConnectorLogger
}

export type Health =
  | { readonly status: 'connected' }
  | { readonly status: 'disconnected'; readonly code: ConnectorErrorCode; readonly reason: string }

export interface Connector<P = unknown> {
  /**
   * The Test button. Called on an instance that was not started; opens its own short-lived
   * connection, walks the steps (resolve, connect, tls, authenticate, authorize...) and closes
   * everything it opened. Never throws: failures come back as `{ ok: false, error, steps }`.
   * The runtime aborts `signal` when the user's timeout runs out.
   */
  probe(signal: AbortSignal): Promise<ProbeResult>
  /**
   * Opens the long-lived connection (pool, producer). Called once per instance; the runtime
   * bounds it with the start timeout and aborts `signal` then. Throws a `ConnectorError` whose
   * code says what went wrong. After a failed start the runtime calls `stop` and builds a new
   * instance for the next attempt, so `start` need not be re-entrant.
   */
  start(signal: AbortSignal): Promise<void>
  /**
   * Releases everything `start` opened. Idempotent; must not throw; safe after a failed start.
   * Work in flight may finish (a polite close) until `signal` aborts; then the connector drops its
   * sockets and resolves at once (`settleWithin` is the kit's wait).
   */
  stop(signal: AbortSignal): Promise<void>
  /**
   * Cheap liveness check on the started connection, called every health-check interval. Must
   * really touch the resource (a round trip), so that a resource that went away is noticed.
   * Never throws.
   */
  health(signal: AbortSignal): Promise<Health>
  /**
   * One per rule action, on a started instance: compile the action's templates, prepare
   * statements. `params` is validated against `paramsSchema` with defaults filled in. Throws a
   * `permanent` ConnectorError when the params cannot work (a statement the server rejects).
   * When the runtime swaps instances (an edit, a reconnect) it opens the channel again on the new one.
   */
  openChannel?(params: P): Promise<Channel>
  /**
   * Asks the resource, on a started instance, whether this action can work, delivering nothing:
   * called when a rule is saved, so that a mistake the resource can see (a missing table or
   * column, a statement that writes nothing, a topic that does not exist) refuses the save with
   * the resource's message. `params` is validated with defaults filled in.
   *
   * Throws a `permanent` ConnectorError when the resource says the action cannot work, with
   * `param` naming the field at fault; any other failure (connection, timeout) only means the
   * check could not be made, and the rule is saved with a warning. What the resource says that is
   * worth knowing but no reason to refuse (a topic the brokers will create) comes back as notes.
   * The runtime bounds it in time and aborts `signal` then. Optional: a type whose resource
   * cannot say leaves it out, and its actions are saved unchecked.
   */
  checkAction?(params: P, signal: AbortSignal): Promise<readonly ActionCheckNote[] | void>
  /**
   * A Test action with rollback: delivers `message` as this action's channel would, then undoes
   * it (a SQL transaction rolled back), so the resource's answer is known and nothing stays
   * behind. Throws the ConnectorError the delivery would have failed with. Only types whose
   * resource can undo a write implement it; for the others a rollback is refused.
   */
  sendRolledBack?(params: P, message: ChannelMessage, signal: AbortSignal): Promise<void>
}

/** Something an action's check learned that does not refuse the action (see `checkAction`). */
export interface ActionCheckNote {
  /** The action param it is about (`topic`). */
  readonly param?: string
  readonly message: string
}

/** One rule output on its way to the resource: the SELECT's result object. */
export type ChannelMessage = Readonly<Record<string, unknown>>

/**
 * Delivers one action's messages. The runtime owns queueing, batching, inflight limits, retries,
 * TTL and metrics: a channel only sends, and says by the error's `kind` what went wrong.
 */
export interface Channel {
  /** Sends one message; resolves when the resource has acknowledged it. */
  send(message: ChannelMessage, signal: AbortSignal): Promise<void>
  /**
   * Sends several in as few round trips as the resource allows (multi-row insert, one produce
   * request). All-or-nothing unless it throws a `BatchError` naming the failed indexes.
   */
  sendBatch?(messages: readonly ChannelMessage[], signal: AbortSignal): Promise<void>
  /**
   * Requests this channel can work on at once (a pool's size), when it has such a bound. An
   * action never keeps more batches in flight than this, whatever its inflight window: a batch
   * beyond it would only wait for a connection, cut (and rendered) early, holding a timer.
   */
  readonly concurrency?: number
  close?(): Promise<void>
}
