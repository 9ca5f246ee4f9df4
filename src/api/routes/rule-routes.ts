import type { FastifyInstance } from 'fastify'
import { Type, type Static, type TObject } from '@sinclair/typebox'
import { ID_PATTERN } from '../../core/ids.js'
import { ActionOptionsSchema } from '../../control/rule-service.js'
import type { ApiServices } from '../api-services.js'
import { documentedAs } from '../openapi-shapes.js'
import { changeAuthor } from '../change-author.js'
import { DeploymentParams, HistoryPage, historyVersionProps, HistoryQuery, RevertBody, VersionParam, errorResponses, historyAnswer, historyPaging, listOf } from '../schemas.js'

const RuleParams = Type.Object({
  dep: Type.String({ pattern: ID_PATTERN, description: 'Deployment ID' }),
  id: Type.String({ pattern: ID_PATTERN, description: 'Rule ID' }),
})

/**
 * One action, validated by the rule service against its target's params schema (a connector
 * type's or a built-in action's), so that every error names its field; here it is documented.
 */
function actionSchema(builtins: ReadonlyArray<{ readonly name: string; readonly paramsSchema: TObject }>) {
  const forms = builtins.map((b) => `\`{builtin: "${b.name}", params: {${Object.keys(b.paramsSchema.properties).join(', ')}}, options?, fallback?}\``)
  return documentedAs('RuleAction', Type.Object({}, {
    additionalProperties: true,
    description: `\`{connectorId, params, options?, fallback?}\` with params per the connector type's paramsSchema${forms.map((f) => `, or ${f}`).join('')}.`,
  }))
}

const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' })
const Sql = Type.String({ minLength: 1, maxLength: 65_536, description: 'EMQX rule SQL, e.g. SELECT payload.temp AS t FROM "sensors/#" WHERE payload.temp > 20' })

function ruleBodies(action: ReturnType<typeof actionSchema>) {
  return {
    create: Type.Object({
      name: Name,
      sql: Sql,
      description: Type.Optional(Type.String({ maxLength: 2000 })),
      enabled: Type.Optional(Type.Boolean({ default: true })),
      actions: Type.Array(action, { maxItems: 64 }),
    }, { additionalProperties: false }),
    update: Type.Object({
      name: Type.Optional(Name),
      sql: Type.Optional(Sql),
      description: Type.Optional(Type.String({ maxLength: 2000 })),
      enabled: Type.Optional(Type.Boolean()),
      actions: Type.Optional(Type.Array(action, { maxItems: 64 })),
    }, { additionalProperties: false }),
  }
}
type RuleBodies = ReturnType<typeof ruleBodies>

const TestRule = Type.Object({
  sql: Sql,
  context: Type.Record(Type.String(), Type.Unknown(), { default: {}, description: 'Sample event: topic, payload (text or JSON), clientid, username, qos, ...; unset fields get sample values.' }),
}, { additionalProperties: false })

const ruleCountProps = {
  matched: Type.Integer(), passed: Type.Integer(), noResult: Type.Integer(), failed: Type.Integer(),
  actions: Type.Object({ total: Type.Integer(), success: Type.Integer(), failed: Type.Integer(), discarded: Type.Integer() }, { additionalProperties: false }),
}

const actionCounterProps = {
  matched: Type.Integer({ description: 'Outputs handed to the action (its part of `actions.total`).' }),
  success: Type.Integer(), failed: Type.Integer(),
  dropped: Type.Integer({ description: 'Queue full, expired or stopped (its part of `actions.discarded`).' }),
  queuing: Type.Integer(), inflight: Type.Integer(), retried: Type.Integer(),
  health: Type.Union(['ok', 'failing', 'stalled'].map((s) => Type.Literal(s)), { description: 'Its delivery health (docs/rules.md, Health); in `totals`, the worst of the nodes\'.' }),
}
const ActionCounts = Type.Object({
  ...actionCounterProps,
  fallback: Type.Optional(Type.Object(actionCounterProps, { additionalProperties: false, description: 'Its fallback\'s counters, when it has one.' })),
}, { additionalProperties: false })
const PerAction = (description: string) => Type.Array(ActionCounts, { description })

