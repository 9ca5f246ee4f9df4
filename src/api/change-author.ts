import type { FastifyRequest } from 'fastify'
import type { ChangeAuthor } from '../control/change-history.js'

/** Who makes a change, as the audit log names them: the authenticated principal and the client address. */
export function changeAuthor(request: FastifyRequest): ChangeAuthor {
  const p = request.principal
  return { actor: p ? { kind: p.kind, name: p.name } : { kind: 'system', name: 'junction' }, source: request.ip }
}
