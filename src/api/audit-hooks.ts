import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AuditService } from '../control/audit-service.js'

export const CHANGES = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
/** Mutating methods that change nothing: trials and the end of a session. */
export const NOT_CHANGES = [/\/test$/, /\/test-action$/, /^\/api\/v1\/logout$/, /^\/api\/v1\/import(\/emqx)?\/plan$/]

/** Singular names of the API's collections, as audit `objectType`s. */
const OBJECT_TYPES: Record<string, string> = {
  deployments: 'deployment', connectors: 'connector', rules: 'rule', actions: 'action', 'failed-messages': 'failed-message',
  'mqtt/users': 'device-user', 'mqtt/acl': 'device-acl', users: 'user', 'api-keys': 'api-key',
  import: 'configuration', 'import/emqx': 'emqx-configuration',
}

export interface AuditTarget {
  action: string; objectType: string; objectId: string | null; deploymentId: string | null
  /** The concrete URL and the route pattern where the object's state is read, if anywhere. */
  read: { url: string; pattern: string } | undefined
}

/**
 * What a change route acts on, from its URL pattern: `/deployments/:dep/connectors/:id` + PUT is
 * an `update` of `connector` `<id>`; a trailing verb (`/rules/:id/enable`) is the action on the
 * object before it. `readUrl` is where the object's state can be read (GET), if anywhere.
 */
export function auditTarget(method: string, pattern: string, url: string, params: Record<string, string>): AuditTarget {
  const segments = pattern.replace(/^\/api\/v1\/?/, '').split('/').filter(Boolean)
  let objectType = 'api'
  let objectId: string | null = null
  let trailing: string | undefined
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!
    if (s.startsWith(':')) continue
    const two = `${s}/${segments[i + 1] ?? ''}`
    const name = OBJECT_TYPES[two] !== undefined ? (i++, two) : s
    const type = OBJECT_TYPES[name]
    if (type === undefined) { trailing = name; break }
    objectType = type
    const next = segments[i + 1]
    objectId = next?.startsWith(':') ? params[next.slice(1)] ?? null : null
    trailing = undefined
  }
  const lastIsParam = segments[segments.length - 1]?.startsWith(':') ?? false
  const path = url.split('?')[0]!
  let action: string
  let read: AuditTarget['read']
  if (trailing !== undefined) {
    action = trailing
    read = objectId === null ? undefined : { url: path.slice(0, path.lastIndexOf('/')), pattern: pattern.slice(0, pattern.lastIndexOf('/')) }
  } else {
    action = method === 'POST' ? 'create' : method === 'DELETE' ? 'delete' : 'update'
    read = lastIsParam || method !== 'POST' ? { url: path, pattern } : undefined
  }
  return { action, objectType, objectId, deploymentId: params.dep ?? null, read }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set for a change to audit: its target and the object's state before. */
    audit?: { target: AuditTarget; before: unknown }
  }
}

const parse = (payload: unknown): unknown => {
  if (typeof payload !== 'string' || payload === '') return undefined
  try { return JSON.parse(payload) } catch { return undefined }
}

/**
 * Records every successful change in the audit log before its answer leaves: the state before is
 * read with a GET of the object as the same caller (so secrets arrive masked, as any reader sees
 * them), the state after is the change's own answer (or a second GET when the answer is empty).
 */
export function installAuditHooks(app: FastifyInstance, audit: AuditService): void {
  const read = async (request: FastifyRequest, at: AuditTarget['read']): Promise<unknown> => {
    if (at === undefined || !app.hasRoute({ method: 'GET', url: at.pattern })) return undefined
    const r = await app.inject({ method: 'GET', url: at.url, headers: { authorization: request.headers.authorization ?? '' }, remoteAddress: request.ip })
    return r.statusCode === 200 ? parse(r.payload) : undefined
  }

  app.addHook('preHandler', async (request) => {
    const pattern = request.routeOptions.url
    if (!CHANGES.has(request.method) || pattern === undefined || request.routeOptions.config.public || !request.principal) return
    if (NOT_CHANGES.some((re) => re.test(pattern))) return
    const target = auditTarget(request.method, pattern, request.url, request.params as Record<string, string>)
    const before = request.method === 'POST' && target.action === 'create' ? undefined : await read(request, target.read)
    request.audit = { target, before }
  })

  app.addHook('onSend', async (request, reply, payload) => {
    const a = request.audit
    if (!a || reply.statusCode >= 400 || !request.principal) return payload
    const { target } = a
    let after = target.action === 'delete' ? undefined : parse(payload)
    if (after === undefined && target.action !== 'delete') after = await read(request, target.read)
    const createdId = target.action === 'create' ? idOf(after) : undefined
    // The change is made: a store that cannot take the entry must not turn its answer into an error.
    await audit.record({
      actor: { kind: request.principal.kind, name: request.principal.name },
      source: request.ip,
      method: request.method,
      path: request.url.split('?')[0]!,
      action: target.action,
      objectType: target.objectType,
      objectId: createdId ?? target.objectId,
      deploymentId: target.deploymentId,
      status: reply.statusCode,
      before: a.before,
      after,
      sent: request.body,
    }).catch((err: unknown) => request.log.error({ err, method: request.method, path: request.url.split('?')[0] }, 'audit entry not written'))
    return payload
  })
}

function idOf(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object') return undefined
  const b = body as Record<string, unknown>
  for (const k of ['id', 'key', 'username']) if (typeof b[k] === 'string') return b[k] as string
  return undefined
}