const RuleBody = Type.Object({
  id: Type.String(), deploymentId: Type.String(), name: Type.String(), sql: Type.String(), description: Type.String(),
  enabled: Type.Boolean(), actions: Type.Array(documentedAs('RuleAction', Type.Unknown())),
  metrics: documentedAs('RuleMetrics', Type.Union([Type.Null(), Type.Unknown()], { description: 'rule: matched, passed, failed, noResult, rate, actions {total, success, failed, discarded}; per action success, failed, dropped (by reason), queuing, inflight, retried, rate, lastError, lastErrorCode, lastSuccessAt, health {state (ok|failing|stalled), code?, message?, since?}. null while the rule is not running.' })),
  nodes: Type.Array(Type.Object({
    node: Type.String(), ...ruleCountProps,
    perAction: PerAction('Each action\'s counters and health on that node, in the order of `actions` (`metrics.actions` there, in short); empty from a node of an earlier version.'),
  }, { additionalProperties: false }), {
    description: 'The rule\'s counters on each node that is up and runs it, the answering node first (one entry on a single node; none while it runs nowhere). Other nodes\' as of their last heartbeat (1 s). See docs/cluster.md.',
  }),
  totals: Type.Object({
    ...ruleCountProps,
    perAction: PerAction('Each action\'s counters added up over `nodes`, one entry per action of `actions`; health the worst of the nodes\'.'),
  }, { additionalProperties: false, description: 'The sum of `nodes`.' }),
  createdAt: Type.String(), updatedAt: Type.String(),
  warnings: Type.Optional(Type.Array(Type.Object({
    path: Type.String({ description: 'The field: `actions.0`, `actions.1.params.topic`.' }),
    code: Type.Optional(Type.String({ description: "The connector's error or status code, when there is one." })),
    message: Type.String(),
  }), { description: 'On create and update (when actions are sent): actions that could not be checked against their resource (connector not connected, no answer in time) and what the checks noted. The rule is saved either way.' })),
}, { $id: 'Rule' })

const RuleVersion = Type.Object({
  ...historyVersionProps,
  config: Type.Object({
    name: Type.String(), sql: Type.String(), description: Type.String(), enabled: Type.Boolean(),
    actions: Type.Array(documentedAs('RuleAction', Type.Unknown())),
  }, { additionalProperties: false, description: 'The rule as it was in this version.' }),
}, { $id: 'RuleVersion' })

const TestAction = Type.Object({
  action: documentedAs('TestAction', Type.Object({}, { additionalProperties: true, description: 'One action as in a rule, without fallback: `{connectorId, params, options?}` or `{builtin, params}`.' })),
  output: Type.Record(Type.String(), Type.Unknown(), { description: "A rule output (the SELECT's result object) to send through the action, e.g. from the rule SQL test." }),
  rollback: Type.Optional(Type.Boolean({ default: false, description: 'Undo the delivery after the resource answered (a SQL transaction rolled back: PostgreSQL, MySQL). Other types answer 400.' })),
}, { additionalProperties: false })

const TestActionResult = Type.Object({
  ok: Type.Boolean({ description: 'The resource accepted the delivery.' }),
  durationMs: Type.Number({ description: 'From the start of the test to the answer, opening the action on the connection included.' }),
  rolledBack: Type.Boolean({ description: 'The delivery was made and undone.' }),
  error: Type.Optional(Type.Object({
    code: Type.String({ description: 'A connector error code (docs/errors.md).' }),
    message: Type.String(),
    kind: Type.String({ description: 'not_connected, retryable or permanent: what a rule would do with this message.' }),
    hint: Type.Optional(Type.String()),
  })),
})

const TestResult = Type.Object({
  matched: Type.Boolean(),
  output: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  outputs: Type.Optional(Type.Array(Type.Record(Type.String(), Type.Unknown()))),
  reason: Type.Optional(Type.String()),
})

/** A fallback takes the same options but keepFailed (the rule service refuses it there), so a form leaves those out. */
const FallbackOptionsSchema = Type.Omit(ActionOptionsSchema, ['keepFailed', 'keepFailedMaxMessages', 'keepFailedMaxBytes'], { additionalProperties: false })

const JsonSchemaValue = (description: string) => Type.Record(Type.String(), Type.Unknown(), { description })
const ActionTypes = Type.Object({
  data: Type.Array(Type.Object({
    builtin: Type.String({ description: 'The `builtin` value of a rule action (`republish`).' }),
    paramsSchema: JsonSchemaValue('JSON Schema of its params: defaults, descriptions, bounds.'),
  })),
  optionsSchema: JsonSchemaValue("JSON Schema of every action's `options` (queue settings), connector or built-in."),
  fallbackOptionsSchema: JsonSchemaValue("JSON Schema of a fallback's `options`: the same without the keepFailed ones."),
})

type DepParams = Static<typeof DeploymentParams>
type Params = Static<typeof RuleParams>
const RuleVersionParams = Type.Object({ ...RuleParams.properties, version: VersionParam })
const base = '/api/v1/deployments/:dep/rules'

