import { Type, type TSchema } from '@sinclair/typebox'
import { ActionOptionsSchema } from '../control/rule-service.js'

/**
 * Shapes the OpenAPI document gives for values a route validates or serializes loosely on
 * purpose. Rule actions are validated by the rule service, not by the route schema, so that an
 * action's every error (its connector, its params per type, its options, its fallback) comes back
 * in one answer with its path; rule metrics are serialized as the runtime gives them, so that a
 * counter added there is never silently cut from the answer. The route schema carries
 * `$comment: "documented-as:<name>"`, and `documentShapes` puts the shape here in its place in the
 * document. test/api/openapi-shapes.test.ts checks real answers against these shapes, so they
 * cannot drift from what is sent.
 */

const MARK = 'documented-as:'

const Params = Type.Object({}, {
  additionalProperties: true,
  description: "Per target: a connector type's `paramsSchema` (GET /api/v1/connector-types) or a built-in action's params.",
})

const actionProperties = {
  connectorId: Type.Optional(Type.String({ description: 'Send through this connector (same deployment). Give this or `builtin`.' })),
  builtin: Type.Optional(Type.String({ description: 'A built-in action by name (`republish`). Give this or `connectorId`.' })),
  params: Params,
  options: Type.Optional(ActionOptionsSchema),
}

const FallbackAction = Type.Object(actionProperties, {
  additionalProperties: false,
  description: 'Gets the messages the action finally fails or drops as expired; an action without its own fallback, and without keepFailed.',
})

export const RuleActionShape = Type.Object({ ...actionProperties, fallback: Type.Optional(FallbackAction) }, {
  additionalProperties: false,
  description: 'One action of a rule. `options` are queue settings; the ones left out take the connector type\'s defaults.',
})

/** The action of POST .../rules/test-action: as in a rule, without fallback. */
export const TestActionShape = Type.Object(actionProperties, { additionalProperties: false, description: 'One action as in a rule, without fallback.' })

const Timestamp = Type.Union([Type.String({ format: 'date-time' }), Type.Null()])
const PerSecond = Type.Number({ description: 'Messages per second over the last 10 s.' })
const Series = Type.Array(Type.Number(), { description: 'The last minute, one point per second, oldest first.' })

const Health = Type.Object({
  state: Type.Union([Type.Literal('ok'), Type.Literal('failing'), Type.Literal('stalled')], { description: 'From what the action delivered (docs/rules.md, "Health").' }),
  code: Type.Optional(Type.String({ description: 'failing: the connector error code of the latest failure.' })),
  message: Type.Optional(Type.String({ description: 'failing: the latest failure; stalled: how many wait and for how long.' })),
  since: Type.Optional(Type.String({ format: 'date-time', description: 'When the failures began, or since when nothing was delivered.' })),
}, { additionalProperties: false })

const actionMetricsProperties = {
  series: Type.Optional(Type.Object({ success: Series, failed: Series, dropped: Series }, { additionalProperties: false, description: 'With `?series=true` only.' })),
  matched: Type.Integer({ description: 'Outputs handed to the action: success + failed + dropped + queuing + inflight.' }),
  success: Type.Integer(),
  failed: Type.Integer({ description: 'Failed for good (a permanent error).' }),
  retried: Type.Integer(),
  dropped: Type.Integer({ description: 'queue_full + expired + stopped.' }),
  droppedByReason: Type.Object({ queue_full: Type.Integer(), expired: Type.Integer(), stopped: Type.Integer() }, { additionalProperties: false }),
  queuing: Type.Integer(),
  inflight: Type.Integer(),
  rate: Type.Object({ success: PerSecond, failed: PerSecond, dropped: PerSecond }, { additionalProperties: false }),
  lastError: Type.Union([Type.String(), Type.Null()]),
  lastErrorCode: Type.Union([Type.String(), Type.Null()], { description: 'A connector error code (docs/errors.md).' }),
  lastErrorAt: Timestamp,
  lastSuccessAt: Timestamp,
  health: Health,
}

