import type { FastifyInstance } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { MAX_ACL_RULES } from '../../core/mqtt-acl.js'
import type { ApiServices } from '../api-services.js'
import { DeploymentParams, errorResponses } from '../schemas.js'

const Who = Type.Union([
  Type.Literal('all'),
  Type.Object({ username: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false }),
  Type.Object({ clientid: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false }),
], { description: 'Whom the rule is for: "all", {"username": "..."} or {"clientid": "..."}.' })

const Permission = Type.Union([Type.Literal('allow'), Type.Literal('deny')])

const Rule = Type.Object({
  who: Who,
  action: Type.Union([Type.Literal('publish'), Type.Literal('subscribe'), Type.Literal('all')], { description: 'What the rule is about.' }),
  topic: Type.String({
    minLength: 1, maxLength: 4096,
    description: 'MQTT topic filter ("+" one level, "#" the rest); ${username} and ${clientid} are replaced by the client\'s (a rule whose placeholder the client cannot fill does not apply to it); "eq " before a filter matches that text literally (e.g. "eq #" is only the subscription to "#"). For a subscription, an allow rule applies when its filter covers the whole subscription filter, a deny rule as soon as they share a topic.',
  }),
  permission: Permission,
}, { additionalProperties: false })

const Acl = Type.Object({
  rules: Type.Array(Rule, { maxItems: MAX_ACL_RULES, description: 'In order: the first rule that applies to a publish or subscribe decides.' }),
  default: Type.Union([Type.Literal('allow'), Type.Literal('deny')], { description: 'What happens when no rule applies.' }),
}, { additionalProperties: false })

const AclView = Type.Object({
  rules: Type.Array(Rule),
  default: Permission,
  updatedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'Last save; null while the ACL is the built-in default (no rules, allow).' }),
}, { $id: 'MqttAcl', description: 'Who may publish and subscribe to what on this deployment\'s broker. Superusers skip it.' })

type DepParams = Static<typeof DeploymentParams>
const path = '/api/v1/deployments/:dep/mqtt/acl'

/** A deployment's MQTT ACL: one ordered document, read and replaced whole. */
export async function mqttAclRoutes(app: FastifyInstance, { services }: { services: ApiServices }): Promise<void> {
  const { mqttAccess } = services
  const tags = ['device access']
  app.addSchema(AclView)

  app.get<{ Params: DepParams }>(path, {
    schema: { tags, summary: 'Get the ACL', params: DeploymentParams, response: { 200: Type.Ref('MqttAcl'), ...errorResponses(404) } },
  }, async (request) => mqttAccess.getAcl(request.params.dep))

  app.put<{ Params: DepParams; Body: Static<typeof Acl> }>(path, {
    schema: {
      tags, summary: 'Replace the ACL; connected clients are checked against it from their next publish or subscribe',
      params: DeploymentParams, body: Acl, response: { 200: Type.Ref('MqttAcl'), ...errorResponses(400, 404, 409) },
    },
  }, async (request) => mqttAccess.putAcl(request.params.dep, request.body))
}