export async function ruleRoutes(app: FastifyInstance, { services }: { services: ApiServices }): Promise<void> {
  const { rules } = services
  const tags = ['rules']
  const { create: CreateRule, update: UpdateRule } = ruleBodies(actionSchema(rules.builtinActions()))
  app.addSchema(RuleBody)

  // Connector types' params schemas are at GET /connector-types; these are the rest a rule form needs.
  app.get('/api/v1/action-types', {
    schema: { tags, summary: "The built-in actions with their params' JSON Schemas, and the JSON Schema of an action's options", response: { 200: ActionTypes } },
  }, async () => ({
    data: rules.builtinActions().map((b) => ({ builtin: b.name, paramsSchema: b.paramsSchema })),
    optionsSchema: ActionOptionsSchema,
    fallbackOptionsSchema: FallbackOptionsSchema,
  }))

  app.get<{ Params: DepParams }>(base, {
    schema: { tags, summary: 'List rules with their metrics', params: DeploymentParams, response: { 200: listOf(Type.Ref('Rule')), ...errorResponses(404) } },
  }, async (request) => ({ data: await rules.list(request.params.dep) }))

  app.post<{ Params: DepParams; Body: Static<RuleBodies['create']> }>(base, {
    schema: { tags, summary: 'Create a rule: SQL plus actions through connectors', params: DeploymentParams, body: CreateRule, response: { 201: Type.Ref('Rule'), ...errorResponses(400, 404) } },
  }, async (request, reply) => reply.status(201).send(await rules.create(request.params.dep, request.body, changeAuthor(request))))

  app.post<{ Params: DepParams; Body: Static<typeof TestRule> }>(`${base}/test`, {
    schema: { tags, summary: 'Run rule SQL on a sample event, with no side effects', params: DeploymentParams, body: TestRule, response: { 200: TestResult, ...errorResponses(400, 404) } },
  }, async (request) => {
    await services.deployments.record(request.params.dep)
    return rules.test(request.body.sql, request.body.context)
  })

  app.post<{ Params: DepParams; Body: Static<typeof TestAction> }>(`${base}/test-action`, {
    schema: {
      tags, summary: 'Send one sample output through an action on its live resource and report what the resource answered (optionally rolled back)',
      params: DeploymentParams, body: TestAction, response: { 200: TestActionResult, ...errorResponses(400, 404) },
    },
  }, async (request) => rules.testAction(request.params.dep, request.body))

  app.get<{ Params: Params }>(`${base}/:id`, {
    schema: { tags, summary: 'Get a rule with its metrics', params: RuleParams, response: { 200: Type.Ref('Rule'), ...errorResponses(404) } },
  }, async (request) => rules.get(request.params.dep, request.params.id))

  app.put<{ Params: Params; Body: Static<RuleBodies['update']> }>(`${base}/:id`, {
    schema: { tags, summary: 'Change a rule; queued messages of the old version are still delivered', params: RuleParams, body: UpdateRule, response: { 200: Type.Ref('Rule'), ...errorResponses(400, 404) } },
  }, async (request) => rules.update(request.params.dep, request.params.id, request.body, changeAuthor(request)))

  for (const [verb, enabled] of [['enable', true], ['disable', false]] as const) {
    app.post<{ Params: Params }>(`${base}/:id/${verb}`, {
      schema: { tags, summary: `${verb === 'enable' ? 'Enable' : 'Disable'} a rule`, params: RuleParams, response: { 200: Type.Ref('Rule'), ...errorResponses(404) } },
    }, async (request) => rules.setEnabled(request.params.dep, request.params.id, enabled, changeAuthor(request)))
  }

  app.addSchema(RuleVersion)

  app.get<{ Params: Params; Querystring: Static<typeof HistoryQuery> }>(`${base}/:id/history`, {
    schema: { tags, summary: "The rule's versions, newest first: who, when, from where, what changed", params: RuleParams, querystring: HistoryQuery, response: { 200: HistoryPage, ...errorResponses(400, 404) } },
  }, async (request) => {
    const paging = historyPaging(request.query)
    return historyAnswer(await rules.historyOf(request.params.dep, request.params.id, paging), paging.limit)
  })

  app.get<{ Params: Static<typeof RuleVersionParams> }>(`${base}/:id/history/:version`, {
    schema: { tags, summary: 'One version of the rule with its SQL and actions then', params: RuleVersionParams, response: { 200: Type.Ref('RuleVersion'), ...errorResponses(400, 404) } },
  }, async (request) => rules.versionOf(request.params.dep, request.params.id, Number(request.params.version)))

  app.post<{ Params: Params; Body: Static<typeof RevertBody> }>(`${base}/:id/revert`, {
    schema: {
      tags, summary: 'Put back an earlier version of the rule, as an edit (same checks as PUT); recorded as a new version',
      params: RuleParams, body: RevertBody, response: { 200: Type.Ref('Rule'), ...errorResponses(400, 404, 409) },
    },
  }, async (request) => rules.revert(request.params.dep, request.params.id, request.body.version, changeAuthor(request)))

  app.delete<{ Params: Params }>(`${base}/:id`, {
    schema: { tags, summary: 'Delete a rule', params: RuleParams, response: { 204: Type.Null(), ...errorResponses(404) } },
  }, async (request, reply) => {
    await rules.remove(request.params.dep, request.params.id)
    return reply.status(204).send()
  })
}