const FailedMessagesStats = Type.Object({
  stored: Type.Integer(), bytes: Type.Integer(), evicted: Type.Integer(), maxMessages: Type.Integer(), maxBytes: Type.Integer(),
}, { additionalProperties: false, description: 'With keepFailed: the failed-message store (GET .../failed-messages).' })

const ActionMetrics = Type.Object({
  ...actionMetricsProperties,
  fallback: Type.Optional(Type.Object(actionMetricsProperties, { additionalProperties: false, description: "The fallback action's counters." })),
  failedMessages: Type.Optional(FailedMessagesStats),
}, { additionalProperties: false })

export const RuleMetricsShape = Type.Union([
  Type.Object({
    rule: Type.Object({
      series: Type.Optional(Type.Object({ matched: Series }, { additionalProperties: false, description: 'With `?series=true` only.' })),
      matched: Type.Integer({ description: 'passed + noResult + failed.' }),
      passed: Type.Integer(),
      noResult: Type.Integer({ description: 'Matched the topic, filtered out by WHERE.' }),
      failed: Type.Integer({ description: 'The SQL failed on the message.' }),
      rate: Type.Object({ matched: PerSecond }, { additionalProperties: false }),
      lastError: Type.Union([Type.String(), Type.Null()]),
      actions: Type.Object({
        total: Type.Integer({ description: 'Outputs handed to the actions (one per output and action).' }),
        success: Type.Integer(),
        failed: Type.Integer(),
        discarded: Type.Integer({ description: 'Dropped: queue full, expired or stopped.' }),
      }, { additionalProperties: false, description: "The rule's actions taken together (fallbacks not counted)." }),
    }, { additionalProperties: false }),
    actions: Type.Array(ActionMetrics, { description: 'Per action, in the order of the rule\'s actions.' }),
  }, { additionalProperties: false }),
  Type.Null(),
], { description: 'null while the rule is not running.' })

export type DocumentedShape = 'RuleAction' | 'TestAction' | 'RuleMetrics'

const shapes: Record<DocumentedShape, TSchema> = {
  RuleAction: RuleActionShape,
  TestAction: TestActionShape,
  RuleMetrics: RuleMetricsShape,
}

/** `schema` for validation and serialization, documented as the shape `name`. */
export function documentedAs<T extends TSchema>(name: DocumentedShape, schema: T): T {
  return { ...schema, $comment: `${MARK}${name}` }
}

/** swagger's transformObject: replaces each marked schema by its shape, keeping its description. */
export function documentShapes<T>(document: T): T {
  const stack: unknown[] = [document]
  while (stack.length > 0) {
    const node = stack.pop()
    if (node === null || typeof node !== 'object') continue
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if (value === null || typeof value !== 'object') continue
      const comment = (value as { $comment?: unknown }).$comment
      if (typeof comment === 'string' && comment.startsWith(MARK)) {
        const shape = shapes[comment.slice(MARK.length) as DocumentedShape] as TSchema | undefined
        if (shape) {
          const description = (value as { description?: unknown }).description
          ;(node as Record<string, unknown>)[key] = toOpenApi({ ...shape, ...(typeof description === 'string' ? { description } : {}) })
          continue
        }
      }
      stack.push(value)
    }
  }
  return document
}

/** TypeBox's JSON Schema as OpenAPI 3.0 has it: a `null` branch becomes `nullable`. */
function toOpenApi(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema, (_k, v: unknown) => {
    if (v && typeof v === 'object' && Array.isArray((v as { anyOf?: unknown }).anyOf)) {
      const { anyOf, ...rest } = v as { anyOf: Array<Record<string, unknown>> }
      const others = anyOf.filter((s) => s.type !== 'null')
      if (others.length < anyOf.length) {
        if (others.length === 1) return { ...others[0], ...rest, nullable: true }
        return { ...rest, anyOf: others, nullable: true }
      }
    }
    return v
  }))
}
