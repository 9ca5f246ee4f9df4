import type { FastifyInstance } from 'fastify'
import type { ClusterService } from '../control/cluster-service.js'
import { CHANGES, NOT_CHANGES, auditTarget } from './audit-hooks.js'

/**
 * Announces every successful change made through this node's API to the other nodes on the store
 * (docs/cluster.md), before the answer leaves: by the time the caller reads the answer, the other
 * nodes have been told. A create names its object by the ID in its answer; without one, the
 * other nodes compare every object of that kind in the deployment.
 */
export function installClusterHooks(app: FastifyInstance, cluster: ClusterService): void {
  app.addHook('onSend', async (request, reply, payload) => {
    const pattern = request.routeOptions.url
    if (!CHANGES.has(request.method) || pattern === undefined || reply.statusCode >= 400) return payload
    if (request.routeOptions.config.public || NOT_CHANGES.some((re) => re.test(pattern))) return payload
    const target = auditTarget(request.method, pattern, request.url, request.params as Record<string, string>)
    const id = target.objectId ?? (target.action === 'create' ? createdId(payload) : null)
    await cluster.changed(target.objectType, id, target.deploymentId ?? (target.objectType === 'deployment' ? id : null))
    return payload
  })
}

function createdId(payload: unknown): string | null {
  if (typeof payload !== 'string' || payload === '') return null
  try {
    const body = JSON.parse(payload) as { id?: unknown }
    return typeof body.id === 'string' ? body.id : null
  } catch {
    return null
  }
}
