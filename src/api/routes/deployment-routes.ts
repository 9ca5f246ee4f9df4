import type { FastifyInstance } from 'fastify'
import type { Static } from '@sinclair/typebox'
import { Type } from '@sinclair/typebox'
import type { ApiServices } from '../api-services.js'
import { BrokerStats, CreateDeployment, Deployment, DeploymentParams, Nullable, PatchDeployment, errorResponses, listOf } from '../schemas.js'

type Params = Static<typeof DeploymentParams>

export async function deploymentRoutes(app: FastifyInstance, { services }: { services: ApiServices }): Promise<void> {
  const { deployments, connectors } = services
  const tags = ['deployments']

  app.get('/api/v1/deployments', {
    schema: { tags, summary: 'List deployments', response: { 200: listOf(Type.Ref('Deployment')) } },
  }, async () => ({ data: await deployments.list() }))

  app.post<{ Body: Static<typeof CreateDeployment> }>('/api/v1/deployments', {
    schema: { tags, summary: 'Create a deployment (optionally with broker settings in `mqtt`, or attached to an external broker with `broker`); its broker starts at once', body: CreateDeployment, response: { 201: Type.Ref('Deployment'), ...errorResponses(400, 409) } },
  }, async (request, reply) => reply.status(201).send(await deployments.create(request.body)))

  app.get<{ Params: Params }>('/api/v1/deployments/:dep', {
    schema: { tags, summary: 'Get a deployment', params: DeploymentParams, response: { 200: Type.Ref('Deployment'), ...errorResponses(404) } },
  }, async (request) => deployments.get(request.params.dep))

  app.patch<{ Params: Params; Body: Static<typeof PatchDeployment> }>('/api/v1/deployments/:dep', {
    schema: { tags, summary: 'Rename, change plan, MQTT port (a running broker moves to the new port), broker settings (`mqtt`: only the fields sent change) or which broker (`broker`, sent whole: the deployment attaches anew)', params: DeploymentParams, body: PatchDeployment, response: { 200: Type.Ref('Deployment'), ...errorResponses(400, 404, 409) } },
  }, async (request) => deployments.update(request.params.dep, request.body))

  app.delete<{ Params: Params }>('/api/v1/deployments/:dep', {
    schema: { tags, summary: 'Delete an empty deployment', params: DeploymentParams, response: { 204: Type.Null(), ...errorResponses(404, 409) } },
  }, async (request, reply) => {
    await deployments.remove(request.params.dep, await connectors.countIn(request.params.dep))
    return reply.status(204).send()
  })

  app.post<{ Params: Params }>('/api/v1/deployments/:dep/start', {
    schema: { tags, summary: 'Start the broker and the connectors', params: DeploymentParams, response: { 200: Type.Ref('Deployment'), ...errorResponses(404) } },
  }, async (request) => deployments.start(request.params.dep))

  app.get<{ Params: Params }>('/api/v1/deployments/:dep/mqtt/stats', {
    schema: { tags, summary: "The broker's figures now: connections, sessions, queues, messages, drops by reason (null while not running)", params: DeploymentParams, response: { 200: Nullable(BrokerStats), ...errorResponses(404) } },
  }, async (request) => {
    await deployments.record(request.params.dep)
    return deployments.runtime(request.params.dep).brokerStats() ?? null
  })

  app.post<{ Params: Params }>('/api/v1/deployments/:dep/stop', {
    schema: { tags, summary: 'Stop the connectors and the broker', params: DeploymentParams, response: { 200: Type.Ref('Deployment'), ...errorResponses(404) } },
  }, async (request) => deployments.stop(request.params.dep))
}

export { Deployment }
