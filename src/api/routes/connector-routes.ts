import type { FastifyInstance } from 'fastify'
import type { Static } from '@sinclair/typebox'
import { Type } from '@sinclair/typebox'
import { validationError } from '../../core/errors.js'
import { toFieldErrors, validateWithSchema } from '../../core/schema-validation.js'
import type { ApiServices } from '../api-services.js'
import { changeAuthor } from '../change-author.js'
import {
  ConnectorParams, ConnectorVersion, CreateConnector, DeleteConnectorQuery, DeploymentParams, HistoryPage, HistoryQuery,
  RevertBody, TestConnector, TestSavedConnector, UpdateConnector, VersionParam, errorResponses, historyAnswer, historyPaging, listOf,
} from '../schemas.js'

type DepParams = Static<typeof DeploymentParams>
type Params = Static<typeof ConnectorParams>
const ConnectorVersionParams = Type.Object({ ...ConnectorParams.properties, version: VersionParam })

const base = '/api/v1/deployments/:dep/connectors'

/**
 * With `attachValidation`, a route gets the body's validation errors instead of an automatic 400:
 * this throws them together with the config's own field errors. Path and query errors are
 * answered as they are (the path names what the body is about).
 */
function failWithConfigErrors(error: (Error & { validation?: unknown; validationContext?: string }) | undefined, body: unknown, connectors: ApiServices['connectors']): void {
  if (!error) return
  if (error.validationContext !== 'body' || !Array.isArray(error.validation)) throw error
  const b = (typeof body === 'object' && body !== null ? body : {}) as { type?: unknown; config?: unknown }
  throw validationError([...toFieldErrors(error.validation, ''), ...connectors.configErrors(b.type, b.config)])
}

export async function connectorRoutes(app: FastifyInstance, { services }: { services: ApiServices }): Promise<void> {
  const { connectors } = services
  const tags = ['connectors']

  app.get<{ Params: DepParams }>(base, {
    schema: { tags, summary: 'List connectors with live status and rule count', params: DeploymentParams, response: { 200: listOf(Type.Ref('ConnectorSummary')), ...errorResponses(404) } },
  }, async (request) => ({ data: await connectors.list(request.params.dep) }))

  app.post<{ Params: DepParams; Body: Static<typeof CreateConnector> }>(base, {
    schema: { tags, summary: 'Create a connector; it starts connecting at once', params: DeploymentParams, body: CreateConnector, response: { 201: Type.Ref('ConnectorDetails'), ...errorResponses(400, 404, 409) } },
    // The body's own errors (name, ...) and the config's are answered together, in one 400.
    attachValidation: true,
  }, async (request, reply) => {
    failWithConfigErrors(request.validationError, request.body, connectors)
    return reply.status(201).send(await connectors.create(request.params.dep, request.body, changeAuthor(request)))
  })

  app.post<{ Params: DepParams; Body: Static<typeof TestConnector> }>(`${base}/test`, {
    schema: { tags, summary: 'Test an unsaved config: a real connection attempt with a bounded timeout', params: DeploymentParams, body: TestConnector, response: { 200: Type.Ref('ProbeResult'), ...errorResponses(400, 404) } },
    attachValidation: true,
  }, async (request) => {
    failWithConfigErrors(request.validationError, request.body, connectors)
    return connectors.test(request.params.dep, request.body)
  })

  app.get<{ Params: Params }>(`${base}/:id`, {
    schema: { tags, summary: 'Connector details: config with every default (secrets masked) and the rules using it', params: ConnectorParams, response: { 200: Type.Ref('ConnectorDetails'), ...errorResponses(404) } },
  }, async (request) => connectors.get(request.params.dep, request.params.id))

  app.put<{ Params: Params; Body: Static<typeof UpdateConnector> }>(`${base}/:id`, {
    schema: { tags, summary: 'Edit a connector (dedicated and premium plans); the live connection is swapped', params: ConnectorParams, body: UpdateConnector, response: { 200: Type.Ref('ConnectorDetails'), ...errorResponses(400, 403, 404, 409) } },
  }, async (request) => connectors.update(request.params.dep, request.params.id, request.body, changeAuthor(request)))

  app.addSchema(ConnectorVersion)

  app.get<{ Params: Params; Querystring: Static<typeof HistoryQuery> }>(`${base}/:id/history`, {
    schema: { tags, summary: "The connector's versions, newest first: who, when, from where, what changed (secrets masked)", params: ConnectorParams, querystring: HistoryQuery, response: { 200: HistoryPage, ...errorResponses(400, 404) } },
  }, async (request) => {
    const paging = historyPaging(request.query)
    return historyAnswer(await connectors.historyOf(request.params.dep, request.params.id, paging), paging.limit)
  })

  app.get<{ Params: Static<typeof ConnectorVersionParams> }>(`${base}/:id/history/:version`, {
    schema: { tags, summary: 'One version of the connector with its whole config then (secrets masked)', params: ConnectorVersionParams, response: { 200: Type.Ref('ConnectorVersion'), ...errorResponses(400, 404) } },
  }, async (request) => connectors.versionOf(request.params.dep, request.params.id, Number(request.params.version)))

  app.post<{ Params: Params; Body: Static<typeof RevertBody> }>(`${base}/:id/revert`, {
    schema: {
      tags, summary: 'Put back an earlier version (its real secrets included), as an edit: same plan rule and checks as PUT; recorded as a new version',
      params: ConnectorParams, body: RevertBody, response: { 200: Type.Ref('ConnectorDetails'), ...errorResponses(400, 403, 404, 409) },
    },
  }, async (request) => connectors.revert(request.params.dep, request.params.id, request.body.version, changeAuthor(request)))

  // The body is optional here, which a route body schema cannot say: it is validated in the handler
  // and documented through the OpenAPI description.
  app.post<{ Params: Params; Body: unknown }>(`${base}/:id/test`, {
    schema: {
      tags, summary: 'Test a saved connector, or an edit of it before saving',
      description: 'Optional JSON body `{ "config": {...} }`: an edit to test; a secret sent as "******" uses the stored one. Without a body the saved config is tested.',
      params: ConnectorParams, response: { 200: Type.Ref('ProbeResult'), ...errorResponses(400, 404) },
    },
  }, async (request) => {
    const body = validateWithSchema<Static<typeof TestSavedConnector>>(TestSavedConnector, request.body ?? {})
    if (!body.ok) throw validationError(body.errors)
    return connectors.testSaved(request.params.dep, request.params.id, body.value.config)
  })

  app.delete<{ Params: Params; Querystring: Static<typeof DeleteConnectorQuery> }>(`${base}/:id`, {
    schema: { tags, summary: 'Delete a connector no rule uses; confirm by sending its ID as ?confirm=', params: ConnectorParams, querystring: DeleteConnectorQuery, response: { 204: Type.Null(), ...errorResponses(400, 404, 409) } },
  }, async (request, reply) => {
    await connectors.remove(request.params.dep, request.params.id, request.query.confirm)
    return reply.status(204).send()
  })
}
