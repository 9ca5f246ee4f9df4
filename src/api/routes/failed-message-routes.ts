import type { FastifyInstance } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { ID_PATTERN } from '../../core/ids.js'
import type { ApiServices } from '../api-services.js'
import { errorResponses } from '../schemas.js'

const ActionParams = Type.Object({
  dep: Type.String({ pattern: ID_PATTERN, description: 'Deployment ID' }),
  id: Type.String({ pattern: ID_PATTERN, description: 'Rule ID' }),
  index: Type.String({ pattern: '^(0|[1-9][0-9]{0,2})$', description: 'Action index in the rule, from 0' }),
})
const MessageId = Type.String({ pattern: '^[0-9]{1,15}$', description: 'Failed message ID (a sequence number)' })
const MessageParams = Type.Object({ ...ActionParams.properties, messageId: MessageId })

const ListQuery = Type.Object({
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: 'Messages per page, 1 to 1000 (default 100).' })),
  after: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'The `next` of the previous page: messages after this ID.' })),
}, { additionalProperties: false })

const Reason = Type.Union(['failed', 'expired', 'queue_full', 'stopped'].map((r) => Type.Literal(r)), {
  description: '`failed`: a permanent error (see code and error); `expired`: not delivered within requestTtlMs; `queue_full`: pushed out of the queue by newer messages; `stopped`: queued when the deployment or Junction stopped (no disk buffer).',
})
const itemFields = {
  id: MessageId,
  at: Type.String({ format: 'date-time', description: 'When the action gave the message up.' }),
  reason: Reason,
  code: Type.Union([Type.String(), Type.Null()], { description: 'The connector error code (reason failed), e.g. UNDEFINED_TABLE.' }),
  error: Type.Union([Type.String(), Type.Null()], { description: "The resource's error message (reason failed)." }),
  attempts: Type.Integer({ description: 'Sends tried, over replays too (0: it never reached the resource).' }),
  bytes: Type.Integer({ description: 'Size of the message as JSON.' }),
}
const ListItem = Type.Object({ ...itemFields, excerpt: Type.String({ description: 'The message as JSON, cut at 200 characters.' }) })
const Details = Type.Object({ ...itemFields, message: Type.Unknown({ description: 'The rule output the action failed to deliver, as it would send it.' }) })

const ListResult = Type.Object({
  enabled: Type.Boolean({ description: "The action's keepFailed option: whether it keeps failures now (messages kept earlier stay listed)." }),
  stored: Type.Integer({ description: 'Messages kept now.' }),
  bytes: Type.Integer({ description: 'Their size as JSON.' }),
  evicted: Type.Integer({ description: 'Messages removed because the store was full, oldest first (since the store was created).' }),
  maxMessages: Type.Integer(),
  maxBytes: Type.Integer(),
  data: Type.Array(ListItem, { description: 'Oldest first.' }),
  next: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `after` for the next page; null on the last one.' }),
})

const Selection = Type.Object({
  ids: Type.Optional(Type.Array(MessageId, { minItems: 1, maxItems: 10_000, description: 'The messages; leave out for all of them.' })),
}, { additionalProperties: false })

const ReplayResult = Type.Object({
  replayed: Type.Integer({ description: "Messages handed to the action's queue (and removed from the store)." }),
  notFound: Type.Array(Type.String(), { description: 'IDs asked for that are not in the store.' }),
})
const DiscardResult = Type.Object({
  discarded: Type.Integer(),
  notFound: Type.Array(Type.String()),
})

type Params = Static<typeof ActionParams>
const base = '/api/v1/deployments/:dep/rules/:id/actions/:index/failed-messages'

/**
 * The failed-message store of a rule's action (option keepFailed): what it finally failed or
 * dropped, to look at, replay through the action as it is now, or discard.
 */
export async function failedMessageRoutes(app: FastifyInstance, { services }: { services: ApiServices }): Promise<void> {
  const failed = services.failedMessages
  const tags = ['rules']

  app.get<{ Params: Params; Querystring: Static<typeof ListQuery> }>(base, {
    schema: { tags, summary: "List an action's failed messages (oldest first, paged)", params: ActionParams, querystring: ListQuery, response: { 200: ListResult, ...errorResponses(400, 404) } },
  }, async (request) => {
    const { dep, id, index } = request.params
    const limit = Math.min(1000, Math.max(1, Number(request.query.limit ?? 100)))
    return failed.list(dep, id, Number(index), { limit, ...(request.query.after === undefined ? {} : { after: request.query.after }) })
  })

  app.get<{ Params: Static<typeof MessageParams> }>(`${base}/:messageId`, {
    schema: { tags, summary: 'Show one failed message with its content', params: MessageParams, response: { 200: Details, ...errorResponses(400, 404) } },
  }, async (request) => {
    const { dep, id, index, messageId } = request.params
    return failed.get(dep, id, Number(index), messageId)
  })

  app.post<{ Params: Params; Body: Static<typeof Selection> }>(`${base}/replay`, {
    schema: {
      tags, summary: "Replay failed messages (some or all) through the action's queue; one that fails again comes back with its attempts counted on",
      params: ActionParams, body: Selection, response: { 200: ReplayResult, ...errorResponses(400, 404, 409) },
    },
  }, async (request) => {
    const { dep, id, index } = request.params
    return failed.replay(dep, id, Number(index), request.body?.ids)
  })

  app.post<{ Params: Params; Body: Static<typeof Selection> }>(`${base}/discard`, {
    schema: { tags, summary: 'Discard failed messages (some or all)', params: ActionParams, body: Selection, response: { 200: DiscardResult, ...errorResponses(400, 404) } },
  }, async (request) => {
    const { dep, id, index } = request.params
    return failed.discard(dep, id, Number(index), request.body?.ids)
  })

  app.delete<{ Params: Static<typeof MessageParams> }>(`${base}/:messageId`, {
    schema: { tags, summary: 'Discard one failed message', params: MessageParams, response: { 204: Type.Null(), ...errorResponses(400, 404) } },
  }, async (request, reply) => {
    const { dep, id, index, messageId } = request.params
    await failed.discardOne(dep, id, Number(index), messageId)
    return reply.status(204).send()
  })
}
