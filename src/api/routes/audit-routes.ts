import type { FastifyInstance } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import type { ApiServices } from '../api-services.js'
import { errorResponses } from '../schemas.js'

const AuditEntry = Type.Object({
  id: Type.String({ description: 'Sorts in the order entries were written; pass it as `after` for the next page.' }),
  at: Type.String({ format: 'date-time' }),
  actor: Type.Object({ kind: Type.String({ description: '`user` (console login) or `api_key`.' }), name: Type.String() }),
  source: Type.String({ description: 'The client address the change came from.' }),
  method: Type.String(),
  path: Type.String(),
  action: Type.String({ description: '`create`, `update`, `delete`, or the verb of the route (`start`, `stop`, `enable`, `disable`, `replay`, `discard`).' }),
  objectType: Type.String({ description: '`deployment`, `connector`, `rule`, `failed-message`, `device-user`, `device-acl`, `user`, `api-key`.' }),
  objectId: Type.Union([Type.String(), Type.Null()]),
  deploymentId: Type.Union([Type.String(), Type.Null()]),
  status: Type.Integer({ description: 'The HTTP status the change answered.' }),
  diff: Type.Union([Type.Array(Type.Object({ path: Type.String(), before: Type.Optional(Type.Unknown()), after: Type.Optional(Type.Unknown()) })), Type.Null()], {
    description: 'Changed fields (`config.host`, `actions.0.params.sql`) with the value before and after; secrets are `******`.',
  }),
}, { $id: 'AuditEntry' })

const Filters = {
  actor: Type.Optional(Type.String({ maxLength: 256, description: 'A user name or API key.' })),
  action: Type.Optional(Type.String({ maxLength: 40 })),
  objectType: Type.Optional(Type.String({ maxLength: 40 })),
  since: Type.Optional(Type.String({ format: 'date-time', description: 'Entries at or after this time.' })),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'Entries before this time.' })),
}
const ListQuery = Type.Object({
  ...Filters,
  // A string, as every query value (no type coercion anywhere in the API).
  limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$', description: 'Entries per page, 1 to 1000 (default 100).' })),
  after: Type.Optional(Type.String({ maxLength: 40, description: 'The `id` of the last entry of the previous page.' })),
}, { additionalProperties: false })
const ExportQuery = Type.Object(Filters, { additionalProperties: false })

/** The audit log: admins browse, filter and export it. */
export async function auditRoutes(app: FastifyInstance, { services }: { services: ApiServices }): Promise<void> {
  const { audit } = services
  const tags = ['audit']
  const config = { role: 'admin' as const }
  app.addSchema(AuditEntry)

  app.get<{ Querystring: Static<typeof ListQuery> }>('/api/v1/audit', {
    config,
    schema: {
      tags, summary: 'Changes made through the API, newest first', querystring: ListQuery,
      response: { 200: Type.Object({ data: Type.Array(Type.Ref('AuditEntry')), next: Type.Optional(Type.String({ description: 'Pass as `after` for the next page; absent on the last.' })) }), ...errorResponses(400) },
    },
  }, async (request) => {
    const { limit: given, ...q } = request.query
    const limit = Math.min(1000, Number(given ?? 100))
    const data = await audit.list({ ...q, since: iso(q.since), until: iso(q.until), limit: limit + 1 })
    const more = data.length > limit
    const page = more ? data.slice(0, limit) : data
    return more ? { data: page, next: page[page.length - 1]!.id } : { data: page }
  })

  app.get<{ Querystring: Static<typeof ExportQuery> }>('/api/v1/audit/export', {
    config,
    schema: { tags, summary: 'The matching entries as JSON lines (application/x-ndjson), oldest first', querystring: ExportQuery, produces: ['application/x-ndjson'], response: { 200: Type.String({ description: 'One AuditEntry JSON per line.' }), ...errorResponses(400) } },
  }, async (request, reply) => {
    const q = request.query
    const lines: string[] = []
    for await (const e of audit.export({ ...q, since: iso(q.since), until: iso(q.until) })) lines.push(JSON.stringify(e))
    return reply
      .type('application/x-ndjson')
      .header('content-disposition', 'attachment; filename="junction-audit.jsonl"')
      .serializer((s: unknown) => s as string)
      .send(lines.length ? `${lines.join('\n')}\n` : '')
  })
}

/** Stored times are ISO-8601 UTC (`toISOString`), so a filter compares as text only in that form. */
function iso(t: string | undefined): string | undefined {
  return t === undefined ? undefined : new Date(t).toISOString()
}
