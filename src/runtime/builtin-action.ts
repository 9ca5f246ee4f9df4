import type { TObject } from '@sinclair/typebox'
import type { OutgoingMessage } from '../broker/broker-types.js'
import type { Channel, ConnectorLogger } from '../connector-api/index.js'

/** The deployment's broker as a built-in action sees it: somewhere to publish. */
export interface DeploymentBroker {
  publish(message: OutgoingMessage): Promise<void>
}

/** What a built-in action's channel may use: the deployment it runs in. */
export interface BuiltinActionContext {
  /** The rule action's ID (`<rule>#<index>`), for logs. */
  readonly actionId: string
  readonly logger: ConnectorLogger
  /**
   * The deployment's broker while it runs, undefined otherwise. Asked per send, not kept: the
   * deployment may stop while the channel lives.
   */
  broker(): DeploymentBroker | undefined
}

/**
 * An action Junction performs itself, named in a rule as `{builtin: <name>, params}`. It goes the
 * way a connector type's action goes (params validated against `paramsSchema` with defaults
 * filled in, a channel opened, each message sent through an ActionWorker), only its resource is
 * the deployment itself rather than a connection, so it is available while the deployment runs.
 */
export interface BuiltinActionDefinition<P = any> {
  /** The `builtin` value in the API (`republish`). Never renamed: stored rules name it. */
  readonly name: string
  /** JSON Schema of the params: validation with every field's path, defaults filled in on save, docs. */
  readonly paramsSchema: TObject
  readonly batching?: { readonly maxSize: number; readonly maxWaitMs: number }
  /**
   * Checks what the schema cannot (templates, fixed property values) on params the schema
   * accepted, so a rule is refused on save rather than failing at its first message. Throws a
   * `TemplateParamsError` whose path is relative to the params.
   */
  checkParams?(params: P): void
  /** One per rule action, on validated params (defaults filled in). Does no I/O. */
  openChannel(params: P, context: BuiltinActionContext): Channel
}
