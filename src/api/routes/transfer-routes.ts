import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { ApiError } from '../../core/errors.js'
import { documentToYaml, parseDocumentText, parseEmqxText } from '../../control/config-transfer.js'
import { changeAuthor } from '../change-author.js'
import type { ApiServices } from '../api-services.js'
import { errorResponses } from '../schemas.js'

const PASSPHRASE_HEADER = 'x-junction-passphrase'
/** A whole instance's configuration is larger than any other request body (512 KiB). */
const IMPORT_BODY_LIMIT = 16 * 1024 * 1024

const ExportQuery = Type.Object({
  deployment: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,63}$', description: 'Export this deployment only; all of them when left out.' })),
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('yaml')], { description: 'json (default) or yaml.' })),
}, { additionalProperties: false })

const ImportQuery = Type.Object({
  prune: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')], { description: 'true: objects of the document\'s deployments that the document does not have are deleted (default false: never deleted).' })),
}, { additionalProperties: false })

const EmqxQuery = Type.Object({
  deployment: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,63}$', description: 'The deployment to import into (default: default).' })),
}, { additionalProperties: false })

const PassphraseHeaders = Type.Object({
  [PASSPHRASE_HEADER]: Type.Optional(Type.String({ minLength: 8, maxLength: 1024, description: 'Export: encrypt secrets with this passphrase (AES-256-GCM, key from scrypt) instead of writing references. Import: the passphrase of an encrypted document. Never in the query string.' })),
})

const FieldChange = Type.Object({ path: Type.String(), from: Type.Optional(Type.Unknown()), to: Type.Optional(Type.Unknown()) })
export const ImportPlanSchema = Type.Object({
  items: Type.Array(Type.Object({
    kind: Type.Union(['deployment', 'connector', 'rule', 'mqttUser', 'mqttAcl'].map((k) => Type.Literal(k))),
    deployment: Type.String(),
    id: Type.String({ description: 'The object\'s ID (username for device users; the deployment ID for its ACL).' }),
    name: Type.String(),
    action: Type.Union(['create', 'update', 'unchanged', 'delete'].map((k) => Type.Literal(k))),
    changes: Type.Optional(Type.Array(FieldChange, { description: 'Updates: each changed field; secrets as "******".' })),
  })),
  summary: Type.Object({ create: Type.Integer(), update: Type.Integer(), unchanged: Type.Integer(), delete: Type.Integer() }),
  unmapped: Type.Optional(Type.Array(Type.Object({ kind: Type.String(), name: Type.String(), reason: Type.String() }), { description: 'EMQX import: what could not become a Junction object, and why.' })),
}, { $id: 'ImportPlan' })

const DOC_DESCRIPTION = 'The body is an export document (`{junction: 1, exportedAt, encryption?, deployments: [{id, name, plan, mqtt, connectors, rules, mqttUsers, mqttAcl}]}`) as JSON, or as YAML text with Content-Type application/yaml. Secrets are `{"$secret": "<connector id>.<field>"}` references (resolved on the instance that exported them) or `{"$encrypted": ...}` (send the passphrase in X-Junction-Passphrase). See docs/export-import.md.'

function passphraseOf(request: FastifyRequest): string | undefined {
  const v = request.headers[PASSPHRASE_HEADER]
  return typeof v === 'string' ? v : undefined
}

/** A body as an object: JSON parsed by Fastify, YAML (or JSON) text parsed here. */
export function documentOf(body: unknown): unknown {
  if (body === undefined || body === null || body === '') {
    throw new ApiError('VALIDATION_FAILED', 'The import needs a document in the body', { hint: 'Send the export document as JSON, or as YAML with Content-Type: application/yaml.', fields: [{ path: '', message: 'is empty', hint: 'Send the document.' }] })
  }
  return typeof body === 'string' ? parseDocumentText(body) : body
}

/** Export of configuration, and import with a plan first. */
export async function transferRoutes(app: FastifyInstance, { services }: { services: ApiServices }): Promise<void> {
  const { transfer } = services
  const tags = ['export and import']
  app.addSchema(ImportPlanSchema)
  // YAML (and HOCON for EMQX) arrive as text; only these routes, registered in this plugin, take it.
  app.addContentTypeParser(['application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain', 'application/hocon'], { parseAs: 'string' }, (_req, body, done) => done(null, body))

  app.get<{ Querystring: Static<typeof ExportQuery> }>('/api/v1/export', {
    schema: {
      tags, summary: 'Export configuration (connectors, rules, device users, ACL) as one versioned document; secrets as references or encrypted with X-Junction-Passphrase',
      querystring: ExportQuery, headers: PassphraseHeaders,
      response: { 200: Type.Unknown({ description: 'The document (JSON, or YAML text with format=yaml).' }), ...errorResponses(400, 404) },
    },
  }, async (request, reply) => {
    const doc = await transfer.export({ deployment: request.query.deployment, passphrase: passphraseOf(request) })
    if (request.query.format === 'yaml') return reply.type('application/yaml; charset=utf-8').send(documentToYaml(doc))
    return reply.type('application/json; charset=utf-8').send(JSON.stringify(doc))
  })

  for (const step of ['plan', 'apply'] as const) {
    app.post<{ Querystring: Static<typeof ImportQuery>; Body: unknown }>(`/api/v1/import/${step}`, {
      bodyLimit: IMPORT_BODY_LIMIT,
      schema: {
        tags,
        summary: step === 'plan'
          ? 'What importing the document would do, per object (create / update / unchanged / delete with prune=true), with field diffs; changes nothing'
          : 'Import the document: applies the plan POST /import/plan shows (IDs kept; applying again gives all unchanged)',
        description: DOC_DESCRIPTION, querystring: ImportQuery, headers: PassphraseHeaders,
        response: { 200: Type.Ref('ImportPlan'), ...errorResponses(400, 403, 404, 409) },
      },
    }, async (request) => {
      const options = { passphrase: passphraseOf(request), prune: request.query.prune === 'true' }
      const doc = documentOf(request.body)
      return step === 'plan' ? transfer.plan(doc, options) : transfer.apply(doc, options, changeAuthor(request))
    })

    app.post<{ Querystring: Static<typeof EmqxQuery>; Body: unknown }>(`/api/v1/import/emqx/${step}`, {
      bodyLimit: IMPORT_BODY_LIMIT,
      schema: {
        tags,
        summary: step === 'plan'
          ? 'What importing an EMQX 5 configuration (connectors, actions, rules) into a deployment would do; `unmapped` lists what cannot become a Junction object, and why; changes nothing'
          : 'Import an EMQX 5 configuration into a deployment (IDs derived from the EMQX names: importing again updates); never deletes',
        description: 'The body is cluster.hocon of an EMQX 5.x data export, as HOCON text (Content-Type text/plain or application/hocon) or its JSON form: `connectors.<type>.<name>`, `actions.<type>.<name>` and `rule_engine.rules.<id>`. Types: pgsql, mysql, kafka_producer, http (webhook), mqtt, redis, rabbitmq; the republish action. See docs/export-import.md.',
        querystring: EmqxQuery,
        response: { 200: Type.Ref('ImportPlan'), ...errorResponses(400, 403, 404, 409) },
      },
    }, async (request) => {
      if (request.body === undefined || request.body === null || request.body === '') documentOf(request.body)
      const tree = typeof request.body === 'string' ? parseEmqxText(request.body) : request.body
      const dep = request.query.deployment ?? 'default'
      return step === 'plan' ? transfer.planEmqx(tree, dep) : transfer.applyEmqx(tree, dep, changeAuthor(request))
    })
  }
}
